//! `earshot delete`: says exactly what would go, asks on a terminal (and
//! refuses without `--yes` when there is no one to ask), then removes it for
//! real through the store's one writer.
//!
//! The preview is read from the store's lists, so nothing is written before
//! the answer; the line printed after the delete is the writer's own count.
//! Which rows a target takes is the core's rule (`store::DeleteTarget`); this
//! module only mirrors it to say what will go.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use earshot_core::{Committed, DeleteTarget, Job, Outcome, RecordingSummary, Removed, RequestEntry, Store};
use serde_json::json;

use crate::list::print_json;
use crate::{CliError, say, size_text};

/// Options of `earshot delete`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["recording", "session", "requests", "before", "older_than"]))]
pub struct Args {
    /// Recording id or a unique prefix: every version of it; `ID@N`: version N only.
    /// The requests that delivered it stay in the log, without their body.
    recording: Option<String>,
    /// A whole call: its recordings and its request-log entries.
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// Request-log entries by id (`--request 7 8`, or the flag repeated).
    #[arg(long = "request", value_name = "ID", num_args = 1..)]
    requests: Vec<i64>,
    /// Everything received before DATE: `YYYY-MM-DD` (its start, UTC) or an RFC 3339 time.
    #[arg(long, value_name = "DATE")]
    before: Option<String>,
    /// Everything received longer ago than AGE: `Nd` (days) or `Nh` (hours), e.g. 30d.
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    older_than: Option<chrono::Duration>,
    /// Delete without asking (needed when stdin is not a terminal).
    #[arg(short, long)]
    yes: bool,
    /// Print {removed: {calls, recordings, requests, bytes}}.
    #[arg(long)]
    json: bool,
}

