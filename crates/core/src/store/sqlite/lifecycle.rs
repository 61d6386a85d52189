//! Deleting for real, putting back, Keep, retention and compaction, as the
//! writer applies them. A delete first copies every row it will take into a
//! [`Snapshot`] (for the app's Undo, held in memory only), then removes the
//! rows; with `secure_delete` on the writer's connection the freed pages are
//! zeroed, and the writer truncates the WAL after the commit, so the bytes
//! leave the file.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params};

use crate::store::{Cell, DeleteTarget, Removed, RetentionPolicy, Snapshot, StoreSize, TableRows};

/// A failure with Earshot's own words, for the writer to report.
pub(super) fn refuse(message: String) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(message.into())
}

/// `text` as the store writes times (UTC, milliseconds, `Z`), so that text
/// comparison is time comparison; a bare date is its start, UTC.
pub(super) fn canonical_time(text: &str) -> rusqlite::Result<String> {
    let text = text.trim();
    let parsed = chrono::DateTime::parse_from_rfc3339(text).map(|t| t.to_utc()).or_else(|_| {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
    });
    parsed.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).map_err(|_| {
        refuse(format!("{text:?} is not a time: give RFC 3339 (2026-11-26T12:00:00Z) or a date (2026-11-26)"))
    })
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

/// The snapshot's name for requests a delete only detached from their recording.
const DETACHED_TABLE: &str = "requests (detached)";

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

pub(super) fn to_value(cell: &Cell) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Integer(v) => Value::Integer(*v),
        Cell::Real(v) => Value::Real(*v),
        Cell::Text(v) => Value::Text(v.clone()),
        Cell::Blob(v) => Value::Blob(v.clone()),
    }
}

/// Rows of a table, addressable by column name.
pub(super) struct Rows<'a> {
    pub(super) table: &'a TableRows,
}

impl Rows<'_> {
    pub(super) fn index(&self, column: &str) -> Option<usize> {
        self.table.columns.iter().position(|c| c == column)
    }

    pub(super) fn integer(&self, row: &[Cell], column: &str) -> Option<i64> {
        match self.index(column).and_then(|i| row.get(i)) {
            Some(Cell::Integer(v)) => Some(*v),
            _ => None,
        }
    }
}

pub(super) fn set(row: &mut [Cell], index: Option<usize>, value: Option<i64>) {
    if let (Some(i), Some(v)) = (index, value) {
        row[i] = Cell::Integer(v);
    }
}

