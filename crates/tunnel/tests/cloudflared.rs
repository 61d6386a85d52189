//! The cloudflared provider and its supervisor against a stand-in
//! `cloudflared` (tests/fixtures/cloudflared.py) found on a search path like
//! the real one: URL discovery by both routes, waiting for `/ready`, restarts
//! with growing delays, and no process left after stop, drop or runtime
//! shutdown.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use earshot_tunnel::{Backoff, LogSource, Provider, Status, Tunnel, TunnelOptions};
use tempfile::TempDir;

const LISTENER: &str = "127.0.0.1:8787";
const HOST: &str = "quick-brown-fox.trycloudflare.com";

/// A directory holding a `cloudflared` that runs the stand-in with `env` set.
struct Fake {
    dir: TempDir,
}

impl Fake {
    fn new(env: &[(&str, &str)]) -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cloudflared.py");
        let python = if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
        let mut wrapper = format!("#!/bin/sh\nexport FAKE_CF_STARTS='{}'\n", dir.path().join("starts").display());
        for (name, value) in env {
            wrapper.push_str(&format!("export {name}='{value}'\n"));
        }
        wrapper.push_str(&format!("exec {python} '{}' \"$@\"\n", script.display()));
        let program = dir.path().join("cloudflared");
        std::fs::write(&program, wrapper).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        Fake { dir }
    }

    fn provider(&self) -> Provider {
        // The fake's directory first, then the rest of PATH, as a user's shell would have it.
        let mut dirs = vec![self.dir.path().to_path_buf()];
        dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        Provider::cloudflared_in(&std::env::join_paths(dirs).unwrap()).unwrap()
    }

    fn records(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("starts")).unwrap_or_default()
    }

    /// `(pid, monotonic ns, args)` per start, in order.
    fn starts(&self) -> Vec<(u32, u64, String)> {
        self.records()
            .lines()
            .filter(|line| !line.starts_with("exit "))
            .map(|line| {
                let mut fields = line.splitn(3, ' ');
                let pid = fields.next().unwrap().parse().unwrap();
                let ns = fields.next().unwrap().parse().unwrap();
                (pid, ns, fields.next().unwrap_or_default().to_string())
            })
            .collect()
    }

    /// Monotonic ns of each crash, in order.
    fn exits(&self) -> Vec<u64> {
        self.records()
            .lines()
            .filter_map(|line| line.strip_prefix("exit "))
            .map(|rest| rest.split(' ').nth(1).unwrap().parse().unwrap())
            .collect()
    }
}

fn options() -> TunnelOptions {
    TunnelOptions {
        backoff: Backoff {
            initial: Duration::from_millis(300),
            max: Duration::from_secs(5),
            stable_after: Duration::from_secs(60),
        },
        startup_timeout: Duration::from_secs(20),
        health_interval: Duration::from_millis(200),
        log_capacity: 200,
    }
}

/// Whether `pid` is a running process (a zombie has exited and counts as gone).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or_default().trim_start().chars().next();
            !matches!(state, Some('Z' | 'X'))
        }
        Err(_) => false,
    }
}

fn gone_within(pid: u32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    !alive(pid)
}

fn start(fake: &Fake) -> Tunnel {
    Tunnel::start(fake.provider(), LISTENER.parse().unwrap(), options()).unwrap()
}

