//! Deleting, putting back, Keep, retention, size and bundles on PostgreSQL.
//! A delete collects the row ids it takes into arrays, copies those rows
//! into the [`Snapshot`] for Undo, then removes them. Restore and import are
//! the shared `rows` logic over [`Tables`] below.
//!
//! PostgreSQL does not overwrite a deleted row's bytes at once: the space
//! is reused after (auto)vacuum, and Compact runs `VACUUM`. docs/postgres.md
//! says what that means for backups.

use super::recordings;
use super::sql::{CellParam, Db, Params};
use crate::store::lifecycle::{self, RETAIN_CANDIDATES, calls_to_remove};
use crate::store::rows::{DETACHED_TABLE, Rows, Tables};
use crate::store::{Cell, DeleteTarget, Removed, RetentionPolicy, Snapshot, StoreError, StoreSize, TableRows};

/// The ids of the column `id` that `sql` selects.
fn ids(db: &Db<'_>, sql: &str, params: &Params<'_>) -> Result<Vec<i64>, StoreError> {
    db.query(sql, params)?.iter().map(|r| r.try_get(0).map_err(StoreError::from)).collect()
}

fn refuse(message: String) -> StoreError {
    StoreError::postgres(message, None)
}

/// The recording rows and request ids `target` takes.
fn mark(db: &Db<'_>, target: &DeleteTarget) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
    let (mut recordings, mut requests) = (Vec::new(), Vec::new());
    match target {
        DeleteTarget::Version { row } => recordings = ids(db, "SELECT id FROM recordings WHERE id = $1", &[row])?,
        DeleteTarget::Recording { recording_id } => {
            recordings = ids(db, "SELECT id FROM recordings WHERE recording_id = $1", &[recording_id])?;
        }
        DeleteTarget::Session { session_id } => {
            recordings = ids(db, "SELECT id FROM recordings WHERE session_id = $1", &[session_id])?;
            requests = ids(db, "SELECT id FROM requests WHERE session_id = $1", &[session_id])?;
        }
        DeleteTarget::Requests { ids: given } => {
            requests = ids(db, "SELECT id FROM requests WHERE id = ANY($1)", &[given])?;
        }
        DeleteTarget::Before { before } => {
            let before = lifecycle::canonical_time(before).map_err(refuse)?;
            recordings = ids(db, "SELECT id FROM recordings WHERE received_at < $1", &[&before])?;
            requests = ids(db, "SELECT id FROM requests WHERE received_at < $1", &[&before])?;
        }
    }
    // A call's recordings take the requests that delivered them along only when the call goes whole.
    if matches!(target, DeleteTarget::Session { .. } | DeleteTarget::Before { .. }) {
        let delivering = ids(db, "SELECT id FROM requests WHERE recording_row = ANY($1)", &[&recordings])?;
        requests.extend(delivering);
        requests.sort_unstable();
        requests.dedup();
    }
    Ok((recordings, requests))
}

const DETACHED: &str = "recording_row = ANY($1) AND NOT (id = ANY($2))";

