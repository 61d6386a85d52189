//! Analysis of stored recordings: computed once per recording (again when
//! [`ANALYZER`] changes), off the request path, and stored through the one
//! writer. The measures themselves are `earshot_audio`'s; this module only
//! decides *when* they are computed and keeps the store up to date.
//!
//! A running listener or app keeps an [`Analyser`]: it catches up on
//! everything not yet analysed when it starts (a database from before
//! analysis existed, with progress), then analyses each new, restored or
//! imported recording as it lands.

use std::sync::Arc;
use std::time::Instant;

use chrono::{SecondsFormat, Utc};
use tokio::sync::broadcast::error::RecvError;

use crate::events::Event;
use crate::model::RecordingAnalysis;
use crate::store::{Committed, Job, Store, StoreError};

/// The analyser's version: stored with each result, so a later Earshot that
/// measures differently recomputes older results.
pub const ANALYZER: u32 = 1;

/// Recordings analysed per round trip to the writer.
const BATCH: usize = 32;

/// How far a catch-up has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Progress {
    /// Recordings analysed so far in this run.
    pub done: u64,
    /// Recordings that needed it when the run started.
    pub total: u64,
}

/// Computes the analysis of recording row `row` from its stored bytes.
pub fn analyse(store: &Store, row: i64) -> Result<RecordingAnalysis, StoreError> {
    let recording = store.recording_row(row)?;
    let bytes = store.audio(row)?;
    Ok(RecordingAnalysis::of(&bytes, &recording.audio, &recording.start_timestamp, &recording.stop_timestamp))
}

/// Analyses and stores every recording that lacks a current analysis,
/// calling `progress` after each batch; returns how many were analysed.
/// Blocking: call it from a thread that may block (or `spawn_blocking`).
pub fn catch_up(store: &Store, progress: &dyn Fn(Progress)) -> Result<u64, StoreError> {
    let (_, total) = store.unanalysed(ANALYZER, 0)?;
    if total == 0 {
        return Ok(0);
    }
    let writer = store.writer()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(io)?;
    let mut done = 0;
    let mut failed = std::collections::HashSet::new();
    loop {
        let (rows, _) = store.unanalysed(ANALYZER, BATCH + failed.len())?;
        let rows: Vec<i64> = rows.into_iter().filter(|row| !failed.contains(row)).take(BATCH).collect();
        if rows.is_empty() {
            return Ok(done);
        }
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let jobs: Vec<(i64, Job)> = rows
            .iter()
            .filter_map(|&row| match analyse(store, row) {
                Ok(analysis) => Some((row, Job::StoreAnalysis { row, analysis: Box::new(analysis), now: now.clone() })),
                // Deleted since it was listed, or unreadable: skip it rather than stop the run.
                Err(e) => {
                    tracing::warn!(target: "earshot::analysis", "recording row {row} cannot be analysed: {e}");
                    failed.insert(row);
                    None
                }
            })
            .collect();
        let results = runtime.block_on(futures_util::future::join_all(jobs.into_iter().map(|(row, job)| {
            let writer = writer.clone();
            async move { (row, writer.submit(job, Instant::now()).await) }
        })));
        for (row, result) in results {
            match result {
                Ok(Committed::Analysed) => done += 1,
                Ok(other) => return Err(StoreError::Failed(format!("the store answered an analysis with {other:?}"))),
                Err(e) => {
                    tracing::warn!(target: "earshot::analysis", "analysis of row {row} not stored: {e}");
                    failed.insert(row);
                }
            }
        }
        progress(Progress { done, total: total.max(done) });
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Failed(format!("cannot start the analyser: {e}"))
}

/// Keeps a store's analyses up to date while it runs; stops when dropped.
#[derive(Debug)]
pub struct Analyser {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Analyser {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Analyser {
    /// Catches up now, then after every commit that adds recordings.
    /// `progress` hears each catch-up's batches (the app shows them).
    pub fn start(store: Store, progress: Arc<dyn Fn(Progress) + Send + Sync>) -> Analyser {
        let mut events = store.subscribe();
        let task = tokio::spawn(async move {
            loop {
                let (store_, progress_) = (store.clone(), progress.clone());
                let started = Instant::now();
                match tokio::task::spawn_blocking(move || catch_up(&store_, &*progress_)).await {
                    Ok(Ok(0)) => {}
                    Ok(Ok(count)) => tracing::info!(
                        target: "earshot::analysis",
                        "analysed {count} recordings in {:.1} s",
                        started.elapsed().as_secs_f64()
                    ),
                    Ok(Err(e)) => tracing::warn!(target: "earshot::analysis", "analysis could not run: {e}"),
                    Err(_) => return,
                }
                // Wait for something to analyse; coalesce a burst into one run.
                loop {
                    match events.recv().await {
                        Ok(Event::RecordingStored { .. } | Event::Restored { .. } | Event::Imported { .. })
                        | Err(RecvError::Lagged(_)) => break,
                        Ok(_) => {}
                        Err(RecvError::Closed) => return,
                    }
                }
                while events.try_recv().is_ok() {}
            }
        });
        Analyser { task }
    }
}
