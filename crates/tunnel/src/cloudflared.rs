//! One run of a cloudflared quick tunnel, from the user's own binary:
//! `cloudflared tunnel --url http://127.0.0.1:PORT --metrics 127.0.0.1:MPORT
//! --no-autoupdate`. The public hostname comes from `GET /quicktunnel` on the
//! metrics port (`{"hostname": "x.trycloudflare.com"}`), or, for builds
//! without that route, from the `https://….trycloudflare.com` line in the
//! banner cloudflared prints on stderr. The tunnel counts as online once
//! `GET /ready` answers 200, i.e. an edge connection is registered.
//!
//! Earshot never downloads cloudflared; the provider module found it on `PATH`.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use regex::Regex;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::status::{LogBook, LogSource, Status};
use crate::supervisor::{Context, Ended, StopSignal};

/// The quick-tunnel URL as cloudflared prints it in its banner.
static QUICK_TUNNEL_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"https://[a-z0-9-]+\.trycloudflare\.com").unwrap_or_else(|e| unreachable!("literal regex: {e}"))
});

/// How often the metrics port is asked for the hostname and readiness while starting.
const STARTUP_POLL: Duration = Duration::from_millis(250);

/// A metrics request that takes longer than this is treated as no answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long to wait for the last output lines after cloudflared exits, so the
/// reason it printed makes it into the status message.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// `GET /quicktunnel`'s answer.
#[derive(Deserialize)]
struct QuickTunnel {
    hostname: String,
}

/// How the start-up phase ended.
enum Startup {
    Online { url: String, source: &'static str },
    Exited(std::io::Result<ExitStatus>),
    TimedOut,
    Stopped,
}

/// Asks Linux to send cloudflared SIGTERM when Earshot dies without stopping
/// it (SIGKILL, a crash), so no tunnel outlives the process that owns it.
/// The signal follows the thread that spawned the child: a tokio worker,
/// which lives as long as the runtime.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the forked child before exec. It makes two
    // async-signal-safe system calls and builds errors without allocating.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Earshot died between fork and prctl: no signal would ever come.
            if libc::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// Runs cloudflared once: start, discover, stay online until it exits or a stop arrives.
///
/// Longer than most functions here on purpose: it is one `select!` state machine
/// (starting → discovering → online → ended) whose arms share the child and its
/// log readers; split up, each piece would need all of them passed around.
pub(crate) async fn run(program: &Path, context: &Context, stop: &mut StopSignal) -> Ended {
    let metrics = match free_loopback_port() {
        Ok(addr) => addr,
        Err(e) => return failed(format!("cannot find a free port for cloudflared's metrics: {e}"), None),
    };
    let target = context.target.origin().ascii_serialization();
    let mut command = Command::new(program);
    command
        .args(["tunnel", "--url", &target, "--metrics", &metrics.to_string(), "--no-autoupdate"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Its own process group: a Ctrl-C in the terminal reaches Earshot only,
    // which then stops the tunnel in order instead of seeing it "crash".
    #[cfg(unix)]
    command.process_group(0);
    #[cfg(target_os = "linux")]
    die_with_parent(&mut command);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return failed(format!("cannot start {}: {e}", program.display()), None),
    };
    context.set_pid(child.id());
    context.note(format!(
        "started {} tunnel --url {target} --metrics {metrics} --no-autoupdate (pid {})",
        program.display(),
        child.id().unwrap_or_default()
    ));
    let (url_tx, url_rx) = watch::channel(None);
    let readers = [
        child
            .stderr
            .take()
            .map(|out| tokio::spawn(read_lines(out, LogSource::Stderr, context.log.clone(), url_tx.clone()))),
        child.stdout.take().map(|out| tokio::spawn(read_lines(out, LogSource::Stdout, context.log.clone(), url_tx))),
    ];
    let probe = Probe::new(metrics);
    let ended = match until_online(&mut child, &probe, &url_rx, stop, context.options.startup_timeout).await {
        Startup::Online { url, source } => {
            context.note(format!("public URL {url} (from {source})"));
            context.publish(Status::Online { url: url.clone() });
            while_online(&mut child, &probe, &url, context, stop).await
        }
        Startup::Exited(status) => {
            drain(readers).await;
            failed(
                format!(
                    "cloudflared exited before the tunnel came online ({}){}",
                    describe(status),
                    last_words(&context.log)
                ),
                None,
            )
        }
        Startup::TimedOut => failed(
            format!(
                "cloudflared gave no reachable URL within {} s{}",
                context.options.startup_timeout.as_secs(),
                last_words(&context.log)
            ),
            None,
        ),
        Startup::Stopped => Ended::Stopped,
    };
    // Every path ends here: the process is killed (if still running) and reaped.
    let _ = child.start_kill();
    let _ = child.wait().await;
    context.set_pid(None);
    ended
}

async fn until_online(
    child: &mut Child,
    probe: &Probe,
    stderr_url: &watch::Receiver<Option<String>>,
    stop: &mut StopSignal,
    timeout: Duration,
) -> Startup {
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut poll = tokio::time::interval(STARTUP_POLL);
    loop {
        tokio::select! {
            status = child.wait() => return Startup::Exited(status),
            () = stop.requested() => return Startup::Stopped,
            () = &mut deadline => return Startup::TimedOut,
            _ = poll.tick() => {
                let found = match probe.hostname().await {
                    Some(hostname) => Some((format!("https://{hostname}"), "/quicktunnel")),
                    None => stderr_url.borrow().clone().map(|url| (url, "cloudflared's log")),
                };
                if let Some((url, source)) = found
                    && probe.ready().await
                {
                    return Startup::Online { url, source };
                }
            }
        }
    }
}

async fn while_online(child: &mut Child, probe: &Probe, url: &str, context: &Context, stop: &mut StopSignal) -> Ended {
    let online_at = Instant::now();
    let mut health = tokio::time::interval(context.options.health_interval);
    health.tick().await;
    let mut connected = true;
    loop {
        tokio::select! {
            status = child.wait() => {
                let message = format!("cloudflared exited unexpectedly ({}){}", describe(status), last_words(&context.log));
                return failed(message, Some(online_at.elapsed()));
            }
            () = stop.requested() => return Ended::Stopped,
            _ = health.tick() => {
                let ready = probe.ready().await;
                if ready != connected {
                    connected = ready;
                    let status = if ready {
                        context.note("edge connection restored");
                        Status::Online { url: url.to_string() }
                    } else {
                        let message = "cloudflared lost its connection to Cloudflare's edge and is reconnecting".to_string();
                        context.note(&message);
                        Status::Error { message }
                    };
                    context.publish(status);
                }
            }
        }
    }
}

fn failed(message: String, online_for: Option<Duration>) -> Ended {
    Ended::Failed { message, online_for }
}

fn describe(status: std::io::Result<ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(e) => format!("cannot tell how: {e}"),
    }
}

/// `: <the last line cloudflared printed>`, which usually says why it stopped.
fn last_words(log: &LogBook) -> String {
    log.lines()
        .into_iter()
        .rev()
        .find(|line| line.source != LogSource::Supervisor)
        .map(|line| format!(": {}", line.text.trim()))
        .unwrap_or_default()
}

async fn drain(readers: [Option<JoinHandle<()>>; 2]) {
    for reader in readers.into_iter().flatten() {
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, reader).await;
    }
}

