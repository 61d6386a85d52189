//! The `recordings` table on PostgreSQL. A new recording's version is taken
//! with `INSERT … ON CONFLICT DO NOTHING` on the `(recording_id, version)`
//! unique index: when another listener is storing the same id at the same
//! moment, the insert waits for its transaction, does nothing if it
//! committed, and the versions are read again — so duplicates and versions
//! are decided by the database, not by whoever read first.

use serde_json::Value;

use super::reviews::REVIEW_COLUMNS;
use super::sql::Db;
use crate::model::{NewRecording, Outcome, RecordingSummary};
use crate::store::rows::{self, Version};
use crate::store::sqlite::recordings::COLUMNS;
use crate::store::{RecordingDetail, StoreError, fields};

fn list_of(rows: Vec<tokio_postgres::Row>) -> Result<Vec<RecordingSummary>, StoreError> {
    rows.iter().map(fields::recording).collect()
}

/// Recordings in time order, optionally of one call.
pub(super) fn list(db: &Db<'_>, session_id: Option<&str>) -> Result<Vec<RecordingSummary>, StoreError> {
    match session_id {
        Some(session) => list_of(db.query(
            &format!(
                "SELECT {COLUMNS}, {REVIEW_COLUMNS} FROM recordings WHERE session_id = $1 ORDER BY received_at, id"
            ),
            &[&session],
        )?),
        None => list_of(
            db.query(&format!("SELECT {COLUMNS}, {REVIEW_COLUMNS} FROM recordings ORDER BY received_at, id"), &[])?,
        ),
    }
}

/// A recording by full id or unique prefix; the newest version unless one is named.
pub(super) fn find(db: &Db<'_>, id: &str, version: Option<u32>) -> Result<RecordingSummary, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, {REVIEW_COLUMNS} FROM recordings
         WHERE recording_id = $1 AND ($2::BIGINT IS NULL OR version = $2) ORDER BY version DESC LIMIT 1"
    );
    let version = version.map(i64::from);
    if let Some(found) = db.query_opt(&sql, &[&id, &version])? {
        return fields::recording(&found);
    }
    let like = format!("{}%", id.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let ids: Vec<String> = db
        .query(
            "SELECT DISTINCT recording_id FROM recordings WHERE recording_id LIKE $1 ESCAPE '\\' LIMIT 10",
            &[&like],
        )?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    match ids.as_slice() {
        [] => Err(StoreError::NotFound { what: "recording", id: id.to_string() }),
        [only] => match db.query_opt(&sql, &[only, &version])? {
            Some(found) => fields::recording(&found),
            None => {
                let asked = version.map_or_else(|| "newest".to_string(), |v| format!("v{v}"));
                Err(StoreError::NotFound { what: "recording version", id: format!("{only} {asked}") })
            }
        },
        _ => Err(StoreError::Ambiguous { id: id.to_string(), count: ids.len() }),
    }
}

/// One recording version by row id.
pub(super) fn by_row(db: &Db<'_>, row: i64) -> Result<RecordingSummary, StoreError> {
    match db.query_opt(&format!("SELECT {COLUMNS}, {REVIEW_COLUMNS} FROM recordings WHERE id = $1"), &[&row])? {
        Some(found) => fields::recording(&found),
        None => Err(StoreError::NotFound { what: "recording row", id: row.to_string() }),
    }
}

/// The stored bytes of one recording version.
pub(super) fn audio(db: &Db<'_>, row: i64) -> Result<Vec<u8>, StoreError> {
    match db.query_opt("SELECT audio FROM recordings WHERE id = $1", &[&row])? {
        Some(found) => Ok(found.try_get("audio")?),
        None => Err(StoreError::NotFound { what: "recording row", id: row.to_string() }),
    }
}

