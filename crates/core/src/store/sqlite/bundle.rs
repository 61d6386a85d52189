//! Call bundles on the SQLite side: the rows of the selected calls, read in
//! one transaction, and an import that skips what is already here, turns
//! other audio under a known id into the next version, and gives everything
//! new fresh ids. The checks on the bundle itself are `crate::bundle`'s.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};

use super::lifecycle::{Rows, canonical_time, insert, next_id, put_reviews, set, take, to_value};
use crate::bundle::{ImportReport, Selection};
use crate::store::{Cell, Snapshot};

/// Marks the rows a bundle of `selection` carries, in the same temp tables a delete uses.
fn mark_selection(conn: &Connection, selection: &Selection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS doomed_recordings (id INTEGER PRIMARY KEY);
         CREATE TEMP TABLE IF NOT EXISTS doomed_requests (id INTEGER PRIMARY KEY);
         DELETE FROM temp.doomed_recordings; DELETE FROM temp.doomed_requests;",
    )?;
    let after = selection.after.as_deref().map(canonical_time).transpose()?;
    let before = selection.before.as_deref().map(canonical_time).transpose()?;
    let sessions = selection.sessions.as_ref().map(|s| serde_json::to_string(s).unwrap_or_default());
    conn.execute(
        "INSERT OR IGNORE INTO temp.doomed_recordings (id) SELECT id FROM recordings
         WHERE (?1 IS NULL OR session_id IN (SELECT value FROM json_each(?1)))
           AND (?2 IS NULL OR received_at >= ?2) AND (?3 IS NULL OR received_at < ?3)",
        params![sessions, after, before],
    )?;
    conn.execute(
        "INSERT OR IGNORE INTO temp.doomed_requests (id) SELECT id FROM requests
         WHERE ((?1 IS NULL OR session_id IN (SELECT value FROM json_each(?1)))
                AND (?2 IS NULL OR received_at >= ?2) AND (?3 IS NULL OR received_at < ?3))
            OR recording_row IN (SELECT id FROM temp.doomed_recordings)",
        params![sessions, after, before],
    )?;
    Ok(())
}

/// The rows of the calls `selection` picks, as a bundle carries them.
pub(super) fn bundle_rows(conn: &mut Connection, selection: &Selection) -> rusqlite::Result<Snapshot> {
    // One read transaction, so the tables agree with each other.
    let tx = conn.transaction()?;
    mark_selection(&tx, selection)?;
    let snapshot = Snapshot {
        tables: vec![
            take(&tx, "recordings", "id IN (SELECT id FROM temp.doomed_recordings)")?,
            take(&tx, "requests", "id IN (SELECT id FROM temp.doomed_requests)")?,
            take(&tx, "forwards", "request_id IN (SELECT id FROM temp.doomed_requests)")?,
            take(
                &tx,
                "replays",
                "request_id IN (SELECT id FROM temp.doomed_requests)
                 OR recording_row IN (SELECT id FROM temp.doomed_recordings)",
            )?,
            take(&tx, "reviews", "recording_row IN (SELECT id FROM temp.doomed_recordings)")?,
        ],
    };
    tx.commit()?;
    Ok(snapshot)
}

