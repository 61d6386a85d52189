//! Earshot in front of the user's own service: the outgoing HTTP side.
//!
//! `client` sends one request and brings back an [`Answer`](crate::Answer) (or the fault);
//! `forward` is what the listener does with every webhook when forwarding is
//! on; `simulate` holds the answer the user asked Earshot to give instead;
//! `replay` sends a stored request or recording again, as it came or edited
//! (`edit` rebuilds the multipart body); `curl` and `har` write requests out
//! for other tools. The listener's own answer and the store stay elsewhere:
//! this module only builds, sends and describes requests.

mod client;
mod curl;
mod edit;
mod forward;
mod har;
mod replay;
mod simulate;

pub use client::{Outgoing, Upstream};
pub use curl::{curl_command, curl_for_request};
pub use edit::{Edits, MetadataEdit, metadata_of};
pub use forward::{DEFAULT_FORWARD_TIMEOUT, ForwardConfig, forward_target, forwarded_headers};
pub use har::{HarItem, har, har_of_store};
pub use replay::{Prepared, ReplayOutcome, ReplayRequest, ReplaySource, TokenChoice, prepare, replay};
pub use simulate::{BadSimulation, SimScope, Simulation, SimulationState, Simulator};

use crate::store::StoreError;

/// Why a replay, a curl command or a forward setting cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The target URL is not an http(s) URL.
    #[error("{url:?} is not an http:// or https:// URL: {reason}")]
    BadUrl {
        /// As given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A timeout outside what watsonx allows.
    #[error("{0}")]
    BadTimeout(String),
    /// Nothing to send to: no `--to` and no forward URL.
    #[error("no target: give a URL (--to) or turn forwarding on (--forward URL / Setup)")]
    NoTarget,
    /// The token choice needs the shared secret and none is known.
    #[error("{0} needs the shared secret: give --secret, set EARSHOT_SECRET, or save one in Setup")]
    NoSecret(&'static str),
    /// The stored original cannot be sent as asked.
    #[error("{0}")]
    Unusable(String),
    /// An edit cannot be applied.
    #[error("{0}")]
    BadEdit(String),
    /// The replacement audio cannot be read.
    #[error("the replacement audio cannot be used: {0}")]
    Audio(#[from] earshot_audio::AudioError),
    /// The store refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store's writer refused the replay record.
    #[error("the replay was sent but could not be recorded: {0}")]
    Write(String),
}

impl RelayError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            RelayError::BadUrl { .. } => "bad_url",
            RelayError::BadTimeout(_) => "bad_timeout",
            RelayError::NoTarget => "no_target",
            RelayError::NoSecret(_) => "no_secret",
            RelayError::Unusable(_) => "unusable_original",
            RelayError::BadEdit(_) => "bad_edit",
            RelayError::Audio(_) => "bad_audio",
            RelayError::Store(StoreError::NotFound { .. }) => "not_found",
            RelayError::Store(StoreError::Ambiguous { .. }) => "ambiguous",
            RelayError::Store(_) => "store",
            RelayError::Write(_) => "store",
        }
    }
}

/// Checks that `url` is an absolute http(s) URL.
pub fn check_url(url: &str) -> Result<String, RelayError> {
    let bad = |reason: &str| RelayError::BadUrl { url: url.to_string(), reason: reason.to_string() };
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad(&format!("the scheme is {:?}", parsed.scheme())));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    Ok(url.trim().to_string())
}
