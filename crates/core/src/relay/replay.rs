//! Replay: a stored request, or the request that delivered a stored
//! recording, sent again to any URL — byte for byte as it arrived, or edited
//! (`edit`), with the token re-signed, kept, removed or spoiled. Every replay
//! is recorded with what changed and the answer; the original never changes.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::edit::{self, Edits, MULAW_TYPE};
use super::forward::{forward_target, is_end_to_end};
use super::{Outgoing, RelayError, Upstream};
use crate::intake::jwt;
use crate::model::{Answer, NewReplay, RequestEntry};
use crate::settings::Secret;
use crate::store::{Committed, Job, RecordingDetail, Store};

/// What to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplaySource {
    /// A request log entry, by id.
    Request(i64),
    /// A recording version, by row: the request that delivered it.
    Recording(i64),
}

/// What to do with the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TokenChoice {
    /// The original header and claims with fresh `iat`/`exp` (watsonx's expire after 30 s), signed with the secret.
    #[default]
    Resign,
    /// The original token: its stored header and payload signed with the secret, which gives back the
    /// token watsonx sent when the secret is the one it used (Earshot never stores signatures).
    Keep,
    /// No token at all (exercises the service's 401).
    None,
    /// The original claims signed with a key that is not the secret (exercises the service's 400).
    Bad,
}

impl TokenChoice {
    /// The name used in `changes` and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenChoice::Resign => "resigned",
            TokenChoice::Keep => "kept",
            TokenChoice::None => "none",
            TokenChoice::Bad => "bad",
        }
    }
}

/// A replay to make.
#[derive(Debug, Clone)]
pub struct ReplayRequest {
    /// What to send again.
    pub source: ReplaySource,
    /// Where to (the request path is appended when it ends in `/`).
    pub to: String,
    /// The token.
    pub token: TokenChoice,
    /// The shared secret, for [`TokenChoice::Resign`] and [`TokenChoice::Keep`].
    pub secret: Option<Secret>,
    /// Changes to make first.
    pub edits: Edits,
    /// How long to wait for the answer.
    pub timeout: Duration,
}

/// A request ready to send, and what it is.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The request.
    pub outgoing: Outgoing,
    /// Byte for byte the body received.
    pub identical: bool,
    /// What was changed.
    pub changes: Value,
    /// The original request log entry.
    pub request_id: Option<i64>,
    /// The original recording.
    pub recording_row: Option<i64>,
}

/// A replay made.
#[derive(Debug, Clone)]
pub struct ReplayOutcome {
    /// Its id in the store.
    pub replay_id: i64,
    /// What was sent.
    pub prepared: Prepared,
    /// The answer.
    pub answer: Answer,
}

/// A key that is certainly not the user's secret, for [`TokenChoice::Bad`].
const WRONG_KEY: &[u8] = b"earshot: deliberately not the shared secret";

/// Sends the replay, records it, and returns the answer.
pub async fn replay(
    store: &Store,
    upstream: &Upstream,
    request: &ReplayRequest,
    now: DateTime<Utc>,
) -> Result<ReplayOutcome, RelayError> {
    let prepared = prepare(store, request, now).await?;
    let answer = upstream.send(&prepared.outgoing, request.timeout).await;
    let replay = NewReplay {
        sent_at: now.to_rfc3339_opts(SecondsFormat::Millis, true),
        request_id: prepared.request_id,
        recording_row: prepared.recording_row,
        identical: prepared.identical,
        changes: prepared.changes.clone(),
        headers: redacted(&prepared.outgoing.headers),
        body_size: prepared.outgoing.body.len() as u64,
        body_sha256: hex::encode(Sha256::digest(&prepared.outgoing.body)),
        answer: answer.clone(),
    };
    let writer = store.writer()?;
    let committed = writer
        .submit(Job::RecordReplay { replay: Box::new(replay) }, std::time::Instant::now())
        .await
        .map_err(|e| RelayError::Write(e.0))?;
    let Committed::Replayed { replay_id } = committed else {
        return Err(RelayError::Write("the store answered a replay with something else".into()));
    };
    Ok(ReplayOutcome { replay_id, prepared, answer })
}

/// The stored original, as the store has it.
struct Original {
    entry: Option<RequestEntry>,
    body: Option<Vec<u8>>,
    recording: Option<(RecordingDetail, Vec<u8>)>,
}

