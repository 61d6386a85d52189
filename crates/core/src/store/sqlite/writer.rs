//! The one thread that writes: it drains whatever jobs are waiting, commits
//! them in one transaction (`synchronous=FULL`), publishes what changed, and
//! only then answers each job. That keeps every acknowledged recording
//! durable while paying for one fsync per group instead of one per request.
//!
//! A second thread copies the WAL back into the database between commits,
//! and the writer keeps the WAL bounded when that falls behind.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{broadcast, mpsc};

use super::{SqliteStore, answers, lifecycle, recordings, requests, reviews};
use crate::events::Event;
use crate::model::{
    Answer, ForwardMode, NewRecording, NewReplay, NewRequest, Outcome, RecordingAnalysis, Review, ReviewChange,
};
use crate::store::apply::{Writes, apply};
use crate::store::job::{self, Envelope, gather};
use crate::store::{Committed, Job, StoreError, Writer};
use crate::store::{DeleteTarget, Removed, RetentionPolicy, Snapshot};

/// Largest WAL the writer lets stand. Under sustained load the passive
/// checkpoints fall behind (15 s at concurrency 64 once left a 1.58 GB WAL);
/// past this size the writer itself checkpoints and truncates before the next
/// group, which holds new writes back for that long, and SQLite's
/// `journal_size_limit` trims the file to it whenever the WAL restarts.
pub const WAL_SOFT_LIMIT: u64 = 64 * 1024 * 1024;

/// Longest the writer waits for the WAL to come back under its limit; a
/// reader that holds an old snapshot longer than this (a stuck process) does
/// not stop the listener storing.
const TRUNCATE_PATIENCE: Duration = Duration::from_secs(2);

/// How long without a commit counts as idle; an idle store gets its WAL truncated.
const IDLE: Duration = Duration::from_secs(1);

/// Starts the writer and checkpoint threads of `store`.
pub(super) fn start(store: &SqliteStore, events: broadcast::Sender<Event>) -> Result<Writer, StoreError> {
    let conn = store.connect()?;
    // Checkpoints copy the WAL into the database and fsync it; run inline
    // they stall the commit that triggers them (p99 180 ms in the intake
    // bench). The checkpoint thread does them between commits instead.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.pragma_update(None, "journal_size_limit", WAL_SOFT_LIMIT as i64)?;
    // Deleted rows are overwritten with zeros, not just unlinked.
    conn.pragma_update(None, "secure_delete", true)?;
    let checkpointer = store.connect()?;
    let wal = PathBuf::from(format!("{}-wal", store.path().display()));
    let (nudge, nudged) = std::sync::mpsc::sync_channel(1);
    let (tx, rx) = mpsc::channel(job::QUEUE);
    let spawn_failed = |source| StoreError::DataDir { path: store.path().to_path_buf(), source };
    let checkpoint_wal = wal.clone();
    std::thread::Builder::new()
        .name("earshot-store-checkpoint".into())
        .spawn(move || checkpoint_loop(checkpointer, nudged, checkpoint_wal))
        .map_err(spawn_failed)?;
    std::thread::Builder::new()
        .name("earshot-store-writer".into())
        .spawn(move || write_loop(conn, rx, nudge, events, wal))
        .map_err(spawn_failed)?;
    Ok(Writer::new(tx))
}

fn wal_size(wal: &PathBuf) -> u64 {
    std::fs::metadata(wal).map_or(0, |m| m.len())
}