fn log_text(tunnel: &Tunnel) -> String {
    tunnel.logs().iter().map(|line| format!("{:?} {}\n", line.source, line.text)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn learns_the_url_from_quicktunnel_once_ready() {
    let fake = Fake::new(&[("FAKE_CF_READY_AFTER", "1.0")]);
    let started = Instant::now();
    let tunnel = start(&fake);
    let url = tunnel.online(Duration::from_secs(20)).await.unwrap();
    assert_eq!(url, format!("https://{HOST}"));
    assert!(started.elapsed() >= Duration::from_millis(900), "online only after /ready answers 200");
    let starts = fake.starts();
    assert_eq!(starts.len(), 1);
    let args = &starts[0].2;
    assert!(args.starts_with("tunnel --url http://127.0.0.1:8787 --metrics 127.0.0.1:"), "{args}");
    assert!(args.ends_with(" --no-autoupdate"), "{args}");
    assert_eq!(tunnel.pid(), Some(starts[0].0));
    let log = log_text(&tunnel);
    assert!(log.contains(&format!("public URL https://{HOST} (from /quicktunnel)")), "{log}");
    assert!(
        log.contains("Stderr") && log.contains("Your quick Tunnel has been created!"),
        "kept cloudflared's own lines: {log}"
    );
    tunnel.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn falls_back_to_the_banner_when_quicktunnel_is_missing() {
    let fake =
        Fake::new(&[("FAKE_CF_QUICKTUNNEL", "missing"), ("FAKE_CF_HOSTNAME", "only-in-the-banner.trycloudflare.com")]);
    let tunnel = start(&fake);
    let url = tunnel.online(Duration::from_secs(20)).await.unwrap();
    assert_eq!(url, "https://only-in-the-banner.trycloudflare.com");
    let log = log_text(&tunnel);
    assert!(log.contains("(from cloudflared's log)"), "{log}");
    tunnel.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_restarts_with_growing_delays() {
    let fake = Fake::new(&[("FAKE_CF_READY_AFTER", "0.1"), ("FAKE_CF_EXIT_AFTER", "0.6")]);
    let tunnel = start(&fake);
    let mut status = tunnel.subscribe();
    let seen = tokio::spawn(async move {
        let mut seen = Vec::new();
        while status.changed().await.is_ok() {
            seen.push(status.borrow_and_update().clone());
        }
        seen
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while fake.starts().len() < 4 {
        assert!(Instant::now() < deadline, "only {} starts in 30 s", fake.starts().len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let starts = fake.starts();
    let exits = fake.exits();
    // From each crash to the next start: the 0.3 s, 0.6 s, 1.2 s delays plus spawn time.
    let delays: Vec<f64> = (0..3).map(|n| (starts[n + 1].1 - exits[n]) as f64 / 1e9).collect();
    assert!(delays[0] >= 0.3 && delays[1] >= 0.6 && delays[2] >= 1.2, "delays double: {delays:?}");
    assert!(delays[0] < delays[2], "{delays:?}");
    for (pid, _, _) in &starts[..3] {
        assert!(!alive(*pid), "crashed cloudflared {pid} was reaped");
    }
    let pids: std::collections::HashSet<u32> = starts.iter().map(|s| s.0).collect();
    assert_eq!(pids.len(), starts.len(), "each restart is a new process");
    tunnel.stop().await;
    let seen = seen.await.unwrap();
    let error = seen
        .iter()
        .find_map(|s| match s {
            // A health check may first see /ready fail as the process dies.
            Status::Error { message } if message.starts_with("cloudflared exited") => Some(message.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("an exit error between runs: {seen:?}"));
    assert!(error.starts_with("cloudflared exited unexpectedly (exit status: 1)"), "{error}");
    assert!(error.contains("no more connections active and exiting"), "says what cloudflared said: {error}");
    assert!(error.ends_with("restarting in 0.3 s"), "{error}");
    assert!(seen.iter().filter(|s| matches!(s, Status::Online { .. })).count() >= 3, "{seen:?}");
    assert_eq!(seen.last(), Some(&Status::Stopped));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_start_is_reported_with_cloudflareds_reason() {
    let fake = Fake::new(&[("FAKE_CF_FAIL_START", "1")]);
    let tunnel = start(&fake);
    let mut status = tunnel.subscribe();
    let error = tokio::time::timeout(Duration::from_secs(20), status.wait_for(|s| matches!(s, Status::Error { .. })))
        .await
        .unwrap()
        .unwrap()
        .clone();
    let Status::Error { message } = error else { unreachable!() };
    assert!(message.contains("cloudflared exited before the tunnel came online"), "{message}");
    assert!(message.contains("failed to request quick Tunnel: 429 Too Many Requests"), "{message}");
    tunnel.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_the_process() {
    let fake = Fake::new(&[]);
    let tunnel = start(&fake);
    tunnel.online(Duration::from_secs(20)).await.unwrap();
    let pid = tunnel.pid().unwrap();
    assert!(alive(pid));
    let status = tunnel.subscribe();
    tunnel.stop().await;
    assert!(!alive(pid), "cloudflared {pid} is gone once stop returns");
    assert_eq!(*status.borrow(), Status::Stopped);
    assert_eq!(fake.starts().len(), 1, "a requested stop is not restarted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_handle_ends_the_process() {
    let fake = Fake::new(&[]);
    let tunnel = start(&fake);
    tunnel.online(Duration::from_secs(20)).await.unwrap();
    let pid = tunnel.pid().unwrap();
    let status = tunnel.subscribe();
    drop(tunnel);
    assert!(gone_within(pid, Duration::from_secs(5)), "cloudflared {pid} outlived its handle");
    let mut status = status;
    tokio::time::timeout(Duration::from_secs(5), status.wait_for(|s| *s == Status::Stopped)).await.unwrap().unwrap();
}

#[test]
fn shutting_the_runtime_down_ends_the_process() {
    let fake = Fake::new(&[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tunnel = runtime.block_on(async {
        let tunnel = start(&fake);
        tunnel.online(Duration::from_secs(20)).await.unwrap();
        tunnel
    });
    let pid = tunnel.pid().unwrap();
    assert!(alive(pid));
    // The app exits with the tunnel still running: the runtime goes first.
    drop(runtime);
    assert!(gone_within(pid, Duration::from_secs(5)), "cloudflared {pid} outlived the runtime");
    drop(tunnel);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_keeps_supervisor_and_cloudflared_lines_in_order() {
    let fake = Fake::new(&[]);
    let tunnel = start(&fake);
    tunnel.online(Duration::from_secs(20)).await.unwrap();
    let lines = tunnel.logs();
    assert_eq!(lines[0].source, LogSource::Supervisor);
    assert!(lines[0].text.starts_with("started ") && lines[0].text.contains("tunnel --url http://127.0.0.1:8787"));
    assert!(lines.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    let newest = lines.last().unwrap().seq;
    assert_eq!(tunnel.logs_since(newest).len(), 1);
    tunnel.stop().await;
}
