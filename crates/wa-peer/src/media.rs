//! The peer's media host, where clients upload encrypted media and download it back, as they
//! do on WhatsApp's CDN: `POST /mms/{kind}/{token}?auth=…&token=…` stores the encrypted blob
//! (ciphertext and MAC, exactly as sent) and answers its `url` and `direct_path`;
//! `GET {direct_path}?auth=…&token=…` serves it back. Both need the `auth` the peer handed out
//! in its `media_conn` answer. Plain HTTP/1.1 with keep-alive: the client builds `https://`
//! URLs, and only a build that trusts the test peer speaks plain HTTP to a loopback host.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::Shared;

/// The largest upload the host takes (WhatsApp's limit for documents is 2 GB; tests send
/// far less).
const MOST_BYTES: usize = 64 * 1024 * 1024;
const MOST_HEAD_BYTES: usize = 16 * 1024;

pub(crate) async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((tcp, _)) = listener.accept().await {
        tokio::spawn(serve(tcp, shared.clone()));
    }
}

struct Request {
    method: String,
    path: String,
    query: String,
    body: Vec<u8>,
}

struct Response {
    status: u16,
    body: Vec<u8>,
    json: bool,
}

impl Response {
    fn empty(status: u16) -> Self {
        Response {
            status,
            body: Vec::new(),
            json: false,
        }
    }
}

async fn serve(mut tcp: TcpStream, shared: Arc<Shared>) {
    let mut buffered = Vec::new();
    loop {
        let request = match read_request(&mut tcp, &mut buffered).await {
            Ok(Some(request)) => request,
            Ok(None) | Err(_) => return,
        };
        let response = answer(&shared, request);
        let reason = match response.status {
            200 => "OK",
            401 => "Unauthorized",
            404 => "Not Found",
            _ => "Bad Request",
        };
        let head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Length: {}\r\nContent-Type: {}\r\n\r\n",
            response.status,
            response.body.len(),
            if response.json {
                "application/json"
            } else {
                "application/octet-stream"
            }
        );
        if tcp.write_all(head.as_bytes()).await.is_err()
            || tcp.write_all(&response.body).await.is_err()
        {
            return;
        }
    }
}

/// The next request of the connection; `None` once the client closed it.
async fn read_request(
    tcp: &mut TcpStream,
    buffered: &mut Vec<u8>,
) -> std::io::Result<Option<Request>> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = buffered.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if buffered.len() > MOST_HEAD_BYTES {
            return Err(std::io::Error::other("request head too large"));
        }
        let n = tcp.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffered.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffered[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (path, query) = (path.to_owned(), query.to_owned());
    let length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    if length > MOST_BYTES {
        return Err(std::io::Error::other("body too large"));
    }
    buffered.drain(..head_end + 4);
    while buffered.len() < length {
        let n = tcp.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffered.extend_from_slice(&chunk[..n]);
    }
    let body = buffered.drain(..length).collect();
    Ok(Some(Request {
        method,
        path,
        query,
        body,
    }))
}

fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn answer(shared: &Shared, request: Request) -> Response {
    let mut state = shared.state();
    if param(&request.query, "auth") != Some(state.media_auth.as_str()) {
        return Response::empty(401);
    }
    match request.method.as_str() {
        "POST" => {
            // The resume check of a large upload: nothing of it is here yet.
            if param(&request.query, "resume").is_some() {
                return Response::empty(404);
            }
            let mut parts = request.path.trim_start_matches('/').split('/');
            let (Some("mms"), Some(kind), Some(token), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Response::empty(404);
            };
            if request.body.is_empty() {
                return Response::empty(400);
            }
            let direct_path = format!("/v/t62.{kind}/{token}.enc");
            let url = format!("https://{}{direct_path}", state.media_host);
            state.uploads += 1;
            state.media.insert(direct_path.clone(), request.body);
            Response {
                status: 200,
                body: format!(r#"{{"url":"{url}","direct_path":"{direct_path}"}}"#).into_bytes(),
                json: true,
            }
        }
        "GET" => match state.media.get(&request.path) {
            Some(blob) => Response {
                status: 200,
                body: blob.clone(),
                json: false,
            },
            None => Response::empty(404),
        },
        _ => Response::empty(400),
    }
}

#[cfg(test)]
mod tests {
    use super::param;

    #[test]
    fn query_parameters_are_found_by_name() {
        let query = "auth=abc&token=x-y_z&resume=1";
        assert_eq!(param(query, "auth"), Some("abc"));
        assert_eq!(param(query, "token"), Some("x-y_z"));
        assert_eq!(param(query, "resume"), Some("1"));
        assert_eq!(param(query, "file_offset"), None);
    }
}
