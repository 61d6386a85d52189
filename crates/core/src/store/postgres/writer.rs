//! The PostgreSQL writer: one thread per process that drains waiting jobs,
//! commits them in one transaction (a savepoint each, so one failing job
//! does not undo its neighbours), sends their change events to the other
//! processes with `pg_notify` inside that transaction, and answers each job
//! only after `COMMIT` returned. Several listeners' writers share the
//! database; the unique indexes decide between them. A job that lost a race
//! for a row (unique violation) is rolled back to its savepoint and run again,
//! reading afresh. Two groups that store the same recording ids take those
//! ids' locks in one order, so they wait for each other instead of
//! deadlocking; should a deadlock or serialization failure still happen, the
//! whole group is rolled back, which frees the other group, and run again.
//!
//! When the server is unreachable every job of the group fails (the intake
//! answers 503) and the next group asks the pool for a new connection, so
//! the listener recovers by itself once the database is back.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::sql::Db;
use super::{Shared, answers, lifecycle, notify, recordings, requests, reviews};
use crate::events::Event;
use crate::model::{
    Answer, ForwardMode, NewRecording, NewReplay, NewRequest, Outcome, RecordingAnalysis, Review, ReviewChange,
};
use crate::store::apply::{Writes, apply};
use crate::store::job::{self, Envelope, gather};
use crate::store::{Committed, DeleteTarget, Job, Removed, RetentionPolicy, Snapshot, StoreError, Writer};

/// How often a job, or a group, that lost a race to another listener is run again.
const RACE_RETRIES: usize = 5;

/// SQLSTATE of a lost race for one row: unique violation. The job runs again from its savepoint.
const ROW_RACE: &str = "23505";

/// SQLSTATEs of a lost race between transactions: deadlock detected, serialization failure.
/// The group's locks must go, so the whole transaction runs again.
const TRANSACTION_RACES: [&str; 2] = ["40P01", "40001"];

/// The first key of the advisory locks on recording ids ("rec" in ASCII),
/// apart from the migrations' single-key lock.
const RECORDING_LOCKS: i32 = 0x0072_6563;

/// Starts the writer thread.
pub(super) fn start(shared: Arc<Shared>) -> Result<Writer, StoreError> {
    let (tx, rx) = mpsc::channel(job::QUEUE);
    std::thread::Builder::new()
        .name("earshot-pg-writer".into())
        .spawn(move || write_loop(&shared, rx))
        .map_err(|e| StoreError::postgres(format!("cannot start the writer thread: {e}"), None))?;
    Ok(Writer::new(tx))
}

fn write_loop(shared: &Shared, mut rx: mpsc::Receiver<Envelope>) {
    let handle = shared.runtime.handle();
    let mut client: Option<deadpool_postgres::Client> = None;
    while let Some(first) = rx.blocking_recv() {
        let (compactions, group): (Vec<Envelope>, Vec<Envelope>) =
            gather(first, &mut rx).into_iter().partition(|e| matches!(e.job, Job::Compact));
        if client.is_none() {
            client = handle
                .block_on(shared.pool.get())
                .map_err(|e| tracing::warn!(target: "earshot::store", "{}", shared.fault(e.into())))
                .ok();
        }
        let results = match &client {
            Some(c) => commit_with_retries(&Db { client: c, handle }, &group, &shared.origin),
            None => Err(shared.fault(StoreError::postgres("the server cannot be reached".into(), None))),
        };
        let results = results.unwrap_or_else(|fault| {
            // The connection is gone or the transaction failed as a whole; the next group takes a fresh one.
            client = None;
            group.iter().map(|_| Err(fault.clone())).collect()
        });
        for (envelope, result) in group.into_iter().zip(results) {
            publish(&shared.events, &envelope.job, &result);
            // The caller may have gone (client hung up); the write stands regardless.
            let _ = envelope.reply.send(result);
        }
        for envelope in compactions {
            let result = match &client {
                Some(c) => compact(&Db { client: c, handle }).map_err(|e| shared.fault(e)),
                None => Err(shared.fault(StoreError::postgres("the server cannot be reached".into(), None))),
            };
            let _ = envelope.reply.send(result);
        }
    }
}

