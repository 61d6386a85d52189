//! The desktop's list path at scale: how long one page of calls takes to
//! query with 1,000 and with 100,000 recordings in the database, and the
//! desktop app's idle memory over the large database.
//!
//! `make bench-lists` (needs a display for the RSS part; `make` provides Xvfb).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use earshot_core::Store;
use earshot_core::{Filter, VerdictFilter};
use earshot_tests::seed::{AUDIO, PER_CALL, seed};

fn median(mut work: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..21)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn measure(store: &Store) -> Vec<(&'static str, Duration)> {
    let all = Filter::default();
    let prefix = Filter { id_prefix: Some("0000a".into()), ..Filter::default() };
    let flagged = Filter { verdict: Some(VerdictFilter::Flagged), ..Filter::default() };
    let busiest = store.sessions_page(&all, 0, 1).expect("page").items[0].session_id.clone();
    vec![
        ("first page of calls (50)", median(|| drop(store.sessions_page(&all, 0, 50).expect("page")))),
        ("page 200 of calls (offset 10,000)", median(|| drop(store.sessions_page(&all, 10_000, 50).expect("page")))),
        ("calls by id prefix", median(|| drop(store.sessions_page(&prefix, 0, 50).expect("page")))),
        ("flagged calls only", median(|| drop(store.sessions_page(&flagged, 0, 50).expect("page")))),
        ("recordings of one call", median(|| drop(store.recordings(Some(&busiest)).expect("list")))),
        ("first page of requests (50)", median(|| drop(store.requests_page(&all, 0, 50).expect("page")))),
    ]
}

/// Resident memory of a process and its children (WebKit runs its web and network processes apart).
fn tree_rss_kib(root: u32) -> u64 {
    let mut total = 0;
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            total += status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0);
        }
        if let Ok(children) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
            stack.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
        }
    }
    total
}

fn idle_rss(data_dir: &std::path::Path) -> Option<(u64, u64)> {
    std::env::var_os("DISPLAY")?;
    // The release build if there is one, else the debug build `make` leaves.
    let release = earshot_tests::earshot_bin().with_file_name("earshot-desktop");
    let app = if release.exists() {
        release
    } else {
        std::env::current_exe().ok()?.ancestors().nth(3)?.join("debug/earshot-desktop")
    };
    println!("\nidle RSS of {}", app.display());
    let temp = tempfile::TempDir::new().ok()?;
    let mut child = Command::new(app)
        .env("EARSHOT_DATA_DIR", data_dir)
        .env("EARSHOT_LISTEN", "127.0.0.1:0")
        .env("XDG_DATA_HOME", temp.path().join("data"))
        .env("XDG_CACHE_HOME", temp.path().join("cache"))
        .env("XDG_CONFIG_HOME", temp.path().join("config"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_secs(8));
    let own = std::fs::read_to_string(format!("/proc/{}/status", child.id())).ok()?.lines().find_map(|l| {
        l.strip_prefix("VmRSS:").map(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().unwrap_or(0))
    })?;
    let tree = tree_rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    Some((own, tree))
}

fn main() {
    let small_dir = tempfile::TempDir::new().expect("temp");
    let large_dir = tempfile::TempDir::new().expect("temp");
    let small = Store::open(small_dir.path()).expect("store");
    let large = Store::open(large_dir.path()).expect("store");
    seed(small_dir.path(), 1_000);
    let seeding = Instant::now();
    seed(large_dir.path(), 100_000);
    println!(
        "seeded 100,000 recordings ({} per call, {AUDIO}-byte audio) in {:.1} s",
        PER_CALL,
        seeding.elapsed().as_secs_f64()
    );

    let baseline = measure(&small);
    let scaled = measure(&large);
    println!("\nmedian of 21 runs, fresh connection per query (as the app does)\n");
    println!("| query | 1,000 recordings | 100,000 recordings |");
    println!("|---|---:|---:|");
    for ((name, a), (_, b)) in baseline.iter().zip(&scaled) {
        println!("| {name} | {:.2} ms | {:.2} ms |", a.as_secs_f64() * 1000.0, b.as_secs_f64() * 1000.0);
    }
    match idle_rss(large_dir.path()) {
        Some((own, tree)) => println!(
            "\nearshot-desktop idle over 100,000 recordings: {:.0} MiB RSS (app process), {:.0} MiB with its WebKit processes",
            own as f64 / 1024.0,
            tree as f64 / 1024.0
        ),
        None => {
            println!("\n(no DISPLAY: idle RSS of the desktop app not measured; run through scripts/with-display.sh)")
        }
    }
}
