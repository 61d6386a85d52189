//! Deleting for real, putting back, Keep, retention and compaction, as the
//! writer applies them. A delete first copies every row it will take into a
//! [`Snapshot`] (for the app's Undo, held in memory only), then removes the
//! rows; with `secure_delete` on the writer's connection the freed pages are
//! zeroed, and the writer truncates the WAL after the commit, so the bytes
//! leave the file.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::lifecycle;
use crate::store::rows::{DETACHED_TABLE, Rows, Tables};
use crate::store::{Cell, DeleteTarget, Removed, RetentionPolicy, Snapshot, StoreSize, TableRows};

/// A failure with Earshot's own words, for the writer to report.
pub(super) fn refuse(message: String) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(message.into())
}

/// [`canonical_time`] as a SQLite error.
pub(super) fn canonical_time(text: &str) -> rusqlite::Result<String> {
    lifecycle::canonical_time(text).map_err(refuse)
}

/// Recording rows and request ids a delete takes, in temp tables the statements below join on.
fn mark(conn: &Connection, target: &DeleteTarget) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS doomed_recordings (id INTEGER PRIMARY KEY);
         CREATE TEMP TABLE IF NOT EXISTS doomed_requests (id INTEGER PRIMARY KEY);
         DELETE FROM temp.doomed_recordings; DELETE FROM temp.doomed_requests;",
    )?;
    let recordings = "INSERT OR IGNORE INTO temp.doomed_recordings (id)";
    let requests = "INSERT OR IGNORE INTO temp.doomed_requests (id)";
    match target {
        DeleteTarget::Version { row } => {
            conn.execute(&format!("{recordings} SELECT id FROM recordings WHERE id = ?1"), [row])?;
        }
        DeleteTarget::Recording { recording_id } => {
            conn.execute(&format!("{recordings} SELECT id FROM recordings WHERE recording_id = ?1"), [recording_id])?;
        }
        DeleteTarget::Session { session_id } => {
            conn.execute(&format!("{recordings} SELECT id FROM recordings WHERE session_id = ?1"), [session_id])?;
            conn.execute(&format!("{requests} SELECT id FROM requests WHERE session_id = ?1"), [session_id])?;
        }
        DeleteTarget::Requests { ids } => {
            let mut insert = conn.prepare(&format!("{requests} SELECT id FROM requests WHERE id = ?1"))?;
            for id in ids {
                insert.execute([id])?;
            }
        }
        DeleteTarget::Before { before } => {
            let before = canonical_time(before)?;
            conn.execute(&format!("{recordings} SELECT id FROM recordings WHERE received_at < ?1"), [&before])?;
            conn.execute(&format!("{requests} SELECT id FROM requests WHERE received_at < ?1"), [&before])?;
        }
    }
    // A call's recordings take the requests that delivered them along only when the call goes whole.
    if matches!(target, DeleteTarget::Session { .. } | DeleteTarget::Before { .. }) {
        conn.execute_batch(&format!(
            "{requests} SELECT id FROM requests WHERE recording_row IN (SELECT id FROM temp.doomed_recordings)"
        ))?;
    }
    Ok(())
}

/// `SELECT *` of `table` where `condition`, as cells.
pub(super) fn take(conn: &Connection, table: &str, condition: &str) -> rusqlite::Result<TableRows> {
    let mut statement = conn.prepare(&format!("SELECT * FROM {table} WHERE {condition}"))?;
    let columns: Vec<String> = statement.column_names().map(str::to_string).collect();
    let width = columns.len();
    let rows = statement
        .query_map([], |row| {
            (0..width)
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        ValueRef::Null => Cell::Null,
                        ValueRef::Integer(v) => Cell::Integer(v),
                        ValueRef::Real(v) => Cell::Real(v),
                        ValueRef::Text(v) => Cell::Text(String::from_utf8_lossy(v).into_owned()),
                        ValueRef::Blob(v) => Cell::Blob(v.to_vec()),
                    })
                })
                .collect::<rusqlite::Result<Vec<Cell>>>()
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(TableRows { table: table.to_string(), columns, rows })
}

