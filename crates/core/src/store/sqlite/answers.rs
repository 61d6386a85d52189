//! The `forwards` and `replays` tables: what the user's own service answered
//! to a forwarded webhook, and every replay with what it changed and the
//! answer it got.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use crate::model::{ANSWER_BODY_CAP, Answer, ForwardMode, NewReplay, ReplayEntry};
use crate::store::{StoreError, fields};

/// The forward columns `fields::forward` reads, prefixed `f_` so they sit beside a request's.
pub(in crate::store) const FORWARD_COLUMNS: &str = "f.url AS f_url, f.mode AS f_mode, f.status AS f_status,
    f.error_code AS f_error_code, f.error AS f_error, f.latency_us AS f_latency_us,
    f.headers_json AS f_headers_json, f.body_size AS f_body_size, substr(f.body, 1, 16384) AS f_body";

pub(in crate::store) fn headers_json(headers: &[(String, String)]) -> String {
    Value::Array(headers.iter().map(|(n, v)| json!([n, v])).collect()).to_string()
}

/// Records the answer to a forwarded request and the status its sender finally got.
pub(super) fn insert_forward(
    conn: &Connection,
    request_id: i64,
    status: u16,
    mode: ForwardMode,
    answer: &Answer,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO forwards (request_id, url, mode, status, error_code, error, latency_us,
            headers_json, body_size, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        request_id,
        answer.url,
        mode.as_str(),
        answer.status,
        answer.fault.as_ref().map(|(fault, _)| fault.as_str()),
        answer.fault.as_ref().map(|(_, message)| message),
        answer.latency_us as i64,
        headers_json(&answer.headers),
        answer.body_size as i64,
        &answer.body[..answer.body.len().min(ANSWER_BODY_CAP)],
    ])?;
    conn.prepare_cached("UPDATE requests SET status = ?2 WHERE id = ?1")?.execute(params![request_id, status])?;
    Ok(())
}

/// Records a replay; returns its id.
pub(super) fn insert_replay(conn: &Connection, replay: &NewReplay) -> rusqlite::Result<i64> {
    let answer = &replay.answer;
    conn.prepare_cached(
        "INSERT INTO replays (sent_at, request_id, recording_row, url, identical, changes_json, headers_json,
            body_size, body_sha256, status, error_code, error, latency_us, answer_headers_json,
            answer_body_size, answer_body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        replay.sent_at,
        replay.request_id,
        replay.recording_row,
        answer.url,
        replay.identical,
        replay.changes.to_string(),
        replay.headers.to_string(),
        replay.body_size as i64,
        replay.body_sha256,
        answer.status,
        answer.fault.as_ref().map(|(fault, _)| fault.as_str()),
        answer.fault.as_ref().map(|(_, message)| message),
        answer.latency_us as i64,
        headers_json(&answer.headers),
        answer.body_size as i64,
        &answer.body[..answer.body.len().min(ANSWER_BODY_CAP)],
    ])?;
    Ok(conn.last_insert_rowid())
}

pub(in crate::store) const REPLAY_COLUMNS: &str =
    "id, sent_at, request_id, recording_row, url, identical, changes_json, headers_json,
    body_size, body_sha256, status AS a_status, error_code AS a_error_code, error AS a_error,
    latency_us AS a_latency_us, answer_headers_json AS a_headers_json, answer_body_size AS a_body_size,
    substr(answer_body, 1, 16384) AS a_body";

fn replay_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ReplayEntry> {
    fields::replay(row)
}

/// Replays of a request log entry or of a recording, newest first.
pub(super) fn replays_of(
    conn: &Connection,
    request_id: Option<i64>,
    recording_row: Option<i64>,
) -> Result<Vec<ReplayEntry>, StoreError> {
    let sql = format!(
        "SELECT {REPLAY_COLUMNS} FROM replays
         WHERE (?1 IS NOT NULL AND request_id = ?1) OR (?2 IS NOT NULL AND recording_row = ?2) ORDER BY id DESC"
    );
    Ok(conn.prepare(&sql)?.query_map(params![request_id, recording_row], replay_from_row)?.collect::<Result<_, _>>()?)
}

/// One replay.
pub(super) fn replay(conn: &Connection, id: i64) -> Result<ReplayEntry, StoreError> {
    conn.query_row(&format!("SELECT {REPLAY_COLUMNS} FROM replays WHERE id = ?1"), [id], replay_from_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound { what: "replay", id: id.to_string() })
}

/// The whole kept body of the upstream's answer to a forwarded request.
pub(super) fn forward_body(conn: &Connection, request_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .query_row("SELECT body FROM forwards WHERE request_id = ?1", [request_id], |r| r.get::<_, Option<Vec<u8>>>(0))
        .optional()?
        .flatten())
}