pub(super) fn insert(conn: &Connection, table: &str, columns: &[String], row: &[Cell]) -> rusqlite::Result<()> {
    let marks = (1..=columns.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
    conn.prepare_cached(&format!("INSERT INTO {table} ({}) VALUES ({marks})", columns.join(", ")))?
        .execute(rusqlite::params_from_iter(row.iter().map(to_value)))?;
    Ok(())
}

fn taken(conn: &Connection, table: &str, key: &str, id: i64) -> rusqlite::Result<bool> {
    conn.query_row(&format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE {key} = ?1)"), [id], |r| r.get(0))
}

pub(super) fn next_id(conn: &Connection, table: &str) -> rusqlite::Result<i64> {
    conn.query_row(&format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"), [], |r| r.get(0))
}

/// Puts back every row of `snapshot`. Rows keep their ids unless the store
/// has given an id to something new since (SQLite reuses the highest ids);
/// then they get fresh ones and every reference among them follows. A
/// recording whose version number was taken meanwhile (the same recording
/// resent after the delete) comes back as the next version, flagged as a
/// conflict. Nothing stored since the delete is touched.
pub(super) fn restore(conn: &Connection, snapshot: &Snapshot) -> rusqlite::Result<Removed> {
    use std::collections::HashMap;
    let mut restored = Removed::default();
    let mut recording_ids: HashMap<i64, i64> = HashMap::new();
    let mut request_ids: HashMap<i64, i64> = HashMap::new();
    let find = |name: &str| snapshot.tables.iter().find(|t| t.table == name);
    if let Some(table) = find("recordings") {
        let rows = Rows { table };
        for original in &table.rows {
            let mut row = original.clone();
            let old = rows.integer(&row, "id").unwrap_or_default();
            let id = if taken(conn, "recordings", "id", old)? { next_id(conn, "recordings")? } else { old };
            set(&mut row, rows.index("id"), Some(id));
            if let (Some(i), Some(version)) = (rows.index("recording_id"), rows.integer(&row, "version"))
                && let Cell::Text(recording_id) = &row[i]
            {
                let clash: bool = conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM recordings WHERE recording_id = ?1 AND version = ?2)",
                    params![recording_id, version],
                    |r| r.get(0),
                )?;
                if clash {
                    let next: i64 = conn.query_row(
                        "SELECT MAX(version) + 1 FROM recordings WHERE recording_id = ?1",
                        [recording_id],
                        |r| r.get(0),
                    )?;
                    set(&mut row, rows.index("version"), Some(next));
                    set(&mut row, rows.index("conflict"), Some(1));
                }
            }
            insert(conn, "recordings", &table.columns, &row)?;
            recording_ids.insert(old, id);
            restored.recordings += 1;
            restored.bytes += rows.integer(&row, "size_bytes").unwrap_or_default().max(0) as u64;
        }
    }
    let remap = |map: &HashMap<i64, i64>, value: Option<i64>| value.map(|v| map.get(&v).copied().unwrap_or(v));
    if let Some(table) = find("requests") {
        let rows = Rows { table };
        for original in &table.rows {
            let mut row = original.clone();
            let old = rows.integer(&row, "id").unwrap_or_default();
            let id = if taken(conn, "requests", "id", old)? { next_id(conn, "requests")? } else { old };
            set(&mut row, rows.index("id"), Some(id));
            let mapped = remap(&recording_ids, rows.integer(&row, "recording_row"));
            set(&mut row, rows.index("recording_row"), mapped);
            insert(conn, "requests", &table.columns, &row)?;
            request_ids.insert(old, id);
            restored.requests += 1;
        }
    }
    if let Some(table) = find(DETACHED_TABLE) {
        // Requests the delete only detached: give them their recording and body back.
        let rows = Rows { table };
        for row in &table.rows {
            let value = |column: &str| rows.index(column).map_or(Value::Null, |i| to_value(&row[i]));
            conn.execute(
                "UPDATE requests SET recording_row = ?2, body = ?3, body_audio_at = ?4 WHERE id = ?1",
                params![
                    rows.integer(row, "id"),
                    remap(&recording_ids, rows.integer(row, "recording_row")),
                    value("body"),
                    value("body_audio_at")
                ],
            )?;
        }
    }
    if let Some(table) = find("forwards") {
        let rows = Rows { table };
        for original in &table.rows {
            let mut row = original.clone();
            let mapped = remap(&request_ids, rows.integer(&row, "request_id"));
            set(&mut row, rows.index("request_id"), mapped);
            insert(conn, "forwards", &table.columns, &row)?;
        }
    }
    if let Some(table) = find("replays") {
        let rows = Rows { table };
        for original in &table.rows {
            let mut row = original.clone();
            let old = rows.integer(&row, "id").unwrap_or_default();
            let id = if taken(conn, "replays", "id", old)? { next_id(conn, "replays")? } else { old };
            set(&mut row, rows.index("id"), Some(id));
            let mapped = remap(&request_ids, rows.integer(&row, "request_id"));
            set(&mut row, rows.index("request_id"), mapped);
            let mapped = remap(&recording_ids, rows.integer(&row, "recording_row"));
            set(&mut row, rows.index("recording_row"), mapped);
            insert(conn, "replays", &table.columns, &row)?;
        }
    }
    put_reviews(conn, find("reviews"), &recording_ids)?;
    let sessions: i64 = conn.query_row(
        "SELECT COUNT(DISTINCT session_id) FROM recordings WHERE id IN (SELECT value FROM json_each(?1))",
        [serde_json::to_string(&recording_ids.values().collect::<Vec<_>>()).unwrap_or_default()],
        |r| r.get(0),
    )?;
    restored.calls = sessions as u64;
    Ok(restored)
}

/// Puts reviews back on their (remapped) recordings; a recording that has a
/// review here already keeps its own (an import of a call reviewed on both sides).
pub(super) fn put_reviews(
    conn: &Connection,
    table: Option<&TableRows>,
    recording_ids: &std::collections::HashMap<i64, i64>,
) -> rusqlite::Result<()> {
    let Some(table) = table else { return Ok(()) };
    let rows = Rows { table };
    let marks = (1..=table.columns.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
    let mut put = conn.prepare_cached(&format!(
        "INSERT INTO reviews ({}) VALUES ({marks}) ON CONFLICT (recording_row) DO NOTHING",
        table.columns.join(", ")
    ))?;
    for original in &table.rows {
        let mut row = original.clone();
        let old = rows.integer(&row, "recording_row");
        let Some(new) = old.and_then(|old| recording_ids.get(&old).copied()) else { continue };
        set(&mut row, rows.index("recording_row"), Some(new));
        put.execute(rusqlite::params_from_iter(row.iter().map(to_value)))?;
    }
    Ok(())
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
        .prepare(
            "SELECT session_id, MAX(received_at) AS last, SUM(size_bytes) AS bytes FROM recordings
             GROUP BY session_id HAVING MAX(pinned) = 0 ORDER BY last, session_id",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let cutoff = policy.days.and_then(|days| {
        let now = chrono::DateTime::parse_from_rfc3339(now).ok()?;
        Some(
            (now - chrono::Duration::days(i64::from(days)))
                .to_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )
    });
    let mut over = match policy.max_gb {
        Some(gb) => {
            let total: i64 = conn.query_row("SELECT COALESCE(SUM(size_bytes), 0) FROM recordings", [], |r| r.get(0))?;
            total - (gb * 1e9) as i64
        }
        None => 0,
    };
    let mut removed = Removed::default();
    for (session_id, last, bytes) in calls {
        let too_old = cutoff.as_ref().is_some_and(|cutoff| last < *cutoff);
        if !too_old && over <= 0 {
            continue;
        }
        over -= bytes;
        let (gone, _) = delete(conn, &DeleteTarget::Session { session_id })?;
        removed.calls += gone.calls;
        removed.recordings += gone.recordings;
        removed.requests += gone.requests;
        removed.bytes += gone.bytes;
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
