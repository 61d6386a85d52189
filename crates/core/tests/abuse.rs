//! Slow and abusive clients against a real listener on 127.0.0.1:0: a
//! slowloris crowd, a stalled body, a connection flood and 64 clients that
//! try to make the listener buffer more than its budget.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chrono::Utc;
use earshot_core::AuthConfig;
use earshot_core::Limits;
use earshot_core::Store;
use earshot_core::sample::{self, CallIds, Packaging};
use earshot_core::{Intake, IntakeConfig};
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(limits: Limits) -> (TempDir, SocketAddr) {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let config = IntakeConfig { auth: AuthConfig::off(), max_body: 1024 * 1024, forward: None };
    let intake = Intake::new(config, &store, earshot_core::system_clock(), limits).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(earshot_core::serve(listener, intake, std::future::pending()));
    (dir, addr)
}

fn valid_request(id: &str) -> Vec<u8> {
    let ids = CallIds {
        assistant_id: "a".into(),
        environment_id: "e".into(),
        session_id: "s".into(),
        recording_id: id.into(),
    };
    let built = sample::delivery(&ids, &sample::utterance(0.5), Packaging::Raw, 500, Utc::now(), "abuse");
    let mut out = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
        built.content_type,
        built.body.len()
    )
    .into_bytes();
    out.extend_from_slice(&built.body);
    out
}

/// Reads the whole answer; `(status, JSON body or Null)`.
async fn answer(stream: &mut TcpStream) -> (u16, Value) {
    let mut bytes = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut bytes)).await;
    let text = String::from_utf8_lossy(&bytes);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    (status, body)
}

async fn send(addr: SocketAddr, bytes: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    answer(&mut stream).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_crowd_neither_delays_a_normal_request_nor_stays_connected() {
    let header_timeout = Duration::from_secs(2);
    let (_dir, addr) = start(Limits { header_timeout, ..Limits::default() }).await;
    let mut crawlers = Vec::new();
    for _ in 0..100 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        crawlers.push(tokio::spawn(async move {
            let opened = Instant::now();
            // One header byte every 300 ms, forever, until the server hangs up.
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if stream.write_all(b"X").await.is_err() {
                    break;
                }
                let mut probe = [0u8; 64];
                if let Ok(Ok(0) | Err(_)) =
                    tokio::time::timeout(Duration::from_millis(1), stream.read(&mut probe)).await
                {
                    break;
                }
                if opened.elapsed() > Duration::from_secs(20) {
                    panic!("a slowloris connection stayed open for 20 s");
                }
            }
            opened.elapsed()
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let (status, _) = send(addr, &valid_request("amid-slowloris")).await;
    let took = started.elapsed();
    assert_eq!(status, 200);
    assert!(took < header_timeout, "a normal request waited {took:?} behind the slowloris crowd");
    for crawler in crawlers {
        let lasted = crawler.await.unwrap();
        assert!(lasted < header_timeout * 3, "a slowloris connection lasted {lasted:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_gets_408_and_the_listener_goes_on() {
    let (_dir, addr) = start(Limits { body_timeout: Duration::from_secs(1), ..Limits::default() }).await;
    let request = valid_request("stalled");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&request[..request.len() / 2]).await.unwrap();
    let (status, body) = answer(&mut stream).await;
    assert_eq!((status, body["error"].as_str()), (408, Some("body_timeout")), "{body}");
    assert_eq!(send(addr, &valid_request("after-stall")).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_get_a_json_503_and_capacity_returns() {
    let (_dir, addr) = start(Limits { max_connections: 8, ..Limits::default() }).await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"POST / HTTP/1.1\r\n").await.unwrap();
        idle.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, body) = send(addr, &valid_request("over-cap")).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("too_many_connections")), "{body}");
    drop(idle);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(send(addr, &valid_request("under-cap")).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_stalled_uploads_cannot_make_the_listener_buffer_past_its_budget() {
    const BODY: usize = 200_000;
    let limits = Limits { max_buffered: 1024 * 1024, body_timeout: Duration::from_secs(3), ..Limits::default() };
    let (_dir, addr) = start(limits).await;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: {BODY}\r\n\r\n"
    );
    let clients: Vec<_> = (0..64)
        .map(|_| {
            let head = head.clone();
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream.write_all(head.as_bytes()).await.unwrap();
                // Half the body, then silence: each client wants 200 KB held for it.
                let _ = stream.write_all(&vec![b'x'; BODY / 2]).await;
                answer(&mut stream).await
            })
        })
        .collect();
    let mut timed_out = 0;
    let mut busy = 0;
    for client in clients {
        let (status, body) = client.await.unwrap();
        match (status, body["error"].as_str()) {
            (408, Some("body_timeout")) => timed_out += 1,
            (503, Some("intake_busy")) => busy += 1,
            other => panic!("unexpected answer {other:?}: {body}"),
        }
    }
    // 1 MiB holds five 200 KB bodies; each holder keeps its share for the 3 s
    // body timeout and waiters give up after 5 s, so at most two rounds of
    // five were ever buffered at once.
    assert!(timed_out <= 15, "{timed_out} bodies were buffered; the budget allows ~5 at a time");
    assert!(busy >= 45, "only {busy} clients were refused for lack of budget");
    assert_eq!(send(addr, &valid_request("after-budget")).await.0, 200);
}

/// A client that shuts down its sending side right after a complete request
/// (`nc -N`, some proxies and load balancers) still gets its answer.
#[tokio::test]
async fn half_close_after_a_complete_request_still_gets_its_answer() {
    let (_dir, addr) = start(Limits::default()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&valid_request("half-closed")).await.unwrap();
    stream.shutdown().await.unwrap();
    let (status, body) = answer(&mut stream).await;
    assert_eq!((status, body), (200, serde_json::json!({})));
}

/// A client that half-closes with fewer body bytes than its `Content-Length`
/// gets the 400 naming the fault, not a silent close.
#[tokio::test]
async fn half_close_with_a_short_body_gets_the_4xx_naming_the_fault() {
    let (_dir, addr) = start(Limits::default()).await;
    let mut request = valid_request("short");
    request.truncate(request.len() - 100);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&request).await.unwrap();
    stream.shutdown().await.unwrap();
    let (status, body) = answer(&mut stream).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "body_read_failed", "{body}");
}
