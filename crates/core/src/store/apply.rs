//! What a job does, once for every backend: [`Writes`] is the handful of
//! statements a backend's writer runs for each kind of job (inside its
//! transaction), and [`apply`] turns a job into those calls and the
//! [`Committed`] answer, so both stores answer every job the same way.

use crate::model::{
    Answer, ForwardMode, NewRecording, NewReplay, NewRequest, Outcome, RecordingAnalysis, Review, ReviewChange,
};
use crate::store::job::Envelope;
use crate::store::rows::{self, Tables};
use crate::store::{Committed, DeleteTarget, Job, Logged, Removed, RetentionPolicy, Snapshot};

/// A backend's writes, inside its writer's transaction.
pub(crate) trait Writes: Tables {
    /// Stores a recording or finds its identical twin: (row, version, outcome).
    fn recording(&self, recording: &NewRecording) -> Result<(i64, u32, Outcome), Self::Error>;

    /// Logs a request, linked to the recording it delivered; its id.
    fn request(
        &self,
        request: &NewRequest,
        outcome: Outcome,
        recording_row: Option<i64>,
        latency_us: i64,
    ) -> Result<i64, Self::Error>;

    /// Records the answer to a forwarded request and the sender's final status.
    fn forward(&self, request_id: i64, status: u16, mode: ForwardMode, answer: &Answer) -> Result<(), Self::Error>;

    /// Records a replay; its id.
    fn replay(&self, replay: &NewReplay) -> Result<i64, Self::Error>;

    /// Removes what `target` names: what went and the rows, for Undo.
    fn delete(&self, target: &DeleteTarget) -> Result<(Removed, Snapshot), Self::Error>;

    /// Sets a recording version's Keep.
    fn pin(&self, row: i64, pinned: bool) -> Result<(), Self::Error>;

    /// Applies a retention policy as of `now`.
    fn retain(&self, policy: &RetentionPolicy, now: &str) -> Result<Removed, Self::Error>;

    /// Applies a review change; the review as it now stands.
    fn review(&self, row: i64, change: &ReviewChange, now: &str) -> Result<Review, Self::Error>;

    /// Stores a recording's analysis.
    fn analysis(&self, row: i64, analysis: &RecordingAnalysis, now: &str) -> Result<(), Self::Error>;

    /// The error for a job that cannot run inside a group (compaction).
    fn not_in_a_group(&self) -> Self::Error;
}

/// Runs `envelope`'s job on `db`; what it committed.
pub(crate) fn apply<W: Writes>(db: &W, envelope: &Envelope) -> Result<Committed, W::Error> {
    let latency_us = || envelope.started.elapsed().as_micros() as i64;
    Ok(match &envelope.job {
        Job::StoreRecording { request, recording } => {
            let (row, version, outcome) = db.recording(recording)?;
            let request_id = db.request(request, outcome, Some(row), latency_us())?;
            Committed::Logged(Logged { request_id, recording_row: Some(row), version: Some(version), outcome })
        }
        Job::LogRequest { request } => {
            let request_id = db.request(request, request.outcome, None, latency_us())?;
            Committed::Logged(Logged { request_id, recording_row: None, version: None, outcome: request.outcome })
        }
        Job::RecordForward { request_id, status, mode, answer, .. } => {
            db.forward(*request_id, *status, *mode, answer)?;
            Committed::Answered { request_id: *request_id }
        }
        Job::RecordReplay { replay } => Committed::Replayed { replay_id: db.replay(replay)? },
        Job::Delete { target } => {
            let (removed, snapshot) = db.delete(target)?;
            Committed::Deleted { removed, snapshot: Box::new(snapshot) }
        }
        Job::Restore { snapshot } => Committed::Restored { restored: rows::restore(db, snapshot)? },
        Job::Pin { row, pinned } => db.pin(*row, *pinned).map(|()| Committed::Pinned)?,
        Job::Retain { policy, now } => {
            Committed::Deleted { removed: db.retain(policy, now)?, snapshot: Box::default() }
        }
        Job::Import { snapshot, origin } => Committed::Imported(Box::new(rows::import(db, snapshot, origin)?)),
        Job::Review { row, change, now } => Committed::Reviewed(Box::new(db.review(*row, change, now)?)),
        Job::StoreAnalysis { row, analysis, now } => db.analysis(*row, analysis, now).map(|()| Committed::Analysed)?,
        // Taken out of the group before it is committed (each writer runs it on its own).
        Job::Compact => return Err(db.not_in_a_group()),
    })
}
