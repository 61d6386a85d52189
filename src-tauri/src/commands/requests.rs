//! The request inspector.

use earshot_core::RequestEntry;
use earshot_core::{Filter, Page, RequestDetail};
use tauri::State;

use super::blocking;
use crate::error::IpcResult;
use crate::state::Desktop;

/// One page of the request log, newest first.
#[tauri::command]
pub async fn list_requests(
    state: State<'_, Desktop>,
    filter: Filter,
    offset: usize,
    limit: usize,
) -> IpcResult<Page<RequestEntry>> {
    blocking(state.store(), move |store| Ok(store.requests_page(&filter, offset, limit)?)).await
}

/// One request with a hex and text preview of what arrived.
#[tauri::command]
pub async fn request_detail(state: State<'_, Desktop>, id: i64) -> IpcResult<RequestDetail> {
    blocking(state.store(), move |store| Ok(store.request_detail(id)?)).await
}
