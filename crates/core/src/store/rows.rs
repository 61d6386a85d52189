//! Putting rows back, once for every backend: Undo's restore of a
//! [`Snapshot`], a bundle's import, and the version decision a new recording
//! gets. Each backend gives [`Tables`] (a handful of small statements inside
//! its writer's transaction); the decisions about ids, versions and what is
//! already there are made here.
//!
//! These run inside the backend's transaction, so on PostgreSQL a
//! concurrent listener taking the same version number makes the insert fail
//! on the unique index; the writer then retries the job, which reads again.

use std::collections::{HashMap, HashSet};

use crate::bundle::ImportReport;
use crate::store::{Cell, Removed, Snapshot, TableRows};

/// The snapshot's name for requests a delete only detached from their recording.
pub(crate) const DETACHED_TABLE: &str = "requests (detached)";

/// What a backend does for [`restore`] and [`import`], inside its writer's transaction.
pub(crate) trait Tables {
    /// The backend's error.
    type Error;

    /// Whether `table` has a row with this `id`.
    fn has_id(&self, table: &str, id: i64) -> Result<bool, Self::Error>;

    /// An id no row of `table` has and none will be given (SQLite: past the highest; PostgreSQL: the sequence).
    fn fresh_id(&self, table: &str) -> Result<i64, Self::Error>;

    /// `(row, version, sha256)` of every version of `recording_id`, oldest first.
    fn versions(&self, recording_id: &str) -> Result<Vec<(i64, u32, String)>, Self::Error>;

    /// Inserts one row as given.
    fn insert(&self, table: &str, columns: &[String], row: &[Cell]) -> Result<(), Self::Error>;

    /// Inserts a review unless its recording has one here already (which then keeps its own).
    fn insert_review(&self, columns: &[String], row: &[Cell]) -> Result<(), Self::Error>;

    /// Gives a detached request its recording and body back.
    fn reattach(
        &self,
        id: i64,
        recording_row: Option<i64>,
        body: &Cell,
        body_audio_at: &Cell,
    ) -> Result<(), Self::Error>;

    /// A request already here that is the same entry as `row` (arrival, request, body, status) linked to `recording_row`.
    fn same_request(
        &self,
        rows: &Rows<'_>,
        row: &[Cell],
        recording_row: Option<i64>,
    ) -> Result<Option<i64>, Self::Error>;

    /// How many calls the recordings with these row ids belong to.
    fn calls_of(&self, rows: &[i64]) -> Result<u64, Self::Error>;
}

/// What a new recording is, given the versions already stored under its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    /// The same audio is stored: this row, this version.
    Same(i64, u32),
    /// New audio: store it as this version (above 1 is a conflict).
    Next(u32),
}

/// The one rule for duplicates and versions: the same sha256 under the id is
/// that row; anything else is one past the highest version.
pub(crate) fn version_of(existing: &[(i64, u32, String)], sha256: &str) -> Version {
    match existing.iter().find(|(_, _, sha)| sha == sha256) {
        Some((row, version, _)) => Version::Same(*row, *version),
        None => Version::Next(existing.iter().map(|(_, v, _)| *v).max().unwrap_or(0) + 1),
    }
}

/// Rows of a table, addressable by column name.
pub(crate) struct Rows<'a> {
    /// The table.
    pub(crate) table: &'a TableRows,
}

impl Rows<'_> {
    /// Where `column` is in each row.
    pub(crate) fn index(&self, column: &str) -> Option<usize> {
        self.table.columns.iter().position(|c| c == column)
    }

    /// An integer cell.
    pub(crate) fn integer(&self, row: &[Cell], column: &str) -> Option<i64> {
        match self.index(column).and_then(|i| row.get(i)) {
            Some(Cell::Integer(v)) => Some(*v),
            _ => None,
        }
    }

    /// A text cell.
    pub(crate) fn text(&self, row: &[Cell], column: &str) -> Option<String> {
        match self.index(column).and_then(|i| row.get(i)) {
            Some(Cell::Text(v)) => Some(v.clone()),
            _ => None,
        }
    }

    /// A cell, NULL when the column is missing.
    pub(crate) fn cell(&self, row: &[Cell], column: &str) -> Cell {
        self.index(column).and_then(|i| row.get(i)).cloned().unwrap_or(Cell::Null)
    }
}