/// Copies committed WAL frames into the database whenever the writer has
/// committed, without blocking it (PASSIVE); truncates the WAL once the
/// store is idle. Ends with the writer.
fn checkpoint_loop(conn: Connection, nudged: Receiver<()>, wal: PathBuf) {
    loop {
        let mode = match nudged.recv_timeout(IDLE) {
            Ok(()) => "PASSIVE",
            Err(RecvTimeoutError::Timeout) if wal_size(&wal) > 0 => "TRUNCATE",
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if let Err(e) = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(())) {
            tracing::warn!(target: "earshot::store", "checkpoint failed (will retry): {e}");
        }
    }
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

fn write_loop(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Envelope>,
    nudge: SyncSender<()>,
    events: broadcast::Sender<Event>,
    wal: PathBuf,
) {
    while let Some(first) = rx.blocking_recv() {
        let group = gather(first, &mut rx);
        // Compaction rebuilds the file and cannot run inside the group's transaction.
        let (compactions, group): (Vec<Envelope>, Vec<Envelope>) =
            group.into_iter().partition(|e| matches!(e.job, Job::Compact));
        let removes = group.iter().any(|e| matches!(e.job, Job::Delete { .. } | Job::Retain { .. }));
        let results = commit_group(&mut conn, &group);
        if removes {
            // Free pages go back to the file system and the WAL's copies of the old pages go.
            let _ = conn.query_row("PRAGMA incremental_vacuum", [], |_| Ok(())).or_else(ignore_no_rows);
            truncate_wal(&conn, &wal, 0);
        }
        // A full channel means a checkpoint is already due; nothing to add.
        let _ = nudge.try_send(());
        for (envelope, result) in group.into_iter().zip(results) {
            publish(&events, &envelope.job, &result);
            // The caller may have gone (client hung up); the write stands regardless.
            let _ = envelope.reply.send(result);
        }
        for envelope in compactions {
            let result = compact(&conn, &wal);
            let _ = envelope.reply.send(result);
        }
        if wal_size(&wal) > WAL_SOFT_LIMIT {
            bring_wal_under_limit(&conn, &wal);
        }
    }
}

fn ignore_no_rows(e: rusqlite::Error) -> rusqlite::Result<()> {
    match e {
        rusqlite::Error::QueryReturnedNoRows => Ok(()),
        other => Err(other),
    }
}

/// Rebuilds the file: switches on incremental vacuum (files made before it
/// was the default), `VACUUM`s, and truncates the WAL.
fn compact(conn: &Connection, wal: &PathBuf) -> Result<Committed, String> {
    let before = lifecycle::size(conn, wal_size(wal)).map_err(|e| e.to_string())?;
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL").map_err(|e| e.to_string())?;
    conn.execute_batch("VACUUM").map_err(|e| e.to_string())?;
    truncate_wal(conn, wal, 0);
    let after = lifecycle::size(conn, wal_size(wal)).map_err(|e| e.to_string())?;
    Ok(Committed::Compacted { before, after })
}

/// Checkpoints and truncates the WAL until it is at most `limit` bytes, for
/// up to [`TRUNCATE_PATIENCE`] (see [`bring_wal_under_limit`]).
fn truncate_wal(conn: &Connection, wal: &PathBuf, limit: u64) -> bool {
    let deadline = std::time::Instant::now() + TRUNCATE_PATIENCE;
    loop {
        match conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0)) {
            Ok(0) if wal_size(wal) <= limit => return true,
            Ok(_) if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Ok(_) => return false,
            Err(e) => {
                tracing::warn!(target: "earshot::store", "could not truncate the WAL: {e}");
                return false;
            }
        }
    }
}

/// Checkpoints and truncates the WAL on the writer's own connection, retrying
/// while the checkpoint thread holds the checkpoint lock (SQLite answers a
/// second checkpointer "busy" at once, without waiting). Holding the writer
/// here is the back-pressure: no new group commits until the WAL is back
/// under its limit, or [`TRUNCATE_PATIENCE`] has passed.
fn bring_wal_under_limit(conn: &Connection, wal: &PathBuf) {
    let deadline = std::time::Instant::now() + TRUNCATE_PATIENCE;
    loop {
        // (busy, frames in the log, frames checkpointed); busy = 1 when another checkpoint ran.
        match conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0)) {
            Ok(0) if wal_size(wal) <= WAL_SOFT_LIMIT => return,
            Ok(_) if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Ok(_) => {
                tracing::warn!(target: "earshot::store", "the WAL is over {WAL_SOFT_LIMIT} bytes and a reader keeps it there");
                return;
            }
            Err(e) => {
                tracing::warn!(target: "earshot::store", "could not bring the WAL back under its limit: {e}");
                return;
            }
        }
    }
}

/// Tells subscribers what a job changed, or that the store is failing.
fn publish(events: &broadcast::Sender<Event>, job: &Job, result: &Result<Committed, String>) {
    // No subscriber is fine: the CLI runs without one.
    match result {
        Ok(done) => {
            for event in job.events(done) {
                let _ = events.send(event);
            }
        }
        Err(message) => {
            let _ = events.send(Event::StoreFault { message: message.clone() });
        }
    }
}

