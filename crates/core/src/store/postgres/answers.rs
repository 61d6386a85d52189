//! The `forwards` and `replays` tables on PostgreSQL: the user's service's
//! answers to forwarded webhooks, and replays.

use super::sql::Db;
use crate::model::{ANSWER_BODY_CAP, Answer, ForwardMode, NewReplay, ReplayEntry};
use crate::store::sqlite::answers::{REPLAY_COLUMNS, headers_json};
use crate::store::{StoreError, fields};

/// Records the answer to a forwarded request and the status its sender finally got.
pub(super) fn insert_forward(
    db: &Db<'_>,
    request_id: i64,
    status: u16,
    mode: ForwardMode,
    answer: &Answer,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO forwards (request_id, url, mode, status, error_code, error, latency_us,
            headers_json, body_size, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (request_id) DO UPDATE SET url = EXCLUDED.url, mode = EXCLUDED.mode,
            status = EXCLUDED.status, error_code = EXCLUDED.error_code, error = EXCLUDED.error,
            latency_us = EXCLUDED.latency_us, headers_json = EXCLUDED.headers_json,
            body_size = EXCLUDED.body_size, body = EXCLUDED.body",
        &[
            &request_id,
            &answer.url,
            &mode.as_str(),
            &answer.status.map(i64::from),
            &answer.fault.as_ref().map(|(fault, _)| fault.as_str()),
            &answer.fault.as_ref().map(|(_, message)| message.as_str()),
            &(answer.latency_us as i64),
            &headers_json(&answer.headers),
            &(answer.body_size as i64),
            &&answer.body[..answer.body.len().min(ANSWER_BODY_CAP)],
        ],
    )?;
    db.execute("UPDATE requests SET status = $2 WHERE id = $1", &[&request_id, &i64::from(status)])?;
    Ok(())
}

/// Records a replay; returns its id.
pub(super) fn insert_replay(db: &Db<'_>, replay: &NewReplay) -> Result<i64, StoreError> {
    let answer = &replay.answer;
    let row = db.query_one(
        "INSERT INTO replays (sent_at, request_id, recording_row, url, identical, changes_json, headers_json,
            body_size, body_sha256, status, error_code, error, latency_us, answer_headers_json,
            answer_body_size, answer_body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
        &[
            &replay.sent_at,
            &replay.request_id,
            &replay.recording_row,
            &answer.url,
            &i64::from(replay.identical),
            &replay.changes.to_string(),
            &replay.headers.to_string(),
            &(replay.body_size as i64),
            &replay.body_sha256,
            &answer.status.map(i64::from),
            &answer.fault.as_ref().map(|(fault, _)| fault.as_str()),
            &answer.fault.as_ref().map(|(_, message)| message.as_str()),
            &(answer.latency_us as i64),
            &headers_json(&answer.headers),
            &(answer.body_size as i64),
            &&answer.body[..answer.body.len().min(ANSWER_BODY_CAP)],
        ],
    )?;
    Ok(row.try_get(0)?)
}

/// Replays of a request log entry or of a recording, newest first.
pub(super) fn replays_of(
    db: &Db<'_>,
    request_id: Option<i64>,
    recording_row: Option<i64>,
) -> Result<Vec<ReplayEntry>, StoreError> {
    let sql = format!(
        "SELECT {REPLAY_COLUMNS} FROM replays
         WHERE ($1::BIGINT IS NOT NULL AND request_id = $1) OR ($2::BIGINT IS NOT NULL AND recording_row = $2)
         ORDER BY id DESC"
    );
    db.query(&sql, &[&request_id, &recording_row])?.iter().map(fields::replay).collect()
}

/// One replay.
pub(super) fn replay(db: &Db<'_>, id: i64) -> Result<ReplayEntry, StoreError> {
    match db.query_opt(&format!("SELECT {REPLAY_COLUMNS} FROM replays WHERE id = $1"), &[&id])? {
        Some(row) => fields::replay(&row),
        None => Err(StoreError::NotFound { what: "replay", id: id.to_string() }),
    }
}

/// The whole kept body of the upstream's answer to a forwarded request.
pub(super) fn forward_body(db: &Db<'_>, request_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(db
        .query_opt("SELECT body FROM forwards WHERE request_id = $1", &[&request_id])?
        .map(|r| r.try_get::<_, Option<Vec<u8>>>(0))
        .transpose()?
        .flatten())
}
