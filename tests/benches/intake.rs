//! Intake throughput over loopback: 30 s watsonx recordings (240 KB of
//! μ-law) at concurrency 16, against Earshot's real intake (verify, parse,
//! durable SQLite commit) and, in the same run, against a bare axum+multer
//! route that reads the same body and discards it — the stack's ceiling.
//!
//! `cargo bench -p earshot-tests --bench intake` (or `make bench`).
//! `EARSHOT_BENCH_REQUESTS` sets the requests per target (default 2000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Json};
use chrono::Utc;
use earshot_core::Store;
use earshot_core::sample::{self, CallIds, Packaging};
use earshot_core::{AuthConfig, AuthMode, Secret};
use earshot_core::{Intake, IntakeConfig};
use futures_util::StreamExt;
use serde_json::json;

const CONCURRENCY: usize = 16;
const SECONDS: f64 = 30.0;
const SECRET: &str = "benchmark secret";

struct Result {
    name: &'static str,
    requests: usize,
    elapsed: Duration,
    bytes: usize,
    latencies: Vec<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Reads every multipart part with multer, as the baselines' only work; returns the last part.
async fn last_part(request: Request) -> Vec<u8> {
    let boundary = request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok())
        .unwrap_or_default();
    let mut multipart = multer::Multipart::new(request.into_body().into_data_stream(), boundary);
    let mut last = Vec::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        last = field.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    }
    last
}

/// The stack's ceiling: same listener, same multipart parser, no verification, no storage.
async fn discard(request: Request) -> impl IntoResponse {
    drop(last_part(request).await);
    Json(json!({}))
}

/// The disk's ceiling: same stack, and the audio part appended to one file
/// with `fdatasync` before the answer, serialised like a single writer.
fn durable_append(path: std::path::PathBuf) -> Router {
    let file = Arc::new(std::sync::Mutex::new(std::fs::File::create(path).expect("append file")));
    Router::new().fallback(move |request: Request| {
        let file = file.clone();
        async move {
            let audio = last_part(request).await;
            tokio::task::spawn_blocking(move || {
                use std::io::Write;
                let mut file = file.lock().expect("file lock");
                file.write_all(&audio).expect("append");
                file.sync_data().expect("fdatasync");
            })
            .await
            .expect("append task");
            Json(json!({}))
        }
    })
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/audio-webhook", listener.local_addr().expect("addr"));
    tokio::spawn(earshot_core::serve_router(listener, router, earshot_core::Limits::default(), std::future::pending()));
    url
}

fn bodies(count: usize, audio: &[u8]) -> Vec<(String, Vec<u8>)> {
    let session = uuid::Uuid::new_v4().to_string();
    (0..count)
        .map(|_| {
            let ids = CallIds {
                assistant_id: "bench-assistant".into(),
                environment_id: "bench-environment".into(),
                session_id: session.clone(),
                recording_id: uuid::Uuid::new_v4().to_string(),
            };
            let boundary = format!("----------{}", uuid::Uuid::new_v4().simple());
            let d = sample::delivery(&ids, audio, Packaging::Raw, (SECONDS * 1000.0) as u64, Utc::now(), &boundary);
            (d.content_type, d.body)
        })
        .collect()
}

async fn load(name: &'static str, url: &str, bodies: Vec<(String, Vec<u8>)>) -> Result {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build().expect("client");
    let bytes: usize = bodies.iter().map(|(_, b)| b.len()).sum();
    let requests = bodies.len();
    let token = Arc::new(sample::authorization(SECRET.as_bytes(), Utc::now()));
    let started = Instant::now();
    let mut latencies: Vec<Duration> = futures_util::stream::iter(bodies)
        .map(|(content_type, body)| {
            let (client, token) = (client.clone(), token.clone());
            async move {
                let sent = Instant::now();
                let response = client
                    .post(url)
                    .header("content-type", content_type)
                    .header("authorization", token.as_str())
                    .body(body)
                    .send()
                    .await
                    .expect("request");
                assert_eq!(response.status(), 200, "{name}: {}", response.text().await.unwrap_or_default());
                sent.elapsed()
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let elapsed = started.elapsed();
    latencies.sort();
    Result { name, requests, elapsed, bytes, latencies }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let requests: usize = std::env::var("EARSHOT_BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let audio = sample::utterance(SECONDS);
    let dir = tempfile::TempDir::new().expect("temp dir");
    let store = Store::open(dir.path()).expect("store");
    let auth = AuthConfig::new(Some(AuthMode::Enforce), Some(Secret::new(SECRET).expect("secret"))).expect("auth");
    let earshot = Intake::new(
        IntakeConfig { auth, max_body: 50 << 20, forward: None },
        &store,
        earshot_core::system_clock(),
        earshot_core::Limits::default(),
    )
    .expect("intake");
    let earshot_url = serve(earshot_core::router(earshot)).await;
    let discard_url = serve(Router::new().fallback(discard)).await;
    let append_url = serve(durable_append(dir.path().join("append.bin"))).await;

    // Warm both: connections, page cache, SQLite file growth.
    load("warm-up", &discard_url, bodies(64, &audio)).await;
    load("warm-up", &earshot_url, bodies(64, &audio)).await;

    let baseline = load("axum+multer, discard", &discard_url, bodies(requests, &audio)).await;
    let append = load("axum+multer, append + fdatasync (disk ceiling)", &append_url, bodies(requests, &audio)).await;
    let ours = load("Earshot intake (verify + parse + SQLite commit)", &earshot_url, bodies(requests, &audio)).await;
    let stored = store.recordings(None).expect("list").len();
    assert_eq!(stored, requests + 64, "every acknowledged recording is stored");

    println!(
        "\n{} requests per target, {:.0} KB bodies ({} s of 8 kHz μ-law), concurrency {CONCURRENCY}\n",
        requests,
        baseline.bytes as f64 / requests as f64 / 1000.0,
        SECONDS
    );
    println!("| target | requests/s | MB/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|");
    for r in [&baseline, &append, &ours] {
        let secs = r.elapsed.as_secs_f64();
        println!(
            "| {} | {:.0} | {:.1} | {:.2} | {:.2} |",
            r.name,
            r.requests as f64 / secs,
            r.bytes as f64 / secs / 1e6,
            percentile(&r.latencies, 0.50).as_secs_f64() * 1000.0,
            percentile(&r.latencies, 0.99).as_secs_f64() * 1000.0,
        );
    }
    let ratio = (ours.requests as f64 / ours.elapsed.as_secs_f64())
        / (baseline.requests as f64 / baseline.elapsed.as_secs_f64());
    let disk =
        (ours.requests as f64 / ours.elapsed.as_secs_f64()) / (append.requests as f64 / append.elapsed.as_secs_f64());
    println!("\nEarshot / discard throughput: {ratio:.2}x (goal >= 0.80x)");
    println!("Earshot / durable append throughput: {disk:.2}x");
}