fn commit_group(conn: &mut Connection, group: &[Envelope]) -> Vec<Result<Committed, String>> {
    let fail_all = |e: rusqlite::Error| group.iter().map(|_| Err(e.to_string())).collect();
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return fail_all(e),
    };
    let mut results = Vec::with_capacity(group.len());
    for envelope in group {
        // A savepoint per job: one failing insert must not undo its neighbours.
        let result = tx.savepoint().and_then(|sp| {
            let done = apply(&*sp, envelope)?;
            sp.commit()?;
            Ok(done)
        });
        match result {
            Ok(done) => results.push(Ok(done)),
            // SQLite rolls the whole transaction back on some errors (disk
            // full, I/O error); going on would run the next jobs in autocommit
            // mode, outside the group. Fail the group with the real cause.
            Err(e) if tx.is_autocommit() => return fail_all(e),
            Err(e) => results.push(Err(e.to_string())),
        }
    }
    match tx.commit() {
        Ok(()) => results,
        Err(e) => fail_all(e),
    }
}

/// SQLite's statements for each kind of job.
impl Writes for Connection {
    fn recording(&self, recording: &NewRecording) -> rusqlite::Result<(i64, u32, Outcome)> {
        recordings::insert(self, recording)
    }

    fn request(
        &self,
        request: &NewRequest,
        outcome: Outcome,
        row: Option<i64>,
        latency_us: i64,
    ) -> rusqlite::Result<i64> {
        requests::insert(self, request, outcome, row, latency_us)
    }

    fn forward(&self, request_id: i64, status: u16, mode: ForwardMode, answer: &Answer) -> rusqlite::Result<()> {
        answers::insert_forward(self, request_id, status, mode, answer)
    }

    fn replay(&self, replay: &NewReplay) -> rusqlite::Result<i64> {
        answers::insert_replay(self, replay)
    }

    fn delete(&self, target: &DeleteTarget) -> rusqlite::Result<(Removed, Snapshot)> {
        lifecycle::delete(self, target)
    }

    fn pin(&self, row: i64, pinned: bool) -> rusqlite::Result<()> {
        lifecycle::pin(self, row, pinned)
    }

    fn retain(&self, policy: &RetentionPolicy, now: &str) -> rusqlite::Result<Removed> {
        lifecycle::retain(self, policy, now)
    }

    fn review(&self, row: i64, change: &ReviewChange, now: &str) -> rusqlite::Result<Review> {
        reviews::apply(self, row, change, now)
    }

    fn analysis(&self, row: i64, analysis: &RecordingAnalysis, now: &str) -> rusqlite::Result<()> {
        reviews::store_analysis(self, row, analysis, crate::analysis::ANALYZER, now)
    }

    fn not_in_a_group(&self) -> rusqlite::Error {
        rusqlite::Error::InvalidQuery
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::model::{AuthRecord, NewRequest, Outcome, TokenCheck};
    use crate::store::{Backend, Job, SqliteStore};

    fn logged(body: Vec<u8>) -> Job {
        let request = NewRequest {
            received_at: "2026-12-01T00:00:00.000Z".into(),
            method: "POST".into(),
            path: "/".into(),
            query: None,
            remote_addr: None,
            headers_json: "[]".into(),
            status: 400,
            outcome: Outcome::Rejected,
            error_code: Some("test".into()),
            reason: None,
            session_id: None,
            recording_id: None,
            auth: AuthRecord { verdict: TokenCheck::Off, reason: None, jwt_header: None, jwt_claims: None },
            parts_json: None,
            body_size: body.len(),
            body: Some(body),
            body_audio_at: None,
            simulated: None,
        };
        Job::LogRequest { request }
    }

    /// Under load the WAL once stayed at 1.58 GB while the listener ran;
    /// only a clean stop truncated it. Now an idle writer truncates it.
    #[tokio::test]
    async fn the_wal_is_truncated_once_the_writer_is_idle_while_the_store_stays_open() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let writer = store.writer().unwrap();
        for i in 0..40u8 {
            writer.submit(logged(vec![i; 256 * 1024]), Instant::now()).await.unwrap();
        }
        let wal = dir.path().join(format!("{}-wal", super::super::DB_FILE));
        let written = std::fs::metadata(&wal).unwrap().len();
        assert!(written > 1 << 20, "the writes went through the WAL ({written} bytes)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&wal).map_or(0, |m| m.len()) > 0 {
            assert!(
                Instant::now() < deadline,
                "the WAL is still {} bytes after 10 s idle",
                std::fs::metadata(&wal).unwrap().len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(store.requests(100).unwrap().len(), 40, "nothing lost by the truncation");
        drop(writer);
    }
}
