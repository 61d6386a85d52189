//! Owning the captures from the app: delete (with what it will take, and an
//! Undo token held in memory for a few seconds), Keep, Compact, the database
//! size, the retention setting, and call bundles out and in.
//!
//! Every write is a job for the store's one writer; which rows a delete
//! takes is the core's rule. The preview only counts, from the store's
//! lists, what that rule will take, so the confirmation can say it before
//! anything is written.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use earshot_core::bundle::{self, BundleCall, ImportReport, Selection};
use earshot_core::{
    Committed, DeleteTarget, Job, Outcome, RecordingSummary, Removed, RequestEntry, RetentionPolicy, Store, StoreSize,
};
use serde::Serialize;
use tauri::State;

use super::blocking;
use crate::error::{IpcError, IpcResult};
use crate::state::Desktop;

/// What a delete took, and the token that undoes it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Deletion {
    /// What went (the writer's own count).
    pub removed: Removed,
    /// Pass to `undo_delete` within 10 s to put it all back.
    pub undo: u64,
}

/// What Compact did.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Compaction {
    /// The file before.
    pub before: StoreSize,
    /// The file after.
    pub after: StoreSize,
}

/// What an exported bundle holds.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct BundleWritten {
    /// The file written.
    pub path: String,
    /// The calls inside.
    pub calls: Vec<BundleCall>,
}

async fn submit(state: &Desktop, job: Job) -> IpcResult<Committed> {
    let writer = state.store().writer()?;
    writer.submit(job, Instant::now()).await.map_err(|e| IpcError::new("store", e.to_string()))
}

fn unexpected(what: &str, answer: &Committed) -> IpcError {
    IpcError::new("internal", format!("the store answered {what} with {answer:?}"))
}

/// What deleting `target` would remove, counted before anything is written,
/// for the confirmation.
#[tauri::command]
pub async fn delete_preview(state: State<'_, Desktop>, target: DeleteTarget) -> IpcResult<Removed> {
    blocking(state.store(), move |store| preview(&store, &target)).await
}

/// Deletes `target` for real; returns what went and an Undo token.
#[tauri::command]
pub async fn delete(state: State<'_, Desktop>, target: DeleteTarget) -> IpcResult<Deletion> {
    match submit(&state, Job::Delete { target }).await? {
        Committed::Deleted { removed, snapshot } => Ok(Deletion { removed, undo: state.undo().hold(*snapshot) }),
        other => Err(unexpected("a delete", &other)),
    }
}

/// Puts back what the delete with this token took; `undo_expired` once its 10 s are over.
#[tauri::command]
pub async fn undo_delete(state: State<'_, Desktop>, token: u64) -> IpcResult<Removed> {
    let Some(snapshot) = state.undo().take(token) else {
        return Err(IpcError::new("undo_expired", "this delete can no longer be undone"));
    };
    match submit(&state, Job::Restore { snapshot: Box::new(snapshot.clone()) }).await {
        Ok(Committed::Restored { restored }) => Ok(restored),
        Ok(other) => Err(unexpected("an undo", &other)),
        Err(e) => {
            state.undo().put_back(token, snapshot);
            Err(e)
        }
    }
}

/// Keeps (or stops keeping) a recording version: retention never removes its call.
#[tauri::command]
pub async fn keep(state: State<'_, Desktop>, row: i64, pinned: bool) -> IpcResult<()> {
    match submit(&state, Job::Pin { row, pinned }).await? {
        Committed::Pinned => Ok(()),
        other => Err(unexpected("Keep", &other)),
    }
}

/// The database's size and how much Compact would give back.
#[tauri::command]
pub async fn store_size(state: State<'_, Desktop>) -> IpcResult<StoreSize> {
    blocking(state.store(), |store| Ok(store.size()?)).await
}

/// Rebuilds the database file to give free pages back.
#[tauri::command]
pub async fn compact(state: State<'_, Desktop>) -> IpcResult<Compaction> {
    match submit(&state, Job::Compact).await? {
        Committed::Compacted { before, after } => Ok(Compaction { before, after }),
        other => Err(unexpected("Compact", &other)),
    }
}

/// Saves the retention policy (`null` or both limits empty: off) and applies
/// it now and every hour; returns the policy in force.
#[tauri::command]
pub async fn set_retention(state: State<'_, Desktop>, policy: Option<RetentionPolicy>) -> IpcResult<RetentionPolicy> {
    state.set_retention(policy.filter(RetentionPolicy::is_on))
}