/// Imports a bundle's rows: a recording already here with the same id and
/// sha256 is skipped, one whose id is here with other audio becomes the next
/// version (a conflict, as a resend would), everything new gets fresh ids and
/// `imported_from`. Importing the same bundle twice adds nothing.
pub(super) fn import(conn: &Connection, snapshot: &Snapshot, origin: &str) -> rusqlite::Result<ImportReport> {
    use std::collections::{HashMap, HashSet};
    let mut report = ImportReport::default();
    let mut recording_ids: HashMap<i64, i64> = HashMap::new();
    let mut request_ids: HashMap<i64, i64> = HashMap::new();
    let mut fresh_requests: HashSet<i64> = HashSet::new();
    let mut fresh_recordings: HashSet<i64> = HashSet::new();
    let find = |name: &str| snapshot.tables.iter().find(|t| t.table == name);
    let text = |rows: &Rows<'_>, row: &[Cell], column: &str| match rows.index(column).and_then(|i| row.get(i)) {
        Some(Cell::Text(v)) => Some(v.clone()),
        _ => None,
    };
    let mut sessions = HashSet::new();
    if let Some(table) = find("recordings") {
        let rows = Rows { table };
        for original in &table.rows {
            let mut row = original.clone();
            let old = rows.integer(&row, "id").unwrap_or_default();
            let recording_id = text(&rows, &row, "recording_id").unwrap_or_default();
            let sha = text(&rows, &row, "sha256").unwrap_or_default();
            sessions.insert(text(&rows, &row, "session_id").unwrap_or_default());
            let versions: Vec<(i64, String)> = conn
                .prepare_cached("SELECT id, sha256 FROM recordings WHERE recording_id = ?1 ORDER BY version")?
                .query_map([&recording_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            if let Some((existing, _)) = versions.iter().find(|(_, s)| *s == sha) {
                recording_ids.insert(old, *existing);
                report.skipped += 1;
                report.skipped_ids.push(recording_id);
                continue;
            }
            let id = next_id(conn, "recordings")?;
            set(&mut row, rows.index("id"), Some(id));
            let version = versions.len() as i64 + 1;
            set(&mut row, rows.index("version"), Some(version));
            set(&mut row, rows.index("conflict"), Some(i64::from(version > 1)));
            if let Some(i) = rows.index("imported_from") {
                row[i] = Cell::Text(origin.to_string());
            }
            insert(conn, "recordings", &table.columns, &row)?;
            if rows.index("imported_from").is_none() {
                conn.execute("UPDATE recordings SET imported_from = ?2 WHERE id = ?1", params![id, origin])?;
            }
            recording_ids.insert(old, id);
            fresh_recordings.insert(id);
            report.added += 1;
            if version > 1 {
                report.conflicts += 1;
                report.conflict_ids.push(recording_id);
            }
        }
    }
    let remap = |map: &HashMap<i64, i64>, value: Option<i64>| value.map(|v| map.get(&v).copied().unwrap_or(v));
    if let Some(table) = find("requests") {
        let rows = Rows { table };
        for original in &table.rows {
            let mut row = original.clone();
            let old = rows.integer(&row, "id").unwrap_or_default();
            let value = |column: &str| rows.index(column).map_or(Value::Null, |i| to_value(&row[i]));
            let mapped = remap(&recording_ids, rows.integer(&row, "recording_row"));
            // The same entry: same arrival, request, body and recording (`IS` matches NULLs too).
            let existing: Option<i64> = conn
                .query_row(
                    "SELECT id FROM requests WHERE received_at = ?1 AND method = ?2 AND path = ?3
                       AND body_size = ?4 AND headers_json = ?5 AND session_id IS ?6 AND recording_id IS ?7
                       AND body IS ?8 AND recording_row IS ?9 AND status = ?10 LIMIT 1",
                    params![
                        value("received_at"),
                        value("method"),
                        value("path"),
                        value("body_size"),
                        value("headers_json"),
                        value("session_id"),
                        value("recording_id"),
                        value("body"),
                        mapped,
                        value("status")
                    ],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(existing) = existing {
                request_ids.insert(old, existing);
                continue;
            }
            let id = next_id(conn, "requests")?;
            set(&mut row, rows.index("id"), Some(id));
            set(&mut row, rows.index("recording_row"), mapped);
            // A request whose recording was already here links to that one: same bytes, so its body still rebuilds.
            insert(conn, "requests", &table.columns, &row)?;
            request_ids.insert(old, id);
            fresh_requests.insert(id);
            report.requests += 1;
            if let Some(session) = text(&rows, &row, "session_id") {
                sessions.insert(session);
            }
        }
    }
    if let Some(table) = find("forwards") {
        let rows = Rows { table };
        for original in &table.rows {
            let mut row = original.clone();
            let mapped = remap(&request_ids, rows.integer(&row, "request_id"));
            if !mapped.is_some_and(|id| fresh_requests.contains(&id)) {
                continue;
            }
            set(&mut row, rows.index("request_id"), mapped);
            insert(conn, "forwards", &table.columns, &row)?;
        }
    }
    if let Some(table) = find("replays") {
        let rows = Rows { table };
        for original in &table.rows {
            let mut row = original.clone();
            let request = remap(&request_ids, rows.integer(&row, "request_id"));
            let recording = remap(&recording_ids, rows.integer(&row, "recording_row"));
            let new_parent = request.is_some_and(|id| fresh_requests.contains(&id))
                || recording.is_some_and(|id| fresh_recordings.contains(&id));
            if !new_parent {
                continue;
            }
            set(&mut row, rows.index("id"), Some(next_id(conn, "replays")?));
            set(&mut row, rows.index("request_id"), request);
            set(&mut row, rows.index("recording_row"), recording);
            insert(conn, "replays", &table.columns, &row)?;
        }
    }
    put_reviews(conn, find("reviews"), &recording_ids)?;
    sessions.remove("");
    report.calls = sessions.len() as u64;
    Ok(report)
}