const DETACHED: &str = "recording_row IN (SELECT id FROM temp.doomed_recordings)
    AND id NOT IN (SELECT id FROM temp.doomed_requests)";

/// Removes what `target` names; returns what went and the rows, for Undo.
pub(super) fn delete(conn: &Connection, target: &DeleteTarget) -> rusqlite::Result<(Removed, Snapshot)> {
    mark(conn, target)?;
    let doomed_recordings = "id IN (SELECT id FROM temp.doomed_recordings)";
    let doomed_requests = "id IN (SELECT id FROM temp.doomed_requests)";
    let replays = "request_id IN (SELECT id FROM temp.doomed_requests)
        OR recording_row IN (SELECT id FROM temp.doomed_recordings)";
    // Parents first, so they can go back in this order.
    let snapshot = Snapshot {
        tables: vec![
            take(conn, "recordings", doomed_recordings)?,
            take(conn, "requests", doomed_requests)?,
            TableRows { table: DETACHED_TABLE.to_string(), ..take(conn, "requests", &format!("({DETACHED})"))? },
            take(conn, "forwards", "request_id IN (SELECT id FROM temp.doomed_requests)")?,
            take(conn, "replays", replays)?,
            take(conn, "reviews", "recording_row IN (SELECT id FROM temp.doomed_recordings)")?,
        ],
    };
    let (recordings, bytes): (i64, i64) = conn.query_row(
        &format!("SELECT COUNT(*), COALESCE(SUM(size_bytes), 0) FROM recordings WHERE {doomed_recordings}"),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let sessions: Vec<String> = conn
        .prepare(&format!("SELECT DISTINCT session_id FROM recordings WHERE {doomed_recordings}"))?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    conn.execute(&format!("DELETE FROM replays WHERE {replays}"), [])?;
    // The analysis is derived from the audio: it goes with it and is computed again after an Undo.
    for table in ["reviews", "analyses"] {
        conn.execute(
            &format!("DELETE FROM {table} WHERE recording_row IN (SELECT id FROM temp.doomed_recordings)"),
            [],
        )?;
    }
    conn.execute("DELETE FROM forwards WHERE request_id IN (SELECT id FROM temp.doomed_requests)", [])?;
    // Requests that delivered a removed recording stay in the log, without the body that carried it.
    conn.execute(
        &format!("UPDATE requests SET recording_row = NULL, body = NULL, body_audio_at = NULL WHERE {DETACHED}"),
        [],
    )?;
    let requests = conn.execute(&format!("DELETE FROM requests WHERE {doomed_requests}"), [])?;
    conn.execute(&format!("DELETE FROM recordings WHERE {doomed_recordings}"), [])?;
    let mut calls = 0;
    for session in sessions {
        let left: i64 =
            conn.query_row("SELECT COUNT(*) FROM recordings WHERE session_id = ?1", [session], |r| r.get(0))?;
        calls += u64::from(left == 0);
    }
    let removed = Removed { calls, recordings: recordings as u64, requests: requests as u64, bytes: bytes as u64 };
    Ok((removed, snapshot))
}

fn to_value(cell: &Cell) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Integer(v) => Value::Integer(*v),
        Cell::Real(v) => Value::Real(*v),
        Cell::Text(v) => Value::Text(v.clone()),
        Cell::Blob(v) => Value::Blob(v.clone()),
    }
}

