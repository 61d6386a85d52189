//! Sending one request to the user's service and reading its answer within
//! a deadline, with the whole body (up to [`MAX_ANSWER`]). Redirects are
//! not followed (a forwarded request's sender gets the redirect itself), and
//! connections are pooled so forwarding adds little to each request.

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::model::{Answer, UpstreamFault};

/// Largest answer passed back to a sender, in bytes; the store keeps the first
/// [`crate::model::ANSWER_BODY_CAP`] of it. watsonx expects `{}`; this only stops abuse.
pub const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// A request about to go out.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// HTTP method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers in order (no `Host`, `Content-Length` or hop-by-hop headers).
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body, sent as is.
    pub body: Bytes,
}

impl Outgoing {
    /// The value of the first header called `name` (case-insensitive), as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
}

/// The HTTP client for the user's service. Cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub struct Upstream {
    client: reqwest::Client,
}

impl Default for Upstream {
    fn default() -> Self {
        Upstream::new()
    }
}

impl Upstream {
    /// A client that follows no redirects and keeps connections alive.
    pub fn new() -> Upstream {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .build()
            .expect("a reqwest client with rustls builds");
        Upstream { client }
    }

    /// Sends `request` and reads the whole answer, all within `timeout`.
    pub async fn send(&self, request: &Outgoing, timeout: Duration) -> Answer {
        let started = Instant::now();
        let outcome = tokio::time::timeout(timeout, self.exchange(request)).await;
        let latency_us = started.elapsed().as_micros() as u64;
        let failed = |fault: UpstreamFault, message: String| Answer {
            url: request.url.clone(),
            status: None,
            fault: Some((fault, message)),
            latency_us,
            headers: Vec::new(),
            body: Vec::new(),
            body_size: 0,
        };
        match outcome {
            Err(_) => failed(
                UpstreamFault::Timeout,
                format!("{} gave no complete answer within {:.1} s", request.url, timeout.as_secs_f64()),
            ),
            Ok(Err((fault, message))) => failed(fault, message),
            Ok(Ok((status, headers, body, body_size))) => Answer {
                url: request.url.clone(),
                status: Some(status),
                fault: None,
                latency_us,
                headers,
                body,
                body_size,
            },
        }
    }

    async fn exchange(
        &self,
        request: &Outgoing,
    ) -> Result<(u16, Vec<(String, String)>, Vec<u8>, u64), (UpstreamFault, String)> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|e| (UpstreamFault::Broken, format!("method {:?}: {e}", request.method)))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &request.headers {
            let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value))
            else {
                continue;
            };
            headers.append(name, value);
        }
        let response = self
            .client
            .request(method, &request.url)
            .headers(headers)
            .body(request.body.clone())
            .send()
            .await
            .map_err(|e| classify(&request.url, &e))?;
        let status = response.status().as_u16();
        let answer_headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let mut body = Vec::new();
        let mut size = 0u64;
        let mut response = response;
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(&request.url, &e))? {
            size += chunk.len() as u64;
            if size > MAX_ANSWER as u64 {
                return Err((
                    UpstreamFault::Broken,
                    format!("{} answered with more than {MAX_ANSWER} bytes", request.url),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, answer_headers, body, size))
    }
}

fn classify(url: &str, error: &reqwest::Error) -> (UpstreamFault, String) {
    // reqwest's own text repeats the URL and each layer's wrapper; the innermost cause says why.
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let fault = if error.is_connect() {
        UpstreamFault::Unreachable
    } else if error.is_timeout() {
        UpstreamFault::Timeout
    } else {
        UpstreamFault::Broken
    };
    let what = match fault {
        UpstreamFault::Unreachable => "cannot connect to",
        UpstreamFault::Timeout => "timed out waiting for",
        UpstreamFault::Broken => "lost the answer from",
    };
    (fault, format!("{what} {url} ({cause})"))
}
