//! The listener as an application runs it: started on launch, restarted
//! when the user changes the port or the secret, and reporting its state
//! (running, or why it is not) over a `watch` channel.
//!
//! The desktop shell only calls this; the event channel and the store writer
//! outlive any one listener, so the UI's subscription survives restarts.

use std::net::SocketAddr;

use serde::Serialize;
use tokio::sync::{Mutex, broadcast, oneshot, watch};

use crate::events::{self, Event};
use crate::intake::{self, Intake, IntakeConfig};
use crate::listener::Limits;
use crate::store::{Store, StoreError, Writer};

/// The path suggested for the watsonx webhook URL (any path is accepted).
pub const WEBHOOK_PATH: &str = "/audio-webhook";

/// Whether the listener is up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ListenerStatus {
    /// Not started.
    Stopped,
    /// Accepting requests.
    Running {
        /// The bound address, e.g. `127.0.0.1:8787`.
        address: String,
        /// `http://ADDRESS/audio-webhook`.
        webhook_url: String,
    },
    /// Could not bind.
    Failed {
        /// The address it tried.
        address: String,
        /// `port_in_use`, `permission_denied` or `bind_failed`.
        code: String,
        /// What the OS said, phrased for the user.
        message: String,
    },
}

struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// Owns the store writer, the event channel and at most one running listener.
pub struct Service {
    writer: Writer,
    events: broadcast::Sender<Event>,
    running: Mutex<Option<Running>>,
    status: watch::Sender<ListenerStatus>,
}

impl Service {
    /// Prepares a service over `store`; nothing listens until [`Service::start`].
    pub fn new(store: &Store) -> Result<Service, StoreError> {
        let (events, _) = broadcast::channel(events::CAPACITY);
        let (status, _) = watch::channel(ListenerStatus::Stopped);
        Ok(Service { writer: store.writer()?, events, running: Mutex::new(None), status })
    }

    /// Events from every listener this service runs.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// The listener's state, now and as it changes.
    pub fn status(&self) -> watch::Receiver<ListenerStatus> {
        self.status.subscribe()
    }

    /// (Re)starts the listener on `address` with `config`, stopping any running one first.
    pub async fn start(&self, address: SocketAddr, config: IntakeConfig) -> ListenerStatus {
        let mut running = self.running.lock().await;
        if let Some(previous) = running.take() {
            let _ = previous.stop.send(());
            let _ = previous.task.await;
        }
        let status = match tokio::net::TcpListener::bind(address).await {
            Ok(listener) => {
                let bound = listener.local_addr().unwrap_or(address);
                let limits = Limits::default();
                let intake = Intake::with_events(
                    config,
                    self.writer.clone(),
                    intake::system_clock(),
                    limits.clone(),
                    self.events.clone(),
                );
                let (stop, stopped) = oneshot::channel::<()>();
                let task = tokio::spawn(async move {
                    let shutdown = async {
                        let _ = stopped.await;
                    };
                    if let Err(e) = intake::serve_with(listener, intake::router(intake), limits, shutdown).await {
                        tracing::error!(target: "earshot::service", "listener stopped: {e}");
                    }
                });
                *running = Some(Running { stop, task });
                ListenerStatus::Running {
                    address: bound.to_string(),
                    webhook_url: format!("http://{bound}{WEBHOOK_PATH}"),
                }
            }
            Err(e) => {
                let code = match e.kind() {
                    std::io::ErrorKind::AddrInUse => "port_in_use",
                    std::io::ErrorKind::PermissionDenied => "permission_denied",
                    _ => "bind_failed",
                };
                let message = match code {
                    "port_in_use" => {
                        format!("port {} is already in use by another program; pick another port", address.port())
                    }
                    _ => format!("cannot listen on {address}: {e}"),
                };
                ListenerStatus::Failed { address: address.to_string(), code: code.into(), message }
            }
        };
        self.status.send_replace(status.clone());
        status
    }

    /// Stops the listener, letting requests in flight finish.
    pub async fn stop(&self) {
        if let Some(previous) = self.running.lock().await.take() {
            let _ = previous.stop.send(());
            let _ = previous.task.await;
        }
        self.status.send_replace(ListenerStatus::Stopped);
    }
}

#[cfg(test)]
mod tests {
    use super::{ListenerStatus, Service};
    use crate::intake::IntakeConfig;
    use crate::settings::AuthConfig;
    use crate::store::Store;

    fn config() -> IntakeConfig {
        IntakeConfig { auth: AuthConfig::off(), max_body: 1 << 20 }
    }

    #[tokio::test]
    async fn a_taken_port_is_reported_and_another_one_works() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let service = Service::new(&store).unwrap();
        let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = blocker.local_addr().unwrap();
        let status = service.start(taken, config()).await;
        assert!(matches!(status, ListenerStatus::Failed { ref code, .. } if code == "port_in_use"), "{status:?}");
        let ListenerStatus::Running { address, webhook_url } =
            service.start("127.0.0.1:0".parse().unwrap(), config()).await
        else {
            panic!("expected a running listener")
        };
        assert_eq!(webhook_url, format!("http://{address}/audio-webhook"));
        assert_eq!(*service.status().borrow(), ListenerStatus::Running { address: address.clone(), webhook_url });
        let reply = reqwest::get(format!("http://{address}/")).await.unwrap();
        assert_eq!(reply.status(), 200);
        service.stop().await;
        assert!(reqwest::get(format!("http://{address}/")).await.is_err(), "stopped listener refuses connections");
    }
}