/// A recording with its metadata, token and the delivering request's headers.
pub(super) fn detail(db: &Db<'_>, row: i64) -> Result<RecordingDetail, StoreError> {
    let recording = by_row(db, row)?;
    let kept = db.query_one("SELECT metadata_json, jwt_header, jwt_claims FROM recordings WHERE id = $1", &[&row])?;
    let json = |column: &str| -> Result<Option<Value>, StoreError> {
        Ok(kept.try_get::<_, Option<String>>(column)?.and_then(|t| serde_json::from_str(&t).ok()))
    };
    let delivered =
        db.query_opt("SELECT id, headers_json FROM requests WHERE recording_row = $1 ORDER BY id LIMIT 1", &[&row])?;
    let headers = match &delivered {
        Some(d) => serde_json::from_str(&d.try_get::<_, String>("headers_json")?).ok(),
        None => None,
    };
    Ok(RecordingDetail {
        recording,
        metadata: json("metadata_json")?.unwrap_or(Value::Null),
        jwt_header: json("jwt_header")?,
        jwt_claims: json("jwt_claims")?,
        headers: headers.unwrap_or(Value::Array(vec![])),
        request_id: delivered.map(|d| d.try_get("id")).transpose()?,
    })
}

/// `(row, version, sha256)` of every version of `recording_id`, oldest first.
pub(super) fn versions(db: &Db<'_>, recording_id: &str) -> Result<Vec<(i64, u32, String)>, StoreError> {
    db.query("SELECT id, version, sha256 FROM recordings WHERE recording_id = $1 ORDER BY version", &[&recording_id])?
        .iter()
        .map(|r| Ok((r.try_get(0)?, u32::try_from(r.try_get::<_, i64>(1)?).unwrap_or(u32::MAX), r.try_get(2)?)))
        .collect()
}

/// How often an insert that lost the race for a version reads again before giving up.
const VERSION_RETRIES: usize = 8;

/// Stores `rec`, or finds the identical audio already stored under its id.
/// Returns the row, its version and whether it was new, a duplicate or a conflict.
pub(super) fn insert(db: &Db<'_>, rec: &NewRecording) -> Result<(i64, u32, Outcome), StoreError> {
    for _ in 0..VERSION_RETRIES {
        let version = match rows::version_of(&versions(db, &rec.metadata.recording_id)?, &rec.sha256) {
            Version::Same(row, version) => return Ok((row, version, Outcome::Duplicate)),
            Version::Next(version) => version,
        };
        if let Some(row) = try_insert(db, rec, version)? {
            let outcome = if version > 1 { Outcome::Conflict } else { Outcome::Stored };
            return Ok((row, version, outcome));
        }
    }
    Err(StoreError::postgres(
        format!("recording {} kept changing under concurrent writers", rec.metadata.recording_id),
        None,
    ))
}

/// Inserts `rec` as `version`; `None` when another transaction took that version first.
fn try_insert(db: &Db<'_>, rec: &NewRecording, version: u32) -> Result<Option<i64>, StoreError> {
    let m = &rec.metadata;
    let a = &rec.info;
    let row = db.query_opt(
        "INSERT INTO recordings (recording_id, version, conflict, session_id, assistant_id, environment_id,
            start_timestamp, stop_timestamp, received_at, metadata_json, path, filename, part_content_type,
            container, encoding, sample_rate, channels, sample_count, duration_ms, data_offset, data_len,
            size_bytes, sha256, auth_verdict, auth_reason, jwt_header, jwt_claims, audio)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
            $21, $22, $23, $24, $25, $26, $27, $28)
         ON CONFLICT (recording_id, version) DO NOTHING RETURNING id",
        &[
            &m.recording_id,
            &i64::from(version),
            &i64::from(version > 1),
            &m.session_id,
            &m.assistant_id,
            &m.environment_id,
            &m.start_timestamp,
            &m.stop_timestamp,
            &rec.received_at,
            &Value::Object(m.raw.clone()).to_string(),
            &rec.path,
            &rec.filename,
            &rec.part_content_type,
            &a.container.as_str(),
            &a.encoding.as_str(),
            &i64::from(a.sample_rate),
            &i64::from(a.channels),
            &(a.sample_count as i64),
            &(a.duration_ms as i64),
            &(a.data_offset as i64),
            &(a.data_len as i64),
            &(rec.audio.len() as i64),
            &rec.sha256,
            &rec.auth.verdict.as_str(),
            &rec.auth.reason,
            &rec.auth.jwt_header.as_ref().map(Value::to_string),
            &rec.auth.jwt_claims.as_ref().map(Value::to_string),
            &rec.audio,
        ],
    )?;
    row.map(|r| r.try_get(0)).transpose().map_err(StoreError::from)
}