/// `INSERT INTO table (columns) VALUES (row) then`.
fn insert_cells(conn: &Connection, table: &str, columns: &[String], row: &[Cell], then: &str) -> rusqlite::Result<()> {
    let marks = (1..=columns.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
    conn.prepare_cached(&format!("INSERT INTO {table} ({}) VALUES ({marks}) {then}", columns.join(", ")))?
        .execute(rusqlite::params_from_iter(row.iter().map(to_value)))?;
    Ok(())
}

/// What restore and import need from SQLite, inside the writer's transaction.
impl Tables for Connection {
    type Error = rusqlite::Error;

    fn has_id(&self, table: &str, id: i64) -> rusqlite::Result<bool> {
        self.query_row(&format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = ?1)"), [id], |r| r.get(0))
    }

    /// SQLite gives out the highest id + 1, so past the highest is never given to anything else.
    fn fresh_id(&self, table: &str) -> rusqlite::Result<i64> {
        self.query_row(&format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"), [], |r| r.get(0))
    }

    fn versions(&self, recording_id: &str) -> rusqlite::Result<Vec<(i64, u32, String)>> {
        self.prepare_cached("SELECT id, version, sha256 FROM recordings WHERE recording_id = ?1 ORDER BY version")?
            .query_map([recording_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect()
    }

    fn insert(&self, table: &str, columns: &[String], row: &[Cell]) -> rusqlite::Result<()> {
        insert_cells(self, table, columns, row, "")
    }

    fn insert_review(&self, columns: &[String], row: &[Cell]) -> rusqlite::Result<()> {
        insert_cells(self, "reviews", columns, row, "ON CONFLICT (recording_row) DO NOTHING")
    }

    fn reattach(&self, id: i64, recording_row: Option<i64>, body: &Cell, body_audio_at: &Cell) -> rusqlite::Result<()> {
        self.execute(
            "UPDATE requests SET recording_row = ?2, body = ?3, body_audio_at = ?4 WHERE id = ?1",
            params![id, recording_row, to_value(body), to_value(body_audio_at)],
        )?;
        Ok(())
    }

    fn same_request(&self, rows: &Rows<'_>, row: &[Cell], recording_row: Option<i64>) -> rusqlite::Result<Option<i64>> {
        let value = |column: &str| to_value(&rows.cell(row, column));
        // `IS` matches NULLs too.
        self.query_row(
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
                recording_row,
                value("status")
            ],
            |r| r.get(0),
        )
        .optional()
    }

    fn calls_of(&self, rows: &[i64]) -> rusqlite::Result<u64> {
        let count: i64 = self.query_row(
            "SELECT COUNT(DISTINCT session_id) FROM recordings WHERE id IN (SELECT value FROM json_each(?1))",
            [serde_json::to_string(rows).unwrap_or_default()],
            |r| r.get(0),
        )?;
        Ok(count.max(0) as u64)
    }
}

/// Sets a recording version's Keep.
pub(super) fn pin(conn: &Connection, row: i64, pinned: bool) -> rusqlite::Result<()> {
    match conn.execute("UPDATE recordings SET pinned = ?2 WHERE id = ?1", params![row, pinned])? {
        0 => Err(refuse(format!("no recording row {row} to keep"))),
        _ => Ok(()),
    }
}

/// The calls `policy` removes as of `now`: whole calls, oldest last activity first, none holding a kept recording.
pub(super) fn retain(conn: &Connection, policy: &RetentionPolicy, now: &str) -> rusqlite::Result<Removed> {
    let calls: Vec<(String, String, i64)> = conn
        .prepare(lifecycle::RETAIN_CANDIDATES)?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let total: i64 = conn.query_row("SELECT COALESCE(SUM(size_bytes), 0) FROM recordings", [], |r| r.get(0))?;
    let mut removed = Removed::default();
    for session_id in lifecycle::calls_to_remove(policy, now, &calls, total) {
        let (gone, _) = delete(conn, &DeleteTarget::Session { session_id })?;
        removed += gone;
    }
    Ok(removed)
}

/// The file's size and its free pages.
pub(super) fn size(conn: &Connection, wal_bytes: u64) -> rusqlite::Result<StoreSize> {
    let pragma = |name: &str| conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0));
    let page = pragma("page_size")?.max(0) as u64;
    Ok(StoreSize {
        bytes: pragma("page_count")?.max(0) as u64 * page + wal_bytes,
        free_bytes: pragma("freelist_count")?.max(0) as u64 * page,
    })
}
