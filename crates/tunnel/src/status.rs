//! What a tunnel is doing, as the UI and the CLI see it: a [`Status`]
//! published on a `watch` channel, and the tunnel's own log lines kept in a
//! bounded [`LogBook`] so a "show log" view has something to show after the
//! fact. This module holds data only; the supervisor decides what to publish.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{SecondsFormat, Utc};
use serde::Serialize;

/// The state of one tunnel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "TunnelStatus"))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    /// Not running (never started, or stopped on request).
    Stopped,
    /// The provider is being started and has no public URL yet.
    Starting,
    /// Reachable from the internet at `url` (the public base, no path).
    Online {
        /// `https://host` without a trailing slash.
        url: String,
    },
    /// Not working; `message` says why and whether a restart is coming.
    Error {
        /// Phrased for the user.
        message: String,
    },
}

impl Status {
    /// The public base URL when online.
    pub fn url(&self) -> Option<&str> {
        match self {
            Status::Online { url } => Some(url),
            _ => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Stopped => f.write_str("stopped"),
            Status::Starting => f.write_str("starting"),
            Status::Online { url } => write!(f, "online at {url}"),
            Status::Error { message } => write!(f, "error: {message}"),
        }
    }
}

/// Where a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "TunnelLogSource"))]
#[serde(rename_all = "snake_case")]
pub enum LogSource {
    /// The provider's standard error (cloudflared logs there).
    Stderr,
    /// The provider's standard output.
    Stdout,
    /// Earshot's supervisor: starts, exits, restarts, discovered URLs.
    Supervisor,
}

/// One line of a tunnel's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "TunnelLogLine"))]
pub struct LogLine {
    /// Increases by one per line over the tunnel's life, so a UI can ask for what is new.
    pub seq: u64,
    /// When Earshot saw the line, RFC 3339 UTC with milliseconds.
    pub at: String,
    /// Who wrote it.
    pub source: LogSource,
    /// The line without its newline.
    pub text: String,
}

/// A bounded, shared log: the newest `capacity` lines. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LogBook {
    inner: Arc<Mutex<Lines>>,
}

#[derive(Debug)]
struct Lines {
    capacity: usize,
    next_seq: u64,
    lines: VecDeque<LogLine>,
}

impl LogBook {
    /// An empty log keeping at most `capacity` lines (at least one).
    pub fn new(capacity: usize) -> LogBook {
        let capacity = capacity.max(1);
        LogBook {
            inner: Arc::new(Mutex::new(Lines { capacity, next_seq: 0, lines: VecDeque::with_capacity(capacity) })),
        }
    }

    /// Appends a line, dropping the oldest when full.
    pub fn push(&self, source: LogSource, text: impl Into<String>) {
        let at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut lines = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if lines.lines.len() == lines.capacity {
            lines.lines.pop_front();
        }
        let seq = lines.next_seq;
        lines.next_seq += 1;
        lines.lines.push_back(LogLine { seq, at, source, text: text.into() });
    }

    /// Every kept line, oldest first.
    pub fn lines(&self) -> Vec<LogLine> {
        self.since(0)
    }

    /// Kept lines with `seq >= from`, oldest first.
    pub fn since(&self, from: u64) -> Vec<LogLine> {
        let lines = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        lines.lines.iter().filter(|line| line.seq >= from).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_lines_with_increasing_numbers() {
        let book = LogBook::new(3);
        for n in 0..5 {
            book.push(LogSource::Stderr, format!("line {n}"));
        }
        let lines = book.lines();
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["line 2", "line 3", "line 4"]);
        assert_eq!(lines.iter().map(|l| l.seq).collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(book.since(4).len(), 1);
        assert!(book.since(5).is_empty());
    }

    #[test]
    fn status_serialises_with_a_state_tag() {
        let online = serde_json::to_value(Status::Online { url: "https://a.trycloudflare.com".into() }).unwrap();
        assert_eq!(online, serde_json::json!({"state": "online", "url": "https://a.trycloudflare.com"}));
        assert_eq!(serde_json::to_value(Status::Stopped).unwrap(), serde_json::json!({"state": "stopped"}));
    }
}
