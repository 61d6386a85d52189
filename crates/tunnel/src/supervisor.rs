//! One supervisor per tunnel: a tokio task that starts the provider, publishes
//! its [`Status`] on a `watch` channel, restarts it with [`Backoff`] when it
//! dies unexpectedly, and stops it on request or when the [`Tunnel`] handle is
//! dropped. Child processes are spawned with `kill_on_drop`, killed and
//! reaped on every exit path, so stopping, dropping the handle, or shutting
//! the runtime down leaves no process behind.
//!
//! Provider specifics (how to spawn, how to learn the URL) live in
//! `cloudflared` and `ngrok_agent`; this module only sequences runs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

use crate::backoff::Backoff;
use crate::provider::Provider;
use crate::status::{LogBook, LogLine, LogSource, Status};
use crate::{TunnelError, cloudflared, ngrok_agent};

/// Knobs of a supervisor; the defaults suit real providers, tests shorten them.
#[derive(Debug, Clone)]
pub struct TunnelOptions {
    /// Restart delays.
    pub backoff: Backoff,
    /// How long a start may take to produce a reachable public URL before it is
    /// abandoned and retried. cloudflared usually needs 3–10 s.
    pub startup_timeout: Duration,
    /// How often a running cloudflared's `/ready` is checked.
    pub health_interval: Duration,
    /// Log lines kept for the UI.
    pub log_capacity: usize,
}

impl Default for TunnelOptions {
    fn default() -> TunnelOptions {
        TunnelOptions {
            backoff: Backoff::default(),
            startup_timeout: Duration::from_secs(60),
            health_interval: Duration::from_secs(5),
            log_capacity: 1000,
        }
    }
}

/// A running tunnel. Dropping it stops the tunnel (the provider process is killed and reaped).
#[derive(Debug)]
pub struct Tunnel {
    provider: &'static str,
    status: watch::Receiver<Status>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    log: LogBook,
    pid: Arc<AtomicU32>,
}

impl Tunnel {
    /// Starts `provider` forwarding to the local listener at `local`, under
    /// supervision. Must be called inside a tokio runtime; the supervisor
    /// runs as a task on it.
    pub fn start(provider: Provider, local: SocketAddr, options: TunnelOptions) -> Result<Tunnel, TunnelError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| TunnelError::NoRuntime)?;
        let (status_tx, status) = watch::channel(Status::Starting);
        let (stop, stop_rx) = watch::channel(false);
        let log = LogBook::new(options.log_capacity);
        let pid = Arc::new(AtomicU32::new(0));
        let name = provider.name();
        let context =
            Context { status: status_tx, log: log.clone(), pid: pid.clone(), options, target: local_url(local) };
        let task = runtime.spawn(supervise(provider, context, StopSignal(stop_rx)));
        Ok(Tunnel { provider: name, status, stop, task: Some(task), log, pid })
    }

    /// `cloudflared`, `ngrok` or `custom`.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The status now.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// A receiver that sees every status change (the latest, if several happen between reads).
    pub fn subscribe(&self) -> watch::Receiver<Status> {
        self.status.clone()
    }

    /// The tunnel's kept log lines, oldest first.
    pub fn logs(&self) -> Vec<LogLine> {
        self.log.lines()
    }

    /// Kept log lines numbered `from` or later.
    pub fn logs_since(&self, from: u64) -> Vec<LogLine> {
        self.log.since(from)
    }

    /// The process id of the running provider process, if there is one (cloudflared only).
    pub fn pid(&self) -> Option<u32> {
        Some(self.pid.load(Ordering::SeqCst)).filter(|&pid| pid != 0)
    }

    /// Waits until the tunnel is online and returns its public base URL.
    pub async fn online(&self, within: Duration) -> Result<String, TunnelError> {
        let mut status = self.status.clone();
        match tokio::time::timeout(within, status.wait_for(|s| matches!(s, Status::Online { .. }))).await {
            Ok(Ok(online)) => Ok(online.url().unwrap_or_default().to_string()),
            Ok(Err(_)) | Err(_) => Err(TunnelError::NotOnline { within, status: self.status().to_string() }),
        }
    }

    /// Stops the tunnel and waits until its process (if any) has exited.
    pub async fn stop(mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        // The task sees this, kills and reaps the child, and ends. If the
        // runtime is going away instead, dropping the task drops the child,
        // which `kill_on_drop` kills.
        self.stop.send_replace(true);
    }
}

