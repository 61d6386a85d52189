//! The setup panel: where to point watsonx, the secret, auth mode and port
//! (forwarding has its own module, `forward`).

use std::net::SocketAddr;

use earshot_core::{AuthMode, Secret};
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
