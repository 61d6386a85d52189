//! The app's tunnel: at most one at a time, started and stopped from the
//! setup panel, restarted when the listener moves to another port, and
//! stopped when the app exits so no cloudflared outlives the window.
//!
//! Each [`Tunnel`] has its own status channel; this keeps one channel that
//! outlives them all, so the bridge subscribes once. Every status it carries
//! is numbered, so the UI can tell a late answer from a newer event.

use std::net::SocketAddr;
use std::sync::Arc;

use earshot_tunnel::{Provider, Status, Tunnel, TunnelOptions};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

struct Running {
    tunnel: Tunnel,
    provider: Provider,
    forward: JoinHandle<()>,
}

/// The running tunnel, if any, and its status.
pub struct Tunnels {
    running: Mutex<Option<Running>>,
    status: Arc<watch::Sender<(u64, Status)>>,
}

impl Default for Tunnels {
    fn default() -> Tunnels {
        Tunnels { running: Mutex::new(None), status: Arc::new(watch::channel((0, Status::Stopped)).0) }
    }
}

impl Tunnels {
    /// The status now (`stopped` when no tunnel runs).
    pub fn status(&self) -> Status {
        self.status.borrow().1.clone()
    }

    /// The status now and its number, which grows with every change.
    pub fn numbered_status(&self) -> (u64, Status) {
        self.status.borrow().clone()
    }

    /// A receiver that sees every status change of every tunnel started from now on.
    pub fn subscribe(&self) -> watch::Receiver<(u64, Status)> {
        self.status.subscribe()
    }

    /// Stops any running tunnel and starts `provider` forwarding to `local`.
    pub async fn start(&self, provider: Provider, local: SocketAddr) -> Result<(), earshot_tunnel::TunnelError> {
        let mut running = self.running.lock().await;
        if let Some(old) = running.take() {
            old.stop().await;
        }
        let tunnel = Tunnel::start(provider.clone(), local, TunnelOptions::default())?;
        let mut updates = tunnel.subscribe();
        let status = self.status.clone();
        publish(&status, updates.borrow_and_update().clone());
        let forward = tokio::spawn(async move {
            while updates.changed().await.is_ok() {
                let current = updates.borrow_and_update().clone();
                publish(&status, current);
            }
        });
        *running = Some(Running { tunnel, provider, forward });
        Ok(())
    }

    /// Restarts the running tunnel (if any) towards a new local address.
    pub async fn retarget(&self, local: SocketAddr) -> Result<(), earshot_tunnel::TunnelError> {
        let provider = match self.running.lock().await.as_ref() {
            Some(running) => running.provider.clone(),
            None => return Ok(()),
        };
        self.start(provider, local).await
    }

    /// Stops the running tunnel and waits until its process (if any) has exited.
    pub async fn stop(&self) {
        if let Some(old) = self.running.lock().await.take() {
            old.stop().await;
        }
        publish(&self.status, Status::Stopped);
    }

    /// The running tunnel's log lines numbered `from` or later.
    pub async fn logs_since(&self, from: u64) -> Vec<earshot_tunnel::LogLine> {
        self.running.lock().await.as_ref().map(|r| r.tunnel.logs_since(from)).unwrap_or_default()
    }

    /// The provider's process id (cloudflared only).
    pub async fn pid(&self) -> Option<u32> {
        self.running.lock().await.as_ref().and_then(|r| r.tunnel.pid())
    }

    /// The running provider's name.
    pub async fn provider(&self) -> Option<&'static str> {
        self.running.lock().await.as_ref().map(|r| r.provider.name())
    }
}

fn publish(channel: &watch::Sender<(u64, Status)>, status: Status) {
    channel.send_modify(|(number, current)| {
        *number += 1;
        *current = status;
    });
}

impl Running {
    async fn stop(self) {
        // The forwarder goes first so the old tunnel's last words cannot land after a new tunnel's.
        self.forward.abort();
        self.tunnel.stop().await;
    }
}