/// Writes the calls `selection` picks into one `.earshot` file at `path`.
#[tauri::command]
pub async fn export_bundle(state: State<'_, Desktop>, selection: Selection, path: PathBuf) -> IpcResult<BundleWritten> {
    blocking(state.store(), move |store| {
        let manifest = bundle::export_to(&store, &selection, &path, chrono::Utc::now())?;
        Ok(BundleWritten { path: path.display().to_string(), calls: manifest.calls })
    })
    .await
}

/// Checks and imports the bundle at `path`, all of it or nothing.
#[tauri::command]
pub async fn import_bundle(state: State<'_, Desktop>, path: PathBuf) -> IpcResult<ImportReport> {
    Ok(bundle::import_from(&state.store(), &path).await?)
}

/// Counts what the core's delete rule takes for `target`: a call's
/// recordings and its request-log entries (and the requests that delivered
/// its audio); a recording's versions, whose requests stay without a body;
/// the named requests; everything received before a time.
fn preview(store: &Store, target: &DeleteTarget) -> IpcResult<Removed> {
    let recordings = store.recordings(None)?;
    // `usize::MAX` would not fit the store's SQL limit; this is every entry.
    let requests = store.requests(i64::MAX as usize)?;
    let (rows, gone): (HashSet<i64>, usize) = match target {
        DeleteTarget::Version { row } => (HashSet::from([store.recording_row(*row)?.row]), 0),
        DeleteTarget::Recording { recording_id } => {
            (recordings.iter().filter(|r| &r.recording_id == recording_id).map(|r| r.row).collect(), 0)
        }
        DeleteTarget::Session { session_id } => {
            let rows: HashSet<i64> = recordings.iter().filter(|r| &r.session_id == session_id).map(|r| r.row).collect();
            let mut ids = delivering(&recordings, &requests, &rows);
            ids.extend(requests.iter().filter(|q| q.session_id.as_ref() == Some(session_id)).map(|q| q.id));
            (rows, ids.len())
        }
        DeleteTarget::Requests { ids } => {
            let ids: HashSet<i64> = ids.iter().copied().collect();
            return Ok(Removed {
                requests: requests.iter().filter(|q| ids.contains(&q.id)).count() as u64,
                ..Removed::default()
            });
        }
        DeleteTarget::Before { before } => {
            let before = instant(before).ok_or_else(|| {
                IpcError::new("bad_time", format!("{before:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"))
            })?;
            let earlier = |at: &str| instant(at).is_some_and(|t| t < before);
            let rows: HashSet<i64> = recordings.iter().filter(|r| earlier(&r.received_at)).map(|r| r.row).collect();
            let mut ids = delivering(&recordings, &requests, &rows);
            ids.extend(requests.iter().filter(|q| earlier(&q.received_at)).map(|q| q.id));
            (rows, ids.len())
        }
    };
    Ok(count(&recordings, &rows, gone))
}

/// A date (its start, UTC) or an RFC 3339 time as a UTC instant, as the core compares them.
fn instant(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.to_utc())
}

/// Removing recording `rows` and `requests` entries: a call counts when none of its recordings is left.
fn count(recordings: &[RecordingSummary], rows: &HashSet<i64>, requests: usize) -> Removed {
    let mut calls: HashMap<&str, (u64, u64)> = HashMap::new();
    let mut removed = Removed { requests: requests as u64, ..Removed::default() };
    for r in recordings {
        let call = calls.entry(r.session_id.as_str()).or_default();
        call.0 += 1;
        if rows.contains(&r.row) {
            call.1 += 1;
            removed.recordings += 1;
            removed.bytes += r.size_bytes;
        }
    }
    removed.calls = calls.values().filter(|(all, gone)| *gone > 0 && gone == all).count() as u64;
    removed
}

/// The requests whose audio is among `rows`: the log names the recording id,
/// not the version, so a request counts only when every version goes.
fn delivering(recordings: &[RecordingSummary], requests: &[RequestEntry], rows: &HashSet<i64>) -> HashSet<i64> {
    let mut versions: HashMap<&str, (usize, usize)> = HashMap::new();
    for r in recordings {
        let v = versions.entry(r.recording_id.as_str()).or_default();
        v.0 += 1;
        v.1 += usize::from(rows.contains(&r.row));
    }
    requests
        .iter()
        .filter(|q| matches!(q.outcome, Outcome::Stored | Outcome::Duplicate | Outcome::Conflict))
        .filter(|q| q.recording_id.as_deref().and_then(|id| versions.get(id)).is_some_and(|(all, gone)| gone == all))
        .map(|q| q.id)
        .collect()
}
