//! Forwards core events to the UI: one task per stream, nothing else.
//!
//! `earshot://changed` carries each store event (a request was logged, a
//! recording stored, the store failed); `earshot://listener` the listener's
//! status whenever it changes; `earshot://tunnel` the tunnel card's contents
//! whenever the tunnel's status changes; `earshot://simulation` the
//! simulated answer in force (or `null`) whenever it changes, including the
//! core's own countdown of "the next N"; `earshot://analysis` how far the
//! analyser's catch-up has come.

use tauri::{AppHandle, Emitter, Manager, Runtime};
use tokio::sync::broadcast::error::RecvError;

use crate::commands;
use crate::state::Desktop;

/// Event name for store changes.
pub const CHANGED: &str = "earshot://changed";
/// Event name for listener status.
pub const LISTENER: &str = "earshot://listener";
/// Event name for tunnel status.
pub const TUNNEL: &str = "earshot://tunnel";

/// Event name for the analyser's catch-up progress (`{done, total}`).
pub const ANALYSIS: &str = "earshot://analysis";

/// Event name for the simulated answer.
pub const SIMULATION: &str = "earshot://simulation";

/// Starts the forwarding tasks.
pub fn start<R: Runtime>(app: AppHandle<R>, desktop: &Desktop) {
    let mut events = desktop.store().subscribe();
    let mut status = desktop.server().status();
    let mut tunnel = desktop.tunnels().subscribe();
    let changes = app.clone();
    let tunnels = app.clone();
    let mut simulation = desktop.server().simulator().subscribe();
    let simulations = app.clone();
    tauri::async_runtime::spawn(async move {
        while simulation.changed().await.is_ok() {
            let current = simulation.borrow_and_update().clone();
            let _ = simulations.emit(SIMULATION, &current);
        }
    });
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    let _ = changes.emit(CHANGED, &event);
                }
                // The UI refetches on any event, so a lag only costs notifications.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            }
        }
    });
    tauri::async_runtime::spawn(async move {
        while status.changed().await.is_ok() {
            let current = status.borrow_and_update().clone();
            let _ = app.emit(LISTENER, &current);
        }
    });
    tauri::async_runtime::spawn(async move {
        while tunnel.changed().await.is_ok() {
            tunnel.borrow_and_update();
            let info = commands::tunnel::info(&tunnels.state::<Desktop>()).await;
            let _ = tunnels.emit(TUNNEL, &info);
        }
    });
}

/// Starts the analyser, its catch-up progress going to the UI.
pub fn start_analyser<R: Runtime>(app: AppHandle<R>, desktop: &Desktop) {
    let _inside = tauri::async_runtime::handle().inner().enter();
    desktop.start_analyser(std::sync::Arc::new(move |progress| {
        let _ = app.emit(ANALYSIS, progress);
    }));
}