/// Copies output lines into the log and reports the first quick-tunnel URL seen.
async fn read_lines(out: impl AsyncRead + Unpin, source: LogSource, log: LogBook, url: watch::Sender<Option<String>>) {
    let mut lines = BufReader::new(out).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(found) = QUICK_TUNNEL_URL.find(&line) {
            url.send_if_modified(|known| {
                let new = known.is_none();
                if new {
                    *known = Some(found.as_str().to_string());
                }
                new
            });
        }
        log.push(source, line);
    }
}

/// A free port on 127.0.0.1 for cloudflared's metrics server. The port is
/// released before cloudflared binds it; a collision in between makes
/// cloudflared exit, and the supervisor retries with another port.
fn free_loopback_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()
}

/// Questions to cloudflared's metrics server.
struct Probe {
    http: reqwest::Client,
    base: String,
}

impl Probe {
    fn new(metrics: SocketAddr) -> Probe {
        // Loopback only: never through a proxy from the environment.
        let http = reqwest::Client::builder().no_proxy().timeout(PROBE_TIMEOUT).build().unwrap_or_default();
        Probe { http, base: format!("http://{metrics}") }
    }

    /// The hostname from `/quicktunnel`, once known.
    async fn hostname(&self) -> Option<String> {
        let response = self.http.get(format!("{}/quicktunnel", self.base)).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let answer: QuickTunnel = response.json().await.ok()?;
        let hostname = answer.hostname.trim();
        let plausible =
            !hostname.is_empty() && hostname.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        plausible.then(|| hostname.to_ascii_lowercase())
    }

    /// Whether `/ready` answers 200 (an edge connection is registered).
    async fn ready(&self) -> bool {
        let response = self.http.get(format!("{}/ready", self.base)).send().await;
        response.is_ok_and(|r| r.status() == reqwest::StatusCode::OK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_url_in_the_banner_line() {
        let line = "2026-11-26T22:01:02Z INF |  https://fancy-words-here-42.trycloudflare.com                    |";
        assert_eq!(QUICK_TUNNEL_URL.find(line).unwrap().as_str(), "https://fancy-words-here-42.trycloudflare.com");
        assert!(QUICK_TUNNEL_URL.find("INF Requesting new quick Tunnel on trycloudflare.com...").is_none());
    }
}
