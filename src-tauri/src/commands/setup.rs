//! The setup panel: where to point watsonx, the secret, auth mode and port
//! (forwarding has its own module, `forward`).

use std::net::SocketAddr;

use earshot_core::{AuthMode, Secret, StoreUrl, describe_url};
use earshot_core::{ListenerStatus, RetentionPolicy};
use serde::Serialize;
use tauri::State;

use super::forward::{ForwardInfo, forward_info};
use crate::error::{IpcError, IpcResult};
use crate::state::Desktop;

/// What the setup panel shows. The secret itself is never included.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SetupInfo {
    /// The listener's state and local webhook URL.
    pub status: ListenerStatus,
    /// Configured listen address.
    pub listen: String,
    /// Configured port.
    pub port: u16,
    /// Auth mode in force (`off` when misconfigured).
    pub auth_mode: AuthMode,
    /// Whether a secret is saved.
    pub secret_set: bool,
    /// The data dir.
    pub data_dir: String,
    /// Forwarding to the user's service.
    pub forward: ForwardInfo,
    /// The retention policy in force (both limits `null`: off).
    pub retention: RetentionPolicy,
    /// The store in use and the one saved for the next start.
    pub store: StoreInfo,
}

/// Which store the app uses. Never the password: URLs are described without it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct StoreInfo {
    /// The store open now: the database file, or `postgres://user@host:port/db`.
    pub running: String,
    /// Whether that is the shared PostgreSQL store.
    pub shared: bool,
    /// The shared store saved in settings (`null`: this computer's), described.
    pub saved: Option<String>,
    /// Whether the saved choice differs from the running one (it takes effect at the next start).
    pub restart_needed: bool,
}

fn store_info(state: &Desktop) -> StoreInfo {
    let store = state.store();
    let saved = state.saved_store();
    let running = store.describe();
    let shared = running.starts_with("postgres://");
    let saved_described = saved.as_deref().map(describe_url);
    let restart_needed = match &saved_described {
        Some(url) => *url != running,
        None => shared && std::env::var(earshot_core::STORE_VAR).is_err(),
    };
    StoreInfo { running, shared, saved: saved_described, restart_needed }
}

pub(crate) fn info(state: &Desktop) -> SetupInfo {
    let listen = state.listen();
    SetupInfo {
        status: state.server().status().borrow().clone(),
        listen: listen.to_string(),
        port: listen.port(),
        auth_mode: state.auth().map(|a| a.mode()).unwrap_or(AuthMode::Off),
        secret_set: state.secret_set(),
        data_dir: state.data_dir().display().to_string(),
        forward: forward_info(state),
        retention: state.retention_policy(),
        store: store_info(state),
    }
}

/// Current setup.
#[tauri::command]
pub async fn get_setup(state: State<'_, Desktop>) -> IpcResult<SetupInfo> {
    Ok(info(&state))
}

/// Sets or replaces the webhook secret; verification is enforced from then on
/// unless the user chose `observe`.
#[tauri::command]
pub async fn set_secret(state: State<'_, Desktop>, secret: String) -> IpcResult<SetupInfo> {
    Secret::new(secret.clone())?;
    state
        .change(|saved| {
            saved.secret = Some(secret);
            if saved.auth == Some(AuthMode::Off) {
                saved.auth = Some(AuthMode::Enforce);
            }
        })
        .await?;
    Ok(info(&state))
}

/// Switches between enforce, observe and off.
#[tauri::command]
pub async fn set_auth_mode(state: State<'_, Desktop>, mode: AuthMode) -> IpcResult<SetupInfo> {
    if mode != AuthMode::Off && !state.secret_set() {
        return Err(IpcError::new("secret_required", format!("set a secret before choosing '{}'", mode.as_str())));
    }
    state.change(|saved| saved.auth = Some(mode)).await?;
    Ok(info(&state))
}

/// Moves the listener to another port on the same address.
#[tauri::command]
pub async fn set_port(state: State<'_, Desktop>, port: u16) -> IpcResult<SetupInfo> {
    let listen = SocketAddr::new(state.listen().ip(), port);
    let before = state.listening_on();
    let status = state.change(|saved| saved.listen = Some(listen)).await?;
    super::tunnel::follow_listener(&state, before).await;
    if let ListenerStatus::Failed { message, code, .. } = status {
        return Err(IpcError::new(code.as_str(), message));
    }
    Ok(info(&state))
}

/// Chooses the store for the next start: `url` `null` is this computer's
/// SQLite file; a `postgres://` URL is the shared store, reached (and its
/// schema brought up to date) before it is saved. The password, if given, is
/// saved inside the URL in settings.json and never sent back.
#[tauri::command]
pub async fn set_store(
    state: State<'_, Desktop>,
    url: Option<String>,
    password: Option<String>,
) -> IpcResult<SetupInfo> {
    let chosen = match url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        None => None,
        Some(text) => {
            let parsed = StoreUrl::parse(text)?;
            if !parsed.is_shared() {
                return Err(IpcError::new("bad_store", "give a postgres:// URL for the shared store"));
            }
            let full = match password.as_deref().filter(|p| !p.is_empty()) {
                Some(password) => parsed.with_password(password),
                None => parsed,
            };
            let check = full.clone();
            tokio::task::spawn_blocking(move || earshot_core::Store::open_url(&check).map(drop))
                .await
                .map_err(|e| IpcError::new("store", e.to_string()))??;
            match full {
                StoreUrl::Postgres(text) => Some(text),
                StoreUrl::Sqlite(_) => None,
            }
        }
    };
    state.save_store(chosen)?;
    Ok(info(&state))
}
