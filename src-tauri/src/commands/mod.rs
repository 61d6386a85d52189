//! IPC commands, one module per domain, each a few lines over the core.

pub mod about;
pub mod export;
pub mod forward;
pub mod lifecycle;
pub mod playback;
pub mod recordings;
pub mod requests;
pub mod response;
pub mod review;
pub mod sessions;
pub mod setup;
pub mod tunnel;
pub mod workbench;

use earshot_core::Store;

use crate::error::{IpcError, IpcResult};

/// Runs blocking store work off the async runtime's workers.
pub(crate) async fn blocking<T: Send + 'static>(
    store: Store,
    work: impl FnOnce(Store) -> IpcResult<T> + Send + 'static,
) -> IpcResult<T> {
    tauri::async_runtime::spawn_blocking(move || work(store))
        .await
        .map_err(|e| IpcError::new("internal", format!("background task failed: {e}")))?
}