fn set(row: &mut [Cell], index: Option<usize>, value: Option<i64>) {
    if let (Some(i), Some(v)) = (index, value) {
        row[i] = Cell::Integer(v);
    }
}

fn remap(map: &HashMap<i64, i64>, value: Option<i64>) -> Option<i64> {
    value.map(|v| map.get(&v).copied().unwrap_or(v))
}

fn find<'a>(snapshot: &'a Snapshot, name: &str) -> Option<&'a TableRows> {
    snapshot.tables.iter().find(|t| t.table == name)
}

/// `old` if no row of `table` has it (any more), else a fresh id.
fn keep_or_fresh<T: Tables>(db: &T, table: &str, old: i64) -> Result<i64, T::Error> {
    if db.has_id(table, old)? { db.fresh_id(table) } else { Ok(old) }
}

/// Puts back every row of `snapshot`. Rows keep their ids unless the store
/// has given an id to something new since; then they get fresh ones and
/// every reference among them follows. A recording whose version number was
/// taken meanwhile (the same recording resent after the delete) comes back as
/// the next version, flagged as a conflict. Nothing stored since is touched.
pub(crate) fn restore<T: Tables>(db: &T, snapshot: &Snapshot) -> Result<Removed, T::Error> {
    let mut restored = Removed::default();
    let mut recording_ids = HashMap::new();
    let mut request_ids = HashMap::new();
    if let Some(table) = find(snapshot, "recordings") {
        let rows = Rows { table };
        for original in &table.rows {
            let mut row = original.clone();
            let old = rows.integer(&row, "id").unwrap_or_default();
            let id = keep_or_fresh(db, "recordings", old)?;
            set(&mut row, rows.index("id"), Some(id));
            if let (Some(recording_id), Some(version)) =
                (rows.text(&row, "recording_id"), rows.integer(&row, "version"))
            {
                let existing = db.versions(&recording_id)?;
                if existing.iter().any(|(_, v, _)| i64::from(*v) == version) {
                    let next = existing.iter().map(|(_, v, _)| *v).max().unwrap_or(0) + 1;
                    set(&mut row, rows.index("version"), Some(i64::from(next)));
                    set(&mut row, rows.index("conflict"), Some(1));
                }
            }
            db.insert("recordings", &table.columns, &row)?;
            recording_ids.insert(old, id);
            restored.recordings += 1;
            restored.bytes += rows.integer(&row, "size_bytes").unwrap_or_default().max(0) as u64;
        }
    }
    if let Some(table) = find(snapshot, "requests") {
        let rows = Rows { table };
        for original in &table.rows {
            let mut row = original.clone();
            let old = rows.integer(&row, "id").unwrap_or_default();
            let id = keep_or_fresh(db, "requests", old)?;
            set(&mut row, rows.index("id"), Some(id));
            set(&mut row, rows.index("recording_row"), remap(&recording_ids, rows.integer(original, "recording_row")));
            db.insert("requests", &table.columns, &row)?;
            request_ids.insert(old, id);
            restored.requests += 1;
        }
    }
    if let Some(table) = find(snapshot, DETACHED_TABLE) {
        let rows = Rows { table };
        for row in &table.rows {
            let recording_row = remap(&recording_ids, rows.integer(row, "recording_row"));
            let id = rows.integer(row, "id").unwrap_or_default();
            db.reattach(id, recording_row, &rows.cell(row, "body"), &rows.cell(row, "body_audio_at"))?;
        }
    }
    restore_children(db, snapshot, &request_ids, &recording_ids)?;
    put_reviews(db, snapshot, &recording_ids)?;
    restored.calls = db.calls_of(&recording_ids.values().copied().collect::<Vec<_>>())?;
    Ok(restored)
}

