//! The domain's nouns: what a request became, what the store returns, and
//! how verification turned out. Plain data with `serde` so the CLI's `--json`
//! and the desktop's IPC print the same shapes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use earshot_audio::{AudioInfo, Container, Encoding};

use crate::intake::Metadata;

mod review;
mod upstream;

pub use review::{
    MAX_LABEL, MAX_MARKERS, MAX_NOTE, Marker, RecordingAnalysis, Review, ReviewChange, ReviewFilter, Verdict,
    promised_span,
};
pub use upstream::{
    ANSWER_BODY_CAP, ANSWER_PREVIEW, Answer, AnswerEntry, ForwardEntry, ForwardMode, NewReplay, ReplayEntry,
    UpstreamBrief, UpstreamFault,
};

/// The result of checking a request's token. (A QA reviewer's judgement of a
/// recording is a different thing; this is only about the JWT.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum TokenCheck {
    /// Signed with the configured secret and within its time claims.
    Valid,
    /// Present but refused (bad signature, expired, wrong algorithm, malformed).
    Invalid,
    /// No token in `Authorization` or `authentication`.
    Missing,
    /// Verification is switched off (no secret configured).
    Off,
}

impl TokenCheck {
    /// Name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenCheck::Valid => "valid",
            TokenCheck::Invalid => "invalid",
            TokenCheck::Missing => "missing",
            TokenCheck::Off => "off",
        }
    }

    /// Parses the name written by [`TokenCheck::as_str`].
    pub fn from_name(name: &str) -> Option<TokenCheck> {
        [TokenCheck::Valid, TokenCheck::Invalid, TokenCheck::Missing, TokenCheck::Off]
            .into_iter()
            .find(|check| check.as_str() == name)
    }

    /// Whether this result should draw the user's attention (a refused or absent token).
    pub fn is_flagged(self) -> bool {
        matches!(self, TokenCheck::Invalid | TokenCheck::Missing)
    }
}

impl std::fmt::Display for TokenCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Verification outcome with what the token said, for storage.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthRecord {
    /// The result.
    pub verdict: TokenCheck,
    /// Why, when not valid (or where the token was found).
    pub reason: Option<String>,
    /// Decoded JOSE header, when decodable.
    pub jwt_header: Option<Value>,
    /// Decoded claims, when decodable.
    pub jwt_claims: Option<Value>,
}

/// What became of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// New audio stored.
    Stored,
    /// Same recording id and identical audio as before; acknowledged, stored once.
    Duplicate,
    /// Same recording id, different audio; stored as a new version.
    Conflict,
    /// Refused with a 4xx.
    Rejected,
    /// Could not be written (5xx).
    Failed,
    /// Not a webhook delivery (e.g. a browser GET); answered and logged.
    Info,
}

impl Outcome {
    /// Name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Stored => "stored",
            Outcome::Duplicate => "duplicate",
            Outcome::Conflict => "conflict",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
            Outcome::Info => "info",
        }
    }

    /// Parses the name written by [`Outcome::as_str`].
    pub fn from_name(name: &str) -> Option<Outcome> {
        [Outcome::Stored, Outcome::Duplicate, Outcome::Conflict, Outcome::Rejected, Outcome::Failed, Outcome::Info]
            .into_iter()
            .find(|outcome| outcome.as_str() == name)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A request log entry about to be written.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// RFC 3339 UTC with milliseconds.
    pub received_at: String,
    /// HTTP method.
    pub method: String,
    /// Path as requested.
    pub path: String,
    /// Query string, if any.
    pub query: Option<String>,
    /// Peer address.
    pub remote_addr: Option<String>,
    /// Headers as a JSON array of `[name, value]`, token signatures removed.
    pub headers_json: String,
    /// Status sent back.
    pub status: u16,
    /// Outcome when no recording is attached; with a recording the store decides.
    pub outcome: Outcome,
    /// Error code for rejected requests.
    pub error_code: Option<String>,
    /// Human-readable reason for rejected requests.
    pub reason: Option<String>,
    /// The call, when the metadata could be read.
    pub session_id: Option<String>,
    /// The recording id, when the metadata could be read.
    pub recording_id: Option<String>,
    /// Verification outcome.
    pub auth: AuthRecord,
    /// Multipart parts seen: JSON array of `{name, filename, content_type, size}`.
    pub parts_json: Option<String>,
    /// Bytes of body received.
    pub body_size: usize,
    /// The body as kept: whole (up to a cap) for rejected requests; for an
    /// accepted one without its audio part's bytes, which go back in at
    /// `body_audio_at` (the recording holds them).
    pub body: Option<Vec<u8>>,
    /// Where the audio bytes were cut out of `body`.
    pub body_audio_at: Option<usize>,
    /// What was answered instead of the real answer, when an answer was simulated.
    pub simulated: Option<String>,
}