/// Removes what `target` names; returns what went and the rows, for Undo.
pub(super) fn delete(db: &Db<'_>, target: &DeleteTarget) -> Result<(Removed, Snapshot), StoreError> {
    let (recordings, requests) = mark(db, target)?;
    let both: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&recordings, &requests];
    let replays = "request_id = ANY($2) OR recording_row = ANY($1)";
    let snapshot = Snapshot {
        tables: vec![
            db.take("recordings", "id = ANY($1)", &[&recordings])?,
            db.take("requests", "id = ANY($1)", &[&requests])?,
            TableRows { table: DETACHED_TABLE.to_string(), ..db.take("requests", DETACHED, &both)? },
            db.take("forwards", "request_id = ANY($1)", &[&requests])?,
            db.take("replays", replays, &both)?,
            db.take("reviews", "recording_row = ANY($1)", &[&recordings])?,
        ],
    };
    let totals = db.query_one(
        "SELECT COUNT(*), CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM recordings WHERE id = ANY($1)",
        &[&recordings],
    )?;
    let sessions: Vec<String> = db
        .query("SELECT DISTINCT session_id FROM recordings WHERE id = ANY($1)", &[&recordings])?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    db.execute(&format!("DELETE FROM replays WHERE {replays}"), &both)?;
    // The analysis is derived from the audio: it goes with it and is computed again after an Undo.
    db.execute("DELETE FROM reviews WHERE recording_row = ANY($1)", &[&recordings])?;
    db.execute("DELETE FROM analyses WHERE recording_row = ANY($1)", &[&recordings])?;
    db.execute("DELETE FROM forwards WHERE request_id = ANY($1)", &[&requests])?;
    // Requests that delivered a removed recording stay in the log, without the body that carried it.
    db.execute(
        &format!("UPDATE requests SET recording_row = NULL, body = NULL, body_audio_at = NULL WHERE {DETACHED}"),
        &both,
    )?;
    let removed_requests = db.execute("DELETE FROM requests WHERE id = ANY($1)", &[&requests])?;
    db.execute("DELETE FROM recordings WHERE id = ANY($1)", &[&recordings])?;
    let left = db.query_one(
        "SELECT COUNT(*) FROM unnest($1::TEXT[]) AS s(id) WHERE NOT EXISTS (SELECT 1 FROM recordings WHERE session_id = s.id)",
        &[&sessions],
    )?;
    let removed = Removed {
        calls: left.try_get::<_, i64>(0)?.max(0) as u64,
        recordings: totals.try_get::<_, i64>(0)?.max(0) as u64,
        requests: removed_requests,
        bytes: totals.try_get::<_, i64>(1)?.max(0) as u64,
    };
    Ok((removed, snapshot))
}

/// Sets a recording version's Keep.
pub(super) fn pin(db: &Db<'_>, row: i64, pinned: bool) -> Result<(), StoreError> {
    match db.execute("UPDATE recordings SET pinned = $2 WHERE id = $1", &[&row, &i64::from(pinned)])? {
        0 => Err(refuse(format!("no recording row {row} to keep"))),
        _ => Ok(()),
    }
}

/// The calls `policy` removes as of `now`: whole calls, oldest last activity first, none holding a kept recording.
pub(super) fn retain(db: &Db<'_>, policy: &RetentionPolicy, now: &str) -> Result<Removed, StoreError> {
    let calls: Vec<(String, String, i64)> = db
        .query(RETAIN_CANDIDATES, &[])?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<_, StoreError>>()?;
    let total: i64 =
        db.query_one("SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM recordings", &[])?.try_get(0)?;
    let mut removed = Removed::default();
    for session_id in calls_to_remove(policy, now, &calls, total) {
        removed += delete(db, &DeleteTarget::Session { session_id })?.0;
    }
    Ok(removed)
}

/// The tables' size on disk; PostgreSQL reuses deleted rows' space itself, so nothing counts as free.
pub(super) fn size(db: &Db<'_>) -> Result<StoreSize, StoreError> {
    let bytes: i64 = db
        .query_one(
            "SELECT CAST(pg_total_relation_size('recordings') + pg_total_relation_size('requests')
                + pg_total_relation_size('forwards') + pg_total_relation_size('replays') AS BIGINT)",
            &[],
        )?
        .try_get(0)?;
    Ok(StoreSize { bytes: bytes.max(0) as u64, free_bytes: 0 })
}

/// The rows of the calls `selection` picks, read in one snapshot of the database.
pub(super) fn bundle_rows(db: &Db<'_>, selection: &crate::bundle::Selection) -> Result<Snapshot, StoreError> {
    let time = |t: &Option<String>| t.as_deref().map(lifecycle::canonical_time).transpose().map_err(refuse);
    let (after, before) = (time(&selection.after)?, time(&selection.before)?);
    let sessions = &selection.sessions;
    let picked = "($1::TEXT[] IS NULL OR session_id = ANY($1))
        AND ($2::TEXT IS NULL OR received_at >= $2) AND ($3::TEXT IS NULL OR received_at < $3)";
    let recordings = ids(db, &format!("SELECT id FROM recordings WHERE {picked}"), &[sessions, &after, &before])?;
    let requests = ids(
        db,
        &format!("SELECT id FROM requests WHERE ({picked}) OR recording_row = ANY($4)"),
        &[sessions, &after, &before, &recordings],
    )?;
    Ok(Snapshot {
        tables: vec![
            db.take("recordings", "id = ANY($1)", &[&recordings])?,
            db.take("requests", "id = ANY($1)", &[&requests])?,
            db.take("forwards", "request_id = ANY($1)", &[&requests])?,
            db.take("replays", "request_id = ANY($2) OR recording_row = ANY($1)", &[&recordings, &requests])?,
            db.take("reviews", "recording_row = ANY($1)", &[&recordings])?,
        ],
    })
}

