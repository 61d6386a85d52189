//! Reading a request body off the socket within the body timeout, holding
//! its size against the listener's shared budget of buffered bytes, so slow
//! or huge bodies cannot starve real deliveries.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use bytes::BytesMut;
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{Intake, Rejection, Seen};
use crate::settings::BUDGET_WAIT;

/// Reads the whole body within the body timeout, holding its size against
/// the shared budget of buffered bytes.
pub(super) async fn read_body(
    intake: &Intake,
    headers: &HeaderMap,
    mut body: Body,
    seen: &mut Seen,
) -> Result<Bytes, Rejection> {
    let max = intake.inner.config.max_body;
    let limits = &intake.inner.limits;
    let too_large = |size: Option<u64>| {
        let size = size.map_or("larger than allowed".to_string(), |n| format!("{n} bytes"));
        Rejection::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is {size}; the limit is {max} bytes (see --max-body)"),
        )
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(length) = declared
        && length > max as u64
    {
        return Err(too_large(Some(length)));
    }
    let expected = declared.unwrap_or(0) as usize;
    seen.budget = Some(reserve(intake, expected).await?);
    let mut buffer = BytesMut::with_capacity(expected);
    let deadline = tokio::time::Instant::now() + limits.body_timeout;
    while let Some(data) = next_chunk(&mut body, deadline, limits.body_timeout, buffer.len()).await? {
        let wanted = buffer.len() + data.len();
        if wanted > max {
            return Err(too_large(None));
        }
        let held = seen.budget.as_ref().map_or(0, OwnedSemaphorePermit::num_permits);
        if wanted > held {
            // Chunked or under-declared bodies: grow the share in 64 KiB steps.
            let more = reserve(intake, (wanted - held).max(64 * 1024)).await?;
            if let Some(permit) = seen.budget.as_mut() {
                permit.merge(more);
            }
        }
        buffer.extend_from_slice(&data);
    }
    Ok(buffer.freeze())
}

/// The next data frame of `body` before `deadline`; `None` at its end. A body
/// cut short (the client closed early, or half-closed with fewer bytes than
/// its `Content-Length`) is a 400 naming the fault.
async fn next_chunk(
    body: &mut Body,
    deadline: tokio::time::Instant,
    timeout: std::time::Duration,
    received: usize,
) -> Result<Option<Bytes>, Rejection> {
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                return Err(Rejection::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    format!("the body did not arrive within {} s ({received} bytes received)", timeout.as_secs_f64()),
                ));
            }
            Ok(None) => return Ok(None),
            Ok(Some(Err(e))) => {
                return Err(Rejection::new(
                    StatusCode::BAD_REQUEST,
                    "body_read_failed",
                    format!("the request body could not be read to its end: {e}"),
                ));
            }
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    return Ok(Some(data));
                }
            }
        }
    }
}

/// Takes `bytes` of the buffered-bytes budget, waiting up to [`BUDGET_WAIT`].
async fn reserve(intake: &Intake, bytes: usize) -> Result<OwnedSemaphorePermit, Rejection> {
    let total = intake.inner.limits.max_buffered;
    let wanted = bytes.clamp(0, total.clamp(1, Semaphore::MAX_PERMITS)).min(u32::MAX as usize) as u32;
    match tokio::time::timeout(BUDGET_WAIT, intake.inner.budget.clone().acquire_many_owned(wanted)).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(Rejection::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "intake_busy",
            format!(
                "Earshot is already holding {total} bytes of request bodies in memory (--max-buffered); retry shortly"
            ),
        )),
    }
}