/// The forwards and replays of a restore, pointed at their parents' ids.
fn restore_children<T: Tables>(
    db: &T,
    snapshot: &Snapshot,
    request_ids: &HashMap<i64, i64>,
    recording_ids: &HashMap<i64, i64>,
) -> Result<(), T::Error> {
    if let Some(table) = find(snapshot, "forwards") {
        let rows = Rows { table };
        for original in &table.rows {
            let mut row = original.clone();
            set(&mut row, rows.index("request_id"), remap(request_ids, rows.integer(original, "request_id")));
            db.insert("forwards", &table.columns, &row)?;
        }
    }
    if let Some(table) = find(snapshot, "replays") {
        let rows = Rows { table };
        for original in &table.rows {
            let mut row = original.clone();
            let id = keep_or_fresh(db, "replays", rows.integer(&row, "id").unwrap_or_default())?;
            set(&mut row, rows.index("id"), Some(id));
            set(&mut row, rows.index("request_id"), remap(request_ids, rows.integer(original, "request_id")));
            set(&mut row, rows.index("recording_row"), remap(recording_ids, rows.integer(original, "recording_row")));
            db.insert("replays", &table.columns, &row)?;
        }
    }
    Ok(())
}

/// Puts reviews back on their (remapped) recordings; a recording that has a
/// review here already keeps its own (an import of a call reviewed on both sides).
fn put_reviews<T: Tables>(db: &T, snapshot: &Snapshot, recording_ids: &HashMap<i64, i64>) -> Result<(), T::Error> {
    let Some(table) = find(snapshot, "reviews") else { return Ok(()) };
    let rows = Rows { table };
    for original in &table.rows {
        let mut row = original.clone();
        let Some(new) = rows.integer(original, "recording_row").and_then(|old| recording_ids.get(&old).copied()) else {
            continue;
        };
        set(&mut row, rows.index("recording_row"), Some(new));
        db.insert_review(&table.columns, &row)?;
    }
    Ok(())
}

/// What an import has added so far: old id → id here, and which ids are new.
#[derive(Default)]
struct Imported {
    recordings: HashMap<i64, i64>,
    requests: HashMap<i64, i64>,
    fresh_recordings: HashSet<i64>,
    fresh_requests: HashSet<i64>,
}

/// Imports a bundle's rows: a recording already here with the same id and
/// sha256 is skipped, one whose id is here with other audio becomes the next
/// version (a conflict, as a resend would), everything new gets fresh ids and
/// `imported_from`. Importing the same rows twice adds nothing.
pub(crate) fn import<T: Tables>(db: &T, snapshot: &Snapshot, origin: &str) -> Result<ImportReport, T::Error> {
    let mut report = ImportReport::default();
    let mut done = Imported::default();
    let mut sessions = HashSet::new();
    if let Some(table) = find(snapshot, "recordings") {
        let rows = Rows { table };
        let mut columns = table.columns.clone();
        let origin_at = rows.index("imported_from").unwrap_or_else(|| {
            columns.push("imported_from".into());
            columns.len() - 1
        });
        for original in &table.rows {
            let mut row = original.clone();
            row.resize(columns.len(), Cell::Null);
            let old = rows.integer(&row, "id").unwrap_or_default();
            let recording_id = rows.text(&row, "recording_id").unwrap_or_default();
            sessions.insert(rows.text(&row, "session_id").unwrap_or_default());
            let sha = rows.text(&row, "sha256").unwrap_or_default();
            let version = match version_of(&db.versions(&recording_id)?, &sha) {
                Version::Same(existing, _) => {
                    done.recordings.insert(old, existing);
                    report.skipped += 1;
                    report.skipped_ids.push(recording_id);
                    continue;
                }
                Version::Next(version) => version,
            };
            let id = db.fresh_id("recordings")?;
            set(&mut row, rows.index("id"), Some(id));
            set(&mut row, rows.index("version"), Some(i64::from(version)));
            set(&mut row, rows.index("conflict"), Some(i64::from(version > 1)));
            row[origin_at] = Cell::Text(origin.to_string());
            db.insert("recordings", &columns, &row)?;
            done.recordings.insert(old, id);
            done.fresh_recordings.insert(id);
            report.added += 1;
            if version > 1 {
                report.conflicts += 1;
                report.conflict_ids.push(recording_id);
            }
        }
    }
    import_requests(db, snapshot, &mut done, &mut report, &mut sessions)?;
    import_children(db, snapshot, &done)?;
    put_reviews(db, snapshot, &done.recordings)?;
    sessions.remove("");
    report.calls = sessions.len() as u64;
    Ok(report)
}

