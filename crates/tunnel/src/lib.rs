//! Earshot's tunnels: a public https URL for the loopback listener, because
//! watsonx only calls URLs on the internet, and a self-test that proves the
//! whole path works before the user configures watsonx.
//!
//! - [`provider`]: which tunnel — a cloudflared quick tunnel from the user's
//!   own binary, ngrok in-process with the user's authtoken, or the user's
//!   own public URL — checked before anything starts.
//! - [`supervisor`]: a [`Tunnel`] handle per running tunnel; status on a
//!   `watch` channel, restarts with [`Backoff`], stop on request or drop.
//! - [`status`]: the [`Status`] values and the bounded log kept for the UI.
//! - [`selftest`]: one watsonx-shaped, signed request through the public URL,
//!   reported hop by hop.
//! - [`slot`]: an application's one tunnel, replaced or stopped on request,
//!   with a numbered status that outlives each tunnel.
//!
//! This crate never downloads a binary and has no window code; the CLI and
//! the desktop app are its consumers.

pub mod backoff;
mod cloudflared;
mod ngrok_agent;
pub mod provider;
pub mod selftest;
pub mod slot;
pub mod status;
pub mod supervisor;

use std::time::Duration;

pub use backoff::Backoff;
pub use provider::{DEFAULT_WEBHOOK_PATH, NgrokConfig, Provider, webhook_url};
pub use selftest::{Hop, HopResult, SelfTest, SelfTestReport};
pub use slot::TunnelSlot;
pub use status::{LogLine, LogSource, Status};
pub use supervisor::{Tunnel, TunnelOptions};

/// Where to get cloudflared. Earshot runs the user's copy and never downloads one.
pub const INSTALL_CLOUDFLARED: &str = "install it and start the tunnel again — macOS: `brew install cloudflared`; \
Windows: `winget install --id Cloudflare.cloudflared`; Linux: the cloudflared package from Cloudflare's apt/rpm \
repository or the release binary from https://github.com/cloudflare/cloudflared/releases (all listed at \
https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/). Earshot does not \
download it for you.";

/// Everything that stops a tunnel from being set up.
#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    /// No `cloudflared` executable on `PATH`.
    #[error("cloudflared is not installed (no `cloudflared` executable on PATH): {INSTALL_CLOUDFLARED}")]
    CloudflaredMissing,
    /// ngrok was chosen without an authtoken.
    #[error(
        "ngrok needs your authtoken: copy it from https://dashboard.ngrok.com/get-started/your-authtoken \
         (a free account works), then pass --ngrok-token or set NGROK_AUTHTOKEN"
    )]
    NgrokTokenMissing,
    /// A custom public URL that cannot be used.
    #[error("{url:?} is not a usable public URL: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// [`Tunnel::start`] was called outside a tokio runtime.
    #[error("tunnels run on a tokio runtime, and none is running on this thread")]
    NoRuntime,
    /// [`Tunnel::online`] gave up.
    #[error("the tunnel is not online after {} s ({status})", within.as_secs_f64())]
    NotOnline {
        /// How long it waited.
        within: Duration,
        /// The status when it gave up.
        status: String,
    },
}

impl TunnelError {
    /// A stable code for the UI to branch on (messages may change).
    pub fn code(&self) -> &'static str {
        match self {
            TunnelError::CloudflaredMissing => "cloudflared_missing",
            TunnelError::NgrokTokenMissing => "ngrok_token_missing",
            TunnelError::InvalidUrl { .. } => "invalid_url",
            TunnelError::NoRuntime => "no_runtime",
            TunnelError::NotOnline { .. } => "not_online",
        }
    }
}
