//! A slot for an application's one tunnel: at most one runs at a time; it is
//! started, replaced, restarted towards a new local port, and stopped by the
//! owner (the desktop app's setup panel, and its exit).
//!
//! Each [`Tunnel`] has its own status channel; the slot keeps one channel
//! that outlives them all, so a UI subscribes once. Every status it carries
//! is numbered, so a UI can tell a late answer from a newer event. This
//! module decides nothing about providers; the supervisor runs them.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

use crate::status::LogLine;
use crate::{Provider, Status, Tunnel, TunnelError, TunnelOptions};

struct Running {
    tunnel: Tunnel,
    provider: Provider,
    forward: JoinHandle<()>,
}

/// The running tunnel, if any, and its numbered status. Share it by reference (or in an `Arc`).
pub struct TunnelSlot {
    running: Mutex<Option<Running>>,
    status: Arc<watch::Sender<(u64, Status)>>,
    options: TunnelOptions,
}

impl Default for TunnelSlot {
    fn default() -> TunnelSlot {
        TunnelSlot::new(TunnelOptions::default())
    }
}

impl TunnelSlot {
    /// An empty slot whose tunnels run with `options`.
    pub fn new(options: TunnelOptions) -> TunnelSlot {
        TunnelSlot { running: Mutex::new(None), status: Arc::new(watch::channel((0, Status::Stopped)).0), options }
    }

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
    /// Must be called inside a tokio runtime.
    pub async fn start(&self, provider: Provider, local: SocketAddr) -> Result<(), TunnelError> {
        let mut running = self.running.lock().await;
        if let Some(old) = running.take() {
            old.stop().await;
        }
        let tunnel = Tunnel::start(provider.clone(), local, self.options.clone())?;
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
    pub async fn retarget(&self, local: SocketAddr) -> Result<(), TunnelError> {
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

    /// Reports a tunnel that could not be started (nothing runs); the next start or stop replaces it.
    pub async fn fail(&self, message: impl Into<String>) {
        if self.running.lock().await.is_none() {
            publish(&self.status, Status::Error { message: message.into() });
        }
    }

    /// The running tunnel's log lines numbered `from` or later.
    pub async fn logs_since(&self, from: u64) -> Vec<LogLine> {
        self.running.lock().await.as_ref().map(|r| r.tunnel.logs_since(from)).unwrap_or_default()
    }

    /// The provider's process id (cloudflared only).
    pub async fn pid(&self) -> Option<u32> {
        self.running.lock().await.as_ref().and_then(|r| r.tunnel.pid())
    }

    /// The running provider's kind.
    pub async fn provider(&self) -> Option<earshot_core::TunnelChoice> {
        self.running.lock().await.as_ref().map(|r| r.provider.choice())
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn until_online(slot: &TunnelSlot) -> (u64, Status) {
        let mut updates = slot.subscribe();
        tokio::time::timeout(Duration::from_secs(5), updates.wait_for(|(_, s)| s.url().is_some()))
            .await
            .expect("online within 5 s")
            .expect("slot alive")
            .clone()
    }

    #[tokio::test]
    async fn one_tunnel_at_a_time_with_numbered_status() {
        let slot = TunnelSlot::default();
        assert_eq!(slot.numbered_status(), (0, Status::Stopped));
        let local: SocketAddr = "127.0.0.1:8787".parse().unwrap();
        slot.retarget(local).await.unwrap();
        assert_eq!(slot.provider().await, None, "retargeting an empty slot starts nothing");

        slot.start(Provider::custom("https://one.example.com").unwrap(), local).await.unwrap();
        let (first, online) = until_online(&slot).await;
        assert_eq!(online.url(), Some("https://one.example.com"));
        assert_eq!(slot.provider().await, Some(earshot_core::TunnelChoice::Custom));

        slot.start(Provider::custom("https://two.example.com/").unwrap(), local).await.unwrap();
        let (second, online) = until_online(&slot).await;
        assert_eq!(online.url(), Some("https://two.example.com"), "the second replaced the first");
        assert!(second > first);
        assert!(slot.logs_since(0).await.iter().any(|l| l.text.contains("two.example.com")));

        slot.fail("not while a tunnel runs").await;
        assert_eq!(slot.status().url(), Some("https://two.example.com"));
        slot.stop().await;
        let (last, stopped) = slot.numbered_status();
        assert_eq!(stopped, Status::Stopped);
        assert!(last > second);
        assert!(slot.logs_since(0).await.is_empty(), "no tunnel, no log");
        slot.fail("cloudflared is not installed").await;
        assert_eq!(slot.status(), Status::Error { message: "cloudflared is not installed".into() });
    }
}