/// A recording about to be stored.
#[derive(Debug, Clone)]
pub struct NewRecording {
    /// Validated metadata.
    pub metadata: Metadata,
    /// When the request arrived, RFC 3339 UTC with milliseconds.
    pub received_at: String,
    /// Path the sender posted to.
    pub path: String,
    /// The part's `filename`, as sent (display only, never a path).
    pub filename: Option<String>,
    /// The part's `Content-Type`, as sent.
    pub part_content_type: Option<String>,
    /// What the audio is.
    pub info: AudioInfo,
    /// The bytes exactly as received.
    pub audio: Vec<u8>,
    /// SHA-256 of `audio`, hex; computed by the caller so hashing runs in
    /// parallel instead of on the single writer thread.
    pub sha256: String,
    /// Verification outcome.
    pub auth: AuthRecord,
}

/// Token check and reason as shown to users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuthSummary {
    /// What the token check found.
    pub verdict: TokenCheck,
    /// Why, when not valid.
    pub reason: Option<String>,
}

/// One stored recording version, without its audio.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RecordingSummary {
    /// Database row.
    pub row: i64,
    /// watsonx recording id.
    pub recording_id: String,
    /// 1, or higher for conflicting resends.
    pub version: u32,
    /// True for versions after the first.
    pub conflict: bool,
    /// The call.
    pub session_id: String,
    /// The assistant.
    pub assistant_id: String,
    /// The environment.
    pub environment_id: String,
    /// As sent.
    pub start_timestamp: String,
    /// As sent.
    pub stop_timestamp: String,
    /// When Earshot received it.
    pub received_at: String,
    /// Audio length.
    pub duration_ms: u64,
    /// `raw` or `wav`.
    pub container: Container,
    /// `mulaw`, `alaw` or `pcm16`.
    pub encoding: Encoding,
    /// Frames per second.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u16,
    /// Frames.
    pub sample_count: u64,
    /// Size of the original bytes.
    pub size_bytes: u64,
    /// SHA-256 of the original bytes, hex.
    pub sha256: String,
    /// Verification.
    pub auth: AuthSummary,
    /// Path posted to.
    pub path: String,
    /// Part filename as sent.
    pub filename: Option<String>,
    /// Part content type as sent.
    pub part_content_type: Option<String>,
    /// The user's service's answer to the request that delivered it, when forwarded.
    pub upstream: Option<UpstreamBrief>,
    /// Kept: retention never removes its call.
    pub pinned: bool,
    /// The bundle it was imported from, if it was.
    pub imported_from: Option<String>,
    /// The QA review (the default when nobody has reviewed it).
    pub review: Review,
    /// Levels, silence, speech and flags; `None` until it has been analysed.
    pub analysis: Option<RecordingAnalysis>,
    /// Where the samples sit in the original bytes.
    #[serde(skip)]
    pub audio: AudioInfo,
}

/// One call, derived from its recordings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionSummary {
    /// watsonx session id.
    pub session_id: String,
    /// Distinct recordings stored (versions counted).
    pub recording_count: u64,
    /// First arrival.
    pub first_received_at: String,
    /// Latest arrival.
    pub last_received_at: String,
    /// The assistant.
    pub assistant_id: String,
    /// The environment.
    pub environment_id: String,
    /// Requests of this call that were rejected or failed verification.
    pub flagged_requests: u64,
    /// Forwarded requests of this call whose upstream answer was not 2xx.
    pub upstream_failures: u64,
    /// Recordings with a verdict other than unreviewed.
    pub reviewed: u64,
    /// Recordings judged `fail`.
    pub failed: u64,
}

/// A tag and how many recordings carry it, for suggestions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TagCount {
    /// The tag.
    pub tag: String,
    /// Recordings carrying it.
    pub uses: u64,
}

/// One request log entry as shown to users.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestEntry {
    /// Row id.
    pub id: i64,
    /// Arrival time.
    pub received_at: String,
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query string.
    pub query: Option<String>,
    /// Peer address.
    pub remote_addr: Option<String>,
    /// `[[name, value], …]`, signatures removed.
    pub headers: Value,
    /// Status returned.
    pub status: u16,
    /// Time from arrival to the log write, in milliseconds.
    pub latency_ms: f64,
    /// What became of it.
    pub outcome: Outcome,
    /// Error code, when rejected.
    pub error: Option<String>,
    /// Reason, when rejected.
    pub reason: Option<String>,
    /// The call, if known.
    pub session_id: Option<String>,
    /// The recording, if known.
    pub recording_id: Option<String>,
    /// Verification.
    pub auth: AuthSummary,
    /// Decoded token header.
    pub jwt_header: Option<Value>,
    /// Decoded token claims.
    pub jwt_claims: Option<Value>,
    /// Multipart parts seen.
    pub parts: Option<Value>,
    /// Body size received.
    pub body_size: u64,
    /// Bytes of body kept in the log (an accepted request's body is rebuilt whole from it and the recording).
    pub body_stored: i64,
    /// What the user's service answered, when forwarding was on.
    pub forward: Option<ForwardEntry>,
    /// What Earshot answered instead, when an answer was simulated (`503`, `delay 25 s`, `drop`).
    pub simulated: Option<String>,
}