/// `INSERT INTO table (columns) VALUES (row) then`, the cells converted to the columns' types.
fn insert_cells(db: &Db<'_>, table: &str, columns: &[String], row: &[Cell], then: &str) -> Result<(), StoreError> {
    let marks = (1..=columns.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let cells: Vec<CellParam<'_>> = row.iter().map(CellParam).collect();
    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        cells.iter().map(|c| c as &(dyn tokio_postgres::types::ToSql + Sync)).collect();
    db.execute(&format!("INSERT INTO {table} ({}) VALUES ({marks}) {then}", columns.join(", ")), &params)?;
    Ok(())
}

/// What restore and import need from PostgreSQL, inside the writer's transaction.
impl Tables for Db<'_> {
    type Error = StoreError;

    fn has_id(&self, table: &str, id: i64) -> Result<bool, StoreError> {
        Ok(self.query_one(&format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = $1)"), &[&id])?.try_get(0)?)
    }

    /// The table's sequence: never given twice, whichever listener asks.
    fn fresh_id(&self, table: &str) -> Result<i64, StoreError> {
        Ok(self.query_one(&format!("SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"), &[])?.try_get(0)?)
    }

    fn versions(&self, recording_id: &str) -> Result<Vec<(i64, u32, String)>, StoreError> {
        recordings::versions(self, recording_id)
    }

    fn insert(&self, table: &str, columns: &[String], row: &[Cell]) -> Result<(), StoreError> {
        insert_cells(self, table, columns, row, "")
    }

    fn insert_review(&self, columns: &[String], row: &[Cell]) -> Result<(), StoreError> {
        insert_cells(self, "reviews", columns, row, "ON CONFLICT (recording_row) DO NOTHING")
    }

    fn reattach(
        &self,
        id: i64,
        recording_row: Option<i64>,
        body: &Cell,
        body_audio_at: &Cell,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE requests SET recording_row = $2, body = $3, body_audio_at = $4 WHERE id = $1",
            &[&id, &recording_row, &CellParam(body), &CellParam(body_audio_at)],
        )?;
        Ok(())
    }

    fn same_request(
        &self,
        rows: &Rows<'_>,
        row: &[Cell],
        recording_row: Option<i64>,
    ) -> Result<Option<i64>, StoreError> {
        let cells: Vec<Cell> = [
            "received_at",
            "method",
            "path",
            "body_size",
            "headers_json",
            "session_id",
            "recording_id",
            "body",
            "status",
        ]
        .iter()
        .map(|c| rows.cell(row, c))
        .collect();
        let p: Vec<CellParam<'_>> = cells.iter().map(CellParam).collect();
        let found = self.query_opt(
            "SELECT id FROM requests WHERE received_at = $1 AND method = $2 AND path = $3
               AND body_size = $4 AND headers_json = $5 AND session_id IS NOT DISTINCT FROM $6
               AND recording_id IS NOT DISTINCT FROM $7 AND body IS NOT DISTINCT FROM $8
               AND recording_row IS NOT DISTINCT FROM $10 AND status = $9 LIMIT 1",
            &[&p[0], &p[1], &p[2], &p[3], &p[4], &p[5], &p[6], &p[7], &p[8], &recording_row],
        )?;
        Ok(found.map(|r| r.try_get(0)).transpose()?)
    }

    fn calls_of(&self, rows: &[i64]) -> Result<u64, StoreError> {
        let rows = rows.to_vec();
        let count: i64 = self
            .query_one("SELECT COUNT(DISTINCT session_id) FROM recordings WHERE id = ANY($1)", &[&rows])?
            .try_get(0)?;
        Ok(count.max(0) as u64)
    }
}
