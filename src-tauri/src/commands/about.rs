//! The About footer and the UI's first-frame report.

use earshot_core::About;
use tauri::{AppHandle, Runtime, State};

use crate::error::IpcResult;
use crate::state::Desktop;

/// Version (the workspace's, as `earshot --version` prints it), data dir, store and its size.
#[tauri::command]
pub async fn about<R: Runtime>(app: AppHandle<R>, state: State<'_, Desktop>) -> IpcResult<About> {
    let version = app.package_info().version.to_string();
    let data_dir = state.data_dir().clone();
    super::blocking(state.store(), move |store| Ok(About::read(&version, &store, &data_dir)?)).await
}

/// The UI calls this once, after its first frame is painted. The log line is
/// what the release benchmark and the package test wait for: process start
/// to this line is the app's cold start.
#[tauri::command]
pub fn first_frame() {
    tracing::info!(target: "earshot::desktop", "first frame painted");
}
