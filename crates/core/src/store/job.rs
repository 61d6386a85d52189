//! Writes as values: every change to the store, the listener's and the
//! user's alike, is a [`Job`] handed to the store's one writer, which folds
//! waiting jobs into one transaction and answers each once it has committed.
//!
//! The handle is backend-neutral: it is a channel; the backend owns the loop
//! that drains it.

use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::model::{NewRecording, NewRequest, Outcome};
use crate::store::StoreError;

/// One write.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Job {
    /// A delivery whose audio was read: store the recording (or match an
    /// identical one already stored) and log the request that carried it, in
    /// one transaction.
    StoreRecording {
        /// The request log entry.
        request: NewRequest,
        /// The recording.
        recording: Box<NewRecording>,
    },
    /// A request with nothing to store (refused, a browser's GET, a failed
    /// write): log it.
    LogRequest {
        /// The request log entry.
        request: NewRequest,
    },
}

/// What a committed job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// Row id of the request log entry.
    pub request_id: i64,
    /// Row id of the recording the request stored or matched, if any.
    pub recording_row: Option<i64>,
    /// Version of that recording.
    pub version: Option<u32>,
    /// What happened to the audio.
    pub outcome: Outcome,
}

/// A write that failed; the message is the database's own (e.g. "database or disk is full").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WriteError(pub String);

/// A job on its way to the writer, with when its request arrived (for the
/// logged latency) and where to send the answer.
#[derive(Debug)]
pub(crate) struct Envelope {
    pub(crate) job: Job,
    pub(crate) started: Instant,
    pub(crate) reply: oneshot::Sender<Result<Committed, String>>,
}

/// Sends jobs to the store's writer. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<Envelope>,
}

impl Writer {
    pub(crate) fn new(tx: mpsc::Sender<Envelope>) -> Writer {
        Writer { tx }
    }

    /// Queues `job` and returns once the transaction holding it has
    /// committed. `started` is when the request arrived.
    pub async fn submit(&self, job: Job, started: Instant) -> Result<Committed, WriteError> {
        let (reply, answer) = oneshot::channel();
        let gone = || WriteError(StoreError::WriterGone.to_string());
        self.tx.send(Envelope { job, started, reply }).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?.map_err(WriteError)
    }
}