async fn load(store: &Store, source: ReplaySource) -> Result<Original, RelayError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || -> Result<Original, RelayError> {
        match source {
            ReplaySource::Request(id) => {
                Ok(Original { entry: Some(store.request(id)?), body: store.request_body(id)?, recording: None })
            }
            ReplaySource::Recording(row) => {
                let detail = store.recording_detail(row)?;
                let audio = store.audio(row)?;
                let (entry, body) = match detail.request_id {
                    Some(id) => (Some(store.request(id)?), store.request_body(id)?),
                    None => (None, None),
                };
                Ok(Original { entry, body, recording: Some((detail, audio)) })
            }
        }
    })
    .await
    .map_err(|e| RelayError::Unusable(format!("reading the original failed: {e}")))?
}

/// Builds the request a replay sends, without sending it (`earshot requests --curl` prints it).
pub async fn prepare(store: &Store, request: &ReplayRequest, now: DateTime<Utc>) -> Result<Prepared, RelayError> {
    let original = load(store, request.source).await?;
    let edits = &request.edits;
    let mut changes = Map::new();
    let mut headers: Vec<(String, String)> = original
        .entry
        .as_ref()
        .and_then(|e| e.headers.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|pair| Some((pair.get(0)?.as_str()?.to_string(), pair.get(1)?.as_str()?.to_string())))
        .collect();
    let content_type = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.clone());

    let (body, identical) = match (&original.body, &original.recording, &original.entry) {
        (Some(body), _, Some(entry)) if body.len() as u64 == entry.body_size => {
            if edits.touch_body() {
                (edit::rebuild(body, content_type.as_deref(), edits).await?, false)
            } else {
                (body.clone(), true)
            }
        }
        (Some(body), _, Some(entry)) => {
            return Err(RelayError::Unusable(format!(
                "only the first {} bytes of request {}'s {}-byte body were kept, so it cannot be sent again",
                body.len(),
                entry.id,
                entry.body_size
            )));
        }
        (_, Some((detail, audio)), _) => {
            // Stored before request bodies were kept: rebuild it from the recording.
            changes.insert("rebuilt".into(), Value::Bool(true));
            let boundary = format!("earshot-{}", &detail.recording.sha256[..24]);
            let metadata = serde_json::to_vec(&detail.metadata).expect("JSON serializes");
            let metadata = if edits.set.is_empty() { metadata } else { edit::edit_metadata(&metadata, &edits.set)? };
            let (audio, audio_type) = match &edits.audio {
                Some(swapped) => (swapped.as_slice(), Some(MULAW_TYPE)),
                None => (audio.as_slice(), detail.recording.part_content_type.as_deref()),
            };
            let body = edit::assemble(&boundary, &metadata, audio, detail.recording.filename.as_deref(), audio_type);
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
            headers.push(("content-type".into(), format!("multipart/form-data; boundary={boundary}")));
            (body, false)
        }
        (_, None, Some(entry)) => {
            return Err(RelayError::Unusable(format!(
                "request {} has no stored body to send (a {} answered {}{})",
                entry.id,
                entry.method,
                entry.status,
                if entry.recording_id.is_some() { "; replay its recording instead" } else { "" }
            )));
        }
        (_, None, None) => return Err(RelayError::Unusable("nothing is stored to replay".into())),
    };
    if !edits.set.is_empty() {
        changes.insert(
            "set".into(),
            Value::Object(edits.set.iter().map(|e| (e.field.clone(), e.value.clone())).collect()),
        );
    }
    if let Some(audio) = &edits.audio {
        changes.insert(
            "audio".into(),
            json!({"bytes": audio.len(), "duration_ms": audio.len() as u64 / 8, "content_type": MULAW_TYPE}),
        );
    }

    // Headers: the original's end-to-end ones, minus what was redacted in the log.
    let mut dropped = Vec::new();
    headers.retain(|(name, value)| {
        let keep = is_end_to_end(name) && !value.starts_with("<redacted");
        if !keep && is_end_to_end(name) {
            dropped.push(name.clone());
        }
        keep
    });
    if !dropped.is_empty() {
        changes.insert("dropped_headers".into(), json!(dropped));
    }
    let token = token_header(&headers, request.token, request.secret.as_ref(), now)?;
    headers.retain(|(n, _)| !is_token_header(n));
    if let Some((name, value)) = token {
        headers.push((name, value));
    }
    changes.insert("token".into(), Value::String(request.token.as_str().into()));
    if !edits.headers.is_empty() {
        for (name, value) in &edits.headers {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value.clone()));
        }
        changes.insert("headers".into(), json!(edits.headers));
    }

    let entry = original.entry.as_ref();
    let path = entry.map_or_else(
        || original.recording.as_ref().map_or("/".to_string(), |(d, _)| d.recording.path.clone()),
        |e| e.path.clone(),
    );
    let url = forward_target(&super::check_url(&request.to)?, &path, entry.and_then(|e| e.query.as_deref()));
    let outgoing = Outgoing {
        method: entry.map_or_else(|| "POST".to_string(), |e| e.method.clone()),
        url,
        headers: headers.into_iter().map(|(n, v)| (n, v.into_bytes())).collect(),
        body: Bytes::from(body),
    };
    Ok(Prepared {
        outgoing,
        identical,
        changes: Value::Object(changes),
        request_id: entry.map(|e| e.id),
        recording_row: match request.source {
            ReplaySource::Recording(row) => Some(row),
            ReplaySource::Request(_) => None,
        },
    })
}

