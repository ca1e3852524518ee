//! The bad input sweep (SPEC §3: "5xx only for real server faults, never for bad input"):
//! seeded pseudo-random and hand-picked hostile inputs against every endpoint the OpenAPI
//! document lists: phone numbers, JSON bodies (wrong types per field, missing and extra
//! fields, deep nesting, huge strings, invalid UTF-8, not JSON, wrong content types),
//! multipart uploads, query strings and path parameters.
//!
//! Every answer must be below 500; every refusal a 4xx carrying the envelope
//! `{success: false, message, error: {code}}`; where the right answer is known (a number that is
//! or is not a phone number, a field of the wrong type, a file too big or of the wrong type)
//! it must be exactly that. The server must stay healthy, and the organization's message and
//! contact counts may move only by what the server accepted.
//!
//! The run is reproducible: the seed is printed, and `WASL_FUZZ_SEED=<seed>` replays it.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::helpers::{error_envelope_problem, Account, Reply, TestApp, ADMIN_TOKEN};
use crate::messaging::{linked, png_bytes};
use crate::on_both_databases;

const DEFAULT_SEED: u64 = 0x5EED_2026_0007;
const MAX_MEDIA: usize = 16 * 1024 * 1024;
/// The JSON body limit (conventions.rs checks it): 2 MiB.
const MAX_JSON: usize = 2 << 20;
const SESSION_PHONE: &str = "966500008001";
const CUSTOMER: &str = "966551110001";
/// Where the JSON sends go, so they never meet a contact the sweep blocked.
const SEND_TO: &str = "966551119999";
const DEAD_HOOK: &str = "http://127.0.0.1:9/hook";

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn mp4_bytes() -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x18];
    v.extend_from_slice(b"ftypmp42\0\0\0\0mp42isom");
    v.extend_from_slice(&[0; 64]);
    v
}

fn ogg_bytes() -> Vec<u8> {
    let mut v = b"OggS\0\x02".to_vec();
    v.extend_from_slice(&[0; 64]);
    v
}

/// SplitMix64: tiny, fast and the same on every machine, so a seed replays a run exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `n` distinct items, in a random order.
    fn sample<T: Clone>(&mut self, items: &[T], n: usize) -> Vec<T> {
        let mut idx: Vec<usize> = (0..items.len()).collect();
        for i in (1..idx.len()).rev() {
            idx.swap(i, self.below(i + 1));
        }
        idx.into_iter().take(n).map(|i| items[i].clone()).collect()
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() & 0xFF) as u8).collect()
    }

    /// A hostile string: a random mix of scripts, controls, format characters and markup.
    fn string(&mut self, max: usize) -> String {
        const PIECES: &[&str] = &[
            // No NUL here: it has cases of its own, and would stop most inputs at the door.
            "a",
            "Z",
            "0",
            "9",
            " ",
            "\t",
            "\n",
            "\r\n",
            "\u{7}",
            "\u{1b}[31m",
            "مرحبا",
            "أإآ",
            "ـ",
            "\u{064B}",
            "٣",
            "۵",
            "\u{200F}",
            "\u{202E}",
            "\u{2066}",
            "\u{FEFF}",
            "\u{200B}",
            "🙂",
            "👨‍👩‍👧",
            "\u{FFFD}",
            "\u{10FFFF}",
            "中文",
            "𝟗",
            "\"",
            "'",
            "\\",
            "/",
            "../",
            "%00",
            "%",
            "_",
            "*",
            "<script>",
            "${x}",
            "{{x}}",
            "' OR 1=1 --",
            "); DROP TABLE messages; --",
            "null",
            "true",
            "-1",
            "1e309",
        ];
        let len = self.below(max.max(1)) + 1;
        let mut out = String::new();
        while out.chars().count() < len {
            let piece = *self.pick(PIECES);
            out.push_str(piece);
        }
        out
    }
}

fn seed() -> u64 {
    match std::env::var("WASL_FUZZ_SEED") {
        Ok(s) => {
            let s = s.trim();
            s.strip_prefix("0x")
                .map_or_else(|| s.parse(), |h| u64::from_str_radix(h, 16))
                .unwrap_or_else(|_| panic!("WASL_FUZZ_SEED={s} is not a number"))
        }
        Err(_) => DEFAULT_SEED,
    }
}

/// The digits of a number as written (SPEC §5), read independently: an optional `+`, then
/// digits (ASCII, Arabic-Indic or Persian) with spaces, no-break spaces, dashes, dots and
/// brackets between them; a leading `00` (without `+`) is the international prefix.
fn phone_digits(input: &str) -> Option<String> {
    let t = input.trim();
    let (plus, t) = match t.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let mut digits = String::new();
    for c in t.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '\u{0660}'..='\u{0669}' => digits.push(char::from_digit(c as u32 - 0x0660, 10)?),
            '\u{06F0}'..='\u{06F9}' => digits.push(char::from_digit(c as u32 - 0x06F0, 10)?),
            ' ' | '-' | '(' | ')' | '.' | '\u{00A0}' => {}
            _ => return None,
        }
    }
    match digits.strip_prefix("00") {
        Some(rest) if !plus => Some(rest.to_owned()),
        _ => Some(digits),
    }
}

/// A number as WhatsApp reports it (a sender, a scanned account): 8 to 15 digits.
fn phone(input: &str) -> Option<String> {
    phone_digits(input).filter(|d| (8..=15).contains(&d.len()))
}

/// A number a person wrote, in an organization without a default country: international
/// digits the numbering plans know as a valid number.
fn written_phone(input: &str) -> Option<String> {
    let digits = phone_digits(input).filter(|d| (4..=17).contains(&d.len()))?;
    let number = phonenumber::parse(None, format!("+{digits}")).ok()?;
    phonenumber::is_valid(&number).then(|| {
        number
            .format()
            .mode(phonenumber::Mode::E164)
            .to_string()
            .trim_start_matches('+')
            .to_owned()
    })
}

/// How a refused number is answered: a NUL is refused before any field is read.
fn phone_refusal(input: &str) -> Want {
    if input.contains('\0') {
        Want::Code(400, "VALIDATION_ERROR")
    } else {
        Want::Code(400, "INVALID_PHONE_NUMBER")
    }
}

