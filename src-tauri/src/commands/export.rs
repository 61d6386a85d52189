//! Writing recordings to files chosen in the native dialogs.

use std::path::PathBuf;

use earshot_core::export::{self, Format};
use serde::Serialize;
use tauri::State;
use tauri::ipc::Channel;

use super::blocking;
use crate::error::IpcResult;
use crate::state::Desktop;

/// Progress of a multi-file export, streamed over a channel.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ExportProgress {
    /// Files written so far.
    pub done: usize,
    /// Files in all.
    pub total: usize,
}

/// Writes one recording to `path`; returns the path written.
#[tauri::command]
pub async fn export_recording(state: State<'_, Desktop>, row: i64, format: Format, path: PathBuf) -> IpcResult<String> {
    blocking(state.store(), move |store| {
        let recording = store.recording_row(row)?;
        export::export_to(&store, &recording, format, &path)?;
        Ok(path.display().to_string())
    })
    .await
}

/// The file name Earshot suggests for a recording in a format.
#[tauri::command]
pub async fn export_file_name(state: State<'_, Desktop>, row: i64, format: Format) -> IpcResult<String> {
    blocking(state.store(), move |store| Ok(export::file_name(&store.recording_row(row)?, format))).await
}

/// Writes every recording of a call into `dir`, reporting progress; returns the files written.
#[tauri::command]
pub async fn export_session(
    state: State<'_, Desktop>,
    session_id: String,
    format: Format,
    dir: PathBuf,
    on_progress: Channel<ExportProgress>,
) -> IpcResult<Vec<String>> {
    blocking(state.store(), move |store| {
        let files = export::export_session(&store, &session_id, format, &dir, |done, total| {
            let _ = on_progress.send(ExportProgress { done, total });
        })?;
        Ok(files.into_iter().map(|f| f.display().to_string()).collect())
    })
    .await
}
