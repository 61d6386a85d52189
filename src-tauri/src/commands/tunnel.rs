//! The tunnel card: choose a provider, start and stop it, read its log, and
//! run the end-to-end self-test through the public URL.
//!
//! The choice, the custom URL and the ngrok domain are saved to
//! `settings.json`; so is the ngrok authtoken, which, like the secret, never
//! goes back to the UI. A tunnel left running is started again on launch.

use earshot_core::TunnelChoice;
use earshot_tunnel::selftest::DEFAULT_TIMEOUT;
use earshot_tunnel::{DEFAULT_WEBHOOK_PATH, LogLine, Provider, SelfTest, SelfTestReport, Status, TunnelError};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::error::{IpcError, IpcResult};
use crate::state::Desktop;

/// What the tunnel card shows. The ngrok authtoken itself is never included.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct TunnelInfo {
    /// Grows with every status change: of two infos, the one with the larger number is newer.
    pub revision: u64,
    /// The provider last chosen (cloudflared until the user picks another).
    pub choice: TunnelChoice,
    /// The provider running now, if any.
    pub running: Option<TunnelChoice>,
    /// What the tunnel is doing.
    pub status: Status,
    /// The URL to paste into watsonx (public base plus path), once online.
    pub webhook_url: Option<String>,
    /// The saved custom public base URL.
    pub custom_url: Option<String>,
    /// The saved ngrok domain.
    pub ngrok_domain: Option<String>,
    /// Whether an ngrok authtoken is saved (or given in `NGROK_AUTHTOKEN`).
    pub ngrok_token_set: bool,
    /// Where `cloudflared` was found on `PATH`; `None` when it is not installed.
    pub cloudflared: Option<String>,
    /// The provider's process id (cloudflared), for the log and for checking it is gone.
    pub pid: Option<u32>,
}

/// What "Start" sends: the provider and, for it, the URL, token or domain.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct TunnelRequest {
    /// Which provider.
    pub provider: TunnelChoice,
    /// The public base URL, for `custom`; empty keeps the saved one.
    #[serde(default)]
    #[ts(optional)]
    pub url: Option<String>,
    /// A new ngrok authtoken; empty keeps the saved one.
    #[serde(default)]
    #[ts(optional)]
    pub ngrok_token: Option<String>,
    /// The ngrok domain; empty lets ngrok assign one.
    #[serde(default)]
    #[ts(optional)]
    pub ngrok_domain: Option<String>,
}

/// The tunnel card's contents now.
pub async fn info(state: &Desktop) -> TunnelInfo {
    let saved = state.tunnel_settings();
    let (revision, status) = state.tunnels().numbered_status();
    let webhook_url = status.url().map(|base| earshot_tunnel::webhook_url(base, DEFAULT_WEBHOOK_PATH));
    let ngrok_token_set = state.ngrok_token(&saved).is_some();
    let cloudflared = match state.cloudflared() {
        Ok(Provider::Cloudflared { program }) => Some(program.display().to_string()),
        _ => None,
    };
    TunnelInfo {
        revision,
        choice: saved.tunnel.unwrap_or(TunnelChoice::Cloudflared),
        running: state.tunnels().provider().await,
        status,
        webhook_url,
        custom_url: saved.tunnel_url,
        ngrok_domain: saved.ngrok_domain,
        ngrok_token_set,
        cloudflared,
        pid: state.tunnels().pid().await,
    }
}

fn tunnel_error(e: TunnelError) -> IpcError {
    let message = match e {
        // The core's message names the CLI's flag; here the token goes in the card's field.
        TunnelError::NgrokTokenMissing => "ngrok needs your authtoken: copy it from \
             https://dashboard.ngrok.com/get-started/your-authtoken (a free account works) and paste it \
             into the token field"
            .to_string(),
        ref other => other.to_string(),
    };
    IpcError::new(e.code(), message)
}

