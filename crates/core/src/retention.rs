//! Retention: applying a [`RetentionPolicy`] on start and every hour, whole
//! calls at a time, oldest first, kept (pinned) ones skipped, each run
//! logged. The removal itself is a [`Job::Retain`] through the store's one
//! writer, so it never races the listener.

use std::time::{Duration, Instant};

use chrono::SecondsFormat;

use crate::intake::Clock;
use crate::store::{Committed, Job, Removed, RetentionPolicy, Store, WriteError};

/// How often a running Earshot applies its policy.
pub const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Applies `policy` once, as of `clock`'s now.
pub async fn apply(store: &Store, policy: RetentionPolicy, clock: &Clock) -> Result<Removed, WriteError> {
    if !policy.is_on() {
        return Ok(Removed::default());
    }
    let now = clock().to_rfc3339_opts(SecondsFormat::Millis, true);
    let writer = store.writer().map_err(|e| WriteError(e.to_string()))?;
    match writer.submit(Job::Retain { policy, now }, Instant::now()).await? {
        Committed::Deleted { removed, .. } => {
            tracing::info!(target: "earshot::retention", "retention removed {removed}");
            Ok(removed)
        }
        other => Err(WriteError(format!("the store answered retention with {other:?}"))),
    }
}

/// A retention schedule; stops when dropped.
#[derive(Debug)]
pub struct Schedule {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Schedule {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Applies `policy` now and then every `every`, until the [`Schedule`] is dropped.
pub fn schedule(store: Store, policy: RetentionPolicy, clock: Clock, every: Duration) -> Schedule {
    let task = tokio::spawn(async move {
        loop {
            if let Err(e) = apply(&store, policy, &clock).await {
                tracing::warn!(target: "earshot::retention", "retention could not run: {e}");
            }
            tokio::time::sleep(every).await;
        }
    });
    Schedule { task }
}
