//! The two stores side by side: ingest of 30 s watsonx recordings (240 KB
//! of μ-law) at concurrency 16 through the real intake into SQLite, into
//! PostgreSQL with one listener and with two listeners sharing the database
//! (the burst split between them); then the desktop's list queries at
//! 100,000 recordings on both backends. PostgreSQL is a private server
//! (`tests/src/postgres.rs`) on this machine.
//!
//! `cargo bench -p earshot-tests --bench store` (or `make bench`).
//! `EARSHOT_BENCH_REQUESTS` sets the requests per target (default 1000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use earshot_core::sample::{self, CallIds, Packaging};
use earshot_core::{AuthConfig, Filter, Intake, IntakeConfig, Limits, Store, StoreUrl, VerdictFilter};
use earshot_tests::postgres::PgServer;
use futures_util::StreamExt;

const CONCURRENCY: usize = 16;
const SECONDS: f64 = 30.0;
/// Recordings in the list benchmark, five per call.
const LISTED: usize = 100_000;

/// A listener over `store` on a free port; its webhook URL.
async fn listener(store: &Store) -> String {
    let config = IntakeConfig { auth: AuthConfig::off(), max_body: 50 << 20, forward: None };
    let intake = Intake::new(config, store, earshot_core::system_clock(), Limits::default()).expect("intake");
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/audio-webhook", socket.local_addr().expect("addr"));
    tokio::spawn(earshot_core::serve(socket, intake, std::future::pending()));
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
            let d = sample::delivery(&ids, audio, Packaging::Raw, (SECONDS * 1000.0) as u64, Utc::now(), "store-bench");
            (d.content_type, d.body)
        })
        .collect()
}

/// Sends `bodies` round-robin to `urls`, `CONCURRENCY` at a time: (requests/s, p50, p99).
async fn load(urls: &[String], bodies: Vec<(String, Vec<u8>)>) -> (f64, Duration, Duration) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build().expect("client");
    let count = bodies.len();
    let urls = Arc::new(urls.to_vec());
    let started = Instant::now();
    let mut latencies: Vec<Duration> = futures_util::stream::iter(bodies.into_iter().enumerate())
        .map(|(i, (content_type, body))| {
            let (client, urls) = (client.clone(), urls.clone());
            async move {
                let sent = Instant::now();
                let response =
                    client.post(&urls[i % urls.len()]).header("content-type", content_type).body(body).send().await;
                assert_eq!(response.expect("request").status(), 200);
                sent.elapsed()
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    (count as f64 / elapsed, at(0.5), at(0.99))
}

/// Seeds `LISTED` small recordings (five per call, every 17th unverified) and their requests with one statement each.
fn seed_sqlite(dir: &std::path::Path) {
    let conn = earshot_core::SqliteStore::open(dir).expect("store").connect().expect("connect");
    conn.execute_batch(&seed_sql(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})",
        "printf('%0{w}d', {e})",
        "zeroblob(2000)",
    ))
    .expect("seed sqlite");
}

fn seed_postgres(pg: &PgServer, url: &str) {
    let series = "WITH n(i) AS (SELECT generate_series(0, {last}))";
    pg.psql(
        PgServer::name_of(url),
        &seed_sql(series, "lpad(({e})::text, {w}, '0')", "decode(repeat('ff', 2000), 'hex')"),
    );
}

/// The seeding SQL for either backend: `series` names rows `n(i)`, `pad` zero-pads
/// expression `{e}` to `{w}` digits, `blob` is the audio.
fn seed_sql(series: &str, pad: &str, blob: &str) -> String {
    let series = series.replace("{last}", &(LISTED - 1).to_string());
    let padded = |e: &str, w: usize| pad.replace("{e}", e).replace("{w}", &w.to_string());
    format!(
        "INSERT INTO recordings (recording_id, version, conflict, session_id, assistant_id, environment_id,
            start_timestamp, stop_timestamp, received_at, metadata_json, path, container, encoding, sample_rate,
            channels, sample_count, duration_ms, data_offset, data_len, size_bytes, sha256, auth_verdict, audio)
         {series} SELECT 'rec-' || {id}, 1, 0, 'call-' || {call}, 'a', 'e', '2026-03-01T00:00:00.000Z',
            '2026-03-01T00:00:00.000Z', '2026-03-' || (10 + i % 20) || 'T' || {hh} || ':' || {mm} || ':' || {ss} || '.000Z',
            '{{}}', '/',
            'raw', 'mulaw', 8000, 1, 2000, 250, 0, 2000, 2000, 'sha',
            CASE WHEN i % 17 = 0 THEN 'invalid' ELSE 'valid' END, {blob} FROM n;
         INSERT INTO requests (received_at, method, path, headers_json, status, latency_us, outcome, session_id,
            recording_id, auth_verdict, body_size)
         SELECT received_at, 'POST', '/', '[]', CASE WHEN auth_verdict = 'valid' THEN 200 ELSE 401 END, 1000,
            'stored', session_id, recording_id, auth_verdict, 2000 FROM recordings;",
        id = padded("i", 6),
        call = padded("i / 5", 6),
        hh = padded("(i / 3600) % 24", 2),
        mm = padded("(i / 60) % 60", 2),
        ss = padded("i % 60", 2),
    )
}