/// Tells this process's subscribers what a job changed, or that the store is failing.
fn publish(events: &tokio::sync::broadcast::Sender<Event>, job: &Job, result: &Result<Committed, String>) {
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

/// Commits `group`, running it again while it loses races between
/// transactions. `Err` when the transaction as a whole failed (nothing of
/// it committed); otherwise one result per job.
fn commit_with_retries(
    db: &Db<'_>,
    group: &[Envelope],
    origin: &str,
) -> Result<Vec<Result<Committed, String>>, String> {
    let mut attempt = 0;
    loop {
        match commit_group(db, group, origin) {
            Ok(results) => return Ok(results),
            Err(JobFailed::Transaction(e)) if attempt < RACE_RETRIES => {
                attempt += 1;
                tracing::debug!(target: "earshot::store", "group of {} runs again ({attempt}): {e}", group.len());
            }
            Err(JobFailed::Transaction(e) | JobFailed::Group(e) | JobFailed::Alone(e)) => return Err(e.to_string()),
        }
    }
}

/// Commits `group` in one transaction: one result per job, or why the
/// transaction as a whole failed (then it is rolled back).
fn commit_group(db: &Db<'_>, group: &[Envelope], origin: &str) -> Result<Vec<Result<Committed, String>>, JobFailed> {
    let whole = JobFailed::Group;
    db.batch("BEGIN").map_err(whole)?;
    if let Err(e) = lock_recording_ids(db, group) {
        let _ = db.batch("ROLLBACK");
        return Err(e);
    }
    let mut results = Vec::with_capacity(group.len());
    let mut payloads = Vec::new();
    for envelope in group {
        match apply_with_retries(db, envelope) {
            Ok(done) => {
                payloads.extend(envelope.job.events(&done).iter().filter_map(|e| notify::payload(origin, e)));
                results.push(Ok(done));
            }
            Err(JobFailed::Alone(e)) => results.push(Err(e.to_string())),
            Err(failed) => {
                let _ = db.batch("ROLLBACK");
                return Err(failed);
            }
        }
    }
    if !payloads.is_empty() {
        // One round trip for the group; each event is its own notification (8,000 bytes at most each).
        db.execute(&format!("SELECT pg_notify('{}', p) FROM unnest($1::TEXT[]) AS p", notify::CHANNEL), &[&payloads])
            .map_err(whole)?;
    }
    db.batch("COMMIT").map_err(whole)?;
    Ok(results)
}

/// Takes, in one order for every writer, a transaction lock on each
/// recording id that `group` stores. Two groups storing the same ids in
/// different orders would otherwise each hold one row the other waits for.
fn lock_recording_ids(db: &Db<'_>, group: &[Envelope]) -> Result<(), JobFailed> {
    let ids: Vec<&str> = group
        .iter()
        .filter_map(|e| match &e.job {
            Job::StoreRecording { recording, .. } => Some(recording.metadata.recording_id.as_str()),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    db.execute(
        "SELECT pg_advisory_xact_lock($1, k)
           FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest($2::TEXT[]) AS id ORDER BY k) AS keys",
        &[&RECORDING_LOCKS, &ids],
    )
    .map(drop)
    .map_err(|e| if is_race(&e, &TRANSACTION_RACES) { JobFailed::Transaction(e) } else { JobFailed::Group(e) })
}

fn is_race(error: &StoreError, codes: &[&str]) -> bool {
    matches!(error, StoreError::Postgres { code: Some(code), .. } if codes.contains(&code.as_str()))
}

/// Why a job did not commit.
enum JobFailed {
    /// This job only (its savepoint was rolled back).
    Alone(StoreError),
    /// The transaction lost a race with another one: the whole group runs again.
    Transaction(StoreError),
    /// The connection or the transaction is gone: the whole group fails.
    Group(StoreError),
}

fn apply_with_retries(db: &Db<'_>, envelope: &Envelope) -> Result<Committed, JobFailed> {
    let mut attempt = 0;
    loop {
        db.batch("SAVEPOINT job").map_err(JobFailed::Group)?;
        let error = match apply(db, envelope) {
            Ok(done) => {
                db.batch("RELEASE SAVEPOINT job").map_err(JobFailed::Group)?;
                return Ok(done);
            }
            Err(e) => e,
        };
        db.batch("ROLLBACK TO SAVEPOINT job").map_err(JobFailed::Group)?;
        if is_race(&error, &TRANSACTION_RACES) {
            return Err(JobFailed::Transaction(error));
        }
        attempt += 1;
        if !is_race(&error, &[ROW_RACE]) || attempt > RACE_RETRIES {
            return Err(JobFailed::Alone(error));
        }
    }
}

/// PostgreSQL's statements for each kind of job.
impl Writes for Db<'_> {
    fn recording(&self, recording: &NewRecording) -> Result<(i64, u32, Outcome), StoreError> {
        recordings::insert(self, recording)
    }

    fn request(
        &self,
        request: &NewRequest,
        outcome: Outcome,
        row: Option<i64>,
        latency_us: i64,
    ) -> Result<i64, StoreError> {
        requests::insert(self, request, outcome, row, latency_us)
    }

    fn forward(&self, request_id: i64, status: u16, mode: ForwardMode, answer: &Answer) -> Result<(), StoreError> {
        answers::insert_forward(self, request_id, status, mode, answer)
    }

    fn replay(&self, replay: &NewReplay) -> Result<i64, StoreError> {
        answers::insert_replay(self, replay)
    }

    fn delete(&self, target: &DeleteTarget) -> Result<(Removed, Snapshot), StoreError> {
        lifecycle::delete(self, target)
    }

    fn pin(&self, row: i64, pinned: bool) -> Result<(), StoreError> {
        lifecycle::pin(self, row, pinned)
    }

    fn retain(&self, policy: &RetentionPolicy, now: &str) -> Result<Removed, StoreError> {
        lifecycle::retain(self, policy, now)
    }

    fn review(&self, row: i64, change: &ReviewChange, now: &str) -> Result<Review, StoreError> {
        reviews::apply(self, row, change, now)
    }

    fn analysis(&self, row: i64, analysis: &RecordingAnalysis, now: &str) -> Result<(), StoreError> {
        reviews::store_analysis(self, row, analysis, crate::analysis::ANALYZER, now)
    }

    fn not_in_a_group(&self) -> StoreError {
        StoreError::postgres("compaction cannot run inside a group".into(), None)
    }
}

/// `VACUUM`s Earshot's tables (outside any transaction, as PostgreSQL requires), reporting the size before and after.
fn compact(db: &Db<'_>) -> Result<Committed, StoreError> {
    let before = lifecycle::size(db)?;
    db.batch("VACUUM (ANALYZE) recordings, requests, forwards, replays")?;
    let after = lifecycle::size(db)?;
    Ok(Committed::Compacted { before, after })
}
