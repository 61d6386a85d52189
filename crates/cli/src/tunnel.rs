//! `earshot serve --tunnel cloudflared|ngrok|URL`: the options, the checks
//! made before the listener starts (cloudflared installed, ngrok token
//! given, URL usable), and the lines printed as the tunnel's status changes,
//! above all `public webhook URL: …` once it is online.

use std::net::SocketAddr;

use earshot_core::AuthMode;
use earshot_tunnel::{DEFAULT_WEBHOOK_PATH, Provider, Status, Tunnel, TunnelOptions, webhook_url};
use tokio::task::JoinHandle;

use crate::CliError;

/// Tunnel options of `earshot serve`.
#[derive(Debug, clap::Args)]
pub struct TunnelArgs {
    /// Expose the listener publicly: cloudflared (quick tunnel, no account), ngrok, or your own public base URL.
    #[arg(long, env = "EARSHOT_TUNNEL", value_name = "cloudflared|ngrok|URL")]
    tunnel: Option<String>,
    /// ngrok authtoken, from `https://dashboard.ngrok.com/get-started/your-authtoken`.
    #[arg(long, env = "NGROK_AUTHTOKEN", hide_env_values = true, value_name = "TOKEN")]
    ngrok_token: Option<String>,
    /// A domain reserved in your ngrok account, so the URL stays the same across restarts.
    #[arg(long, env = "NGROK_DOMAIN", value_name = "DOMAIN")]
    ngrok_domain: Option<String>,
}

impl TunnelArgs {
    /// The provider asked for, checked before anything starts.
    pub fn provider(&self) -> Result<Option<Provider>, CliError> {
        let Some(choice) = &self.tunnel else { return Ok(None) };
        Provider::parse(choice, self.ngrok_token.as_deref(), self.ngrok_domain.as_deref())
            .map(Some)
            .map_err(|e| CliError::Message(e.to_string()))
    }
}

/// A tunnel started by `serve` and the task printing its status.
pub struct Running {
    tunnel: Tunnel,
    printer: JoinHandle<()>,
}

/// Starts the tunnel to the listener at `local` and prints its status changes.
pub fn start(provider: Option<Provider>, local: SocketAddr, auth: AuthMode) -> Result<Option<Running>, CliError> {
    let Some(provider) = provider else { return Ok(None) };
    if auth == AuthMode::Off {
        crate::say(
            "warning: the tunnel makes this listener public and it checks no token, so anyone with the URL can store recordings (pass --secret)",
        );
    }
    let name = provider.name();
    let tunnel =
        Tunnel::start(provider, local, TunnelOptions::default()).map_err(|e| CliError::Message(e.to_string()))?;
    let mut status = tunnel.subscribe();
    let printer = tokio::spawn(async move {
        loop {
            let now = status.borrow_and_update().clone();
            print_status(name, &now);
            if status.changed().await.is_err() {
                break;
            }
        }
    });
    Ok(Some(Running { tunnel, printer }))
}

/// Stops the tunnel (its process is gone when this returns) and prints the last status.
pub async fn stop(running: Option<Running>) {
    if let Some(Running { tunnel, printer }) = running {
        tunnel.stop().await;
        let _ = printer.await;
    }
}

fn print_status(provider: &str, status: &Status) {
    match status {
        Status::Starting => crate::say(&format!("tunnel: starting {provider}")),
        Status::Online { url } => {
            let webhook = webhook_url(url, DEFAULT_WEBHOOK_PATH);
            // Tests and scripts read this line for the URL to give watsonx.
            crate::say(&format!("public webhook URL: {webhook}"));
            crate::say(&format!("check it end to end: earshot selftest {webhook}"));
        }
        Status::Error { message } => crate::say(&format!("tunnel: error: {message}")),
        Status::Stopped => crate::say("tunnel: stopped"),
    }
}
