//! The nouns of the integration workbench: the user's own service's answer
//! to a forwarded or replayed request, and the replays themselves. Plain
//! data; sending is `relay`'s, storing is the store's.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest upstream answer body kept, in bytes (the rest is counted, not stored).
pub const ANSWER_BODY_CAP: usize = 1024 * 1024;

/// Bytes of an answer body carried in list entries (`body`); the whole kept body is one read away.
pub const ANSWER_PREVIEW: usize = 16 * 1024;

/// How a forwarded request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ForwardMode {
    /// watsonx gets the upstream's status, `Content-Type` and body.
    #[default]
    Pass,
    /// watsonx gets Earshot's own `200 {}` at once; the upstream is called in the background.
    Tee,
}

impl ForwardMode {
    /// Name stored in the database and used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ForwardMode::Pass => "pass",
            ForwardMode::Tee => "tee",
        }
    }

    /// Parses the name written by [`ForwardMode::as_str`].
    pub fn from_name(name: &str) -> Option<ForwardMode> {
        [ForwardMode::Pass, ForwardMode::Tee].into_iter().find(|mode| mode.as_str() == name)
    }
}

/// Why the user's service gave no HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum UpstreamFault {
    /// Nothing accepted the connection (refused, no route, DNS).
    Unreachable,
    /// No complete answer within the timeout.
    Timeout,
    /// The connection broke or the answer was not HTTP.
    Broken,
}

impl UpstreamFault {
    /// Name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamFault::Unreachable => "upstream_unreachable",
            UpstreamFault::Timeout => "upstream_timeout",
            UpstreamFault::Broken => "upstream_broken",
        }
    }

    /// Parses the name written by [`UpstreamFault::as_str`].
    pub fn from_name(name: &str) -> Option<UpstreamFault> {
        [UpstreamFault::Unreachable, UpstreamFault::Timeout, UpstreamFault::Broken]
            .into_iter()
            .find(|fault| fault.as_str() == name)
    }
}

/// What the user's service answered, or why it did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Where the request went.
    pub url: String,
    /// The HTTP status; `None` when there was no answer.
    pub status: Option<u16>,
    /// Why there was no answer.
    pub fault: Option<(UpstreamFault, String)>,
    /// From sending the request to the end of the answer, in microseconds.
    pub latency_us: u64,
    /// Answer headers in arrival order.
    pub headers: Vec<(String, String)>,
    /// Answer body (the store keeps at most [`ANSWER_BODY_CAP`] bytes of it).
    pub body: Vec<u8>,
    /// Full length of the answer body.
    pub body_size: u64,
}

impl Answer {
    /// True for a 2xx answer.
    pub fn is_success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// An answer as shown to users (`forward` in `earshot requests --json`, a replay's answer).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AnswerEntry {
    /// Where the request went.
    pub url: String,
    /// The HTTP status; `null` when the service gave none.
    pub status: Option<u16>,
    /// Time to the whole answer, in milliseconds.
    pub latency_ms: f64,
    /// Why there was no answer (`upstream_unreachable`, `upstream_timeout`, `upstream_broken`).
    pub error_code: Option<String>,
    /// The fault in words.
    pub error: Option<String>,
    /// `[[name, value], …]`.
    #[cfg_attr(feature = "ts", ts(type = "Array<[string, string]>"))]
    pub headers: Value,
    /// The start of the body as text (lossy UTF-8, at most `ANSWER_PREVIEW` (16 KiB) bytes).
    pub body: String,
    /// Full length of the body the service sent.
    pub body_size: u64,
}

/// A forwarded request's answer as the request log shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ForwardEntry {
    /// `pass` or `tee`.
    pub mode: ForwardMode,
    /// The answer.
    #[serde(flatten)]
    pub answer: AnswerEntry,
}

/// A replay about to be recorded.
#[derive(Debug, Clone)]
pub struct NewReplay {
    /// When it was sent, RFC 3339 UTC with milliseconds.
    pub sent_at: String,
    /// The request log entry replayed (or the one that delivered the replayed recording).
    pub request_id: Option<i64>,
    /// The recording replayed, when replayed by recording id.
    pub recording_row: Option<i64>,
    /// True when the body sent is byte for byte the body received.
    pub identical: bool,
    /// What was changed, as JSON (`token`, `set`, `audio`, `headers`, `rebuilt`).
    pub changes: Value,
    /// Headers sent, secrets redacted like the request log's.
    pub headers: Value,
    /// Length of the body sent.
    pub body_size: u64,
    /// SHA-256 of the body sent, hex.
    pub body_sha256: String,
    /// The answer.
    pub answer: Answer,
}

/// A stored replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReplayEntry {
    /// Row id (`replay_id`).
    pub id: i64,
    /// When it was sent.
    pub sent_at: String,
    /// The request log entry it came from.
    pub replay_of: Option<i64>,
    /// The recording it came from.
    pub recording_row: Option<i64>,
    /// Byte for byte the body received.
    pub identical: bool,
    /// What was changed.
    pub changes: Value,
    /// Headers sent.
    pub headers: Value,
    /// Length of the body sent.
    pub body_size: u64,
    /// SHA-256 of the body sent.
    pub body_sha256: String,
    /// The answer.
    pub answer: AnswerEntry,
}

/// The newest upstream answer to the request that delivered a recording, for badges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UpstreamBrief {
    /// The status; `None` when the service gave no answer.
    pub status: Option<u16>,
    /// Whether it was 2xx.
    pub ok: bool,
}
