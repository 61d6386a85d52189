//! Removing what must go and keeping what must stay: what a delete names,
//! what it took (a [`Snapshot`] the app holds for its Undo), retention
//! policies and what a run removed. Backend-neutral data; each backend
//! applies them in its writer.

use serde::{Deserialize, Serialize};

/// What to delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeleteTarget {
    /// One recording version, by row. The requests that delivered it stay in
    /// the log, without their body.
    Version {
        /// The row.
        row: i64,
    },
    /// Every version of a recording id.
    Recording {
        /// The watsonx recording id.
        recording_id: String,
    },
    /// A call: its recordings and its request-log entries.
    Session {
        /// The call's session id.
        session_id: String,
    },
    /// Request-log entries, by id.
    Requests {
        /// Their ids.
        ids: Vec<i64>,
    },
    /// Everything received before a time (RFC 3339, or a date `YYYY-MM-DD` meaning its start, UTC).
    Before {
        /// The time.
        before: String,
    },
}

/// One SQL value of a row taken out, kept so Undo can put the row back exactly.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// NULL.
    Null,
    /// An integer.
    Integer(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

/// Rows of one table, with their column names.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRows {
    /// The table.
    pub table: String,
    /// Its columns, in the order of each row's cells.
    pub columns: Vec<String>,
    /// The rows.
    pub rows: Vec<Vec<Cell>>,
}

/// Everything a delete took, in the order it must go back (parents first).
/// Held in memory only (the app's Undo), never written anywhere.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The tables.
    pub tables: Vec<TableRows>,
}

/// What a delete (or a retention run) removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Removed {
    /// Calls that no longer have any recording.
    pub calls: u64,
    /// Recording versions removed.
    pub recordings: u64,
    /// Request-log entries removed.
    pub requests: u64,
    /// Audio bytes removed.
    pub bytes: u64,
}

impl std::fmt::Display for Removed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            f,
            "{}, {}, {}, {:.1} MB",
            count(self.calls, "call", "calls"),
            count(self.recordings, "recording", "recordings"),
            count(self.requests, "request", "requests"),
            self.bytes as f64 / 1e6
        )
    }
}

impl std::ops::AddAssign for Removed {
    fn add_assign(&mut self, other: Removed) {
        self.calls += other.calls;
        self.recordings += other.recordings;
        self.requests += other.requests;
        self.bytes += other.bytes;
    }
}

/// How long to keep recordings. Both limits optional; neither means keep everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RetentionPolicy {
    /// Remove calls whose last recording arrived more than this many days ago.
    pub days: Option<u32>,
    /// Remove the oldest calls while the stored audio is over this many gigabytes (10⁹ bytes).
    pub max_gb: Option<f64>,
}

impl RetentionPolicy {
    /// Whether the policy removes anything at all.
    pub fn is_on(&self) -> bool {
        self.days.is_some() || self.max_gb.is_some()
    }
}

/// The database file's size and how much of it is free pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoreSize {
    /// Bytes of the database file (and its WAL).
    pub bytes: u64,
    /// Bytes in free pages that compaction would give back.
    pub free_bytes: u64,
}

/// `text` as the store writes times (UTC, milliseconds, `Z`), so that text
/// comparison is time comparison; a bare date is its start, UTC.
pub(crate) fn canonical_time(text: &str) -> Result<String, String> {
    let text = text.trim();
    let parsed = chrono::DateTime::parse_from_rfc3339(text).map(|t| t.to_utc()).or_else(|_| {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
    });
    parsed
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .map_err(|_| format!("{text:?} is not a time: give RFC 3339 (2026-11-26T12:00:00Z) or a date (2026-11-26)"))
}

/// The calls retention may remove, `(session, last arrival, bytes)`, oldest
/// last activity first; calls holding a kept recording are never among them.
pub(crate) const RETAIN_CANDIDATES: &str = "SELECT session_id, MAX(received_at) AS last,
        CAST(SUM(size_bytes) AS BIGINT) AS bytes FROM recordings
    GROUP BY session_id HAVING MAX(pinned) = 0 ORDER BY last, session_id";

/// Which of `calls` (as [`RETAIN_CANDIDATES`] lists them) `policy` removes as
/// of `now`, with `total` audio bytes stored: the too old ones, and the oldest
/// while the total is over the limit.
pub(crate) fn calls_to_remove(
    policy: &RetentionPolicy,
    now: &str,
    calls: &[(String, String, i64)],
    total: i64,
) -> Vec<String> {
    let cutoff = policy.days.and_then(|days| {
        let now = chrono::DateTime::parse_from_rfc3339(now).ok()?;
        Some(
            (now - chrono::Duration::days(i64::from(days)))
                .to_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )
    });
    let mut over = policy.max_gb.map_or(0, |gb| total - (gb * 1e9) as i64);
    let mut doomed = Vec::new();
    for (session_id, last, bytes) in calls {
        let too_old = cutoff.as_ref().is_some_and(|cutoff| last < cutoff);
        if !too_old && over <= 0 {
            continue;
        }
        over -= bytes;
        doomed.push(session_id.clone());
    }
    doomed
}
