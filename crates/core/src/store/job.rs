//! Writes as values: every change to the store, the listener's and the
//! user's alike, is a [`Job`] handed to the store's one writer, which folds
//! waiting jobs into one transaction and answers each once it has committed.
//!
//! The handle is backend-neutral: it is a channel; the backend owns the loop
//! that drains it.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::events::Event;
use crate::model::{
    Answer, ForwardMode, NewRecording, NewReplay, NewRequest, Outcome, RecordingAnalysis, Review, ReviewChange,
};
use crate::store::StoreError;
use crate::store::lifecycle::{DeleteTarget, Removed, RetentionPolicy, Snapshot, StoreSize};

/// Most jobs folded into one transaction; bounds the latency of the first job in a group.
pub(crate) const MAX_GROUP: usize = 64;

/// Jobs that may wait for the writer before senders wait in turn.
pub(crate) const QUEUE: usize = 1024;

/// How long a group of bookkeeping jobs alone (upstream answers, analyses) waits for
/// company: a forwarded request's answer is written after the sender was
/// answered, so on its own it would cost the next delivery a second fsync;
/// waiting lets it ride in that delivery's transaction instead.
const BOOKKEEPING_WAIT: Duration = Duration::from_millis(25);

/// The group the writer commits next: `first` and whatever else is waiting,
/// up to [`MAX_GROUP`]; a group of bookkeeping alone waits up to
/// [`BOOKKEEPING_WAIT`] for a delivery to ride with. Runs on the writer's thread.
pub(crate) fn gather(first: Envelope, rx: &mut mpsc::Receiver<Envelope>) -> Vec<Envelope> {
    let mut group = vec![first];
    while group.len() < MAX_GROUP {
        match rx.try_recv() {
            Ok(envelope) => group.push(envelope),
            Err(_) => break,
        }
    }
    let deadline = Instant::now() + BOOKKEEPING_WAIT;
    while group.len() < MAX_GROUP
        && group.iter().all(|e| matches!(e.job, Job::RecordForward { .. } | Job::StoreAnalysis { .. }))
        && Instant::now() < deadline
    {
        match rx.try_recv() {
            Ok(envelope) => group.push(envelope),
            Err(mpsc::error::TryRecvError::Empty) => std::thread::sleep(Duration::from_millis(1)),
            Err(mpsc::error::TryRecvError::Disconnected) => break,
        }
    }
    group
}

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
    /// What the user's service answered to a forwarded request, and the
    /// status the sender finally got (which the entry's `status` becomes).
    RecordForward {
        /// The request log entry forwarded.
        request_id: i64,
        /// The call, for the change event.
        session_id: Option<String>,
        /// The status sent back to the sender.
        status: u16,
        /// `pass` or `tee`.
        mode: ForwardMode,
        /// The answer.
        answer: Box<Answer>,
    },
    /// A stored request or recording was sent again.
    RecordReplay {
        /// What was sent and answered.
        replay: Box<NewReplay>,
    },
    /// Remove what `target` names, for real: the bytes are overwritten and the
    /// WAL is truncated after the commit. Answers with what was taken, for Undo.
    Delete {
        /// What to remove.
        target: DeleteTarget,
    },
    /// Put back exactly what a [`Job::Delete`] took (the app's Undo).
    Restore {
        /// What the delete answered with.
        snapshot: Box<Snapshot>,
    },
    /// Keep (or stop keeping) a recording version: retention never removes a call that holds a kept one.
    Pin {
        /// The recording row.
        row: i64,
        /// Keep it.
        pinned: bool,
    },
    /// Apply a retention policy as of `now` (RFC 3339): whole calls, oldest first, kept ones skipped.
    Retain {
        /// The policy.
        policy: RetentionPolicy,
        /// "Now", passed in so tests control it.
        now: String,
    },
    /// Rebuild the database file to give free pages back (and switch on incremental vacuum).
    Compact,
    /// Change a recording version's review (verdict, note, tags, markers) as a
    /// delta, so changes from several apps at once all stand.
    Review {
        /// The recording row.
        row: i64,
        /// What to change.
        change: ReviewChange,
        /// When (RFC 3339), passed in so tests control it.
        now: String,
    },
    /// Store a recording's analysis (computed outside the writer).
    StoreAnalysis {
        /// The recording row.
        row: i64,
        /// The result.
        analysis: Box<RecordingAnalysis>,
        /// When it was computed (RFC 3339).
        now: String,
    },
    /// Add a bundle's rows, all or none (see [`crate::bundle`]).
    Import {
        /// The rows, already checked.
        snapshot: Box<Snapshot>,
        /// Where they came from (the bundle's file name), kept on each recording.
        origin: String,
    },
}

