//! Recordings of a call, one recording's detail, and its waveform.

use earshot_audio as audio;
use earshot_audio::{self as waveform, Peak};
use earshot_core::RecordingDetail;
use earshot_core::RecordingSummary;
use tauri::State;

use super::blocking;
use crate::error::IpcResult;
use crate::state::Desktop;

/// Widest waveform drawn; wider requests are clamped.
const MAX_WIDTH: usize = 4096;

/// Recordings of one call in time order.
#[tauri::command]
pub async fn list_recordings(state: State<'_, Desktop>, session_id: String) -> IpcResult<Vec<RecordingSummary>> {
    blocking(state.store(), move |store| Ok(store.recordings(Some(&session_id))?)).await
}

/// Metadata, token, headers and summary of one recording.
#[tauri::command]
pub async fn recording_detail(state: State<'_, Desktop>, row: i64) -> IpcResult<RecordingDetail> {
    blocking(state.store(), move |store| Ok(store.recording_detail(row)?)).await
}

/// Min/max peaks of the decoded audio for a drawing `width` pixels wide.
#[tauri::command]
pub async fn waveform(state: State<'_, Desktop>, row: i64, width: usize) -> IpcResult<Vec<Peak>> {
    let width = width.clamp(1, MAX_WIDTH);
    if let Some(peaks) = state.cached_waveform((row, width)) {
        return Ok(peaks);
    }
    let peaks = blocking(state.store(), move |store| {
        let recording = store.recording_row(row)?;
        let samples = audio::decode_pcm16(&store.audio(row)?, &recording.audio);
        Ok(waveform::peaks(&samples, recording.channels, width))
    })
    .await?;
    state.cache_waveform((row, width), peaks.clone());
    Ok(peaks)
}