/// Phone numbers that are, and are not: hand-picked edges and random mixes.
fn phone_cases(rng: &mut Rng, random: usize) -> Vec<String> {
    let mut cases: Vec<String> = [
        "",
        " ",
        "+",
        "++966551234567",
        "966551234567",
        "+966 55 123 4567",
        "+966-55-123-4567",
        "(966) 55.123.4567",
        "٩٦٦٥٥١٢٣٤٥٦٧",
        "+۹۶۶۵۵۱۲۳۴۵۶۷",
        "٩٦٦ ٥٥ ١٢٣ ٤٥٦٧",
        "1234567",
        "12345678",
        "123456789012345",
        "1234567890123456",
        "00966551234567",
        "٠٠٠٠٠٠٠٠",
        "９６６５５１２３４５６７",
        "𝟗𝟔𝟔𝟓𝟓𝟏𝟐𝟑𝟒𝟓𝟔𝟕",
        "966551234567\0",
        "\u{202E}966551234567",
        "\u{200F}966551234567",
        "966551234567\n",
        "\t966551234567 ",
        "966 55\u{00A0}123 4567",
        "+-966551234567",
        "966551234567+",
        "96655123456x",
        "abc",
        "null",
        "-1",
        "1e10",
        "9665512345678901234567890",
        "' OR 1=1 --",
        "<script>",
        "%2B966551234567",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    cases.push("9".repeat(100_000));
    cases.push(format!("+{}", "٥".repeat(5_000)));
    const DIGITS: &[&[char]] = &[
        &['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
        &['٠', '١', '٢', '٣', '٤', '٥', '٦', '٧', '٨', '٩'],
        &['۰', '۱', '۲', '۳', '۴', '۵', '۶', '۷', '۸', '۹'],
        &['０', '５', '９', '𝟎', '𝟗', '᠑', '߉'],
    ];
    const SEPARATORS: &[&str] = &[
        " ", "-", "(", ")", ".", "/", "_", "\u{00A0}", "\u{200F}", "  ",
    ];
    for _ in 0..random {
        let mut s = String::new();
        if rng.chance(40) {
            s.push('+');
        }
        // Mostly 8 to 15 ordinary digits, so that valid numbers come up often.
        let total = if rng.chance(70) {
            8 + rng.below(8)
        } else {
            rng.below(22)
        };
        let groups = rng.below(4) + 1;
        for g in 0..groups {
            let alphabet = if rng.chance(75) {
                DIGITS[0]
            } else {
                *rng.pick(DIGITS)
            };
            let count = if g + 1 == groups {
                total - total * g / groups
            } else {
                total / groups
            };
            for _ in 0..count {
                s.push(*rng.pick(alphabet));
            }
            if g + 1 < groups {
                let separator = if rng.chance(80) {
                    *rng.pick(&SEPARATORS[..5])
                } else {
                    *rng.pick(SEPARATORS)
                };
                s.push_str(separator);
            }
        }
        if rng.chance(15) {
            let junk = rng.string(3);
            let at = rng.below(s.chars().count() + 1);
            s = s
                .chars()
                .take(at)
                .chain(junk.chars())
                .chain(s.chars().skip(at))
                .collect();
        }
        cases.push(s);
    }
    cases
}

fn urlencode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What a request must get.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// Anything that is not a server fault (the input may be fine).
    Any,
    /// A refusal: a 4xx.
    Rejected,
    /// This status, whatever the code.
    Status(u16),
    /// This status with this code.
    Code(u16, &'static str),
    /// 400 `INVALID_JSON` or `VALIDATION_ERROR`.
    BadJson,
}

/// One request, kept whole so a failure can show exactly what was sent.
#[derive(Clone)]
struct Req {
    method: Method,
    path: String,
    token: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
    body: Option<Vec<u8>>,
    what: String,
}

impl Req {
    fn new(method: Method, path: impl Into<String>, what: impl Into<String>) -> Self {
        Req {
            method,
            path: path.into(),
            token: None,
            headers: Vec::new(),
            body: None,
            what: what.into(),
        }
    }

    fn token(mut self, token: Option<&str>) -> Self {
        self.token = token.map(str::to_owned);
        self
    }

    fn header(mut self, name: &str, value: &[u8]) -> Self {
        self.headers.push((name.to_owned(), value.to_vec()));
        self
    }

    fn json(self, value: &Value) -> Self {
        self.raw(Some("application/json"), value.to_string().into_bytes())
    }

    fn raw(mut self, content_type: Option<&str>, body: Vec<u8>) -> Self {
        if let Some(ct) = content_type {
            self = self.header("content-type", ct.as_bytes());
        }
        self.body = Some(body);
        self
    }

    fn json_body(&self) -> Option<Value> {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
    }
}

fn preview(bytes: &[u8], max: usize) -> String {
    let cut = bytes.len().min(max);
    let text = String::from_utf8_lossy(&bytes[..cut]);
    let more = if bytes.len() > max {
        format!("… ({} bytes in all)", bytes.len())
    } else {
        String::new()
    };
    format!("{text:?}{more}")
}

/// What the organization's counts must be: the baseline plus what the server accepted.
#[derive(Default)]
struct Ledger {
    base_messages: i64,
    outgoing: BTreeSet<String>,
    incoming: BTreeSet<String>,
    contacts: BTreeSet<String>,
}

impl Ledger {
    fn messages(&self) -> i64 {
        self.base_messages + (self.outgoing.len() + self.incoming.len()) as i64
    }
}

/// The owner's ids, for path parameters that must reach the handlers.
struct Own {
    owner: Account,
    agent_id: String,
    contact_id: String,
    conversation_id: String,
    webhook_id: String,
    delivery_id: String,
    api_key_id: String,
    media_message_id: String,
    other_org_id: String,
    template_id: String,
    quick_reply_id: String,
    library_media_id: String,
    auto_reply_id: String,
    scheduled_message_id: String,
    broadcast_id: String,
}

struct Fuzz<'a> {
    app: &'a TestApp,
    seed: u64,
    rng: Rng,
    own: Own,
    ledger: Ledger,
    requests: usize,
    failures: Vec<String>,
    unique: usize,
}

impl Fuzz<'_> {
    fn unique(&mut self) -> usize {
        self.unique += 1;
        self.unique
    }

    fn token(&self) -> Option<String> {
        Some(self.own.owner.token.clone())
    }

    fn fail(&mut self, req: &Req, problem: &str, reply: Option<&Reply>) {
        let answer = reply.map_or_else(
            || "no answer".to_owned(),
            |r| format!("{} {}", r.status, preview(&r.bytes, 400)),
        );
        self.failures.push(format!(
            "seed {:#x}: {} {} — {}\n    sent {} header(s) {:?}, body {}\n    {problem}; answered {answer}",
            self.seed,
            req.method,
            preview(req.path.as_bytes(), 200),
            req.what,
            req.headers.len(),
            req.headers
                .iter()
                .map(|(k, v)| format!("{k}: {}", preview(v, 60)))
                .collect::<Vec<_>>(),
            req.body.as_deref().map_or_else(|| "none".to_owned(), |b| preview(b, 300)),
        ));
    }

    /// Sends `req`, checks the answer against the contract and `want`, and books what the
    /// server accepted.
    async fn run(&mut self, req: Req, want: Want) -> Option<Reply> {
        self.requests += 1;
        let url = format!("http://{}{}", self.app.addr, req.path);
        let mut builder = self
            .app
            .client
            .request(req.method.clone(), &url)
            .timeout(Duration::from_secs(60));
        if let Some(token) = &req.token {
            builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        for (name, value) in &req.headers {
            let value = HeaderValue::from_bytes(value).expect("a header value the client can send");
            builder = builder.header(name.as_str(), value);
        }
        if let Some(body) = &req.body {
            if body.len() > MAX_JSON {
                let reply = match send_streaming(self.app.addr, &req).await {
                    Ok(reply) => reply,
                    Err(e) => {
                        self.fail(&req, &format!("no answer to an oversized body: {e}"), None);
                        return None;
                    }
                };
                return Some(self.judge(&req, reply, want));
            }
            builder = builder.body(body.clone());
        }
        let res = match builder.send().await {
            Ok(res) => res,
            Err(e) => {
                self.fail(&req, &format!("the request failed: {e}"), None);
                return None;
            }
        };
        let status = res.status();
        let content_type = res
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = match res.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                self.fail(&req, &format!("the answer could not be read: {e}"), None);
                return None;
            }
        };
        let json = serde_json::from_slice(&bytes).ok();
        let reply = Reply {
            status,
            content_type,
            bytes,
            json,
        };
        Some(self.judge(&req, reply, want))
    }

    fn judge(&mut self, req: &Req, reply: Reply, want: Want) -> Reply {
        let req = req.clone();
        if let Some(problem) = contract_problem(&reply, want) {
            self.fail(&req, &problem, Some(&reply));
        }
        if reply.status.is_success() {
            if let Some(problem) = self.book(&req, &reply) {
                self.fail(&req, &problem, Some(&reply));
            }
        }
        reply
    }

    /// Books an accepted message (and its contact); checks what the server made of the number.
    fn book(&mut self, req: &Req, reply: &Reply) -> Option<String> {
        let path = req.path.split('?').next().unwrap_or("");
        let data = &reply.json.as_ref()?["data"];
        if reply.status == StatusCode::CREATED && path.starts_with("/api/v1/whatsapp/messages/send")
        {
            let message = &data["message"];
            let (Some(id), Some(to)) = (message["id"].as_str(), message["to"].as_str()) else {
                return Some("an accepted send without the message's id and number".into());
            };
            self.ledger.outgoing.insert(id.to_owned());
            self.ledger.contacts.insert(to.to_owned());
            if let Some(asked) = req
                .json_body()
                .and_then(|b| b["to"].as_str().map(str::to_owned))
            {
                if written_phone(&asked).as_deref() != Some(to) {
                    return Some(format!(
                        "accepted `to` {asked:?} as {to:?}; the phone rule says {:?}",
                        written_phone(&asked)
                    ));
                }
            }
        }
        if reply.status == StatusCode::OK
            && path.starts_with("/api/v1/whatsapp/sandbox/")
            && path.ends_with("/incoming")
        {
            let id = data["messageId"].as_str()?.to_owned();
            let from = req
                .json_body()
                .and_then(|b| b["from"].as_str().map(str::to_owned))?;
            let Some(number) = phone(&from) else {
                return Some(format!(
                    "accepted `from` {from:?}, which is not a phone number"
                ));
            };
            self.ledger.incoming.insert(id);
            self.ledger.contacts.insert(number);
        }
        None
    }

    /// The server answers its health checks, and its counts are what was accepted.
    async fn checkpoint(&mut self, section: &str) {
        for path in ["/health", "/ready"] {
            let req = Req::new(Method::GET, path, format!("health after {section}"));
            self.run(req, Want::Status(200)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (status, stats) = self
                .app
                .get("/api/v1/whatsapp/stats", &self.own.owner.token)
                .await;
            assert_eq!(status, StatusCode::OK, "{stats}");
            let counts = (
                stats["data"]["totalMessages"].as_i64(),
                stats["data"]["totalContacts"].as_i64(),
            );
            let expected = (
                Some(self.ledger.messages()),
                Some(self.ledger.contacts.len() as i64),
            );
            if counts == expected {
                break;
            }
            if Instant::now() > deadline {
                self.failures.push(format!(
                    "seed {:#x}: after {section}, the stats say {counts:?} (messages, contacts); the server accepted {expected:?}: {}",
                    self.seed, stats["data"]
                ));
                // Go on from what the server says, so later sections are judged on their own.
                self.ledger.base_messages += counts.0.unwrap_or(0) - self.ledger.messages();
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Sends a request over a plain socket, writing the body while reading the answer, as curl
/// does. The server answers an oversized body (413) as soon as it passes the limit, without
/// reading the rest; a client that reads only after writing everything (reqwest's) then sees a
/// reset connection instead of the answer.
async fn send_streaming(addr: std::net::SocketAddr, req: &Req) -> Result<Reply, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let (mut reader, mut writer) = stream.into_split();
    let body = req.body.clone().unwrap_or_default();
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\n",
        req.method,
        req.path,
        body.len()
    )
    .into_bytes();
    if let Some(token) = &req.token {
        head.extend_from_slice(format!("authorization: Bearer {token}\r\n").as_bytes());
    }
    for (name, value) in &req.headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    let sending = tokio::spawn(async move {
        // The server may stop reading at any point: a failed write is expected.
        if writer.write_all(&head).await.is_ok() {
            let _ = writer.write_all(&body).await;
        }
        // Dropping the write half would half-close the connection, which the server takes
        // for the client going away: keep it open until the answer is read.
        std::future::pending::<()>().await;
        drop(writer);
    });
    let mut received = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(60);
    let complete = |r: &[u8]| -> Option<usize> {
        let end = r.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let head = String::from_utf8_lossy(&r[..end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())?;
        (r.len() >= end + length).then_some(end + length)
    };
    let total = loop {
        if let Some(total) = complete(&received) {
            break total;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, reader.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break received.len(),
            Ok(Ok(n)) => received.extend_from_slice(&chunk[..n]),
            Err(_) => return Err("no answer in 60 s".into()),
        }
    };
    sending.abort();
    let received = &received[..total];
    let end = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no complete answer: {}", preview(received, 200)))?;
    let head = String::from_utf8_lossy(&received[..end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| format!("no status line: {head:?}"))?;
    let content_type = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_default();
    let bytes = received[end + 4..].to_vec();
    let json = serde_json::from_slice(&bytes).ok();
    Ok(Reply {
        status,
        content_type,
        bytes,
        json,
    })
}

/// Checks the contract every answer keeps, then `want`.
fn contract_problem(reply: &Reply, want: Want) -> Option<String> {
    let status = reply.status;
    if status.is_server_error() {
        return Some("a server error for bad input".into());
    }
    if !status.is_success() && !status.is_client_error() {
        return Some("neither a success nor a 4xx".into());
    }
    if status.is_client_error() {
        if !reply.content_type.starts_with("application/json") {
            return Some(format!(
                "a 4xx that is not JSON (content-type {:?})",
                reply.content_type
            ));
        }
        match &reply.json {
            None => return Some("a 4xx whose body does not parse as JSON".into()),
            Some(body) => {
                if let Some(problem) = error_envelope_problem(body) {
                    return Some(format!("a 4xx that is not the error envelope: {problem}"));
                }
            }
        }
    } else if reply.content_type.starts_with("application/json")
        && reply.json.as_ref().map(|b| b["success"].clone()) != Some(json!(true))
    {
        return Some("a 2xx that is not the success envelope".into());
    }
    let code = reply
        .json
        .as_ref()
        .and_then(|b| b["error"]["code"].as_str())
        .unwrap_or("");
    let ok = match want {
        Want::Any => true,
        Want::Rejected => status.is_client_error(),
        Want::Status(s) => status.as_u16() == s,
        Want::Code(s, c) => status.as_u16() == s && code == c,
        Want::BadJson => {
            status == StatusCode::BAD_REQUEST && matches!(code, "INVALID_JSON" | "VALIDATION_ERROR")
        }
    };
    (!ok).then(|| format!("expected {want:?}"))
}

/// Every documented route as (key, template, method, operation).
fn documented_routes(doc: &Value) -> Vec<(String, String, Method, Value)> {
    let mut routes = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(op) = item.get(method) {
                let upper = method.to_uppercase();
                routes.push((
                    format!("{upper} {template}"),
                    template.clone(),
                    Method::from_bytes(upper.as_bytes()).expect("method"),
                    op.clone(),
                ));
            }
        }
    }
    routes
}

/// The credential a route takes: the admin token, a user's token, or none.
fn token_for(op: &Value, own: &Own) -> Option<String> {
    let schemes: Vec<&str> = op["security"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|r| r.as_object())
                .flat_map(|r| r.keys().map(String::as_str))
                .collect()
        })
        .unwrap_or_default();
    if schemes.contains(&"admin") {
        Some(ADMIN_TOKEN.to_owned())
    } else if schemes.contains(&"bearer") {
        Some(own.owner.token.clone())
    } else {
        None
    }
}

