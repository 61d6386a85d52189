//! Moving one store's contents into another (`earshot store migrate`): the
//! rows go over as call bundles do (every version, the request log,
//! forwards, replays, Keep), in windows of arrival time so no more than
//! about [`WINDOW`] recordings are in memory at once, each window imported
//! all-or-nothing by the target's writer. Import skips what is already
//! there, so running it again adds nothing.

use std::time::Instant;

use crate::bundle::{ImportReport, Selection};
use crate::store::{Committed, Job, Store, StoreError, WriteError};

/// Recordings per window.
pub const WINDOW: usize = 100;

/// Why a transfer stopped (what was imported before stays: each window is whole).
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// Reading the source failed.
    #[error("reading {store}: {source}")]
    Read {
        /// The source, described.
        store: String,
        /// What failed.
        source: StoreError,
    },
    /// The target refused a window.
    #[error("writing {store}: {source}")]
    Write {
        /// The target, described.
        store: String,
        /// What failed.
        source: WriteError,
    },
}

/// One window done.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Which window (from 1).
    pub window: usize,
    /// How many there are.
    pub windows: usize,
    /// What this window added.
    pub report: ImportReport,
}

/// `[after, before)` bounds that cut the arrival times into windows of about
/// [`WINDOW`] recordings; the first starts at the beginning of time and the
/// last never ends, so every request lands in exactly one.
fn windows(mut times: Vec<String>) -> Vec<(Option<String>, Option<String>)> {
    times.sort();
    let mut cuts: Vec<String> = times.iter().skip(WINDOW).step_by(WINDOW).cloned().collect();
    cuts.dedup();
    let mut bounds = Vec::with_capacity(cuts.len() + 1);
    let mut after = None;
    for cut in cuts {
        bounds.push((after.take(), Some(cut.clone())));
        after = Some(cut);
    }
    bounds.push((after, None));
    bounds
}

fn add(total: &mut ImportReport, part: &ImportReport) {
    total.calls += part.calls;
    total.added += part.added;
    total.skipped += part.skipped;
    total.conflicts += part.conflicts;
    total.requests += part.requests;
    total.skipped_ids.extend(part.skipped_ids.iter().cloned());
    total.conflict_ids.extend(part.conflict_ids.iter().cloned());
}

/// Copies everything in `from` into `to`, calling `progress` after each window.
pub async fn transfer(
    from: &Store,
    to: &Store,
    mut progress: impl FnMut(&Progress),
) -> Result<ImportReport, TransferError> {
    let read_error = |source| TransferError::Read { store: from.describe(), source };
    let reader = from.clone();
    let times = tokio::task::spawn_blocking(move || reader.recordings(None))
        .await
        .map_err(|e| read_error(StoreError::postgres(format!("reading stopped: {e}"), None)))?
        .map_err(read_error)?
        .into_iter()
        .map(|r| r.received_at)
        .collect();
    let bounds = windows(times);
    let writer = to.writer().map_err(|source| TransferError::Read { store: to.describe(), source })?;
    let mut total = ImportReport::default();
    for (index, (after, before)) in bounds.iter().enumerate() {
        let selection = Selection { sessions: None, after: after.clone(), before: before.clone() };
        let reader = from.clone();
        let snapshot = tokio::task::spawn_blocking(move || reader.bundle_rows(&selection))
            .await
            .map_err(|e| read_error(StoreError::postgres(format!("reading stopped: {e}"), None)))?
            .map_err(read_error)?;
        let job = Job::Import { snapshot: Box::new(snapshot), origin: from.describe() };
        let report = match writer.submit(job, Instant::now()).await {
            Ok(Committed::Imported(report)) => *report,
            Ok(_) => ImportReport::default(),
            Err(source) => return Err(TransferError::Write { store: to.describe(), source }),
        };
        add(&mut total, &report);
        progress(&Progress { window: index + 1, windows: bounds.len(), report });
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::{WINDOW, windows};

    #[test]
    fn windows_cover_all_time_without_overlap() {
        let times: Vec<String> =
            (0..(WINDOW * 2 + 5)).map(|i| format!("2026-01-01T00:00:{:02}.{:03}Z", i / 1000, i % 1000)).collect();
        let bounds = windows(times.clone());
        assert_eq!(bounds.len(), 3);
        assert_eq!(bounds[0].0, None);
        assert_eq!(bounds[2].1, None);
        assert_eq!(bounds[0].1, bounds[1].0, "each window starts where the last ended");
        assert_eq!(windows(Vec::new()), vec![(None, None)]);
    }
}
