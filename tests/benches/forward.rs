//! What forwarding costs: one 5 s watsonx recording (40 KB of μ-law) at a
//! time over loopback, sent to a local upstream directly, then through
//! Earshot in `pass` mode (store, forward, hand the answer back), in one run.
//! Earshot storing without forwarding is measured too, so the table shows
//! where the added time goes: the durable commit, then the extra hop.
//!
//! `cargo bench -p earshot-tests --bench forward` (or `make bench`).
//! `EARSHOT_BENCH_REQUESTS` sets the requests per target (default 1000).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::response::IntoResponse;
use chrono::Utc;
use earshot_core::relay::ForwardConfig;
use earshot_core::sample::{self, CallIds, Packaging};
use earshot_core::{AuthConfig, AuthMode, ForwardMode, Intake, IntakeConfig, Limits, Secret, Store};

const SECRET: &str = "benchmark secret";
const SECONDS: f64 = 5.0;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The user's service: reads the body and answers `{}`, as IBM's example does.
async fn upstream() -> SocketAddr {
    async fn answer(body: Bytes) -> impl IntoResponse {
        std::hint::black_box(body.len());
        ([("content-type", "application/json")], "{}")
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind upstream");
    let addr = listener.local_addr().expect("upstream address");
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(answer)).await });
    addr
}

/// Earshot on a socket over a fresh store, forwarding to `forward` if given.
async fn earshot(dir: &std::path::Path, forward: Option<ForwardConfig>) -> SocketAddr {
    let store = Store::open(dir).expect("store");
    let auth = AuthConfig::new(Some(AuthMode::Observe), Some(Secret::new(SECRET).expect("secret"))).expect("auth");
    let config = IntakeConfig { auth, max_body: 50 << 20, forward };
    let intake = Intake::new(config, &store, earshot_core::system_clock(), Limits::default()).expect("intake");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind earshot");
    let addr = listener.local_addr().expect("earshot address");
    tokio::spawn(earshot_core::serve(listener, intake, std::future::pending()));
    addr
}

/// Sends `count` deliveries one after another (each a new recording id) and returns their latencies, sorted.
async fn measure(client: &reqwest::Client, url: &str, audio: &[u8], count: usize, tag: &str) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(count);
    for i in 0..count + 50 {
        let ids = CallIds {
            assistant_id: "bench-assistant".into(),
            environment_id: "bench-env".into(),
            session_id: format!("bench-{tag}-{}", i / 10),
            recording_id: format!("bench-{tag}-{i}"),
        };
        let delivery = sample::delivery(&ids, audio, Packaging::Wav, 5000, Utc::now(), "BenchBoundary");
        let started = Instant::now();
        let reply = client
            .post(url)
            .header("content-type", &delivery.content_type)
            .header("authorization", sample::authorization(SECRET.as_bytes(), Utc::now()))
            .body(delivery.body)
            .send()
            .await
            .expect("request");
        let status = reply.status();
        reply.bytes().await.expect("answer body");
        assert!(status.is_success(), "{url} answered {status}");
        // The first 50 warm the connection pools and SQLite's page cache.
        if i >= 50 {
            latencies.push(started.elapsed());
        }
    }
    latencies.sort();
    latencies
}

/// What one durable write costs on this disk, the floor under "store first".
fn fsync_latencies(dir: &std::path::Path, size: usize, count: usize) -> Vec<Duration> {
    use std::io::Write;
    let mut file = std::fs::File::create(dir.join("fsync-probe")).expect("probe file");
    let bytes = vec![0x55u8; size];
    let mut latencies: Vec<Duration> = (0..count)
        .map(|_| {
            let started = Instant::now();
            file.write_all(&bytes).expect("write");
            file.sync_data().expect("fdatasync");
            started.elapsed()
        })
        .collect();
    latencies.sort();
    latencies
}

fn main() {
    let count: usize = std::env::var("EARSHOT_BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let runtime = tokio::runtime::Runtime::new().expect("tokio");
    let audio = sample::package(&sample::utterance(SECONDS), Packaging::Wav);
    let rows = runtime.block_on(async {
        let service = upstream().await;
        let stored = tempfile::TempDir::new().expect("temp dir");
        let forwarding = tempfile::TempDir::new().expect("temp dir");
        let store_only = earshot(stored.path(), None).await;
        let forward =
            ForwardConfig::new(&format!("http://{service}/audiowebhook"), ForwardMode::Pass, Duration::from_secs(25));
        let pass = earshot(forwarding.path(), Some(forward.expect("forward config"))).await;
        let client = reqwest::Client::new();
        let direct = measure(&client, &format!("http://{service}/audiowebhook"), &audio, count, "direct").await;
        let store = measure(&client, &format!("http://{store_only}/audio-webhook"), &audio, count, "store").await;
        let through = measure(&client, &format!("http://{pass}/audio-webhook"), &audio, count, "pass").await;
        let sync = fsync_latencies(stored.path(), audio.len(), count);
        let _keep = Arc::new((stored, forwarding));
        vec![
            ("(reference: write + fdatasync of the same bytes on this disk)", sync),
            ("upstream directly (baseline)", direct),
            ("Earshot, storing only", store),
            ("Earshot pass mode: store, then forward", through),
        ]
    });
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let base = (percentile(&rows[1].1, 0.5), percentile(&rows[1].1, 0.99));
    println!("\nForwarding overhead: {count} sequential {SECONDS} s recordings (40 KB μ-law WAV) over loopback\n");
    println!("| Path | p50 | p99 | added at p50 | added at p99 |");
    println!("|---|---:|---:|---:|---:|");
    for (index, (name, latencies)) in rows.iter().enumerate() {
        let (p50, p99) = (percentile(latencies, 0.5), percentile(latencies, 0.99));
        if index == 0 {
            println!("| {name} | {:.2} ms | {:.2} ms | | |", ms(p50), ms(p99));
            continue;
        }
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:+.2} ms | {:+.2} ms |",
            ms(p50),
            ms(p99),
            ms(p50) - ms(base.0),
            ms(p99) - ms(base.1)
        );
    }
}
