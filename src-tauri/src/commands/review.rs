//! QA review from the app: a recording's review changes (through the store's
//! one writer, as deltas), the tags in use for suggestions, its analysis
//! (computed now if the analyser has not reached it yet) and the
//! spectrogram drawn under the waveform, cached like the waveform; and the
//! review report a QA lead gets (CSV or one self-contained HTML page).

use std::time::Instant;

use std::path::PathBuf;

use earshot_audio::Spectrogram;
use earshot_core::report::{self, ReportFormat, ReportSummary};
use earshot_core::{Committed, Job, RecordingAnalysis, Review, ReviewChange, ReviewFilter, TagCount};
use tauri::State;
use tauri::ipc::Channel;

use super::blocking;
use crate::error::{IpcError, IpcResult};
use crate::state::Desktop;

/// Largest spectrogram drawn; larger requests are clamped.
const MAX_SIDE: usize = 4096;

/// Changes a recording version's review and returns it as it now stands.
#[tauri::command]
pub async fn review(state: State<'_, Desktop>, row: i64, change: ReviewChange) -> IpcResult<Review> {
    let change = change.checked().map_err(|message| IpcError::new("bad_review", message))?;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let writer = state.store().writer()?;
    match writer.submit(Job::Review { row, change, now }, Instant::now()).await {
        Ok(Committed::Reviewed(review)) => Ok(*review),
        Ok(other) => Err(IpcError::new("internal", format!("the store answered a review with {other:?}"))),
        Err(e) => Err(IpcError::new("store", e.to_string())),
    }
}

/// Every tag in use, most used first.
#[tauri::command]
pub async fn review_tags(state: State<'_, Desktop>) -> IpcResult<Vec<TagCount>> {
    blocking(state.store(), |store| Ok(store.tags()?)).await
}

/// A recording's analysis; computed and stored now when it has none yet.
#[tauri::command]
pub async fn analysis(state: State<'_, Desktop>, row: i64) -> IpcResult<RecordingAnalysis> {
    let store = state.store();
    let (stored, computed) = blocking(store.clone(), move |store| {
        let recording = store.recording_row(row)?;
        match recording.analysis {
            Some(analysis) => Ok((Some(analysis), None)),
            None => Ok((None, Some(earshot_core::analysis::analyse(&store, row)?))),
        }
    })
    .await?;
    if let Some(analysis) = stored {
        return Ok(analysis);
    }
    let analysis = computed.expect("computed when not stored");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let job = Job::StoreAnalysis { row, analysis: Box::new(analysis.clone()), now };
    store.writer()?.submit(job, Instant::now()).await.map_err(|e| IpcError::new("store", e.to_string()))?;
    Ok(analysis)
}

/// The spectrogram of a recording for a picture `width` × `height` pixels.
#[tauri::command]
pub async fn spectrogram(state: State<'_, Desktop>, row: i64, width: usize, height: usize) -> IpcResult<Spectrogram> {
    let key = (row, width.clamp(1, MAX_SIDE), height.clamp(1, MAX_SIDE));
    if let Some(picture) = state.cached_spectrogram(key) {
        return Ok(picture);
    }
    let picture = blocking(state.store(), move |store| {
        let recording = store.recording_row(row)?;
        Ok(earshot_audio::spectrogram(&store.audio(row)?, &recording.audio, key.1, key.2))
    })
    .await?;
    state.cache_spectrogram(key, picture.clone());
    Ok(picture)
}

/// How far a report has come: recordings written of those selected.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct ReportProgress {
    /// Written so far.
    pub done: u64,
    /// Selected.
    pub total: u64,
}

/// Writes the recordings `filter` picks to `path` as a CSV or HTML report, reporting progress.
#[tauri::command]
pub async fn export_report(
    state: State<'_, Desktop>,
    filter: ReviewFilter,
    format: ReportFormat,
    path: PathBuf,
    on_progress: Channel<ReportProgress>,
) -> IpcResult<ReportSummary> {
    blocking(state.store(), move |store| {
        let progress = |done, total| {
            let _ = on_progress.send(ReportProgress { done, total });
        };
        report::write(&store, &filter, format, &path, &progress).map_err(|e| match e {
            report::ReportError::NothingMatched(_) => IpcError::new("nothing_matched", e.to_string()),
            report::ReportError::Store(e) => e.into(),
            report::ReportError::Write { .. } => IpcError::new("io", e.to_string()),
        })
    })
    .await
}
