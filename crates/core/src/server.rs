//! The one listener start-up, for `earshot serve` and the desktop app alike:
//! bind, serve, stop in order, restart when the user changes the port or the
//! secret, and report the state (running, or why not) over a `watch` channel.
//!
//! The store and its change events outlive any one listener, so the UI's
//! subscription survives restarts.

use std::net::SocketAddr;

use serde::Serialize;
use tokio::sync::{Mutex, oneshot, watch};

use crate::intake::{self, Clock, Intake, IntakeConfig};
use crate::relay::Simulator;
use crate::settings::Limits;
use crate::store::Store;

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
    /// Could not start.
    Failed {
        /// The address it tried.
        address: String,
        /// Why, for the UI to branch on.
        code: ListenFault,
        /// What went wrong, phrased for the user.
        message: String,
    },
}

/// Why a listener is not running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ListenFault {
    /// Another program holds the port.
    PortInUse,
    /// The OS refused the address (a port below 1024, say).
    PermissionDenied,
    /// Any other bind failure.
    BindFailed,
    /// The settings cannot be used (e.g. `enforce` without a secret).
    Settings,
    /// The store's writer could not be started.
    Store,
}

impl ListenFault {
    /// The snake_case name the UI and the IPC error codes use.
    pub fn as_str(self) -> &'static str {
        match self {
            ListenFault::PortInUse => "port_in_use",
            ListenFault::PermissionDenied => "permission_denied",
            ListenFault::BindFailed => "bind_failed",
            ListenFault::Settings => "settings",
            ListenFault::Store => "store",
        }
    }
}

struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// Owns at most one running listener over a store.
pub struct Server {
    store: Store,
    clock: Clock,
    running: Mutex<Option<Running>>,
    status: watch::Sender<ListenerStatus>,
    simulator: Simulator,
}

impl Server {
    /// Prepares a server over `store`; nothing listens until [`Server::start`].
    pub fn new(store: Store) -> Server {
        Server::with_clock(store, intake::system_clock())
    }

    /// Like [`Server::new`], with the clock the intake reads (tests control token expiry).
    pub fn with_clock(store: Store, clock: Clock) -> Server {
        let (status, _) = watch::channel(ListenerStatus::Stopped);
        Server { store, clock, running: Mutex::new(None), status, simulator: Simulator::new() }
    }

    /// The simulated-answer switch every listener this server starts obeys; it survives restarts.
    pub fn simulator(&self) -> &Simulator {
        &self.simulator
    }

    /// The listener's state, now and as it changes.
    pub fn status(&self) -> watch::Receiver<ListenerStatus> {
        self.status.subscribe()
    }

    /// (Re)starts the listener on `address`, stopping any running one first.
    pub async fn start(&self, address: SocketAddr, config: IntakeConfig, limits: Limits) -> ListenerStatus {
        let mut running = self.running.lock().await;
        if let Some(previous) = running.take() {
            let _ = previous.stop.send(());
            let _ = previous.task.await;
        }
        let status = match self.bind(address, config, limits).await {
            Ok((status, started)) => {
                *running = Some(started);
                status
            }
            Err(status) => status,
        };
        self.status.send_replace(status.clone());
        status
    }

    async fn bind(
        &self,
        address: SocketAddr,
        config: IntakeConfig,
        limits: Limits,
    ) -> Result<(ListenerStatus, Running), ListenerStatus> {
        let failed = |code, message| ListenerStatus::Failed { address: address.to_string(), code, message };
        let intake = Intake::with_simulator(config, &self.store, self.clock.clone(), limits, self.simulator.clone())
            .map_err(|e| failed(ListenFault::Store, format!("the database cannot be written: {e}")))?;
        let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => failed(
                ListenFault::PortInUse,
                format!("port {} is already in use by another program; pick another port", address.port()),
            ),
            std::io::ErrorKind::PermissionDenied => {
                failed(ListenFault::PermissionDenied, format!("cannot listen on {address}: {e}"))
            }
            _ => failed(ListenFault::BindFailed, format!("cannot listen on {address}: {e}")),
        })?;
        let bound = listener.local_addr().unwrap_or(address);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = intake::serve(listener, intake, shutdown).await {
                tracing::error!(target: "earshot::server", "listener stopped: {e}");
            }
        });
        let status = ListenerStatus::Running {
            address: bound.to_string(),
            webhook_url: format!("http://{bound}{WEBHOOK_PATH}"),
        };
        Ok((status, Running { stop, task }))
    }

    /// Reports a listener that cannot start because of its settings, stopping any running one.
    pub async fn fail(&self, address: SocketAddr, message: String) -> ListenerStatus {
        self.stop().await;
        let status = ListenerStatus::Failed { address: address.to_string(), code: ListenFault::Settings, message };
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
    use super::{ListenFault, ListenerStatus, Server};
    use crate::intake::IntakeConfig;
    use crate::settings::{AuthConfig, Limits};
    use crate::store::Store;

    fn config() -> IntakeConfig {
        IntakeConfig { auth: AuthConfig::off(), max_body: 1 << 20, forward: None }
    }

    #[tokio::test]
    async fn a_taken_port_is_reported_and_another_one_works() {
        let dir = tempfile::TempDir::new().unwrap();
        let service = Server::new(Store::open(dir.path()).unwrap());
        let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = blocker.local_addr().unwrap();
        let status = service.start(taken, config(), Limits::default()).await;
        assert!(matches!(status, ListenerStatus::Failed { code: ListenFault::PortInUse, .. }), "{status:?}");
        let ListenerStatus::Running { address, webhook_url } =
            service.start("127.0.0.1:0".parse().unwrap(), config(), Limits::default()).await
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