fn import_requests<T: Tables>(
    db: &T,
    snapshot: &Snapshot,
    done: &mut Imported,
    report: &mut ImportReport,
    sessions: &mut HashSet<String>,
) -> Result<(), T::Error> {
    let Some(table) = find(snapshot, "requests") else { return Ok(()) };
    let rows = Rows { table };
    for original in &table.rows {
        let mut row = original.clone();
        let old = rows.integer(&row, "id").unwrap_or_default();
        let mapped = remap(&done.recordings, rows.integer(&row, "recording_row"));
        if let Some(existing) = db.same_request(&rows, &row, mapped)? {
            done.requests.insert(old, existing);
            continue;
        }
        let id = db.fresh_id("requests")?;
        set(&mut row, rows.index("id"), Some(id));
        // A request whose recording was already here links to that one: same bytes, so its body still rebuilds.
        set(&mut row, rows.index("recording_row"), mapped);
        db.insert("requests", &table.columns, &row)?;
        done.requests.insert(old, id);
        done.fresh_requests.insert(id);
        report.requests += 1;
        if let Some(session) = rows.text(&row, "session_id") {
            sessions.insert(session);
        }
    }
    Ok(())
}

/// Forwards and replays of what the import added (those of rows already here are already here).
fn import_children<T: Tables>(db: &T, snapshot: &Snapshot, done: &Imported) -> Result<(), T::Error> {
    if let Some(table) = find(snapshot, "forwards") {
        let rows = Rows { table };
        for original in &table.rows {
            let mut row = original.clone();
            let mapped = remap(&done.requests, rows.integer(&row, "request_id"));
            if !mapped.is_some_and(|id| done.fresh_requests.contains(&id)) {
                continue;
            }
            set(&mut row, rows.index("request_id"), mapped);
            db.insert("forwards", &table.columns, &row)?;
        }
    }
    if let Some(table) = find(snapshot, "replays") {
        let rows = Rows { table };
        for original in &table.rows {
            let mut row = original.clone();
            let request = remap(&done.requests, rows.integer(&row, "request_id"));
            let recording = remap(&done.recordings, rows.integer(&row, "recording_row"));
            let new_parent = request.is_some_and(|id| done.fresh_requests.contains(&id))
                || recording.is_some_and(|id| done.fresh_recordings.contains(&id));
            if !new_parent {
                continue;
            }
            set(&mut row, rows.index("id"), Some(db.fresh_id("replays")?));
            set(&mut row, rows.index("request_id"), request);
            set(&mut row, rows.index("recording_row"), recording);
            db.insert("replays", &table.columns, &row)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Version, version_of};

    #[test]
    fn the_same_audio_is_its_row_and_other_audio_the_next_version() {
        let stored = vec![(7, 1, "aa".to_string()), (9, 2, "bb".to_string())];
        assert_eq!(version_of(&stored, "bb"), Version::Same(9, 2));
        assert_eq!(version_of(&stored, "cc"), Version::Next(3));
        assert_eq!(version_of(&[], "aa"), Version::Next(1));
    }
}
