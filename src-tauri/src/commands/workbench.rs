//! The integration workbench: replay a request or a recording (as received or
//! edited), list the replays of an original, copy a request as curl, and
//! export HAR. Each command is one core call; the editor's JSON diff is the
//! UI's, the sending and recording are `earshot_core::relay`'s.

use std::path::PathBuf;
use std::time::Duration;

use earshot_core::relay::{self, Edits, MetadataEdit, ReplayRequest, ReplaySource, TokenChoice};
use earshot_core::{ReplayEntry, ReplayOf};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tauri::State;

use super::blocking;
use crate::error::{IpcError, IpcResult};
use crate::state::Desktop;

/// How long a replay waits for its answer: watsonx's own limit, so a replay
/// says what watsonx would have lived through.
const REPLAY_TIMEOUT: Duration = Duration::from_secs(30);

/// Subdirectory of the data dir that holds the body files of copied curl commands.
const CURL_DIR: &str = "curl";

/// What to replay, or whose replays to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReplayOrigin {
    /// A request log entry.
    Request {
        /// Its id.
        id: i64,
    },
    /// A recording version: the request that delivered it.
    Recording {
        /// Its row.
        row: i64,
    },
}

impl ReplayOrigin {
    fn source(self) -> ReplaySource {
        match self {
            ReplayOrigin::Request { id } => ReplaySource::Request(id),
            ReplayOrigin::Recording { row } => ReplaySource::Recording(row),
        }
    }

    fn of(self) -> ReplayOf {
        match self {
            ReplayOrigin::Request { id } => ReplayOf::Request(id),
            ReplayOrigin::Recording { row } => ReplayOf::Recording(row),
        }
    }
}

/// What the replay editor opens with.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ReplayDraft {
    /// The suggested target: the forward URL in force, else "".
    pub to: String,
    /// The request's method.
    pub method: String,
    /// The `metadata` part as JSON, when the body has one that parses.
    pub metadata: Option<Value>,
    /// The headers a replay sends (before the token and the extra headers).
    pub headers: Vec<(String, String)>,
    /// The body's length as it would be sent unchanged.
    pub body_size: u64,
    /// Whether a secret is known (re-signing and keeping the token need it).
    pub secret_set: bool,
}

/// One metadata field to set.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct FieldEdit {
    /// The field.
    pub field: String,
    /// Its new value.
    pub value: Value,
}

/// A replay as the editor sends it.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct ReplayForm {
    /// What to send again.
    pub origin: ReplayOrigin,
    /// Where to.
    pub to: String,
    /// What to do with the token.
    pub token: TokenChoice,
    /// Metadata fields to set.
    pub set: Vec<FieldEdit>,
    /// A WAV or raw μ-law file to send instead of the audio.
    pub audio_path: Option<String>,
    /// Headers to add or replace.
    pub headers: Vec<(String, String)>,
}

/// A copied curl command and the body file it sends.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CurlCommand {
    /// The command text.
    pub command: String,
    /// Where the body was written.
    pub body_file: String,
}

/// Where the draft is built to when there is no forward URL: prepare needs some URL, the editor shows none.
const NO_TARGET: &str = "http://target.invalid/";

/// The editor's starting point: the request as a replay would send it unchanged.
#[tauri::command]
pub async fn replay_draft(state: State<'_, Desktop>, origin: ReplayOrigin) -> IpcResult<ReplayDraft> {
    let to = state.forward().map(|f| f.url).unwrap_or_default();
    let request = ReplayRequest {
        source: origin.source(),
        to: if to.is_empty() { NO_TARGET.to_string() } else { to.clone() },
        token: TokenChoice::None,
        secret: None,
        edits: Edits::default(),
        timeout: REPLAY_TIMEOUT,
    };
    let prepared = relay::prepare(&state.store(), &request, chrono::Utc::now()).await?;
    let outgoing = &prepared.outgoing;
    Ok(ReplayDraft {
        to,
        method: outgoing.method.clone(),
        metadata: relay::metadata_of(&outgoing.body, outgoing.header("content-type").as_deref()).await,
        headers: outgoing.headers.iter().map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned())).collect(),
        body_size: outgoing.body.len() as u64,
        secret_set: state.secret().is_some(),
    })
}

/// Sends the replay and returns it as recorded, with the answer.
#[tauri::command]
pub async fn replay(state: State<'_, Desktop>, form: ReplayForm) -> IpcResult<ReplayEntry> {
    let audio = match &form.audio_path {
        Some(path) => {
            let file =
                std::fs::read(path).map_err(|e| IpcError::new("bad_audio", format!("cannot read {path}: {e}")))?;
            Some(earshot_audio::to_telephone_mulaw(&file).map_err(relay::RelayError::from)?)
        }
        None => None,
    };
    let request = ReplayRequest {
        source: form.origin.source(),
        to: form.to,
        token: form.token,
        secret: state.secret(),
        edits: Edits {
            set: form.set.into_iter().map(|e| MetadataEdit { field: e.field, value: e.value }).collect(),
            audio,
            headers: form.headers,
        },
        timeout: REPLAY_TIMEOUT,
    };
    let store = state.store();
    let outcome = relay::replay(&store, state.upstream(), &request, chrono::Utc::now()).await?;
    blocking(store, move |store| Ok(store.replay(outcome.replay_id)?)).await
}

/// The replays of a request or a recording, newest first.
#[tauri::command]
pub async fn list_replays(state: State<'_, Desktop>, origin: ReplayOrigin) -> IpcResult<Vec<ReplayEntry>> {
    blocking(state.store(), move |store| Ok(store.replays(origin.of())?)).await
}

/// A curl command that sends request `id` again to `to` (default: the forward
/// URL, else this listener), its body written under `<data dir>/curl/`.
#[tauri::command]
pub async fn curl_command(state: State<'_, Desktop>, id: i64, to: Option<String>) -> IpcResult<CurlCommand> {
    let to = to
        .filter(|t| !t.trim().is_empty())
        .or_else(|| state.forward().map(|f| f.url))
        .or_else(|| state.listening_on().map(|address| format!("http://{address}/")))
        .ok_or(relay::RelayError::NoTarget)?;
    let dir = state.data_dir().join(CURL_DIR);
    std::fs::create_dir_all(&dir)
        .map_err(|e| IpcError::new("curl", format!("cannot create {}: {e}", dir.display())))?;
    let (command, body_file) =
        relay::curl_for_request(&state.store(), id, &to, state.secret(), &dir, chrono::Utc::now()).await?;
    Ok(CurlCommand { command, body_file: body_file.display().to_string() })
}

/// Writes a HAR 1.2 file of every request (or one call's) to `path`; returns the path.
#[tauri::command]
pub async fn export_har(state: State<'_, Desktop>, session_id: Option<String>, path: PathBuf) -> IpcResult<String> {
    blocking(state.store(), move |store| {
        let har = relay::har_of_store(&store, session_id.as_deref())?;
        let text = serde_json::to_vec_pretty(&har).expect("JSON serializes");
        std::fs::write(&path, text)
            .map_err(|e| IpcError::new("export", format!("cannot write {}: {e}", path.display())))?;
        Ok(path.display().to_string())
    })
    .await
}
