//! Typed events the store publishes after each commit, on a
//! `tokio::sync::broadcast` channel: the CLI ignores them, the desktop
//! forwards them to the UI. Events say *what changed*; readers fetch details
//! from the store, so a lagging subscriber loses nothing but notifications.

use serde::{Deserialize, Serialize};

use crate::model::Outcome;

/// How many events a slow subscriber may fall behind before it sees `Lagged`.
pub const CAPACITY: usize = 1024;

/// Something the UI may want to refresh for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A request was written to the request log (every request, accepted or not).
    RequestLogged {
        /// Row id in the request log.
        request_id: i64,
        /// HTTP status returned.
        status: u16,
        /// What became of it.
        outcome: Outcome,
        /// The call, when the metadata could be read.
        session_id: Option<String>,
    },
    /// New audio was stored (first time, or a conflicting new version).
    RecordingStored {
        /// Row id of the stored version.
        row: i64,
        /// The watsonx recording id.
        recording_id: String,
        /// The call it belongs to.
        session_id: String,
        /// 1 for the first audio under this id, higher for conflicting resends.
        version: u32,
    },
    /// The user's service answered a forwarded request (or could not be reached).
    ForwardAnswered {
        /// The request log entry forwarded.
        request_id: i64,
        /// The upstream's status; `None` when it gave no answer.
        upstream_status: Option<u16>,
        /// The call, when known.
        session_id: Option<String>,
    },
    /// A stored request or recording was sent again.
    Replayed {
        /// The replay's row id.
        replay_id: i64,
        /// The request log entry it came from.
        replay_of: Option<i64>,
        /// The recording it came from.
        recording_row: Option<i64>,
    },
    /// Recordings or requests were removed (a delete or a retention run).
    Removed {
        /// What went.
        removed: crate::store::Removed,
    },
    /// A bundle was imported.
    Imported {
        /// Recordings added.
        added: u64,
        /// Calls the bundle held.
        calls: u64,
    },
    /// A delete was undone.
    Restored {
        /// What came back.
        restored: crate::store::Removed,
    },
    /// A recording's Keep changed.
    Pinned {
        /// The recording row.
        row: i64,
        /// Kept or not.
        pinned: bool,
    },
    /// A recording's review changed.
    Reviewed {
        /// The recording row.
        row: i64,
        /// Its verdict now.
        verdict: crate::model::Verdict,
    },
    /// A recording was analysed.
    Analysed {
        /// The recording row.
        row: i64,
        /// The flags it raised.
        flags: Vec<earshot_audio::Flag>,
    },
    /// Writing to the database failed; the request was answered 503.
    StoreFault {
        /// What SQLite reported.
        message: String,
    },
}
