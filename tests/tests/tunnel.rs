//! `earshot serve --tunnel …` and `earshot selftest` as a user runs them: the
//! public webhook URL printed once the tunnel is up, no cloudflared left
//! behind after Ctrl-C/SIGTERM, clear errors for a missing cloudflared or
//! ngrok token, and the self-test through a "custom" public URL that is
//! really this listener.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use earshot_tests::{alive, earshot, fake_cloudflared, run};

const SECRET: &str = "tunnel test secret";

/// `earshot serve …` with its stdout lines arriving on a channel; killed on drop.
struct Serve {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Serve {
    fn start(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Serve {
        let mut child = earshot(data_dir)
            .arg("serve")
            .args(args)
            .env_remove("EARSHOT_TUNNEL")
            .env_remove("NGROK_AUTHTOKEN")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn earshot serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Serve { child, lines, seen: Vec::new() }
    }

    /// Waits for a line starting with `prefix` and returns the rest of it.
    fn expect(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                self.seen.push(line.clone());
                if let Some(rest) = line.strip_prefix(prefix) {
                    return rest.to_string();
                }
            }
        }
        panic!("no line starting {prefix:?} within 30 s; saw {:#?}", self.seen);
    }

    /// Sends SIGTERM and waits for a clean exit.
    fn terminate(&mut self) {
        let status =
            std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "earshot serve exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "earshot serve did not stop within 20 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `PATH` with `bin` first.
fn path_with(bin: &Path) -> String {
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default())
}

#[test]
fn serve_with_cloudflared_prints_the_webhook_url_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_with(&fake_cloudflared(dir.path()));
    let data = dir.path().join("data");
    let mut serve = Serve::start(
        &data,
        &["--listen", "127.0.0.1:0", "--secret", SECRET, "--tunnel", "cloudflared"],
        &[("PATH", &path)],
    );
    let listening = serve.expect("listening on ");
    let url = serve.expect("public webhook URL: ");
    assert_eq!(url, "https://quick-brown-fox.trycloudflare.com/audio-webhook");
    let starts = std::fs::read_to_string(dir.path().join("starts")).unwrap();
    let mut fields = starts.split_whitespace();
    let pid: u32 = fields.next().unwrap().parse().unwrap();
    let port = listening.rsplit(':').next().unwrap();
    assert!(starts.contains(&format!("tunnel --url http://127.0.0.1:{port} --metrics 127.0.0.1:")), "{starts}");
    assert!(alive(pid.into()));
    serve.terminate();
    assert_eq!(serve.lines.iter().last().as_deref(), Some("tunnel: stopped"));
    assert!(!alive(pid.into()), "cloudflared {pid} outlived earshot serve");
}

#[test]
fn a_missing_cloudflared_or_ngrok_token_fails_before_listening() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let output = earshot(&data)
        .args(["serve", "--listen", "127.0.0.1:0", "--tunnel", "cloudflared"])
        .env("PATH", &empty)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: cloudflared is not installed"), "{stderr}");
    assert!(stderr.contains("brew install cloudflared") && stderr.contains("does not download it"), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("listening on"));

    let output = earshot(&data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("EARSHOT_TUNNEL", "ngrok")
        .env_remove("NGROK_AUTHTOKEN")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: ngrok needs your authtoken"), "{stderr}");
    assert!(stderr.contains("https://dashboard.ngrok.com/get-started/your-authtoken"), "{stderr}");
}

#[test]
fn selftest_through_a_custom_url_names_each_failing_hop() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let listen = format!("127.0.0.1:{port}");
    let public = format!("http://localhost:{port}/");
    let mut serve = Serve::start(&data, &["--listen", &listen, "--secret", SECRET], &[("EARSHOT_TUNNEL", &public)]);
    let url = serve.expect("public webhook URL: ");
    assert_eq!(url, format!("http://localhost:{port}/audio-webhook"));

    let output = run(&data, &["selftest", &url, "--secret", SECRET]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("ok: reached Earshot, token verified, stored as "), "{stdout}");
    assert!(stdout.contains("  store    ok           stored byte-exact as "), "{stdout}");

    let output = run(&data, &["selftest", &url, "--secret", "wrong", "--json"]);
    assert!(!output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["failed_hop"], "auth");
    assert!(String::from_utf8_lossy(&output.stderr).contains("error: failed at auth: Earshot refused the token"));

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let wrong = format!("http://127.0.0.1:{}/audio-webhook", closed.local_addr().unwrap().port());
    drop(closed);
    let output = run(&data, &["selftest", &wrong, "--secret", SECRET]);
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("  connect  FAILED"), "{stdout}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("error: failed at connect: cannot connect to 127.0.0.1:"));
    serve.terminate();
}

#[cfg(target_os = "linux")]
#[test]
fn cloudflared_does_not_outlive_a_killed_earshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_with(&fake_cloudflared(dir.path()));
    let data = dir.path().join("data");
    let mut serve = Serve::start(&data, &["--listen", "127.0.0.1:0", "--tunnel", "cloudflared"], &[("PATH", &path)]);
    serve.expect("public webhook URL: ");
    let starts = std::fs::read_to_string(dir.path().join("starts")).unwrap();
    let pid: u32 = starts.split_whitespace().next().unwrap().parse().unwrap();
    assert!(alive(pid.into()));
    // SIGKILL: no handler runs, so only the kernel's parent-death signal can stop cloudflared.
    serve.child.kill().unwrap();
    serve.child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid.into()) {
        assert!(Instant::now() < deadline, "cloudflared {pid} outlived a SIGKILLed earshot serve");
        std::thread::sleep(Duration::from_millis(20));
    }
}
