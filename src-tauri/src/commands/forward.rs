//! "Forward to your service": the saved settings, checked by the core and
//! applied by restarting the listener (which reads them through
//! `Resolved::intake_config`).

use std::time::Duration;

use earshot_core::relay::{DEFAULT_FORWARD_TIMEOUT, ForwardConfig};
use earshot_core::{ForwardMode, ForwardSettings, ListenerStatus};
use serde::Serialize;
use tauri::State;

use super::setup::{SetupInfo, info};
use crate::error::{IpcError, IpcResult};
use crate::state::Desktop;

/// The forward card's contents.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ForwardInfo {
    /// As saved (the defaults when never saved): the card's fields.
    pub saved: ForwardSettings,
    /// Where requests go now (saved, or `EARSHOT_FORWARD`); `null` while forwarding is off.
    pub active_url: Option<String>,
    /// The mode in force, when forwarding.
    pub active_mode: Option<ForwardMode>,
}

/// What the card shows.
pub(crate) fn forward_info(state: &Desktop) -> ForwardInfo {
    let saved = state.tunnel_settings().forward.unwrap_or(ForwardSettings {
        enabled: false,
        url: String::new(),
        mode: ForwardMode::Pass,
        timeout_secs: DEFAULT_FORWARD_TIMEOUT.as_secs_f64(),
    });
    let active = state.forward();
    ForwardInfo { saved, active_url: active.as_ref().map(|f| f.url.clone()), active_mode: active.map(|f| f.mode) }
}

/// Saves the forward settings and restarts the listener with them. A URL or
/// timeout the core refuses is an error and nothing is saved; switched off,
/// the URL is kept (unchecked) for next time.
#[tauri::command]
pub async fn set_forward(state: State<'_, Desktop>, forward: ForwardSettings) -> IpcResult<SetupInfo> {
    let timeout = Duration::try_from_secs_f64(forward.timeout_secs)
        .map_err(|_| IpcError::new("bad_timeout", format!("{} is not a number of seconds", forward.timeout_secs)))?;
    let mut forward = forward;
    forward.url = forward.url.trim().to_string();
    if forward.enabled {
        if timeout.is_zero() || timeout > Duration::from_secs(30) {
            return Err(IpcError::new(
                "bad_timeout",
                format!(
                    "the timeout must be more than 0 and at most 30 s (watsonx's own limit); got {} s",
                    forward.timeout_secs
                ),
            ));
        }
        ForwardConfig::new(&forward.url, forward.mode, timeout)?;
    }
    let status = state.change(|saved| saved.forward = Some(forward)).await?;
    if let ListenerStatus::Failed { message, code, .. } = status {
        return Err(IpcError::new(code.as_str(), message));
    }
    Ok(info(&state))
}