/// `30d` or `12h` as a duration.
fn parse_age(text: &str) -> Result<chrono::Duration, String> {
    let bad = || format!("{text:?} is not an age: give a number of days or hours, e.g. 30d or 12h");
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| bad())?;
    if n < 0 {
        return Err(bad());
    }
    match unit {
        "d" => chrono::Duration::try_days(n).ok_or_else(bad),
        "h" => chrono::Duration::try_hours(n).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// A time as the store writes `received_at` (UTC, milliseconds, `Z`), so
/// comparing the text compares the times. Takes `YYYY-MM-DD` (its start, UTC)
/// or RFC 3339 with any offset.
pub(crate) fn store_time(flag: &str, given: &str) -> Result<String, CliError> {
    if let Ok(date) = NaiveDate::parse_from_str(given, "%Y-%m-%d") {
        let start = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        return Ok(start.to_rfc3339_opts(SecondsFormat::Millis, true));
    }
    DateTime::parse_from_rfc3339(given).map(|t| t.to_utc().to_rfc3339_opts(SecondsFormat::Millis, true)).map_err(|_| {
        CliError::Message(format!(
            "{flag} {given:?}: give a date (2026-11-01, meaning its start in UTC) or an RFC 3339 time (2026-11-01T09:00:00Z)"
        ))
    })
}

/// What a delete will do, worked out before anything is written.
struct Plan {
    target: DeleteTarget,
    /// "call X", "recording Y v2", "everything received before …".
    what: String,
    /// The count the writer should answer with.
    removed: Removed,
    /// What stays that a reader might expect to go.
    note: Option<&'static str>,
}

/// The store's lists, read once.
struct Lists {
    recordings: Vec<RecordingSummary>,
    requests: Vec<RequestEntry>,
}

impl Lists {
    fn read(store: &Store) -> Result<Lists, CliError> {
        // `usize::MAX` would not fit the store's SQL limit; this is every entry.
        Ok(Lists { recordings: store.recordings(None)?, requests: store.requests(i64::MAX as usize)? })
    }

    /// The count of removing `rows` (recording rows) and `requests` (request ids):
    /// a call counts when none of its recordings is left.
    fn count(&self, rows: &HashSet<i64>, requests: usize) -> Removed {
        let mut left: HashMap<&str, (u64, u64)> = HashMap::new();
        let mut removed = Removed { requests: requests as u64, ..Removed::default() };
        for r in &self.recordings {
            let call = left.entry(r.session_id.as_str()).or_default();
            call.0 += 1;
            if rows.contains(&r.row) {
                call.1 += 1;
                removed.recordings += 1;
                removed.bytes += r.size_bytes;
            }
        }
        removed.calls = left.values().filter(|(all, gone)| *gone > 0 && gone == all).count() as u64;
        removed
    }

    /// Requests that go with whole recordings: every request whose audio is
    /// one of `rows`. The log names the recording id, not the version, so
    /// this counts a request only when every version of its recording goes.
    fn delivering(&self, rows: &HashSet<i64>) -> HashSet<i64> {
        let mut versions: HashMap<&str, (usize, usize)> = HashMap::new();
        for r in &self.recordings {
            let v = versions.entry(r.recording_id.as_str()).or_default();
            v.0 += 1;
            v.1 += usize::from(rows.contains(&r.row));
        }
        let delivered =
            |q: &RequestEntry| matches!(q.outcome, Outcome::Stored | Outcome::Duplicate | Outcome::Conflict);
        self.requests
            .iter()
            .filter(|q| delivered(q))
            .filter(|q| {
                q.recording_id.as_deref().and_then(|id| versions.get(id)).is_some_and(|(all, gone)| gone == all)
            })
            .map(|q| q.id)
            .collect()
    }
}

const DETACHED: &str = "the requests that delivered it stay in the log, without their body";

fn plan(store: &Store, args: &Args, now: DateTime<Utc>) -> Result<Plan, CliError> {
    if let Some(given) = &args.recording {
        let (id, version) = crate::split_version(given)?;
        let found = store.find_recording(&id, version)?;
        let lists = Lists::read(store)?;
        let (target, rows, what) = match version {
            Some(v) => (
                DeleteTarget::Version { row: found.row },
                HashSet::from([found.row]),
                format!("recording {} v{v}", found.recording_id),
            ),
            None => {
                let rows: HashSet<i64> =
                    lists.recordings.iter().filter(|r| r.recording_id == found.recording_id).map(|r| r.row).collect();
                let what = match rows.len() {
                    1 => format!("recording {}", found.recording_id),
                    n => format!("recording {} (all {n} versions)", found.recording_id),
                };
                (DeleteTarget::Recording { recording_id: found.recording_id.clone() }, rows, what)
            }
        };
        return Ok(Plan { target, what, removed: lists.count(&rows, 0), note: Some(DETACHED) });
    }
    if let Some(session) = &args.session {
        let lists = Lists::read(store)?;
        let rows: HashSet<i64> = lists.recordings.iter().filter(|r| &r.session_id == session).map(|r| r.row).collect();
        let mut requests = lists.delivering(&rows);
        requests.extend(lists.requests.iter().filter(|q| q.session_id.as_ref() == Some(session)).map(|q| q.id));
        if rows.is_empty() && requests.is_empty() {
            return Err(CliError::Message(format!("no call matches {session:?} (see `earshot sessions`)")));
        }
        let what = format!("call {session}");
        return Ok(Plan {
            target: DeleteTarget::Session { session_id: session.clone() },
            what,
            removed: lists.count(&rows, requests.len()),
            note: None,
        });
    }
    if !args.requests.is_empty() {
        let mut ids: Vec<i64> = args.requests.clone();
        ids.sort_unstable();
        ids.dedup();
        for id in &ids {
            store.request(*id)?;
        }
        let what = match ids.as_slice() {
            [one] => format!("request {one}"),
            many => format!("requests {}", many.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
        };
        let removed = Removed { requests: ids.len() as u64, ..Removed::default() };
        let note = Some("the recordings they delivered stay");
        return Ok(Plan { target: DeleteTarget::Requests { ids }, what, removed, note });
    }
    let before = match (&args.before, args.older_than) {
        (Some(given), _) => store_time("--before", given)?,
        (None, Some(age)) => (now - age).to_rfc3339_opts(SecondsFormat::Millis, true),
        (None, None) => return Err(CliError::Message("say what to delete (see `earshot delete --help`)".into())),
    };
    let lists = Lists::read(store)?;
    let rows: HashSet<i64> = lists.recordings.iter().filter(|r| r.received_at < before).map(|r| r.row).collect();
    let mut requests = lists.delivering(&rows);
    requests.extend(lists.requests.iter().filter(|q| q.received_at < before).map(|q| q.id));
    Ok(Plan {
        target: DeleteTarget::Before { before: before.clone() },
        what: format!("everything received before {before}"),
        removed: lists.count(&rows, requests.len()),
        note: None,
    })
}

pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "1 call, 3 recordings, 4 requests, 60.0 KB".
pub(crate) fn removed_text(removed: &Removed) -> String {
    format!(
        "{}, {}, {}, {}",
        plural(removed.calls, "call", "calls"),
        plural(removed.recordings, "recording", "recordings"),
        plural(removed.requests, "request", "requests"),
        size_text(removed.bytes)
    )
}

/// Asks on a terminal; refuses when there is no one to ask.
fn confirm(plan: &Plan) -> Result<(), CliError> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::Message(
            "stdin is not a terminal, so there is no one to ask: add --yes to delete (nothing was deleted)".into(),
        ));
    }
    eprint!("Delete {} ({})? [y/N] ", plan.what, removed_text(&plan.removed));
    let mut answer = String::new();
    stdin.read_line(&mut answer).map_err(|e| CliError::Message(format!("cannot read the answer: {e}")))?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(CliError::Message("not confirmed; nothing was deleted".into())),
    }
}

