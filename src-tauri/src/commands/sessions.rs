//! The calls list.

use earshot_core::SessionSummary;
use earshot_core::{Filter, Page};
use tauri::State;

use super::blocking;
use crate::error::IpcResult;
use crate::state::Desktop;

/// One page of calls matching `filter`, newest first.
#[tauri::command]
pub async fn list_sessions(
    state: State<'_, Desktop>,
    filter: Filter,
    offset: usize,
    limit: usize,
) -> IpcResult<Page<SessionSummary>> {
    blocking(state.store(), move |store| Ok(store.sessions_page(&filter, offset, limit)?)).await
}
