//! Call bundles on the SQLite side: the rows of the selected calls, read in
//! one transaction, and an import that skips what is already here, turns
//! other audio under a known id into the next version, and gives everything
//! new fresh ids. The checks on the bundle itself are `crate::bundle`'s.

use rusqlite::{Connection, params};

use super::lifecycle::{canonical_time, take};
use crate::bundle::Selection;
use crate::store::Snapshot;

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