/// Previews, confirms (or refuses), deletes, and prints what the writer removed.
pub fn run(store: &Store, args: Args) -> Result<(), CliError> {
    let plan = plan(store, &args, Utc::now())?;
    let nothing = plan.removed.recordings == 0 && plan.removed.requests == 0;
    if nothing {
        if args.json {
            return print_json(&json!({ "removed": Removed::default() }));
        }
        // Only a time can match nothing: the other targets name something that exists.
        if let DeleteTarget::Before { before } = &plan.target {
            say(&format!("nothing to delete: no recording or request was received before {before}"));
        }
        return Ok(());
    }
    let preview = format!("would delete {}: {}", plan.what, removed_text(&plan.removed));
    let note = plan.note.map(|n| format!("({n})"));
    // With --json, stdout carries only the JSON.
    for line in std::iter::once(preview).chain(note) {
        if args.json { eprintln!("{line}") } else { say(&line) }
    }
    if !args.yes {
        confirm(&plan)?;
    }
    let writer = store.writer()?;
    let job = Job::Delete { target: plan.target };
    let removed = match crate::block_on(writer.submit(job, std::time::Instant::now()))? {
        Ok(Committed::Deleted { removed, .. }) => removed,
        Ok(other) => return Err(CliError::Message(format!("the store answered a delete with {other:?}"))),
        Err(e) => return Err(CliError::Message(format!("the delete failed and nothing was deleted: {e}"))),
    };
    if args.json {
        return print_json(&json!({ "removed": removed }));
    }
    say(&format!("deleted {}", removed_text(&removed)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_days_or_hours() {
        assert_eq!(parse_age("30d"), Ok(chrono::Duration::days(30)));
        assert_eq!(parse_age("12h"), Ok(chrono::Duration::hours(12)));
        for bad in ["30", "d", "", "-1d", "3w", "1.5d"] {
            assert!(parse_age(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn times_compare_as_the_store_writes_them() {
        assert_eq!(store_time("--before", "2026-11-01").unwrap(), "2026-11-01T00:00:00.000Z");
        assert_eq!(store_time("--before", "2026-11-01T11:30:00+02:00").unwrap(), "2026-11-01T09:30:00.000Z");
        assert!(store_time("--before", "yesterday").is_err());
    }

    #[test]
    fn counts_read_like_sentences() {
        let removed = Removed { calls: 1, recordings: 3, requests: 0, bytes: 60_000 };
        assert_eq!(removed_text(&removed), "1 call, 3 recordings, 0 requests, 60.0 KB");
    }
}