/// What a committed job did.
#[derive(Debug, Clone, PartialEq)]
pub enum Committed {
    /// A request log entry was written ([`Job::StoreRecording`], [`Job::LogRequest`]).
    Logged(Logged),
    /// An upstream answer was recorded ([`Job::RecordForward`]).
    Answered {
        /// The request log entry it belongs to.
        request_id: i64,
    },
    /// A replay was recorded ([`Job::RecordReplay`]).
    Replayed {
        /// Its row id.
        replay_id: i64,
    },
    /// Rows were removed ([`Job::Delete`], [`Job::Retain`]).
    Deleted {
        /// What went.
        removed: Removed,
        /// The rows, for Undo (empty for retention).
        snapshot: Box<Snapshot>,
    },
    /// Rows were put back ([`Job::Restore`]).
    Restored {
        /// What came back.
        restored: Removed,
    },
    /// A recording's Keep changed ([`Job::Pin`]).
    Pinned,
    /// A review changed ([`Job::Review`]); the review as it now stands.
    Reviewed(Box<Review>),
    /// An analysis was stored ([`Job::StoreAnalysis`]).
    Analysed,
    /// A bundle was imported ([`Job::Import`]).
    Imported(Box<crate::bundle::ImportReport>),
    /// The file was rebuilt ([`Job::Compact`]).
    Compacted {
        /// Before.
        before: StoreSize,
        /// After.
        after: StoreSize,
    },
}

impl Job {
    /// What subscribers are told once this job has committed with `done`.
    pub(crate) fn events(&self, done: &Committed) -> Vec<Event> {
        let logged = |request: &NewRequest, done: &Logged| Event::RequestLogged {
            request_id: done.request_id,
            status: request.status,
            outcome: done.outcome,
            session_id: request.session_id.clone(),
        };
        match (self, done) {
            (Job::StoreRecording { request, recording }, Committed::Logged(done)) => {
                let mut events = Vec::with_capacity(2);
                if let (Some(row), Some(version)) = (done.recording_row, done.version)
                    && done.outcome != Outcome::Duplicate
                {
                    events.push(Event::RecordingStored {
                        row,
                        recording_id: recording.metadata.recording_id.clone(),
                        session_id: recording.metadata.session_id.clone(),
                        version,
                    });
                }
                events.push(logged(request, done));
                events
            }
            (Job::LogRequest { request }, Committed::Logged(done)) => vec![logged(request, done)],
            (Job::RecordForward { request_id, session_id, answer, .. }, _) => vec![Event::ForwardAnswered {
                request_id: *request_id,
                upstream_status: answer.status,
                session_id: session_id.clone(),
            }],
            (Job::RecordReplay { replay }, Committed::Replayed { replay_id }) => vec![Event::Replayed {
                replay_id: *replay_id,
                replay_of: replay.request_id,
                recording_row: replay.recording_row,
            }],
            (_, Committed::Deleted { removed, .. }) => vec![Event::Removed { removed: *removed }],
            (_, Committed::Imported(report)) => vec![Event::Imported { added: report.added, calls: report.calls }],
            (_, Committed::Restored { restored }) => vec![Event::Restored { restored: *restored }],
            (Job::Pin { row, pinned }, Committed::Pinned) => vec![Event::Pinned { row: *row, pinned: *pinned }],
            (Job::Review { row, .. }, Committed::Reviewed(review)) => {
                vec![Event::Reviewed { row: *row, verdict: review.verdict }]
            }
            (Job::StoreAnalysis { row, analysis, .. }, Committed::Analysed) => {
                vec![Event::Analysed { row: *row, flags: analysis.flags.clone() }]
            }
            _ => Vec::new(),
        }
    }
}

impl Committed {
    /// The request log entry written, for the jobs that write one.
    pub fn logged(&self) -> Option<Logged> {
        match *self {
            Committed::Logged(logged) => Some(logged),
            _ => None,
        }
    }
}

/// What a committed request log job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logged {
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
