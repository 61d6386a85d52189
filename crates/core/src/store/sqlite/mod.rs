//! The embedded store: one SQLite file per data dir, WAL mode, migrations
//! from the `migrations/` folder, and one writer thread that commits in
//! groups (see `writer`).
//!
//! Reads open a short-lived connection each, so the CLI and the desktop app
//! can read while a listener writes, from the same or another process. The
//! queries live one file per table: `recordings`, `requests`, `sessions`.

pub(in crate::store) mod answers;
mod bundle;
mod lifecycle;
pub(in crate::store) mod migrate;
pub(in crate::store) mod recordings;
pub(in crate::store) mod requests;
pub(in crate::store) mod reviews;
pub(in crate::store) mod sessions;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::broadcast;

pub use writer::WAL_SOFT_LIMIT;

use crate::events::{self, Event};
use crate::model::{RecordingSummary, ReplayEntry, RequestEntry, SessionSummary, TagCount};
use crate::store::fields::Fields;
use crate::store::{Backend, Filter, Page, RecordingDetail, ReplayOf, StoreError, StoreSize, Writer};

/// The database file inside the data dir.
pub const DB_FILE: &str = "earshot.db";

/// How long a connection waits on another process's lock before giving up.
/// Long enough to ride out the other side's group commit; far inside watsonx's 30 s timeout.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The SQLite backend. Use it through [`crate::Store`]; it is public for
/// tools and tests that need SQL on the file itself.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    /// Started on first use, so a CLI that only reads never spawns it.
    writer: Mutex<Option<Writer>>,
    events: broadcast::Sender<Event>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| StoreError::DataDir { path: data_dir.to_path_buf(), source })?;
        let (events, _) = broadcast::channel(events::CAPACITY);
        let store = SqliteStore { path: data_dir.join(DB_FILE), writer: Mutex::new(None), events };
        let mut conn = store.connect_with(OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)?;
        // Both only take effect on a new file, and setting auto_vacuum on an
        // existing one is a write, which a read-only data dir refuses.
        let new_file: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        if new_file == 0 {
            // Recordings are 10–500 KB blobs: 64 KiB pages store them in a few overflow pages instead of dozens.
            conn.pragma_update(None, "page_size", 65536)?;
            // Deleted recordings give their pages back to the file system (Compact switches older files over).
            conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        migrate::migrate(&mut conn)?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connect_with(&self, flags: OpenFlags) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(&self.path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(conn)
    }

    /// A read-write connection with Earshot's pragmas, for callers that need SQL directly.
    pub fn connect(&self) -> Result<Connection, StoreError> {
        self.connect_with(OpenFlags::SQLITE_OPEN_READ_WRITE)
    }
}

impl Backend for SqliteStore {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn writer(&self) -> Result<Writer, StoreError> {
        let mut slot = self.writer.lock().expect("writer slot");
        if let Some(writer) = slot.as_ref() {
            return Ok(writer.clone());
        }
        let writer = writer::start(self, self.events.clone())?;
        *slot = Some(writer.clone());
        Ok(writer)
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    fn sessions(&self) -> Result<Vec<SessionSummary>, StoreError> {
        sessions::all(&self.connect()?)
    }

    fn sessions_page(&self, filter: &Filter, offset: usize, count: usize) -> Result<Page<SessionSummary>, StoreError> {
        sessions::page(&self.connect()?, filter, offset, count)
    }

    fn recordings(&self, session_id: Option<&str>) -> Result<Vec<RecordingSummary>, StoreError> {
        recordings::list(&self.connect()?, session_id)
    }

    fn find_recording(&self, id: &str, version: Option<u32>) -> Result<RecordingSummary, StoreError> {
        recordings::find(&self.connect()?, id, version)
    }

    fn recording_row(&self, row: i64) -> Result<RecordingSummary, StoreError> {
        recordings::by_row(&self.connect()?, row)
    }

    fn recording_detail(&self, row: i64) -> Result<RecordingDetail, StoreError> {
        recordings::detail(&self.connect()?, row)
    }

    fn audio(&self, row: i64) -> Result<Vec<u8>, StoreError> {
        recordings::audio(&self.connect()?, row)
    }

    fn requests(&self, limit: usize) -> Result<Vec<RequestEntry>, StoreError> {
        requests::newest(&self.connect()?, limit)
    }

    fn requests_page(&self, filter: &Filter, offset: usize, count: usize) -> Result<Page<RequestEntry>, StoreError> {
        requests::page(&self.connect()?, filter, offset, count)
    }

    fn request(&self, id: i64) -> Result<RequestEntry, StoreError> {
        requests::by_id(&self.connect()?, id)
    }

    fn request_body(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        requests::body(&self.connect()?, id)
    }

    fn forward_body(&self, request_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        answers::forward_body(&self.connect()?, request_id)
    }

    fn replays(&self, of: ReplayOf) -> Result<Vec<ReplayEntry>, StoreError> {
        let conn = self.connect()?;
        match of {
            ReplayOf::Request(id) => answers::replays_of(&conn, Some(id), None),
            ReplayOf::Recording(row) => answers::replays_of(&conn, None, Some(row)),
        }
    }

    fn replay(&self, id: i64) -> Result<ReplayEntry, StoreError> {
        answers::replay(&self.connect()?, id)
    }

    fn unanalysed(&self, analyzer: u32, limit: usize) -> Result<(Vec<i64>, u64), StoreError> {
        reviews::unanalysed(&self.connect()?, analyzer, limit)
    }

    fn tags(&self) -> Result<Vec<TagCount>, StoreError> {
        reviews::tags(&self.connect()?)
    }

    fn bundle_rows(&self, selection: &crate::bundle::Selection) -> Result<crate::store::Snapshot, StoreError> {
        Ok(bundle::bundle_rows(&mut self.connect()?, selection)?)
    }

    fn size(&self) -> Result<StoreSize, StoreError> {
        let wal = std::fs::metadata(format!("{}-wal", self.path.display())).map_or(0, |m| m.len());
        Ok(lifecycle::size(&self.connect()?, wal)?)
    }
}

/// Page sizes the lists accept: 1 to [`crate::store::MAX_PAGE`].
pub(in crate::store) fn page_limit(limit: usize) -> i64 {
    limit.clamp(1, crate::store::MAX_PAGE) as i64
}

/// A JSON text column, `None` when absent or unreadable.
fn json_column(text: Option<String>) -> Option<serde_json::Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

impl Fields for rusqlite::Row<'_> {
    type Error = rusqlite::Error;

    fn int(&self, column: &str) -> rusqlite::Result<Option<i64>> {
        self.get(column)
    }

    fn text(&self, column: &str) -> rusqlite::Result<Option<String>> {
        self.get(column)
    }

    fn blob(&self, column: &str) -> rusqlite::Result<Option<Vec<u8>>> {
        self.get(column)
    }

    fn invalid(&self, column: &str, problem: String) -> rusqlite::Error {
        let index = self.as_ref().column_index(column).unwrap_or(0);
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, problem.into())
    }
}

/// Forward answers that draw attention: not 2xx, or none at all (matches the `forwards_failed` index).
pub(in crate::store) const UPSTREAM_FAILED: &str = "(f.status IS NULL OR f.status NOT BETWEEN 200 AND 299)";

/// Requests that draw attention: refused, failed, or with a bad or missing token.
pub(in crate::store) const FLAGGED: &str = "(q.status >= 400 OR q.auth_verdict IN ('invalid', 'missing'))";
