//! The HTTP client the crate uploads and downloads media with (and nothing else: wasl sets
//! the WhatsApp Web version itself). WhatsApp's media hosts are HTTPS, and the crate writes
//! `https://` into every media URL. A build that trusts the test peer (`trust-test-peer`)
//! also speaks plain HTTP to a loopback host, where the peer keeps its media; any other build
//! sends every request as the crate built it.

use whatsapp_rust::anyhow::Result;
use whatsapp_rust::http::{HttpClient, HttpRequest, HttpResponse, UreqHttpClient};
use whatsapp_rust::wacore::net::{StreamingHttpResponse, UploadBody};

#[derive(Clone)]
pub(crate) struct MediaHttp {
    inner: UreqHttpClient,
}

impl MediaHttp {
    pub(crate) fn new(inner: UreqHttpClient) -> Self {
        MediaHttp { inner }
    }
}

/// Where a request goes: as built, except a test build's loopback media host.
fn routed(mut request: HttpRequest) -> HttpRequest {
    if cfg!(feature = "trust-test-peer") {
        if let Some(rest) = request.url.strip_prefix("https://127.0.0.1:") {
            request.url = format!("http://127.0.0.1:{rest}");
        }
    }
    request
}

#[whatsapp_rust::async_trait]
impl HttpClient for MediaHttp {
    async fn execute(&self, request: HttpRequest) -> Result<HttpResponse> {
        self.inner.execute(routed(request)).await
    }

    fn supports_streaming(&self) -> bool {
        self.inner.supports_streaming()
    }

    fn execute_streaming(&self, request: HttpRequest) -> Result<StreamingHttpResponse> {
        self.inner.execute_streaming(routed(request))
    }

    fn supports_upload_streaming(&self) -> bool {
        self.inner.supports_upload_streaming()
    }

    fn execute_upload(
        &self,
        request: HttpRequest,
        body: UploadBody,
        content_length: u64,
    ) -> Result<HttpResponse> {
        self.inner
            .execute_upload(routed(request), body, content_length)
    }

    fn resource_report(&self) -> Option<whatsapp_rust::wacore::stats::HttpResourceReport> {
        self.inner.resource_report()
    }
}

#[cfg(test)]
mod tests {
    use super::routed;
    use whatsapp_rust::http::HttpRequest;

    #[test]
    fn only_a_trusting_build_speaks_plain_http_and_only_to_loopback() {
        let peer = routed(HttpRequest::get(
            "https://127.0.0.1:4567/v/t62.image/abc.enc?auth=x",
        ));
        let cdn = routed(HttpRequest::get(
            "https://mmg.whatsapp.net/v/t62/abc.enc?auth=x",
        ));
        assert_eq!(cdn.url, "https://mmg.whatsapp.net/v/t62/abc.enc?auth=x");
        if cfg!(feature = "trust-test-peer") {
            assert_eq!(peer.url, "http://127.0.0.1:4567/v/t62.image/abc.enc?auth=x");
        } else {
            assert_eq!(
                peer.url,
                "https://127.0.0.1:4567/v/t62.image/abc.enc?auth=x"
            );
        }
    }
}