/// The owner's own value for a path parameter, so requests reach the handler's logic.
fn own_path_value(own: &Own, param: &str, resource: &str) -> Option<String> {
    Some(match (param, resource) {
        ("sessionName", _) => "default".to_owned(),
        ("contactId", _) | ("id", "contacts") => own.contact_id.clone(),
        ("conversationId", _) => own.conversation_id.clone(),
        ("deliveryId", _) => own.delivery_id.clone(),
        ("id", "users") => own.agent_id.clone(),
        ("id", "api-keys") => own.api_key_id.clone(),
        ("id", "webhooks") => own.webhook_id.clone(),
        ("id", "messages") => own.media_message_id.clone(),
        ("id", "organizations") => own.other_org_id.clone(),
        ("id", "templates") => own.template_id.clone(),
        ("id", "quick-replies") => own.quick_reply_id.clone(),
        ("id", "media") => own.library_media_id.clone(),
        ("id", "auto-replies") => own.auto_reply_id.clone(),
        ("id", "scheduled-messages") => own.scheduled_message_id.clone(),
        ("id", "broadcasts") => own.broadcast_id.clone(),
        _ => return None,
    })
}

/// A path with its `..` segments (written plainly or percent-encoded) resolved, as a client
/// resolves them before sending.
fn resolve_dots(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/').skip(1) {
        if segment == ".." || segment.eq_ignore_ascii_case("%2e%2e") {
            segments.pop();
        } else {
            segments.push(segment);
        }
    }
    format!("/{}", segments.join("/"))
}

/// The template's parameters in order, each with the segment before it.
fn path_params(template: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut previous = "";
    for segment in template.split('/').skip(1) {
        if let Some(p) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            out.push((p.to_owned(), previous.to_owned()));
        }
        previous = segment;
    }
    out
}

/// The template with every parameter replaced: `replace` for `target`, the owner's own ids
/// for the others.
fn fill(template: &str, own: &Own, target: Option<(&str, &str)>) -> Result<String, String> {
    let mut out = String::new();
    let mut previous = "";
    for segment in template.split('/').skip(1) {
        out.push('/');
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(param) => match target {
                Some((t, value)) if t == param => out.push_str(value),
                _ => out.push_str(&own_path_value(own, param, previous).ok_or_else(|| {
                    format!("{template}: no value for the path parameter {{{param}}} after {previous:?}; extend the bad input sweep")
                })?),
            },
            None => out.push_str(segment),
        }
        previous = segment;
    }
    Ok(out)
}

/// The JSON schema of a route's body: its properties and required fields.
fn body_schema(doc: &Value, op: &Value) -> Option<(Map<String, Value>, Vec<String>)> {
    let mut schema = &op["requestBody"]["content"]["application/json"]["schema"];
    if schema.is_null() {
        return None;
    }
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next()?;
        schema = &doc["components"]["schemas"][name];
    }
    let props = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let required = schema["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Some((props, required))
}

/// The JSON types a property's schema allows (`null` among them when it is optional).
fn types_of(prop: &Value) -> Vec<String> {
    let mut types = match &prop["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    // A field that names a schema of the document holds an object (the document's schemas
    // are objects): an object whose fields all have defaults (`{}`) is a value of its type.
    if prop.to_string().contains("\"$ref\"") {
        types.push("object".to_owned());
    }
    types
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn nested(depth: usize) -> Value {
    (0..depth).fold(json!("bottom"), |inner, _| json!([inner]))
}

/// Values of every JSON type, for replacing a field with one of the wrong type.
fn typed_values() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(12345),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1.5),
        json!(-0.0),
        json!(1e300),
        json!(""),
        json!("966551234567"),
        json!("true"),
        json!("٣"),
        json!([]),
        json!(["x", 1, null]),
        json!([[[]]]),
        json!({}),
        json!({"$gt": ""}),
        json!({"to": "966551234567"}),
        nested(40),
    ]
}

/// A plausible, valid value for a field, by its name and then its type.
fn plausible(name: &str, types: &[String], n: usize) -> Option<Value> {
    Some(match name {
        "to" | "from" => json!(SEND_TO),
        "phoneNumber" => json!("966551112222"),
        "text" | "caption" => json!("نص تجريبي"),
        "email" => json!(format!("fuzz-{n}@fuzz.sa")),
        "password" => json!("a long password"),
        "name" | "organizationName" | "pushName" => json!("اسم تجريبي"),
        "url" => json!(DEAD_HOOK),
        "events" => json!(["message.received"]),
        "plan" => json!("basic"),
        "sessionName" => json!("default"),
        "engine" => json!("sandbox"),
        "type" => json!("text"),
        "role" => json!("agent"),
        "messageId" => json!(format!("FUZZ{n}")),
        "secret" => json!(format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode([7u8; 24])
        )),
        "mimeType" => json!("image/png"),
        "mediaBase64" | "isActive" | "isBlocked" | "maxChats" => return None,
        _ => match types.iter().find(|t| *t != "null").map(String::as_str) {
            Some("string") => json!("x"),
            Some("integer") => json!(1),
            Some("number") => json!(1.0),
            Some("boolean") => json!(false),
            Some("array") => json!(["x"]),
            Some("object") => json!({}),
            _ => return None,
        },
    })
}

fn base_body(props: &Map<String, Value>, required: &[String], n: usize) -> Map<String, Value> {
    let mut body = Map::new();
    for (name, prop) in props {
        let value = plausible(name, &types_of(prop), n)
            .or_else(|| required.contains(name).then(|| json!("x")));
        if let Some(v) = value {
            body.insert(name.clone(), v);
        }
    }
    body
}

/// The body with `field` set to `raw`, bytes that need not be JSON (or UTF-8) at all.
fn splice(base: &Map<String, Value>, field: &str, raw: &[u8]) -> Vec<u8> {
    let mut body = base.clone();
    body.insert(field.to_owned(), json!("@@RAW@@"));
    let text = Value::Object(body).to_string();
    let (before, after) = text.split_once("\"@@RAW@@\"").expect("the placeholder");
    let mut out = before.as_bytes().to_vec();
    out.extend_from_slice(raw);
    out.extend_from_slice(after.as_bytes());
    out
}

/// A part of a multipart form: its header lines and its bytes.
type FormPart = (Vec<u8>, Vec<u8>);

/// A raw multipart body; `close` adds the end.
fn multipart(boundary: &str, parts: &[FormPart], close: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (headers, bytes) in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        out.extend_from_slice(headers);
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    if close {
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    }
    out
}

fn text_part(name: &str, value: &[u8]) -> FormPart {
    (
        format!("Content-Disposition: form-data; name=\"{name}\"").into_bytes(),
        value.to_vec(),
    )
}

fn file_part(name: &str, filename: &[u8], content_type: &str, bytes: Vec<u8>) -> FormPart {
    let mut headers =
        format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"").into_bytes();
    headers.extend_from_slice(filename);
    headers.extend_from_slice(format!("\"\r\nContent-Type: {content_type}").as_bytes());
    (headers, bytes)
}

const BOUNDARY: &str = "wasl-fuzz-7Hq2";

fn multipart_req(path: &str, what: String, parts: &[FormPart], token: Option<&str>) -> Req {
    Req::new(Method::POST, path, what).token(token).raw(
        Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
        multipart(BOUNDARY, parts, true),
    )
}

/// A filename the server may keep: a base name, no controls, no direction overrides, short.
fn unsafe_filename(name: &str) -> Option<&'static str> {
    if name.contains('/') || name.contains('\\') {
        return Some("a path separator");
    }
    if name.chars().any(char::is_control) {
        return Some("a control character");
    }
    if name
        .chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return Some("a bidirectional override (the name can be shown as something else)");
    }
    if name.chars().count() > 200 {
        return Some("more than 200 characters");
    }
    if name.starts_with('.') {
        return Some("a leading dot");
    }
    None
}

/// The kind of file each multipart endpoint takes and the sample bytes that are one.
fn sample_kinds() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        ("image", png_bytes(), "image/png"),
        ("document", PDF.to_vec(), "application/pdf"),
        ("video", mp4_bytes(), "video/mp4"),
        ("audio", ogg_bytes(), "audio/ogg"),
    ]
}

/// Which sample kinds an endpoint accepts (SPEC §5: the real type must fit the endpoint).
fn fits(endpoint: &str, kind: &str) -> bool {
    match endpoint {
        "image" => kind == "image",
        "video" => kind == "video",
        // An MP4 container is also how voice notes and music come.
        "audio" => matches!(kind, "audio" | "video"),
        _ => true,
    }
}

