//! The `recordings` table: one row per distinct audio received under a
//! recording id. Identical resends match the row already there; different
//! audio becomes the next version, flagged as a conflict.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::json_column;
use super::reviews::REVIEW_COLUMNS;
use crate::model::{NewRecording, Outcome, RecordingSummary};
use crate::store::fields;
use crate::store::rows::{self, Tables, Version};
use crate::store::{RecordingDetail, StoreError};

/// The columns [`from_row`] reads (everything but the audio and the raw metadata).
pub(in crate::store) const COLUMNS: &str =
    "id, recording_id, version, conflict, session_id, assistant_id, environment_id,
    start_timestamp, stop_timestamp, received_at, duration_ms, container, encoding, sample_rate, channels,
    sample_count, size_bytes, sha256, auth_verdict, auth_reason, path, filename, part_content_type,
    data_offset, data_len, pinned, imported_from,
    (SELECT COALESCE(f.status, 0) FROM requests q JOIN forwards f ON f.request_id = q.id
     WHERE q.recording_row = recordings.id ORDER BY q.id DESC LIMIT 1) AS upstream_status";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RecordingSummary> {
    fields::recording(row)
}

/// Recordings in time order, optionally of one call.
pub(super) fn list(conn: &Connection, session_id: Option<&str>) -> Result<Vec<RecordingSummary>, StoreError> {
    // Two statements, not `?1 IS NULL OR …`, so one call's list uses the session index.
    let rows = match session_id {
        Some(session) => conn
            .prepare(&format!(
                "SELECT {COLUMNS}, {REVIEW_COLUMNS} FROM recordings WHERE session_id = ?1 ORDER BY received_at, id"
            ))?
            .query_map([session], from_row)?
            .collect::<Result<_, _>>()?,
        None => conn
            .prepare(&format!("SELECT {COLUMNS}, {REVIEW_COLUMNS} FROM recordings ORDER BY received_at, id"))?
            .query_map([], from_row)?
            .collect::<Result<_, _>>()?,
    };
    Ok(rows)
}

/// A recording by full id or unique prefix; the newest version unless one is named.
pub(super) fn find(conn: &Connection, id: &str, version: Option<u32>) -> Result<RecordingSummary, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, {REVIEW_COLUMNS} FROM recordings
         WHERE recording_id = ?1 AND (?2 IS NULL OR version = ?2) ORDER BY version DESC LIMIT 1"
    );
    if let Some(found) = conn.query_row(&sql, params![id, version], from_row).optional()? {
        return Ok(found);
    }
    let like = format!("{}%", id.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let ids: Vec<String> = conn
        .prepare("SELECT DISTINCT recording_id FROM recordings WHERE recording_id LIKE ?1 ESCAPE '\\' LIMIT 10")?
        .query_map([like], |row| row.get("recording_id"))?
        .collect::<Result<_, _>>()?;
    match ids.as_slice() {
        [] => Err(StoreError::NotFound { what: "recording", id: id.to_string() }),
        [only] => conn.query_row(&sql, params![only, version], from_row).optional()?.ok_or_else(|| {
            let asked = version.map_or_else(|| "newest".to_string(), |v| format!("v{v}"));
            StoreError::NotFound { what: "recording version", id: format!("{only} {asked}") }
        }),
        _ => Err(StoreError::Ambiguous { id: id.to_string(), count: ids.len() }),
    }
}

/// One recording version by row id.
pub(super) fn by_row(conn: &Connection, row: i64) -> Result<RecordingSummary, StoreError> {
    conn.query_row(&format!("SELECT {COLUMNS}, {REVIEW_COLUMNS} FROM recordings WHERE id = ?1"), [row], from_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound { what: "recording row", id: row.to_string() })
}

/// The stored bytes of one recording version.
pub(super) fn audio(conn: &Connection, row: i64) -> Result<Vec<u8>, StoreError> {
    conn.query_row("SELECT audio FROM recordings WHERE id = ?1", [row], |r| r.get("audio"))
        .optional()?
        .ok_or_else(|| StoreError::NotFound { what: "recording row", id: row.to_string() })
}

/// A recording with its metadata, token and the delivering request's headers.
pub(super) fn detail(conn: &Connection, row: i64) -> Result<RecordingDetail, StoreError> {
    let recording = by_row(conn, row)?;
    let (metadata, jwt_header, jwt_claims): (String, Option<String>, Option<String>) =
        conn.query_row("SELECT metadata_json, jwt_header, jwt_claims FROM recordings WHERE id = ?1", [row], |r| {
            Ok((r.get("metadata_json")?, r.get("jwt_header")?, r.get("jwt_claims")?))
        })?;
    let delivered: Option<(i64, String)> = conn
        .query_row("SELECT id, headers_json FROM requests WHERE recording_row = ?1 ORDER BY id LIMIT 1", [row], |r| {
            Ok((r.get("id")?, r.get("headers_json")?))
        })
        .optional()?;
    Ok(RecordingDetail {
        recording,
        metadata: json_column(Some(metadata)).unwrap_or(Value::Null),
        jwt_header: json_column(jwt_header),
        jwt_claims: json_column(jwt_claims),
        headers: delivered.as_ref().and_then(|(_, h)| json_column(Some(h.clone()))).unwrap_or(Value::Array(vec![])),
        request_id: delivered.map(|(id, _)| id),
    })
}

/// Stores `rec`, or finds the identical audio already stored under its id.
/// Returns the row, its version and whether it was new, a duplicate or a conflict.
pub(super) fn insert(conn: &Connection, rec: &NewRecording) -> rusqlite::Result<(i64, u32, Outcome)> {
    let existing = conn.versions(&rec.metadata.recording_id)?;
    let version = match rows::version_of(&existing, &rec.sha256) {
        Version::Same(row, version) => return Ok((row, version, Outcome::Duplicate)),
        Version::Next(version) => version,
    };
    let m = &rec.metadata;
    let a = &rec.info;
    conn.prepare_cached(
        "INSERT INTO recordings (recording_id, version, conflict, session_id, assistant_id, environment_id,
            start_timestamp, stop_timestamp, received_at, metadata_json, path, filename, part_content_type,
            container, encoding, sample_rate, channels, sample_count, duration_ms, data_offset, data_len,
            size_bytes, sha256, auth_verdict, auth_reason, jwt_header, jwt_claims, audio)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
            ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
    )?
    .execute(params![
        m.recording_id,
        version,
        version > 1,
        m.session_id,
        m.assistant_id,
        m.environment_id,
        m.start_timestamp,
        m.stop_timestamp,
        rec.received_at,
        Value::Object(m.raw.clone()).to_string(),
        rec.path,
        rec.filename,
        rec.part_content_type,
        a.container.as_str(),
        a.encoding.as_str(),
        a.sample_rate,
        a.channels,
        a.sample_count as i64,
        a.duration_ms as i64,
        a.data_offset as i64,
        a.data_len as i64,
        rec.audio.len() as i64,
        rec.sha256,
        rec.auth.verdict.as_str(),
        rec.auth.reason,
        rec.auth.jwt_header.as_ref().map(Value::to_string),
        rec.auth.jwt_claims.as_ref().map(Value::to_string),
        rec.audio,
    ])?;
    let outcome = if version > 1 { Outcome::Conflict } else { Outcome::Stored };
    Ok((conn.last_insert_rowid(), version, outcome))
}
