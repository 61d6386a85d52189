//! Fixtures for the integration-workbench scenarios (forward, replay,
//! simulated answers, curl, HAR): stand-ins for the user's own service that
//! keep exactly what reached them, and a sender whose bytes the test knows.
//! - [`Recorder`]: an axum server answering every request with a chosen
//!   status and body after a chosen delay, recording each request's method,
//!   path, headers and body bytes;
//! - [`RawCapture`]: a bare TCP listener that reads one request byte for
//!   byte (no HTTP library between the wire and the test) and answers
//!   `200 {}`;
//! - [`post`]: one request with a body built by the test, timed;
//!   [`wait_json`]: polls an `earshot … --json` listing until it shows what
//!   a write nobody waits for (an upstream answer) has stored.
//!
//! They judge nothing; the tests compare what they recorded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One request as it reached a [`Recorder`].
#[derive(Debug, Clone)]
pub struct Received {
    /// The method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers in arrival order (names lower-case).
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body, byte for byte.
    pub body: Vec<u8>,
}

impl Received {
    /// The first header called `name`, as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
}

/// How a [`Recorder`] answers.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Status of every answer.
    pub status: u16,
    /// Body of every answer (`application/json`).
    pub body: String,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour { status: 200, body: r#"{"ok":true}"#.into(), delay: Duration::ZERO }
    }
}

#[derive(Clone)]
struct Shared {
    behaviour: Behaviour,
    received: Arc<Mutex<Vec<Received>>>,
}

/// An axum upstream on a free loopback port, stopped on drop.
pub struct Recorder {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    received: Arc<Mutex<Vec<Received>>>,
    _runtime: tokio::runtime::Runtime,
}

async fn record(State(shared): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let headers = headers.iter().map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec())).collect();
    let path = uri.path_and_query().map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string());
    // Recorded on arrival, so a test sees the request even when the answer comes too late.
    shared.received.lock().unwrap().push(Received { method: method.to_string(), path, headers, body: body.to_vec() });
    tokio::time::sleep(shared.behaviour.delay).await;
    let status = StatusCode::from_u16(shared.behaviour.status).expect("a valid status");
    (status, [("content-type", "application/json")], shared.behaviour.body.clone()).into_response()
}

impl Recorder {
    /// Starts one answering as `behaviour` says.
    pub fn start(behaviour: Behaviour) -> Recorder {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
        let received = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared { behaviour, received: Arc::clone(&received) };
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        let app = Router::new().fallback(record).with_state(shared);
        runtime.spawn(async move { axum::serve(listener, app).await });
        Recorder { base_url: format!("http://{address}"), received, _runtime: runtime }
    }

    /// The URL of `path` on it.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Every request so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits up to `timeout` for at least `count` requests and returns them all.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() >= deadline {
                return received;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A TCP listener that captures the bytes of one HTTP/1.1 request.
pub struct RawCapture {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    captured: std::sync::mpsc::Receiver<Vec<u8>>,
}

/// The fixed answer: the smallest valid one a watsonx receiver gives.
const RAW_ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";

impl RawCapture {
    /// Listens on a free loopback port for one request.
    pub fn start() -> RawCapture {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let address: SocketAddr = listener.local_addr().expect("local address");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else { return };
            stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
            let mut bytes = Vec::new();
            let mut chunk = [0u8; 64 * 1024];
            while !complete(&bytes) {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                }
            }
            let _ = stream.write_all(RAW_ANSWER);
            let _ = stream.flush();
            let _ = tx.send(bytes);
        });
        RawCapture { base_url: format!("http://{address}"), captured: rx }
    }

    /// The request's bytes, split into its head (request line and headers, as text) and its body.
    pub fn take(&self, timeout: Duration) -> (String, Vec<u8>) {
        let bytes = self.captured.recv_timeout(timeout).expect("a request reached the raw capture");
        let end = find(&bytes, b"\r\n\r\n").expect("a complete request head");
        (String::from_utf8_lossy(&bytes[..end]).into_owned(), bytes[end + 4..].to_vec())
    }
}

/// The value of header `name` in a request head.
pub fn head_header(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether `bytes` hold a whole request: its head and `Content-Length` bytes of body.
fn complete(bytes: &[u8]) -> bool {
    let Some(end) = find(bytes, b"\r\n\r\n") else { return false };
    let head = String::from_utf8_lossy(&bytes[..end]);
    let length = head_header(&head, "content-length").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    bytes.len() >= end + 4 + length
}

/// What a sender got back from [`post`].
#[derive(Debug)]
pub struct Posted {
    /// The status.
    pub status: u16,
    /// The answer's `Content-Type`.
    pub content_type: Option<String>,
    /// The answer's body as text.
    pub body: String,
    /// From sending to the end of the answer.
    pub elapsed: Duration,
}

/// POSTs `body` to `url` as watsonx would (the given `Content-Type` and
/// optional `Authorization`), waiting at most 30 s like watsonx.
pub fn post(url: &str, content_type: &str, body: &[u8], authorization: Option<&str>) -> reqwest::Result<Posted> {
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let mut request = client.post(url).header("content-type", content_type).body(body.to_vec());
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let started = Instant::now();
    let response = request.send()?;
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = response.text()?;
    Ok(Posted { status, content_type, body, elapsed: started.elapsed() })
}

/// Runs `earshot ARGS --json` in `data_dir` until `until` holds for its output
/// (at most 10 s), and returns the last output.
pub fn wait_json(data_dir: &Path, args: &[&str], until: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut args = args.to_vec();
    args.push("--json");
    loop {
        let text = crate::run_ok(data_dir, &args);
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON output");
        if until(&value) || Instant::now() >= deadline {
            return value;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SHA-256 of `bytes`, hex, as `earshot recordings --json` reports it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