/// What a run shares with the supervisor.
pub(crate) struct Context {
    status: watch::Sender<Status>,
    pub(crate) log: LogBook,
    pid: Arc<AtomicU32>,
    pub(crate) options: TunnelOptions,
    /// `http://127.0.0.1:PORT`, the local listener.
    pub(crate) target: Url,
}

impl Context {
    pub(crate) fn publish(&self, status: Status) {
        tracing::debug!(%status, "tunnel status");
        self.status.send_replace(status);
    }

    /// A line in the tunnel log from Earshot itself.
    pub(crate) fn note(&self, text: impl Into<String>) {
        self.log.push(LogSource::Supervisor, text);
    }

    pub(crate) fn set_pid(&self, pid: Option<u32>) {
        self.pid.store(pid.unwrap_or(0), Ordering::SeqCst);
    }
}

/// Resolves when a stop was requested or the handle is gone.
pub(crate) struct StopSignal(watch::Receiver<bool>);

impl StopSignal {
    pub(crate) async fn requested(&mut self) {
        // An error means the handle was dropped: stop as well.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// How one run of a provider ended.
pub(crate) enum Ended {
    /// A stop was requested; everything is cleaned up.
    Stopped,
    /// It died or failed to start; worth a restart.
    Failed {
        /// What happened, for the status and the log.
        message: String,
        /// How long it had been online, if it got there.
        online_for: Option<Duration>,
    },
    /// Retrying cannot help (e.g. ngrok refused the token).
    Fatal {
        /// What happened and what to do.
        message: String,
    },
}

async fn supervise(provider: Provider, context: Context, mut stop: StopSignal) {
    let mut delays = context.options.backoff.delays();
    loop {
        context.publish(Status::Starting);
        let ended = match &provider {
            Provider::Cloudflared { program } => cloudflared::run(program, &context, &mut stop).await,
            Provider::Ngrok(config) => ngrok_agent::run(config, &context, &mut stop).await,
            Provider::Custom { base_url } => {
                context.note(format!("using {base_url} as given; Earshot does not run this tunnel"));
                context.publish(Status::Online { url: base_url.clone() });
                stop.requested().await;
                Ended::Stopped
            }
        };
        match ended {
            Ended::Stopped => break,
            Ended::Fatal { message } => {
                context.note(&message);
                context.publish(Status::Error { message });
                stop.requested().await;
                break;
            }
            Ended::Failed { message, online_for } => {
                let delay = delays.after(online_for);
                let message = format!("{message}; restarting in {:.1} s", delay.as_secs_f64());
                context.note(&message);
                context.publish(Status::Error { message });
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = stop.requested() => break,
                }
            }
        }
    }
    context.note("stopped");
    context.publish(Status::Stopped);
}

/// The URL a provider forwards to. A listener on a wildcard address is reached over loopback.
fn local_url(local: SocketAddr) -> Url {
    let ip = match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let text = format!("http://{}", SocketAddr::new(ip, local.port()));
    Url::parse(&text).unwrap_or_else(|_| unreachable!("a socket address always makes a URL: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_to_loopback_even_when_listening_on_all_interfaces() {
        assert_eq!(local_url("0.0.0.0:8787".parse().unwrap()).as_str(), "http://127.0.0.1:8787/");
        assert_eq!(local_url("[::]:9".parse().unwrap()).as_str(), "http://[::1]:9/");
        assert_eq!(local_url("127.0.0.1:5".parse().unwrap()).as_str(), "http://127.0.0.1:5/");
    }
}