async fn setup(app: &TestApp) -> Own {
    let owner = linked(app, "fuzz@acme.sa", SESSION_PHONE).await;
    let token = owner.token.clone();
    let (status, hook) = app
        .post(
            "/api/v1/webhooks",
            &token,
            json!({"url": DEAD_HOOK, "events": ["message.received"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let webhook_id = hook["data"]["webhook"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let b64 = base64::engine::general_purpose::STANDARD.encode(png_bytes());
    for body in [
        json!({"from": CUSTOMER, "pushName": "عميل", "type": "text", "text": "مرحبا"}),
        json!({"from": CUSTOMER, "type": "image", "mediaBase64": b64, "mimeType": "image/png"}),
    ] {
        let (status, res) = app
            .post("/api/v1/whatsapp/sandbox/default/incoming", &token, body)
            .await;
        assert_eq!(status, StatusCode::OK, "{res}");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let (media_message_id, contact_id) = loop {
        let (_, list) = app
            .get("/api/v1/whatsapp/messages?direction=incoming", &token)
            .await;
        let found = list["data"]["messages"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["type"] == "image").cloned());
        if let Some(m) = found {
            break (
                m["id"].as_str().expect("id").to_owned(),
                m["contactId"].as_str().expect("contact").to_owned(),
            );
        }
        assert!(
            Instant::now() < deadline,
            "the incoming image never stored: {list}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let delivery_id = loop {
        let (_, list) = app
            .get(&format!("/api/v1/webhooks/{webhook_id}/deliveries"), &token)
            .await;
        if let Some(id) = list["data"]["deliveries"][0]["id"].as_str() {
            break id.to_owned();
        }
        assert!(Instant::now() < deadline, "no delivery: {list}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let (status, key) = app
        .post("/api/v1/api-keys", &token, json!({"name": "fuzz"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let agent = app.add_user(&owner, "fuzz-agent@acme.sa", "agent").await;
    // The customer's conversation was stored with their message.
    let (_, conversations) = app.get("/api/v1/whatsapp/conversations", &token).await;
    let conversation_id = conversations["data"]["conversations"][0]["id"]
        .as_str()
        .expect("a conversation")
        .to_owned();
    // The admin route changes the plan of an organization of its own, never the owner's.
    let other = app.register("fuzz-other@acme.sa").await;
    // Reusable content, and a rule no fuzzed message can trigger (the counts stay the
    // server's own answers to the sweep).
    let content = crate::helpers::reusable_content(app, &token).await;
    Own {
        template_id: content.template_id,
        quick_reply_id: content.quick_reply_id,
        library_media_id: content.media_id,
        auto_reply_id: content.auto_reply_id,
        scheduled_message_id: content.scheduled_message_id,
        broadcast_id: content.broadcast_id,
        api_key_id: key["data"]["apiKey"]["id"].as_str().expect("id").to_owned(),
        agent_id: agent.user_id,
        contact_id,
        conversation_id,
        webhook_id,
        delivery_id,
        media_message_id,
        other_org_id: other.org_id,
        owner,
    }
}

impl Fuzz<'_> {
    /// Phone numbers everywhere a number goes in: sends, incoming messages, the listing's
    /// filter, pairing codes and scans, and the multipart sends.
    async fn phones(&mut self) {
        let cases = phone_cases(&mut self.rng, 45);
        let token = self.token();
        for (i, input) in cases.iter().enumerate() {
            let valid = phone(input);
            let written = written_phone(input);
            let what = format!("phone {}", preview(input.as_bytes(), 60));
            let reject = phone_refusal(input);
            let send = json!({"to": input, "text": "اختبار الرقم"});
            let want = if written.is_some() {
                Want::Status(201)
            } else {
                reject
            };
            self.run(
                Req::new(
                    Method::POST,
                    "/api/v1/whatsapp/messages/send",
                    format!("{what} as `to`"),
                )
                .token(token.as_deref())
                .json(&send),
                want,
            )
            .await;

            let incoming = json!({"from": input, "type": "text", "text": "اختبار"});
            let want = if valid.is_some() {
                Want::Status(200)
            } else {
                reject
            };
            self.run(
                Req::new(
                    Method::POST,
                    "/api/v1/whatsapp/sandbox/default/incoming",
                    format!("{what} as `from`"),
                )
                .token(token.as_deref())
                .json(&incoming),
                want,
            )
            .await;

            for (path, field) in [
                (
                    "/api/v1/whatsapp/sessions/default/pairing-code",
                    "phoneNumber",
                ),
                ("/api/v1/whatsapp/sandbox/default/scan", "phoneNumber"),
            ] {
                // The session is connected: a real number meets that, anything else a 400.
                // A pairing code is asked for a number a person types; a scan reports one.
                let number = if field == "phoneNumber" && path.ends_with("/pairing-code") {
                    &written
                } else {
                    &valid
                };
                let want = if number.is_some() {
                    Want::Code(409, "SESSION_ALREADY_CONNECTED")
                } else {
                    reject
                };
                let mut body = Map::new();
                body.insert(field.to_owned(), json!(input));
                self.run(
                    Req::new(Method::POST, path, format!("{what} as `{field}`"))
                        .token(token.as_deref())
                        .json(&Value::Object(body)),
                    want,
                )
                .await;
            }

            if input.len() < 4096 {
                let want = if input.is_empty() || valid.is_some() || written.is_some() {
                    Want::Status(200)
                } else {
                    reject
                };
                let path = format!(
                    "/api/v1/whatsapp/messages?contact={}",
                    urlencode(input.as_bytes())
                );
                self.run(
                    Req::new(Method::GET, path, format!("{what} as ?contact"))
                        .token(token.as_deref()),
                    want,
                )
                .await;
            }

            if i % 4 == 0 {
                let parts = [
                    text_part("to", input.as_bytes()),
                    file_part("image", b"p.png", "image/png", png_bytes()),
                ];
                let want = match () {
                    _ if written.is_some() => Want::Status(201),
                    // A form's text part is at most 64 KiB, whatever it holds.
                    _ if input.len() > 64 * 1024 => Want::Code(400, "VALIDATION_ERROR"),
                    _ => reject,
                };
                let req = multipart_req(
                    "/api/v1/whatsapp/messages/send-image",
                    format!("{what} as the form's `to`"),
                    &parts,
                    token.as_deref(),
                );
                self.run(req, want).await;
            }
        }
    }

    /// Every route that takes JSON: each field of the wrong type, each required field
    /// missing, extra fields, hostile strings, and bodies that are not the right JSON at all.
    async fn json_bodies(&mut self, doc: &Value, routes: &[(String, String, Method, Value)]) {
        for (key, template, method, op) in routes {
            let Some((props, required)) = body_schema(doc, op) else {
                continue;
            };
            let path = match fill(template, &self.own, None) {
                Ok(p) => p,
                Err(e) => {
                    self.failures.push(e);
                    continue;
                }
            };
            let token = token_for(op, &self.own);
            let request = |what: String| {
                Req::new(method.clone(), path.clone(), format!("{key}: {what}"))
                    .token(token.as_deref())
            };

            for (name, prop) in &props {
                let types = types_of(prop);
                let mut wrong: Vec<Value> = typed_values()
                    .into_iter()
                    .filter(|v| !types.iter().any(|t| t == json_type(v)))
                    .collect();
                if types.iter().any(|t| t == "array") {
                    // An array, but not of what the field holds.
                    wrong.push(json!([1, {"x": []}, null]));
                }
                for value in self.rng.sample(&wrong, 3) {
                    let n = self.unique();
                    let mut body = base_body(&props, &required, n);
                    body.insert(name.clone(), value.clone());
                    let req = request(format!(
                        "`{name}` of the wrong type: {}",
                        preview(value.to_string().as_bytes(), 80)
                    ))
                    .json(&Value::Object(body));
                    self.run(req, Want::Code(400, "VALIDATION_ERROR")).await;
                }
                if types.iter().any(|t| t == "string") {
                    let mut strings = vec![
                        self.rng.string(40),
                        self.rng.string(400),
                        String::new(),
                        " \t ".to_owned(),
                    ];
                    strings.push(format!("a\0b{}", self.rng.string(10)));
                    strings.push(if self.rng.chance(50) {
                        "ب".repeat(5_000)
                    } else {
                        "x".repeat(300_000)
                    });
                    for value in strings {
                        let n = self.unique();
                        let mut body = base_body(&props, &required, n);
                        body.insert(name.clone(), json!(value));
                        let req = request(format!("`{name}` = {}", preview(value.as_bytes(), 80)))
                            .json(&Value::Object(body));
                        // A NUL is refused in every field, the same on both databases.
                        let want = if value.contains('\0') {
                            Want::Code(400, "VALIDATION_ERROR")
                        } else {
                            Want::Any
                        };
                        self.run(req, want).await;
                    }
                }
            }
            for name in &required {
                let n = self.unique();
                let mut body = base_body(&props, &required, n);
                body.remove(name);
                self.run(
                    request(format!("`{name}` missing")).json(&Value::Object(body)),
                    Want::Code(400, "VALIDATION_ERROR"),
                )
                .await;
            }
            for _ in 0..2 {
                let n = self.unique();
                let mut body = base_body(&props, &required, n);
                let extra = *self.rng.pick(&[
                    "organizationId",
                    "id",
                    "__proto__",
                    "role",
                    "createdAt",
                    "زائد",
                    "isAdmin",
                ]);
                let value = self.rng.pick(&typed_values()).clone();
                body.entry(extra.to_owned()).or_insert(value);
                body.insert(self.rng.string(12), json!(self.rng.string(20)));
                self.run(
                    request("extra fields".into()).json(&Value::Object(body)),
                    Want::Any,
                )
                .await;
            }

            let n = self.unique();
            let base = base_body(&props, &required, n);
            let base_text = Value::Object(base.clone()).to_string();
            let string_field = props
                .iter()
                .find(|(name, p)| {
                    required.contains(name) && types_of(p).iter().any(|t| t == "string")
                })
                .or_else(|| {
                    props
                        .iter()
                        .find(|(_, p)| types_of(p).iter().any(|t| t == "string"))
                })
                .map(|(name, _)| name.clone());
            let json_ct = Some("application/json");
            let mut raw: Vec<(String, Option<&str>, Vec<u8>, Want)> = vec![
                (
                    "an empty body".into(),
                    json_ct,
                    Vec::new(),
                    Want::Code(400, "INVALID_JSON"),
                ),
                ("null".into(), json_ct, b"null".to_vec(), Want::BadJson),
                ("true".into(), json_ct, b"true".to_vec(), Want::BadJson),
                ("a number".into(), json_ct, b"-1".to_vec(), Want::BadJson),
                (
                    "a huge number".into(),
                    json_ct,
                    b"1e400".to_vec(),
                    Want::BadJson,
                ),
                (
                    "a string".into(),
                    json_ct,
                    b"\"966551234567\"".to_vec(),
                    Want::BadJson,
                ),
                (
                    "an empty array".into(),
                    json_ct,
                    b"[]".to_vec(),
                    Want::BadJson,
                ),
                (
                    "an array of objects".into(),
                    json_ct,
                    format!("[{base_text}]").into_bytes(),
                    Want::BadJson,
                ),
                (
                    "half an object".into(),
                    json_ct,
                    base_text.as_bytes()[..base_text.len() / 2].to_vec(),
                    Want::Code(400, "INVALID_JSON"),
                ),
                (
                    "an unterminated object".into(),
                    json_ct,
                    b"{\"a\":".to_vec(),
                    Want::Code(400, "INVALID_JSON"),
                ),
                (
                    "a form body".into(),
                    json_ct,
                    b"to=966551234567&text=hi".to_vec(),
                    Want::Code(400, "INVALID_JSON"),
                ),
                (
                    "XML".into(),
                    json_ct,
                    b"<?xml version=\"1.0\"?><to>1</to>".to_vec(),
                    Want::Code(400, "INVALID_JSON"),
                ),
                (
                    "NaN".into(),
                    json_ct,
                    b"NaN".to_vec(),
                    Want::Code(400, "INVALID_JSON"),
                ),
                (
                    "random bytes".into(),
                    json_ct,
                    self.rng.bytes(64),
                    Want::BadJson,
                ),
                (
                    "a byte-order mark".into(),
                    json_ct,
                    [b"\xEF\xBB\xBF".as_slice(), base_text.as_bytes()].concat(),
                    Want::BadJson,
                ),
                (
                    "trailing garbage".into(),
                    json_ct,
                    format!("{base_text} x").into_bytes(),
                    Want::Code(400, "INVALID_JSON"),
                ),
                (
                    "two objects".into(),
                    json_ct,
                    format!("{base_text}{base_text}").into_bytes(),
                    Want::Code(400, "INVALID_JSON"),
                ),
                (
                    "arrays 100 000 deep".into(),
                    json_ct,
                    ["[".repeat(100_000), "]".repeat(100_000)]
                        .concat()
                        .into_bytes(),
                    Want::BadJson,
                ),
                // An unknown field, however deep, is ignored: only a body that lacks required fields fails.
                (
                    "objects 20 000 deep".into(),
                    json_ct,
                    ["{\"a\":".repeat(20_000), "1".into(), "}".repeat(20_000)]
                        .concat()
                        .into_bytes(),
                    if required.is_empty() {
                        Want::Any
                    } else {
                        Want::Code(400, "VALIDATION_ERROR")
                    },
                ),
                (
                    "no content type".into(),
                    None,
                    base_text.clone().into_bytes(),
                    Want::Code(415, "UNSUPPORTED_MEDIA_TYPE"),
                ),
                (
                    "text/plain".into(),
                    Some("text/plain"),
                    base_text.clone().into_bytes(),
                    Want::Code(415, "UNSUPPORTED_MEDIA_TYPE"),
                ),
                (
                    "a form content type".into(),
                    Some("application/x-www-form-urlencoded"),
                    base_text.clone().into_bytes(),
                    Want::Code(415, "UNSUPPORTED_MEDIA_TYPE"),
                ),
                (
                    "a multipart content type".into(),
                    Some("multipart/form-data; boundary=x"),
                    base_text.clone().into_bytes(),
                    Want::Code(415, "UNSUPPORTED_MEDIA_TYPE"),
                ),
                (
                    "application/jsonx".into(),
                    Some("application/jsonx"),
                    base_text.clone().into_bytes(),
                    Want::Code(415, "UNSUPPORTED_MEDIA_TYPE"),
                ),
                (
                    "a content type that does not parse".into(),
                    Some(";;;/"),
                    base_text.clone().into_bytes(),
                    Want::Code(415, "UNSUPPORTED_MEDIA_TYPE"),
                ),
                (
                    "JSON with a charset".into(),
                    Some("application/json; charset=utf-16"),
                    base_text.clone().into_bytes(),
                    Want::Any,
                ),
                ("an empty object".into(), json_ct, b"{}".to_vec(), Want::Any),
            ];
            if let Some(field) = &string_field {
                raw.extend([
                    (
                        format!("invalid UTF-8 in `{field}`"),
                        json_ct,
                        splice(&base, field, b"\"\xff\xfe\xc0\xaf\""),
                        Want::BadJson,
                    ),
                    (
                        format!("a lone surrogate in `{field}`"),
                        json_ct,
                        splice(&base, field, br#""\ud800x""#),
                        Want::BadJson,
                    ),
                    (
                        format!("an escaped NUL in `{field}`"),
                        json_ct,
                        splice(&base, field, br#""a\u0000b""#),
                        Want::Code(400, "VALIDATION_ERROR"),
                    ),
                    (
                        format!("a raw control character in `{field}`"),
                        json_ct,
                        splice(&base, field, b"\"a\x01b\""),
                        Want::Code(400, "INVALID_JSON"),
                    ),
                    (
                        format!("`{field}` twice"),
                        json_ct,
                        {
                            let text = Value::Object(base.clone()).to_string();
                            let dup = format!("{{\"{field}\":\"x\",{}", &text[1..]);
                            dup.into_bytes()
                        },
                        Want::BadJson,
                    ),
                    (
                        format!("arrays 5 000 deep in `{field}`"),
                        json_ct,
                        splice(
                            &base,
                            field,
                            ["[".repeat(5_000), "]".repeat(5_000)].concat().as_bytes(),
                        ),
                        Want::BadJson,
                    ),
                    (
                        format!("`{field}` over the body limit"),
                        json_ct,
                        splice(
                            &base,
                            field,
                            format!("\"{}\"", "a".repeat(MAX_JSON + (64 << 10))).as_bytes(),
                        ),
                        Want::Code(413, "PAYLOAD_TOO_LARGE"),
                    ),
                ]);
            }
            for (what, ct, body, want) in raw {
                self.run(request(what).raw(ct, body), want).await;
            }
        }
    }

    /// Every multipart send: parts missing or twice, files too big, empty or of the wrong
    /// kind, hostile filenames, bad text parts and broken forms.
    async fn uploads(&mut self, routes: &[(String, String, Method, Value)]) {
        let token = self.token();
        let kinds = sample_kinds();
        for (key, template, _, op) in routes {
            if op["requestBody"]["content"]
                .get("multipart/form-data")
                .is_none()
            {
                continue;
            }
            if template == "/api/v1/whatsapp/media" {
                // Its form has no recipient: see `library_uploads`.
                continue;
            }
            let Some(endpoint) = template
                .rsplit('/')
                .next()
                .and_then(|s| s.strip_prefix("send-"))
            else {
                self.failures.push(format!("{key}: a multipart route the bad input sweep cannot name the file part of; extend it"));
                continue;
            };
            let Some((_, sample, mime)) = kinds.iter().find(|(k, _, _)| *k == endpoint).cloned()
            else {
                self.failures.push(format!(
                    "{key}: no sample file for {endpoint:?}; extend sample_kinds"
                ));
                continue;
            };
            let path = template.clone();
            let to = || text_part("to", b"966551113333");
            let file = |name: &[u8], bytes: Vec<u8>| file_part(endpoint, name, mime, bytes);
            let good = || file(b"sample.bin", sample.clone());
            let bad = Want::Code(400, "VALIDATION_ERROR");
            let mut cases: Vec<(String, Vec<FormPart>, Want)> = vec![
                ("a good form".into(), vec![to(), good()], Want::Status(201)),
                ("the file part missing".into(), vec![to()], bad),
                (
                    "the file part twice".into(),
                    vec![to(), good(), good()],
                    bad,
                ),
                ("`to` missing".into(), vec![good()], bad),
                ("`to` twice".into(), vec![to(), to(), good()], bad),
                (
                    "an empty file".into(),
                    vec![to(), file(b"empty.bin", Vec::new())],
                    bad,
                ),
                (
                    "a file just over 16 MB".into(),
                    vec![to(), file(b"big.bin", vec![0x25; MAX_MEDIA + 1])],
                    Want::Code(413, "FILE_TOO_LARGE"),
                ),
                (
                    "`to` of 70 KB".into(),
                    vec![text_part("to", "9".repeat(70_000).as_bytes()), good()],
                    bad,
                ),
                (
                    "`to` in invalid UTF-8".into(),
                    vec![text_part("to", b"9665\xff51113333"), good()],
                    bad,
                ),
                (
                    "a caption of 5 000 characters".into(),
                    vec![
                        to(),
                        text_part("caption", "ت".repeat(5_000).as_bytes()),
                        good(),
                    ],
                    if endpoint == "audio" { Want::Any } else { bad },
                ),
                (
                    "a caption with a NUL".into(),
                    vec![to(), text_part("caption", b"a\0b"), good()],
                    bad,
                ),
                (
                    "a caption in invalid UTF-8".into(),
                    vec![to(), text_part("caption", b"\xc3\x28"), good()],
                    bad,
                ),
                (
                    "ptt=maybe".into(),
                    vec![to(), text_part("ptt", b"maybe"), good()],
                    bad,
                ),
                (
                    "ptt=true".into(),
                    vec![to(), text_part("ptt", b"true"), good()],
                    if endpoint == "audio" {
                        Want::Status(201)
                    } else {
                        bad
                    },
                ),
                (
                    "sessionName ghost".into(),
                    vec![to(), text_part("sessionName", b"ghost"), good()],
                    Want::Code(404, "NOT_FOUND"),
                ),
                (
                    "sessionName ../default".into(),
                    vec![to(), text_part("sessionName", b"../default"), good()],
                    Want::Code(404, "NOT_FOUND"),
                ),
                (
                    "an unknown part of 100 KB".into(),
                    vec![to(), text_part("evil", &self.rng.bytes(100_000)), good()],
                    Want::Status(201),
                ),
                (
                    "a part without a name".into(),
                    vec![
                        to(),
                        (
                            b"Content-Disposition: form-data; filename=\"x.bin\"".to_vec(),
                            sample.clone(),
                        ),
                    ],
                    bad,
                ),
                (
                    "a part name in invalid UTF-8".into(),
                    vec![
                        to(),
                        (
                            b"Content-Disposition: form-data; name=\"\xff\xfe\"".to_vec(),
                            b"x".to_vec(),
                        ),
                        good(),
                    ],
                    Want::Any,
                ),
                (
                    "a part that is not form-data".into(),
                    vec![
                        to(),
                        (
                            format!("Content-Disposition: attachment; name=\"{endpoint}\"")
                                .into_bytes(),
                            sample.clone(),
                        ),
                    ],
                    Want::Any,
                ),
                (
                    "a lying part content type".into(),
                    vec![
                        to(),
                        file_part(endpoint, b"x.png", "image/png", PDF.to_vec()),
                    ],
                    if endpoint == "document" {
                        Want::Status(201)
                    } else {
                        Want::Code(415, "UNSUPPORTED_MEDIA_TYPE")
                    },
                ),
            ];
            for (kind, bytes, _) in &kinds {
                if kind == &endpoint {
                    continue;
                }
                let want = if fits(endpoint, kind) {
                    Want::Status(201)
                } else {
                    Want::Code(415, "UNSUPPORTED_MEDIA_TYPE")
                };
                cases.push((
                    format!("a {kind} file"),
                    vec![to(), file(b"f.bin", bytes.clone())],
                    want,
                ));
            }
            let noise = self.rng.bytes(256);
            let noise_want = if endpoint == "document" {
                Want::Status(201)
            } else {
                Want::Code(415, "UNSUPPORTED_MEDIA_TYPE")
            };
            cases.push((
                "random bytes".into(),
                vec![to(), file(b"noise.bin", noise)],
                noise_want,
            ));
            let names: Vec<Vec<u8>> = vec![
                b"../../etc/passwd".to_vec(),
                b"..\\..\\windows\\system32\\config".to_vec(),
                b"/etc/shadow".to_vec(),
                b"a\0b.png".to_vec(),
                [b"a".repeat(10_240), b".png".to_vec()].concat(),
                "\u{202E}gnp.exe".as_bytes().to_vec(),
                "invoice\u{202E}fdp.exe".as_bytes().to_vec(),
                "\u{2067}evil\u{2069}.pdf".as_bytes().to_vec(),
                b"".to_vec(),
                b".".to_vec(),
                b"...".to_vec(),
                b".htaccess".to_vec(),
                b"\xff\xfe.png".to_vec(),
                b"a\\\"b.png".to_vec(),
                b"<script>alert(1)</script>.png".to_vec(),
                b"%2e%2e%2f%2e%2e%2fpasswd".to_vec(),
                b"\x1b[31mred\x07.png".to_vec(),
                "صورة المنتج ١.png".as_bytes().to_vec(),
                b"CON".to_vec(),
            ];
            for name in names {
                // Control bytes in a part's header may be refused as a malformed form.
                let want = if name.iter().any(|b| b.is_ascii_control()) {
                    Want::Any
                } else {
                    Want::Status(201)
                };
                cases.push((
                    format!("the filename {}", preview(&name, 60)),
                    vec![to(), file(&name, sample.clone())],
                    want,
                ));
            }
            for (what, parts, want) in cases {
                let req = multipart_req(&path, format!("{key}: {what}"), &parts, token.as_deref());
                if let Some(reply) = self.run(req.clone(), want).await {
                    let stored = reply.json.as_ref().and_then(|b| {
                        b["data"]["message"]["content"]["filename"]
                            .as_str()
                            .map(str::to_owned)
                    });
                    if let Some(name) = stored {
                        if let Some(why) = unsafe_filename(&name) {
                            self.fail(
                                &req,
                                &format!("the stored filename {name:?} has {why}"),
                                Some(&reply),
                            );
                        }
                    }
                }
            }
            let ct = format!("multipart/form-data; boundary={BOUNDARY}");
            let whole = multipart(BOUNDARY, &[to(), good()], true);
            let broken: Vec<(&str, Option<String>, Vec<u8>, Want)> = vec![
                (
                    "no closing boundary",
                    Some(ct.clone()),
                    multipart(BOUNDARY, &[to(), good()], false),
                    bad,
                ),
                (
                    "a body cut in the middle of the file",
                    Some(ct.clone()),
                    whole[..whole.len() - 20].to_vec(),
                    bad,
                ),
                (
                    "another boundary in the body",
                    Some("multipart/form-data; boundary=other".into()),
                    whole.clone(),
                    bad,
                ),
                (
                    "garbage",
                    Some(ct.clone()),
                    b"this is not a form".to_vec(),
                    bad,
                ),
                ("an empty body", Some(ct.clone()), Vec::new(), bad),
                (
                    "no boundary",
                    Some("multipart/form-data".into()),
                    whole.clone(),
                    Want::Code(415, "UNSUPPORTED_MEDIA_TYPE"),
                ),
                (
                    "a JSON content type",
                    Some("application/json".into()),
                    whole.clone(),
                    Want::Code(415, "UNSUPPORTED_MEDIA_TYPE"),
                ),
                (
                    "no content type",
                    None,
                    whole.clone(),
                    Want::Code(415, "UNSUPPORTED_MEDIA_TYPE"),
                ),
                (
                    "a JSON body",
                    Some("application/json".into()),
                    br#"{"to": "966551113333"}"#.to_vec(),
                    Want::Code(415, "UNSUPPORTED_MEDIA_TYPE"),
                ),
                (
                    "a boundary of 500 characters",
                    Some(format!("multipart/form-data; boundary={}", "b".repeat(500))),
                    whole.clone(),
                    Want::Any,
                ),
            ];
            for (what, ct, body, want) in broken {
                let req = Req::new(Method::POST, path.clone(), format!("{key}: {what}"))
                    .token(token.as_deref())
                    .raw(ct.as_deref(), body);
                self.run(req, want).await;
            }
        }
        // A request over the whole upload limit (file limit plus 1 MB for the other fields).
        let parts = [
            text_part("to", b"966551113333"),
            file_part(
                "image",
                b"huge.png",
                "image/png",
                vec![0x89; MAX_MEDIA + 2 * 1024 * 1024],
            ),
        ];
        let req = multipart_req(
            "/api/v1/whatsapp/messages/send-image",
            "a form of 18 MB".into(),
            &parts,
            token.as_deref(),
        );
        self.run(req, Want::Status(413)).await;
    }

    /// Uploads to the media library: parts missing or twice, files too big, empty or not of
    /// the type asked, hostile filenames and broken forms. Nothing of it is a message.
    async fn library_uploads(&mut self) {
        let token = self.token();
        let path = "/api/v1/whatsapp/media";
        let png = || file_part("file", b"logo.png", "image/png", png_bytes());
        let bad = Want::Code(400, "VALIDATION_ERROR");
        let wrong_type = Want::Code(415, "UNSUPPORTED_MEDIA_TYPE");
        let mut cases: Vec<(String, Vec<FormPart>, Want)> = vec![
            ("a good form".into(), vec![png()], Want::Status(201)),
            (
                "a good form with its type".into(),
                vec![text_part("type", b"image"), png()],
                Want::Status(201),
            ),
            (
                "an image kept as a document".into(),
                vec![text_part("type", b"document"), png()],
                Want::Status(201),
            ),
            (
                "the file part missing".into(),
                vec![text_part("type", b"image")],
                bad,
            ),
            ("the file part twice".into(), vec![png(), png()], bad),
            (
                "`type` twice".into(),
                vec![
                    text_part("type", b"image"),
                    text_part("type", b"image"),
                    png(),
                ],
                bad,
            ),
            (
                "an empty file".into(),
                vec![file_part("file", b"e.png", "image/png", Vec::new())],
                bad,
            ),
            (
                "a file just over 16 MB".into(),
                vec![file_part(
                    "file",
                    b"big.bin",
                    "application/octet-stream",
                    vec![0x25; MAX_MEDIA + 1],
                )],
                Want::Code(413, "FILE_TOO_LARGE"),
            ),
            (
                "`type` sticker".into(),
                vec![text_part("type", b"sticker"), png()],
                bad,
            ),
            (
                "`type` text".into(),
                vec![text_part("type", b"text"), png()],
                bad,
            ),
            (
                "`type` with a NUL".into(),
                vec![text_part("type", b"ima\0ge"), png()],
                bad,
            ),
            (
                "`type` in invalid UTF-8".into(),
                vec![text_part("type", b"\xc3\x28"), png()],
                bad,
            ),
            (
                "a PDF as an image".into(),
                vec![
                    text_part("type", b"image"),
                    file_part("file", b"x.png", "image/png", PDF.to_vec()),
                ],
                wrong_type,
            ),
            (
                "a PNG as a video".into(),
                vec![text_part("type", b"video"), png()],
                wrong_type,
            ),
            (
                "random bytes, kept as a document".into(),
                vec![file_part(
                    "file",
                    b"noise.bin",
                    "application/octet-stream",
                    self.rng.bytes(256),
                )],
                Want::Status(201),
            ),
            (
                "an unknown part of 100 KB".into(),
                vec![text_part("evil", &self.rng.bytes(100_000)), png()],
                Want::Status(201),
            ),
        ];
        for name in [
            b"../../etc/passwd".to_vec(),
            b"a\0b.png".to_vec(),
            [b"a".repeat(10_240), b".png".to_vec()].concat(),
            "invoice\u{202E}fdp.exe".as_bytes().to_vec(),
            b"<script>alert(1)</script>.png".to_vec(),
            b"\xff\xfe.png".to_vec(),
            b"".to_vec(),
        ] {
            let want = if name.iter().any(|b| b.is_ascii_control()) {
                Want::Any
            } else {
                Want::Status(201)
            };
            cases.push((
                format!("the filename {}", preview(&name, 60)),
                vec![file_part("file", &name, "image/png", png_bytes())],
                want,
            ));
        }
        for (what, parts, want) in cases {
            let req = multipart_req(
                path,
                format!("POST {path}: {what}"),
                &parts,
                token.as_deref(),
            );
            if let Some(reply) = self.run(req.clone(), want).await {
                let stored = reply
                    .json
                    .as_ref()
                    .and_then(|b| b["data"]["media"]["filename"].as_str().map(str::to_owned));
                if let Some(name) = stored {
                    if let Some(why) = unsafe_filename(&name) {
                        self.fail(
                            &req,
                            &format!("the stored filename {name:?} has {why}"),
                            Some(&reply),
                        );
                    }
                }
            }
        }
        let ct = format!("multipart/form-data; boundary={BOUNDARY}");
        let whole = multipart(BOUNDARY, &[png()], true);
        for (what, ct, body, want) in [
            (
                "no closing boundary",
                Some(ct.clone()),
                multipart(BOUNDARY, &[png()], false),
                bad,
            ),
            (
                "a body cut in the middle of the file",
                Some(ct.clone()),
                whole[..whole.len() - 20].to_vec(),
                bad,
            ),
            (
                "garbage",
                Some(ct.clone()),
                b"this is not a form".to_vec(),
                bad,
            ),
            ("no content type", None, whole.clone(), wrong_type),
            (
                "a JSON body",
                Some("application/json".to_owned()),
                br#"{"file": "x"}"#.to_vec(),
                wrong_type,
            ),
        ] {
            let req = Req::new(Method::POST, path, format!("POST {path}: {what}"))
                .token(token.as_deref())
                .raw(ct.as_deref(), body);
            self.run(req, want).await;
        }
    }

    /// Every query parameter of every route that has them: page and limit out of range and
    /// not numbers, filters that are not what they filter by, hostile search texts.
    async fn queries(&mut self, routes: &[(String, String, Method, Value)]) {
        for (key, template, method, op) in routes {
            let params: Vec<String> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query")
                        .filter_map(|p| p["name"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            if params.is_empty() {
                continue;
            }
            let path = match fill(template, &self.own, None) {
                Ok(p) => p,
                Err(e) => {
                    self.failures.push(e);
                    continue;
                }
            };
            let token = token_for(op, &self.own);
            // A DELETE that is answered ends what the sweep goes through (the session): only
            // the queries it must refuse, before doing anything, are sent.
            if *method == Method::DELETE {
                for param in &params {
                    for value in ["yes", "1", "TRUE", "%00", "t".repeat(5_000).as_str()] {
                        let req = Req::new(
                            method.clone(),
                            format!("{path}?{param}={value}"),
                            format!("{key}: ?{param}={}", preview(value.as_bytes(), 40)),
                        )
                        .token(token.as_deref());
                        self.run(req, Want::Code(400, "VALIDATION_ERROR")).await;
                    }
                }
                continue;
            }
            let websocket = template.ends_with("/events");
            let bad = Want::Code(400, "VALIDATION_ERROR");
            let ok = if websocket {
                Want::Any
            } else {
                Want::Status(200)
            };
            let bad = if websocket { Want::Rejected } else { bad };
            let mut cases: Vec<(String, Want)> = Vec::new();
            for param in &params {
                let values: Vec<(String, Want)> = match param.as_str() {
                    "page" | "limit" => {
                        let max = if param == "page" { "1000000" } else { "100" };
                        let over = if param == "page" { "1000001" } else { "101" };
                        let list: Vec<(String, Want)> = vec![
                            ("-1".into(), bad),
                            ("0".into(), bad),
                            ("abc".into(), bad),
                            ("1.5".into(), bad),
                            ("99999999999999999999".into(), bad),
                            (over.into(), bad),
                            ("%00".into(), bad),
                            ("%FF".into(), bad),
                            ("0x10".into(), bad),
                            ("%D9%A1".into(), bad),
                            ("1e3".into(), bad),
                            ("9".repeat(5_000), bad),
                            ("1".into(), ok),
                            (max.into(), ok),
                            (String::new(), ok),
                        ];
                        self.rng.sample(&list, 8)
                    }
                    "contact" => {
                        let phones: Vec<String> = phone_cases(&mut self.rng, 3)
                            .into_iter()
                            .filter(|p| p.len() < 4096)
                            .collect();
                        self.rng
                            .sample(&phones, 6)
                            .into_iter()
                            .map(|p| {
                                let number = phone(&p).or_else(|| written_phone(&p));
                                let want = match () {
                                    _ if p.is_empty() || number.is_some() => ok,
                                    _ if websocket => bad,
                                    _ => phone_refusal(&p),
                                };
                                (urlencode(p.as_bytes()), want)
                            })
                            .collect()
                    }
                    "status" if key.contains("/recipients") => vec![
                        ("queued".into(), ok),
                        ("skipped".into(), ok),
                        (String::new(), ok),
                        ("QUEUED".into(), bad),
                        ("%00".into(), bad),
                        ("x".repeat(5_000), bad),
                    ],
                    "status" if key.contains("broadcasts") => vec![
                        ("draft".into(), ok),
                        ("running".into(), ok),
                        (String::new(), ok),
                        ("open".into(), bad),
                        ("%00".into(), bad),
                        ("x".repeat(5_000), bad),
                    ],
                    "status" if key.contains("scheduled-messages") => vec![
                        ("active".into(), ok),
                        ("paused".into(), ok),
                        ("cancelled".into(), ok),
                        (String::new(), ok),
                        ("ACTIVE".into(), bad),
                        ("open".into(), bad),
                        ("%00".into(), bad),
                        ("x".repeat(5_000), bad),
                    ],
                    "from" => vec![
                        ("2027-03-01".into(), ok),
                        (String::new(), ok),
                        ("2027-02-30".into(), bad),
                        ("tomorrow".into(), bad),
                        ("%00".into(), bad),
                        ("9".repeat(5_000), bad),
                    ],
                    "days" => vec![
                        ("1".into(), ok),
                        ("62".into(), ok),
                        (String::new(), ok),
                        ("0".into(), bad),
                        ("63".into(), bad),
                        ("-1".into(), bad),
                        ("%D9%A1".into(), bad),
                    ],
                    "status" => vec![
                        ("open".into(), ok),
                        ("resolved".into(), ok),
                        (String::new(), ok),
                        ("closed".into(), bad),
                        ("OPEN".into(), bad),
                        ("%00".into(), bad),
                        ("x".repeat(5_000), bad),
                    ],
                    "unread" => vec![
                        ("true".into(), ok),
                        ("false".into(), ok),
                        (String::new(), ok),
                        ("yes".into(), bad),
                        ("1".into(), bad),
                        ("TRUE".into(), bad),
                        ("%00".into(), bad),
                    ],
                    "assignee" => vec![
                        ("me".into(), ok),
                        ("unassigned".into(), ok),
                        (self.own.agent_id.clone(), ok),
                        ("0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b".into(), ok),
                        (String::new(), ok),
                        ("me%2Cyou".into(), bad),
                        ("%27%20OR%201%3D1".into(), bad),
                        ("%00".into(), bad),
                        ("a".repeat(5_000), bad),
                    ],
                    "direction" => vec![
                        ("incoming".into(), ok),
                        ("outgoing".into(), ok),
                        (String::new(), ok),
                        ("sideways".into(), bad),
                        ("INCOMING".into(), bad),
                        ("%00".into(), bad),
                        ("x".repeat(5_000), bad),
                    ],
                    "sessionName" => {
                        let missing = if websocket {
                            Want::Any
                        } else {
                            Want::Code(404, "NOT_FOUND")
                        };
                        vec![
                            ("default".into(), ok),
                            (String::new(), ok),
                            ("ghost".into(), missing),
                            ("DEFAULT".into(), missing),
                            ("%00".into(), Want::Rejected),
                            ("%FF".into(), missing),
                            ("..".into(), missing),
                            ("d".repeat(5_000), missing),
                        ]
                    }
                    "search" => {
                        let mut v: Vec<(String, Want)> = (0..4)
                            .map(|_| (urlencode(self.rng.string(30).as_bytes()), ok))
                            .collect();
                        // A NUL is refused; anything else is just a search that finds nothing.
                        v.extend([
                            ("%00".into(), bad),
                            ("a%00b".into(), bad),
                            ("%25%5F%5C".into(), ok),
                            ("%FF%FE".into(), ok),
                            (urlencode("س".repeat(2_000).as_bytes()), ok),
                        ]);
                        v
                    }
                    _ => (0..3)
                        .map(|_| (urlencode(self.rng.string(30).as_bytes()), Want::Any))
                        .collect(),
                };
                for (value, want) in values {
                    cases.push((format!("{param}={value}"), want));
                }
            }
            if params.iter().any(|p| p == "page") {
                cases.push(("page=1&page=2".into(), bad));
            }
            cases.extend([
                ("%zz=1&&=&".into(), Want::Any),
                ("page".into(), Want::Any),
                ("a[b]=1&c[]=2".into(), Want::Any),
                (format!("unknown={}", "u".repeat(8_000)), Want::Any),
            ]);
            for (query, want) in cases {
                let req = Req::new(
                    method.clone(),
                    format!("{path}?{query}"),
                    format!("{key}: ?{}", preview(query.as_bytes(), 80)),
                )
                .token(token.as_deref());
                self.run(req, want).await;
            }
        }
    }

    /// Every path parameter of every route: very long, NUL, `..`, encoded slashes, invalid
    /// UTF-8, unicode. None of them names anything, so each is a 4xx.
    async fn path_params(&mut self, doc: &Value, routes: &[(String, String, Method, Value)]) {
        let hostile: Vec<String> = vec![
            "a".repeat(10_240),
            "%00".into(),
            "default%00".into(),
            "..".into(),
            "%2e%2e".into(),
            "..%2F..%2Fetc%2Fpasswd".into(),
            "%2F".into(),
            "%FF".into(),
            "%C0%AF".into(),
            "%E2%80%AEdefault".into(),
            urlencode("ليلى".as_bytes()),
            urlencode("🙂".as_bytes()),
            "%20".into(),
            urlencode(b"' OR '1'='1"),
            "DEFAULT".into(),
            "-1".into(),
        ];
        // A dot segment is resolved by the client before it is sent (`/messages/../media` is
        // `/media`): when that lands on another documented route, it is that route's call.
        let documented: BTreeSet<String> = routes
            .iter()
            .map(|(_, template, method, _)| format!("{method} {template}"))
            .collect();
        for (key, template, method, op) in routes {
            let params = path_params(template);
            if params.is_empty() {
                continue;
            }
            let token = token_for(op, &self.own);
            let body = body_schema(doc, op).map(|(props, required)| {
                let n = self.unique();
                Value::Object(base_body(&props, &required, n))
            });
            for (param, _) in &params {
                for value in &hostile {
                    let path =
                        match fill(template, &self.own, Some((param.as_str(), value.as_str()))) {
                            Ok(p) => p,
                            Err(e) => {
                                self.failures.push(e);
                                break;
                            }
                        };
                    if matches!(value.as_str(), ".." | "%2e%2e")
                        && documented.contains(&format!("{method} {}", resolve_dots(&path)))
                    {
                        continue;
                    }
                    let mut req = Req::new(
                        method.clone(),
                        path,
                        format!("{key}: {{{param}}} = {}", preview(value.as_bytes(), 60)),
                    )
                    .token(token.as_deref());
                    if let Some(body) = &body {
                        req = req.json(body);
                    }
                    self.run(req, Want::Rejected).await;
                }
            }
        }
    }

    /// Filenames of incoming documents: the sender names them (a WhatsApp customer, here the
    /// sandbox's), and the dashboard shows them, so they must be as safe as uploaded ones.
    async fn incoming_filenames(&mut self) {
        let token = self.token();
        let pdf = base64::engine::general_purpose::STANDARD.encode(PDF);
        let names = [
            "../../etc/passwd".to_owned(),
            "invoice\u{202E}fdp.exe".to_owned(),
            "\u{2067}evil\u{2069}.pdf".to_owned(),
            "a\u{7}b\u{1b}[31m.pdf".to_owned(),
            format!("{}.pdf", "n".repeat(10_240)),
            ".htaccess".to_owned(),
            "عرض سعر.pdf".to_owned(),
        ];
        for name in names {
            let id = format!("FUZZDOC{}", self.unique());
            let body = json!({"from": CUSTOMER, "type": "document", "mediaBase64": pdf, "mimeType": "application/pdf", "filename": name, "messageId": id});
            let req = Req::new(
                Method::POST,
                "/api/v1/whatsapp/sandbox/default/incoming",
                format!(
                    "an incoming document named {}",
                    preview(name.as_bytes(), 60)
                ),
            )
            .token(token.as_deref())
            .json(&body);
            let Some(reply) = self.run(req.clone(), Want::Status(200)).await else {
                continue;
            };
            if reply.status != StatusCode::OK {
                continue;
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            let stored = loop {
                let (_, list) = self
                    .app
                    .get(
                        "/api/v1/whatsapp/messages?direction=incoming&limit=20",
                        &self.own.owner.token,
                    )
                    .await;
                let found = list["data"]["messages"]
                    .as_array()
                    .and_then(|ms| ms.iter().find(|m| m["messageId"] == json!(id)).cloned());
                if let Some(m) = found {
                    break Some(m);
                }
                if Instant::now() > deadline {
                    break None;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            match stored
                .as_ref()
                .map(|m| m["content"]["filename"].as_str().map(str::to_owned))
            {
                None => self.fail(&req, "the accepted document was never listed", Some(&reply)),
                Some(Some(stored)) => {
                    if let Some(why) = unsafe_filename(&stored) {
                        self.fail(
                            &req,
                            &format!(
                                "the stored filename {} has {why}",
                                preview(stored.as_bytes(), 80)
                            ),
                            Some(&reply),
                        );
                    }
                }
                Some(None) => {}
            }
        }
    }

    /// Credentials and headers that are not what they should be.
    async fn headers(&mut self) {
        let me = "/api/v1/auth/me";
        let auth: Vec<(&str, Vec<u8>)> = vec![
            ("no scheme", b"token".to_vec()),
            ("Bearer alone", b"Bearer".to_vec()),
            ("Bearer and spaces", b"Bearer    ".to_vec()),
            ("Basic", b"Basic dXNlcjpwYXNz".to_vec()),
            (
                "a 10 KB token",
                [b"Bearer ".as_slice(), "t".repeat(10_240).as_bytes()].concat(),
            ),
            (
                "a made-up API key",
                b"Bearer wasl_0000000000000000000000000000000000000000".to_vec(),
            ),
            (
                "a JWT of nothing",
                b"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.".to_vec(),
            ),
            ("bytes that are not text", b"Bearer \xff\xfe\xfd".to_vec()),
            (
                "the admin token",
                format!("Bearer {ADMIN_TOKEN}").into_bytes(),
            ),
        ];
        for (what, value) in auth {
            let req = Req::new(Method::GET, me, format!("Authorization: {what}"))
                .header("authorization", &value);
            self.run(req, Want::Status(401)).await;
            let req = Req::new(
                Method::GET,
                "/api/v1/admin/organizations",
                format!("admin Authorization: {what}"),
            )
            .header("authorization", &value);
            let want = if what == "the admin token" {
                Want::Status(200)
            } else {
                Want::Status(401)
            };
            self.run(req, want).await;
        }
        let token = self.token();
        let keys: Vec<(&str, Vec<u8>, Want)> = vec![
            ("empty", Vec::new(), Want::Code(400, "VALIDATION_ERROR")),
            (
                "spaces",
                b"   ".to_vec(),
                Want::Code(400, "VALIDATION_ERROR"),
            ),
            (
                "256 characters",
                "k".repeat(256).into_bytes(),
                Want::Code(400, "VALIDATION_ERROR"),
            ),
            (
                "bytes that are not text",
                b"key-\xff".to_vec(),
                Want::Code(400, "VALIDATION_ERROR"),
            ),
            (
                "255 characters",
                "k".repeat(255).into_bytes(),
                Want::Status(201),
            ),
        ];
        for (what, value, want) in keys {
            let req = Req::new(
                Method::POST,
                "/api/v1/whatsapp/messages/send",
                format!("Idempotency-Key: {what}"),
            )
            .token(token.as_deref())
            .header("idempotency-key", &value)
            .json(&json!({"to": SEND_TO, "text": "مفتاح"}));
            self.run(req, want).await;
        }
        for value in [
            b"en;q=abc".to_vec(),
            "x".repeat(8_000).into_bytes(),
            b"\xff".to_vec(),
            b"*".to_vec(),
        ] {
            let req = Req::new(
                Method::GET,
                "/api/v1/nothing-here",
                "an odd Accept-Language",
            )
            .header("accept-language", &value);
            self.run(req, Want::Code(404, "ROUTE_NOT_FOUND")).await;
        }
    }
}

async fn fuzz_for(app: &TestApp) -> Fuzz<'_> {
    let seed = seed();
    let own = setup(app).await;
    Fuzz {
        app,
        seed,
        rng: Rng(seed),
        own,
        ledger: Ledger::default(),
        requests: 0,
        failures: Vec::new(),
        unique: 0,
    }
}

on_both_databases! {
    async fn incoming_document_names_are_as_safe_as_uploaded_ones(app: TestApp) {
        let mut fuzz = fuzz_for(&app).await;
        fuzz.incoming_filenames().await;
        let failures = std::mem::take(&mut fuzz.failures);
        assert!(failures.is_empty(), "{} problem(s) with incoming filenames:\n{}", failures.len(), failures.join("\n"));
    }

    async fn bad_input_never_breaks_the_server_or_its_data(app: TestApp) {
        let started = Instant::now();
        let mut fuzz = fuzz_for(&app).await;
        let seed = fuzz.seed;
        println!("bad input sweep: seed {seed:#x} (WASL_FUZZ_SEED={seed:#x} replays it)");
        let doc = app.send_raw(app.client.get(app.url("/api/v1/openapi.json"))).await.json.expect("the OpenAPI document");
        let routes = documented_routes(&doc);
        // The baseline: what setup stored, once it is all stored.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (_, stats) = app.get("/api/v1/whatsapp/stats", &fuzz.own.owner.token).await;
        fuzz.ledger.base_messages = stats["data"]["totalMessages"].as_i64().expect("count");
        let (_, contacts) = app.get("/api/v1/whatsapp/contacts?limit=100", &fuzz.own.owner.token).await;
        fuzz.ledger.contacts = contacts["data"]["contacts"].as_array().expect("contacts").iter().filter_map(|c| c["phoneNumber"].as_str().map(str::to_owned)).collect();

        let mut sections = Vec::new();
        let mut mark = (fuzz.requests, Instant::now());
        macro_rules! section {
            ($name:literal, $call:expr) => {
                $call;
                fuzz.checkpoint($name).await;
                sections.push(format!("{} {} requests in {:.1} s", $name, fuzz.requests - mark.0, mark.1.elapsed().as_secs_f64()));
                mark = (fuzz.requests, Instant::now());
            };
        }
        section!("phones", fuzz.phones().await);
        section!("json", fuzz.json_bodies(&doc, &routes).await);
        section!("uploads", fuzz.uploads(&routes).await);
        section!("library", fuzz.library_uploads().await);
        section!("queries", fuzz.queries(&routes).await);
        section!("paths", fuzz.path_params(&doc, &routes).await);
        section!("headers", fuzz.headers().await);
        let _ = mark;

        // The session it all went through is still connected, on the same number.
        let session = app.wait_for_session(&fuzz.own.owner.token, "default", "connected", |s| s["status"] == "connected").await;
        assert_eq!(session["phoneNumber"], json!(SESSION_PHONE));
        println!(
            "bad input sweep: {} requests ({}), {} messages and {} contacts accepted, {:.1} s in all",
            fuzz.requests,
            sections.join(", "),
            fuzz.ledger.outgoing.len() + fuzz.ledger.incoming.len(),
            fuzz.ledger.contacts.len(),
            started.elapsed().as_secs_f64()
        );
        let failures = std::mem::take(&mut fuzz.failures);
        assert!(failures.is_empty(), "{} problem(s) in the bad input sweep (seed {seed:#x}):\n{}", failures.len(), failures.join("\n"));
    }
}