fn is_token_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("authentication")
}

/// The token header to send for `choice`, from the stored (redacted) one.
fn token_header(
    headers: &[(String, String)],
    choice: TokenChoice,
    secret: Option<&Secret>,
    now: DateTime<Utc>,
) -> Result<Option<(String, String)>, RelayError> {
    let stored = headers.iter().find(|(n, _)| is_token_header(n));
    let name = stored.map_or_else(|| "Authorization".to_string(), |(n, _)| n.clone());
    let segments = stored.and_then(|(_, v)| jwt::unsigned_segments(v));
    let decode = |segment: &str| -> Map<String, Value> {
        URL_SAFE_NO_PAD
            .decode(segment.trim_end_matches('='))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    };
    let (prefix, header, claims) = match &segments {
        Some((prefix, header, payload)) => (prefix.clone(), decode(header), decode(payload)),
        None => ("Bearer ".to_string(), Map::new(), crate::sample::claims(now)),
    };
    let fresh = || refreshed(&claims, now);
    let token = match choice {
        TokenChoice::None => return Ok(None),
        TokenChoice::Bad => jwt::sign_with_header(&header, &fresh(), WRONG_KEY),
        TokenChoice::Resign => {
            let secret = secret.ok_or(RelayError::NoSecret("re-signing the token"))?;
            jwt::sign_with_header(&header, &fresh(), secret.as_bytes())
        }
        TokenChoice::Keep => {
            let secret = secret.ok_or(RelayError::NoSecret("--keep-token"))?;
            let Some((_, header_b64, payload_b64)) = &segments else {
                return Err(RelayError::Unusable("the original request had no token to keep".into()));
            };
            let alg = header.get("alg").and_then(Value::as_str).unwrap_or_default();
            jwt::sign_segments(header_b64, payload_b64, alg, secret.as_bytes()).ok_or_else(|| {
                RelayError::Unusable(format!("the original token's algorithm {alg:?} is not one Earshot can sign"))
            })?
        }
    };
    Ok(Some((name, format!("{prefix}{token}"))))
}

/// The claims with `iat`/`nbf` moved to now and `exp` as far ahead of it as before (30 s when unknown).
fn refreshed(claims: &Map<String, Value>, now: DateTime<Utc>) -> Map<String, Value> {
    let now = now.timestamp();
    let mut claims = claims.clone();
    let issued = claims.get("iat").and_then(Value::as_i64);
    let lifetime = match (issued, claims.get("exp").and_then(Value::as_i64)) {
        (Some(iat), Some(exp)) if exp > iat => exp - iat,
        _ => 30,
    };
    if claims.contains_key("iat") {
        claims.insert("iat".into(), json!(now));
    }
    if claims.contains_key("nbf") {
        claims.insert("nbf".into(), json!(now));
    }
    claims.insert("exp".into(), json!(now + lifetime));
    claims
}

/// Headers as the log keeps them: token signatures removed.
fn redacted(headers: &[(String, Vec<u8>)]) -> Value {
    Value::Array(
        headers
            .iter()
            .map(|(name, value)| {
                let text = String::from_utf8_lossy(value).into_owned();
                let shown = if is_token_header(name) { jwt::redact_signature(&text) } else { text };
                json!([name, shown])
            })
            .collect(),
    )
}