/// Median of 21 runs of `query`, in ms.
fn median(query: impl Fn()) -> f64 {
    let mut runs: Vec<f64> = (0..21)
        .map(|_| {
            let t = Instant::now();
            query();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[10]
}

fn lists(store: &Store) -> Vec<(&'static str, f64)> {
    let flagged = Filter { verdict: Some(VerdictFilter::Flagged), ..Filter::default() };
    let prefix = Filter { id_prefix: Some("call-0123".into()), ..Filter::default() };
    vec![
        ("calls, first page of 100", median(|| drop(store.sessions_page(&Filter::default(), 0, 100).expect("page")))),
        ("calls, flagged only", median(|| drop(store.sessions_page(&flagged, 0, 100).expect("page")))),
        ("calls, id prefix", median(|| drop(store.sessions_page(&prefix, 0, 100).expect("page")))),
        (
            "requests, first page of 100",
            median(|| drop(store.requests_page(&Filter::default(), 0, 100).expect("page"))),
        ),
        ("one call's recordings", median(|| drop(store.recordings(Some("call-001234")).expect("list")))),
    ]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let requests: usize = std::env::var("EARSHOT_BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let pg = PgServer::start().expect("PostgreSQL is needed for this benchmark (scripts/setup.sh installs it)");
    let audio = sample::utterance(SECONDS);
    let dir = tempfile::TempDir::new().expect("temp dir");
    let sqlite = Store::open(dir.path()).expect("sqlite");
    let shared_url = StoreUrl::Postgres(pg.database());
    let (one, two) = (Store::open_url(&shared_url).expect("pg"), Store::open_url(&shared_url).expect("pg"));

    let sqlite_url = vec![listener(&sqlite).await];
    let one_url = vec![listener(&one).await];
    let both_urls = vec![one_url[0].clone(), listener(&two).await];
    for urls in [&sqlite_url, &one_url] {
        load(urls, bodies(64, &audio)).await;
    }
    let mut rows = Vec::new();
    for (name, urls) in [
        ("SQLite, one listener", &sqlite_url),
        ("PostgreSQL, one listener", &one_url),
        ("PostgreSQL, two listeners on one database", &both_urls),
    ] {
        rows.push((name, load(urls, bodies(requests, &audio)).await));
    }
    assert_eq!(one.recordings(None).expect("list").len(), 64 + 2 * requests, "every acknowledged recording is stored");

    println!(
        "\ningest: {requests} requests per target, {:.0} KB bodies ({SECONDS} s of 8 kHz μ-law), concurrency {CONCURRENCY}\n",
        bodies(1, &audio)[0].1.len() as f64 / 1000.0
    );
    println!("| store | requests/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|");
    for (name, (rate, p50, p99)) in rows {
        println!("| {name} | {rate:.0} | {:.1} | {:.1} |", p50.as_secs_f64() * 1000.0, p99.as_secs_f64() * 1000.0);
    }

    let listed_dir = tempfile::TempDir::new().expect("temp dir");
    let listed_sqlite = Store::open(listed_dir.path()).expect("sqlite");
    seed_sqlite(listed_dir.path());
    let listed_url = pg.database();
    let listed_pg = Store::open_url(&StoreUrl::Postgres(listed_url.clone())).expect("pg");
    seed_postgres(&pg, &listed_url);
    pg.psql(PgServer::name_of(&listed_url), "ANALYZE");
    assert_eq!(listed_pg.sessions_page(&Filter::default(), 0, 1).expect("page").total, (LISTED / 5) as u64);
    assert_eq!(listed_sqlite.sessions_page(&Filter::default(), 0, 1).expect("page").total, (LISTED / 5) as u64);
    let (a, b) = tokio::task::spawn_blocking(move || (lists(&listed_sqlite), lists(&listed_pg))).await.expect("lists");
    println!("\nlists at {LISTED} recordings ({} calls), median of 21 runs\n", LISTED / 5);
    println!("| query | SQLite | PostgreSQL |");
    println!("|---|---:|---:|");
    for ((name, s), (_, p)) in a.iter().zip(&b) {
        println!("| {name} | {s:.2} ms | {p:.2} ms |");
    }
}
