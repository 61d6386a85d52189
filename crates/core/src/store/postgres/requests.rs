//! The `requests` table on PostgreSQL: every HTTP request that reached a
//! listener. The columns read are SQLite's; the placeholders are `$n`.

use serde_json::Value;

use super::sql::Db;
use crate::model::{NewRequest, Outcome, RequestEntry, TokenCheck};
use crate::store::sqlite::answers::FORWARD_COLUMNS;
use crate::store::sqlite::requests::COLUMNS;
use crate::store::sqlite::{FLAGGED, page_limit};
use crate::store::{Filter, Page, StoreError, VerdictFilter, fields};

fn select_from() -> String {
    format!("SELECT {COLUMNS}, {FORWARD_COLUMNS} FROM requests q LEFT JOIN forwards f ON f.request_id = q.id")
}

/// The newest `limit` entries, newest first.
pub(super) fn newest(db: &Db<'_>, limit: usize) -> Result<Vec<RequestEntry>, StoreError> {
    let sql = format!("{} ORDER BY q.id DESC LIMIT $1", select_from());
    db.query(&sql, &[&(limit as i64)])?.iter().map(fields::request).collect()
}

/// One entry.
pub(super) fn by_id(db: &Db<'_>, id: i64) -> Result<RequestEntry, StoreError> {
    match db.query_opt(&format!("{} WHERE q.id = $1", select_from()), &[&id])? {
        Some(row) => fields::request(&row),
        None => Err(StoreError::NotFound { what: "request", id: id.to_string() }),
    }
}

/// The body as received, if kept (an accepted request's rebuilt around its recording's audio).
pub(super) fn body(db: &Db<'_>, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    let row = db
        .query_opt(
            "SELECT q.body AS body, q.body_audio_at AS body_audio_at, r.audio AS audio
             FROM requests q LEFT JOIN recordings r ON r.id = q.recording_row AND q.body_audio_at IS NOT NULL
             WHERE q.id = $1",
            &[&id],
        )?
        .ok_or_else(|| StoreError::NotFound { what: "request", id: id.to_string() })?;
    Ok(crate::store::sqlite::requests::rebuild(
        row.try_get("body")?,
        row.try_get("body_audio_at")?,
        row.try_get("audio")?,
    ))
}

/// Entries matching `filter`, newest first, `count` from `offset`.
pub(super) fn page(
    db: &Db<'_>,
    filter: &Filter,
    offset: usize,
    count: usize,
) -> Result<Page<RequestEntry>, StoreError> {
    let sql = format!(
        "SELECT id FROM requests q
         WHERE ($1::TEXT IS NULL OR (q.session_id >= $1 AND q.session_id < $6)
                                 OR (q.recording_id >= $1 AND q.recording_id < $6))
           AND ($2::TEXT IS NULL OR q.received_at >= $2) AND ($3::TEXT IS NULL OR q.received_at <= $3)
           AND ($4::TEXT IS NULL OR q.auth_verdict = $4) AND (NOT $5 OR {FLAGGED})"
    );
    let (low, high) = filter.prefix_range().unzip();
    let verdict = filter.verdict.and_then(VerdictFilter::token_check).map(TokenCheck::as_str);
    let flagged = filter.verdict == Some(VerdictFilter::Flagged);
    let args: [&(dyn tokio_postgres::types::ToSql + Sync); 6] =
        [&low, &filter.lower_bound(), &filter.upper_bound(), &verdict, &flagged, &high];
    let total: i64 = db.query_one(&format!("SELECT COUNT(*) FROM ({sql}) AS matching"), &args)?.try_get(0)?;
    let ids: Vec<i64> = db
        .query(&format!("{sql} ORDER BY q.id DESC LIMIT {} OFFSET {offset}", page_limit(count)), &args)?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    let items = ids.into_iter().map(|id| by_id(db, id)).collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, total: total as u64, offset: offset as u64 })
}

/// Writes one entry; `recording_row` links it to the recording it delivered.
pub(super) fn insert(
    db: &Db<'_>,
    r: &NewRequest,
    outcome: Outcome,
    recording_row: Option<i64>,
    latency_us: i64,
) -> Result<i64, StoreError> {
    let row = db.query_one(
        "INSERT INTO requests (received_at, method, path, query, remote_addr, headers_json, status, latency_us,
            outcome, error_code, reason, session_id, recording_id, recording_row, auth_verdict, auth_reason,
            jwt_header, jwt_claims, parts_json, body_size, body, body_audio_at, simulated)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
            $22, $23)
         RETURNING id",
        &[
            &r.received_at,
            &r.method,
            &r.path,
            &r.query,
            &r.remote_addr,
            &r.headers_json,
            &i64::from(r.status),
            &latency_us,
            &outcome.as_str(),
            &r.error_code,
            &r.reason,
            &r.session_id,
            &r.recording_id,
            &recording_row,
            &r.auth.verdict.as_str(),
            &r.auth.reason,
            &r.auth.jwt_header.as_ref().map(Value::to_string),
            &r.auth.jwt_claims.as_ref().map(Value::to_string),
            &r.parts_json,
            &(r.body_size as i64),
            &r.body,
            &r.body_audio_at.map(|at| at as i64),
            &r.simulated,
        ],
    )?;
    Ok(row.try_get(0)?)
}