fn given(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// The tunnel card's contents.
#[tauri::command]
pub async fn get_tunnel(state: State<'_, Desktop>) -> IpcResult<TunnelInfo> {
    Ok(info(&state).await)
}

/// Saves the choice and starts that tunnel towards the running listener,
/// replacing any tunnel already running. Returns at once; the status
/// follows on `earshot://tunnel`.
#[tauri::command]
pub async fn start_tunnel(state: State<'_, Desktop>, request: TunnelRequest) -> IpcResult<TunnelInfo> {
    start(&state, request).await?;
    Ok(info(&state).await)
}

async fn start(state: &Desktop, request: TunnelRequest) -> IpcResult<()> {
    let saved = state.tunnel_settings();
    let url = given(request.url).or_else(|| saved.tunnel_url.clone());
    let token = given(request.ngrok_token);
    let domain = given(request.ngrok_domain);
    let provider = match request.provider {
        TunnelChoice::Cloudflared => state.cloudflared(),
        TunnelChoice::Ngrok => {
            Provider::ngrok(token.clone().or_else(|| state.ngrok_token(&saved)).as_deref(), domain.as_deref())
        }
        TunnelChoice::Custom => match &url {
            Some(url) => Provider::custom(url),
            None => {
                return Err(IpcError::new(
                    "invalid_url",
                    "enter the public base URL that reaches this machine's listener (e.g. https://hooks.example.com)",
                ));
            }
        },
    }
    .map_err(tunnel_error)?;
    state.save_tunnel(|saved| {
        saved.tunnel = Some(request.provider);
        saved.tunnel_on = Some(true);
        if let Provider::Custom { base_url } = &provider {
            saved.tunnel_url = Some(base_url.clone());
        }
        if token.is_some() {
            saved.ngrok_authtoken = token;
        }
        if request.provider == TunnelChoice::Ngrok {
            saved.ngrok_domain = domain;
        }
    })?;
    let local = state.listening_on().ok_or_else(|| {
        IpcError::new("listener_down", "the listener is not running, so there is nothing to expose: fix the port first")
    })?;
    state.tunnels().start(provider, local).await.map_err(tunnel_error)
}

/// On launch: starts the tunnel again if the user left it running, with the
/// saved choice, URL, token and domain. A failure shows as the tunnel's error.
pub async fn restore(state: &Desktop) {
    let saved = state.tunnel_settings();
    let Some(choice) = saved.tunnel else { return };
    if saved.tunnel_on != Some(true) {
        return;
    }
    let request = TunnelRequest { provider: choice, url: None, ngrok_token: None, ngrok_domain: saved.ngrok_domain };
    if let Err(e) = start(state, request).await {
        tracing::warn!(target: "earshot::desktop", "tunnel not restored: {e}");
        state.tunnels().fail(format!("could not start the {} tunnel again: {}", choice.as_str(), e.message)).await;
    }
}

/// After the listener moved from `before`: a running tunnel follows it to
/// the new port; one left running but not started (the port was taken at
/// launch) starts now.
pub async fn follow_listener(state: &Desktop, before: Option<std::net::SocketAddr>) {
    let Some(now) = state.listening_on() else { return };
    if before == Some(now) {
        return;
    }
    if state.tunnels().provider().await.is_none() {
        restore(state).await;
    } else if let Err(e) = state.tunnels().retarget(now).await {
        tracing::warn!(target: "earshot::desktop", "tunnel: {e}");
        state.tunnels().fail(tunnel_error(e).message).await;
    }
}

/// Stops the tunnel; a cloudflared process is killed and waited for.
#[tauri::command]
pub async fn stop_tunnel(state: State<'_, Desktop>) -> IpcResult<TunnelInfo> {
    state.tunnels().stop().await;
    state.save_tunnel(|saved| saved.tunnel_on = Some(false))?;
    Ok(info(&state).await)
}

/// The running tunnel's log, oldest first (at most the last 1,000 lines).
#[tauri::command]
pub async fn tunnel_logs(state: State<'_, Desktop>) -> IpcResult<Vec<LogLine>> {
    Ok(state.tunnels().logs_since(0).await)
}

/// Sends one watsonx-shaped, signed request through the public URL and
/// reports each hop: name lookup, connection, tunnel, token, body, commit.
#[tauri::command]
pub async fn tunnel_self_test(state: State<'_, Desktop>) -> IpcResult<SelfTestReport> {
    let base = match state.tunnels().status() {
        Status::Online { url } => url,
        other => {
            return Err(IpcError::new(
                "tunnel_offline",
                format!(
                    "the tunnel is {other}: start it first, the self-test goes through the public URL watsonx will call"
                ),
            ));
        }
    };
    let secret = state.auth()?.secret().cloned();
    let test = SelfTest {
        url: earshot_tunnel::webhook_url(&base, DEFAULT_WEBHOOK_PATH),
        secret,
        store: Some(state.store()),
        timeout: DEFAULT_TIMEOUT,
    };
    Ok(test.run().await)
}
