//! Load against the real `earshot serve` process: 10,000 watsonx-shaped
//! uploads (5 s of μ-law, 40 KB) at concurrency 64, with a one-client run of
//! the same process as the baseline. Counts answers, then checks every
//! acknowledged recording is in the database with its sha256 (lost = 200
//! answered but not stored), reads the server's peak RSS (`VmHWM`), and
//! samples the WAL file's size every 20 ms: the largest it grew to during
//! each run, and what is left of it after a second of idleness.
//!
//! `cargo build --release --bins && cargo bench -p earshot-tests --bench load`.
//! `EARSHOT_LOAD_REQUESTS` sets the concurrent run's size (default 10000).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use earshot_core::Store;
use earshot_core::sample::{self, CallIds, Packaging};
use earshot_tests::Server;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

struct Run {
    name: String,
    requests: usize,
    ok: usize,
    server_errors: usize,
    failed: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    peak_rss_kib: u64,
    largest_wal: u64,
    acked: Vec<(String, String)>,
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Samples `wal`'s size until `done` is set; returns the largest seen.
fn watch_wal(
    wal: std::path::PathBuf,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut largest = 0;
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            largest = largest.max(file_size(&wal));
            std::thread::sleep(Duration::from_millis(20));
        }
        largest.max(file_size(&wal))
    })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

async fn run(
    server: &Server,
    wal: &std::path::Path,
    name: &str,
    prefix: &str,
    requests: usize,
    concurrency: usize,
) -> Run {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = watch_wal(wal.to_path_buf(), done.clone());
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let url = server.url("/audio-webhook");
    let audio = sample::utterance(5.0);
    let started = Instant::now();
    let answers: Vec<(String, String, Result<u16, String>, Duration)> = futures_util::stream::iter(0..requests)
        .map(|i| {
            let (client, url) = (client.clone(), url.clone());
            let mut audio = audio.clone();
            // Unique bytes per upload, so every one is a new recording.
            audio[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let id = format!("{prefix}-{i:05}");
            async move {
                let ids = CallIds {
                    assistant_id: "bench".into(),
                    environment_id: "bench".into(),
                    session_id: format!("{prefix}-{}", i / 20),
                    recording_id: id.clone(),
                };
                let delivery = sample::delivery(&ids, &audio, Packaging::Raw, 5000, Utc::now(), "load-boundary");
                let sha = hex::encode(Sha256::digest(&audio));
                let sent = Instant::now();
                let status = client
                    .post(&url)
                    .header("content-type", delivery.content_type)
                    .body(delivery.body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .map_err(|e| e.to_string());
                (id, sha, status, sent.elapsed())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let largest_wal = watcher.join().expect("WAL watcher");
    let mut latencies: Vec<Duration> = answers.iter().map(|a| a.3).collect();
    latencies.sort();
    Run {
        name: name.to_string(),
        requests,
        ok: answers.iter().filter(|a| a.2 == Ok(200)).count(),
        server_errors: answers.iter().filter(|a| matches!(a.2, Ok(s) if s >= 500)).count(),
        failed: answers.iter().filter(|a| a.2.is_err()).count(),
        elapsed,
        latencies,
        peak_rss_kib: server.peak_rss_kib().unwrap_or(0),
        largest_wal,
        acked: answers.into_iter().filter(|a| a.2 == Ok(200)).map(|a| (a.0, a.1)).collect(),
    }
}

#[tokio::main]
async fn main() {
    let requests: usize = std::env::var("EARSHOT_LOAD_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--auth", "off"]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle_rss = server.peak_rss_kib().unwrap_or(0);
    let wal = data.join(format!("{}-wal", earshot_core::DB_FILE));
    let baseline = run(&server, &wal, "1 client (baseline)", "seq", 500, 1).await;
    let load = run(&server, &wal, &format!("{requests} uploads, concurrency 64"), "load", requests, 64).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let wal_after_idle = file_size(&wal);

    let store = Store::open(&data).unwrap();
    let stored: HashMap<String, String> =
        store.recordings(None).unwrap().into_iter().map(|r| (r.recording_id, r.sha256)).collect();
    println!("\nEarshot load: 5 s μ-law recordings (40 KB) to `earshot serve` (release), store on local disk");
    println!("server RSS when idle: {:.1} MiB", idle_rss as f64 / 1024.0);
    println!(
        "WAL 3 s after the load: {:.1} MiB (the writer keeps it under {} MiB)\n",
        wal_after_idle as f64 / 1048576.0,
        earshot_core::WAL_SOFT_LIMIT >> 20
    );
    println!(
        "| run | requests | 200 | 5xx | failed | lost | req/s | p50 ms | p99 ms | peak RSS MiB | largest WAL MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in [&baseline, &load] {
        let lost = r.acked.iter().filter(|(id, sha)| stored.get(id) != Some(sha)).count();
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} |",
            r.name,
            r.requests,
            r.ok,
            r.server_errors,
            r.failed,
            lost,
            r.requests as f64 / r.elapsed.as_secs_f64(),
            percentile(&r.latencies, 0.50),
            percentile(&r.latencies, 0.99),
            r.peak_rss_kib as f64 / 1024.0,
            r.largest_wal as f64 / 1048576.0
        );
    }
}
