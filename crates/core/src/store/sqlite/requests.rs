//! The `requests` table: every HTTP request that reached a listener,
//! whatever became of it, with what was learned on the way.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::answers::FORWARD_COLUMNS;
use super::{FLAGGED, page_limit};
use crate::model::{NewRequest, Outcome, RequestEntry, TokenCheck};
use crate::store::fields;
use crate::store::{Filter, Page, StoreError, VerdictFilter};

/// The columns [`from_row`] reads (the body itself only as its length), from
/// `requests q` joined with its forward answer, if any ([`select_from`]).
pub(in crate::store) const COLUMNS: &str =
    "q.id AS id, q.received_at AS received_at, q.method AS method, q.path AS path,
    q.query AS query, q.remote_addr AS remote_addr, q.headers_json AS headers_json, q.status AS status,
    q.latency_us AS latency_us, q.outcome AS outcome, q.error_code AS error_code, q.reason AS reason,
    q.session_id AS session_id, q.recording_id AS recording_id, q.auth_verdict AS auth_verdict,
    q.auth_reason AS auth_reason, q.jwt_header AS jwt_header, q.jwt_claims AS jwt_claims,
    q.parts_json AS parts_json, q.body_size AS body_size, q.simulated AS simulated,
    CASE WHEN q.body_audio_at IS NOT NULL THEN q.body_size ELSE length(q.body) END AS body_stored";

/// `SELECT … FROM` the request log with each entry's forward answer.
fn select_from() -> String {
    format!("SELECT {COLUMNS}, {FORWARD_COLUMNS} FROM requests q LEFT JOIN forwards f ON f.request_id = q.id")
}

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RequestEntry> {
    fields::request(row)
}

/// The newest `limit` entries, newest first.
pub(super) fn newest(conn: &Connection, limit: usize) -> Result<Vec<RequestEntry>, StoreError> {
    let sql = format!("{} ORDER BY q.id DESC LIMIT ?1", select_from());
    Ok(conn.prepare(&sql)?.query_map([limit as i64], from_row)?.collect::<Result<_, _>>()?)
}

/// One entry.
pub(super) fn by_id(conn: &Connection, id: i64) -> Result<RequestEntry, StoreError> {
    conn.query_row(&format!("{} WHERE q.id = ?1", select_from()), [id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound { what: "request", id: id.to_string() })
}

/// The body as received, if kept: an accepted request's is rebuilt from the
/// kept envelope and the recording's audio bytes.
pub(super) fn body(conn: &Connection, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    type Kept = (Option<Vec<u8>>, Option<i64>, Option<Vec<u8>>);
    let (body, audio_at, audio): Kept = conn
        .query_row(
            "SELECT q.body AS body, q.body_audio_at AS body_audio_at, r.audio AS audio
             FROM requests q LEFT JOIN recordings r ON r.id = q.recording_row AND q.body_audio_at IS NOT NULL
             WHERE q.id = ?1",
            [id],
            |r| Ok((r.get("body")?, r.get("body_audio_at")?, r.get("audio")?)),
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound { what: "request", id: id.to_string() })?;
    Ok(rebuild(body, audio_at, audio))
}

/// The body as received from what is kept: an accepted request's envelope
/// gets its recording's audio back at `audio_at`; a rejected one's is whole.
pub(in crate::store) fn rebuild(
    body: Option<Vec<u8>>,
    audio_at: Option<i64>,
    audio: Option<Vec<u8>>,
) -> Option<Vec<u8>> {
    match (body, audio_at, audio) {
        (Some(envelope), Some(at), Some(audio)) if (at as usize) <= envelope.len() => {
            let at = at as usize;
            let mut whole = Vec::with_capacity(envelope.len() + audio.len());
            whole.extend_from_slice(&envelope[..at]);
            whole.extend_from_slice(&audio);
            whole.extend_from_slice(&envelope[at..]);
            Some(whole)
        }
        // The envelope without its audio is not the body; do not pass it off as one.
        (Some(_), Some(_), _) => None,
        (body, _, _) => body,
    }
}

/// Entries matching `filter`, newest first, `count` from `offset`.
pub(super) fn page(
    conn: &Connection,
    filter: &Filter,
    offset: usize,
    count: usize,
) -> Result<Page<RequestEntry>, StoreError> {
    let sql = format!(
        "SELECT id FROM requests q
         WHERE (?1 IS NULL OR (q.session_id >= ?1 AND q.session_id < ?6)
                           OR (q.recording_id >= ?1 AND q.recording_id < ?6))
           AND (?2 IS NULL OR q.received_at >= ?2) AND (?3 IS NULL OR q.received_at <= ?3)
           AND (?4 IS NULL OR q.auth_verdict = ?4) AND (?5 = 0 OR {FLAGGED})"
    );
    let (low, high) = filter.prefix_range().unzip();
    let args = params![
        low,
        filter.lower_bound(),
        filter.upper_bound(),
        filter.verdict.and_then(VerdictFilter::token_check).map(TokenCheck::as_str),
        filter.verdict == Some(VerdictFilter::Flagged),
        high
    ];
    let total: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM ({sql})"), args, |r| r.get(0))?;
    let ids: Vec<i64> = conn
        .prepare(&format!("{sql} ORDER BY q.id DESC LIMIT {} OFFSET {}", page_limit(count), offset))?
        .query_map(args, |r| r.get("id"))?
        .collect::<Result<_, _>>()?;
    let items = ids.into_iter().map(|id| by_id(conn, id)).collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, total: total as u64, offset: offset as u64 })
}

/// Writes one entry; `recording_row` links it to the recording it delivered.
pub(super) fn insert(
    conn: &Connection,
    r: &NewRequest,
    outcome: Outcome,
    recording_row: Option<i64>,
    latency_us: i64,
) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO requests (received_at, method, path, query, remote_addr, headers_json, status, latency_us,
            outcome, error_code, reason, session_id, recording_id, recording_row, auth_verdict, auth_reason,
            jwt_header, jwt_claims, parts_json, body_size, body, body_audio_at, simulated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
            ?22, ?23)",
    )?
    .execute(params![
        r.received_at,
        r.method,
        r.path,
        r.query,
        r.remote_addr,
        r.headers_json,
        r.status,
        latency_us,
        outcome.as_str(),
        r.error_code,
        r.reason,
        r.session_id,
        r.recording_id,
        recording_row,
        r.auth.verdict.as_str(),
        r.auth.reason,
        r.auth.jwt_header.as_ref().map(Value::to_string),
        r.auth.jwt_claims.as_ref().map(Value::to_string),
        r.parts_json,
        r.body_size as i64,
        r.body,
        r.body_audio_at.map(|at| at as i64),
        r.simulated,
    ])?;
    Ok(conn.last_insert_rowid())
}
