//! The SQLite store: one database file per data dir, WAL mode, migrations
//! applied by `user_version`, and a single writer thread that commits in
//! groups.
//!
//! Reads open a short-lived connection each, so the CLI and the desktop app
//! can read while a listener writes, from the same or another process. Writes
//! go through [`Writer`]: one thread drains whatever jobs are waiting and
//! commits them in one transaction (`synchronous=FULL`), then answers each
//! job. That keeps every acknowledged recording durable while paying for one
//! fsync per group instead of one per request.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::audio::{AudioInfo, Container, Encoding};
use crate::model::{AuthSummary, NewRecording, NewRequest, Outcome, RecordingSummary, RequestEntry, SessionSummary};

/// The database file inside the data dir.
pub const DB_FILE: &str = "earshot.db";

/// How long a connection waits on another process's lock before giving up.
/// Long enough to ride out the other side's group commit; far inside watsonx's 30 s timeout.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Most jobs folded into one transaction; bounds the latency of the first job in a group.
const MAX_GROUP: usize = 64;

/// Jobs that may wait for the writer before senders wait in turn.
const QUEUE: usize = 1024;

/// Schema steps, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: [&str; 2] =
    [include_str!("../migrations/0001_init.sql"), include_str!("../migrations/0002_list_indexes.sql")];

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data dir could not be created or used.
    #[error("cannot use data dir {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// SQLite refused an operation.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// No row for the id given.
    #[error("no {what} matches {id:?}")]
    NotFound {
        /// `recording`, `session`, …
        what: &'static str,
        /// The id as given.
        id: String,
    },
    /// A prefix matched several rows.
    #[error("{id:?} matches {count} recordings; give more of the id")]
    Ambiguous {
        /// The prefix as given.
        id: String,
        /// How many matched.
        count: usize,
    },
    /// The writer thread is gone (the process is shutting down).
    #[error("the database writer has stopped")]
    WriterGone,
}

/// Handle to the database file. Cheap to clone; opens a connection per read.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

/// What a committed write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// Row id of the request log entry.
    pub request_id: i64,
    /// Row id of the recording the request stored or matched, if any.
    pub recording_row: Option<i64>,
    /// Version of that recording.
    pub version: Option<u32>,
    /// What happened to the audio.
    pub outcome: Outcome,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| StoreError::DataDir { path: data_dir.to_path_buf(), source })?;
        let store = Store { path: data_dir.join(DB_FILE) };
        let mut conn = store.connect_with(OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)?;
        // Recordings are 10–500 KB blobs: 64 KiB pages store them in a few
        // overflow pages instead of dozens. Only takes effect on a new file.
        conn.pragma_update(None, "page_size", 65536)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        migrate(&mut conn)?;
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

    /// Starts the writer thread. Each listener needs one; it stops when the last clone is dropped.
    pub fn writer(&self) -> Result<Writer, StoreError> {
        let conn = self.connect()?;
        // Checkpoints copy the WAL into the database and fsync it; run inline
        // they stall the commit that triggers them (p99 180 ms in the intake
        // bench). A second thread does them between commits instead.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpointer = self.connect()?;
        let (nudge, nudged) = std::sync::mpsc::sync_channel(1);
        let (tx, rx) = mpsc::channel(QUEUE);
        let spawn_failed = |source| StoreError::DataDir { path: self.path.clone(), source };
        std::thread::Builder::new()
            .name("earshot-store-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, nudged))
            .map_err(spawn_failed)?;
        std::thread::Builder::new()
            .name("earshot-store-writer".into())
            .spawn(move || write_loop(conn, rx, nudge))
            .map_err(spawn_failed)?;
        Ok(Writer { tx })
    }

    /// Calls, newest activity first; derived from recordings, never stored twice.
    pub fn sessions(&self) -> Result<Vec<SessionSummary>, StoreError> {
        let conn = self.connect()?;
        let mut stmt = conn.prepare(
            "SELECT r.session_id, COUNT(*), MIN(r.received_at), MAX(r.received_at),
                    MAX(r.assistant_id), MAX(r.environment_id),
                    (SELECT COUNT(*) FROM requests q WHERE q.session_id = r.session_id
                        AND (q.status >= 400 OR q.auth_verdict IN ('invalid', 'missing')))
             FROM recordings r GROUP BY r.session_id ORDER BY MAX(r.received_at) DESC, r.session_id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(SessionSummary {
                session_id: row.get(0)?,
                recording_count: unsigned(row, 1)?,
                first_received_at: row.get(2)?,
                last_received_at: row.get(3)?,
                assistant_id: row.get(4)?,
                environment_id: row.get(5)?,
                flagged_requests: unsigned(row, 6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Recordings in time order, optionally of one call.
    pub fn recordings(&self, session_id: Option<&str>) -> Result<Vec<RecordingSummary>, StoreError> {
        let conn = self.connect()?;
        // Two statements, not `?1 IS NULL OR …`, so one call's list uses the session index.
        let rows = match session_id {
            Some(session) => conn
                .prepare(&format!(
                    "SELECT {RECORDING_COLUMNS} FROM recordings WHERE session_id = ?1 ORDER BY received_at, id"
                ))?
                .query_map([session], recording_from_row)?
                .collect::<Result<_, _>>()?,
            None => conn
                .prepare(&format!("SELECT {RECORDING_COLUMNS} FROM recordings ORDER BY received_at, id"))?
                .query_map([], recording_from_row)?
                .collect::<Result<_, _>>()?,
        };
        Ok(rows)
    }

    /// Finds a recording by full id or unique prefix; the newest version unless one is named.
    pub fn find_recording(&self, id: &str, version: Option<u32>) -> Result<RecordingSummary, StoreError> {
        let conn = self.connect()?;
        let sql = format!(
            "SELECT {RECORDING_COLUMNS} FROM recordings
             WHERE recording_id = ?1 AND (?2 IS NULL OR version = ?2) ORDER BY version DESC LIMIT 1"
        );
        if let Some(found) = conn.query_row(&sql, params![id, version], recording_from_row).optional()? {
            return Ok(found);
        }
        let like = format!("{}%", id.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let ids: Vec<String> = conn
            .prepare("SELECT DISTINCT recording_id FROM recordings WHERE recording_id LIKE ?1 ESCAPE '\\' LIMIT 10")?
            .query_map([like], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        match ids.as_slice() {
            [] => Err(StoreError::NotFound { what: "recording", id: id.to_string() }),
            [only] => conn
                .query_row(&sql, params![only, version], recording_from_row)
                .optional()?
                .ok_or_else(|| StoreError::NotFound { what: "recording version", id: format!("{only} v{version:?}") }),
            _ => Err(StoreError::Ambiguous { id: id.to_string(), count: ids.len() }),
        }
    }

    /// The bytes exactly as received for a stored recording row.
    pub fn audio(&self, row: i64) -> Result<Vec<u8>, StoreError> {
        let conn = self.connect()?;
        conn.query_row("SELECT audio FROM recordings WHERE id = ?1", [row], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::NotFound { what: "recording row", id: row.to_string() })
    }

    /// The request log, newest first, at most `limit` entries.
    pub fn requests(&self, limit: usize) -> Result<Vec<RequestEntry>, StoreError> {
        let conn = self.connect()?;
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests ORDER BY id DESC LIMIT ?1");
        let rows = conn.prepare(&sql)?.query_map([limit as i64], request_from_row)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Requests matching one SQL condition on `requests` with one parameter.
    pub(crate) fn requests_where(&self, condition: &str, value: i64) -> Result<Vec<RequestEntry>, StoreError> {
        let conn = self.connect()?;
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE {condition} ORDER BY id DESC");
        let rows = conn.prepare(&sql)?.query_map([value], request_from_row)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Recordings matching one SQL condition on `recordings` with one parameter.
    pub(crate) fn recordings_where(&self, condition: &str, value: i64) -> Result<Vec<RecordingSummary>, StoreError> {
        let conn = self.connect()?;
        let sql = format!("SELECT {RECORDING_COLUMNS} FROM recordings WHERE {condition} ORDER BY received_at, id");
        let rows = conn.prepare(&sql)?.query_map([value], recording_from_row)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The stored body of a logged request (kept for rejected requests only).
    pub fn request_body(&self, request_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = self.connect()?;
        conn.query_row("SELECT body FROM requests WHERE id = ?1", [request_id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::NotFound { what: "request", id: request_id.to_string() })
    }
}

/// SQLite integers are signed; counts and sizes are never negative.
fn unsigned(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<u64> {
    Ok(row.get::<_, i64>(index)?.max(0) as u64)
}

fn json_column(text: Option<String>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

const REQUEST_COLUMNS: &str = "id, received_at, method, path, query, remote_addr, headers_json, status, latency_us,
    outcome, error_code, reason, session_id, recording_id, auth_verdict, auth_reason, jwt_header, jwt_claims,
    parts_json, body_size, length(body)";

fn request_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RequestEntry> {
    Ok(RequestEntry {
        id: row.get(0)?,
        received_at: row.get(1)?,
        method: row.get(2)?,
        path: row.get(3)?,
        query: row.get(4)?,
        remote_addr: row.get(5)?,
        headers: json_column(row.get(6)?).unwrap_or(Value::Null),
        status: row.get(7)?,
        latency_ms: row.get::<_, i64>(8)? as f64 / 1000.0,
        outcome: row.get(9)?,
        error: row.get(10)?,
        reason: row.get(11)?,
        session_id: row.get(12)?,
        recording_id: row.get(13)?,
        auth: AuthSummary { verdict: row.get(14)?, reason: row.get(15)? },
        jwt_header: json_column(row.get(16)?),
        jwt_claims: json_column(row.get(17)?),
        parts: json_column(row.get(18)?),
        body_size: unsigned(row, 19)?,
        body_stored: row.get::<_, Option<i64>>(20)?.unwrap_or(0),
    })
}

const RECORDING_COLUMNS: &str = "id, recording_id, version, conflict, session_id, assistant_id, environment_id,
    start_timestamp, stop_timestamp, received_at, duration_ms, container, encoding, sample_rate, channels,
    sample_count, size_bytes, sha256, auth_verdict, auth_reason, path, filename, part_content_type,
    data_offset, data_len";

fn recording_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RecordingSummary> {
    let container: String = row.get(11)?;
    let encoding: String = row.get(12)?;
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, format!("unknown {what}").into())
    };
    let channels: u16 = row.get(14)?;
    let sample_count = unsigned(row, 15)?;
    let duration_ms = unsigned(row, 10)?;
    let sample_rate: u32 = row.get(13)?;
    let info = AudioInfo {
        container: Container::from_name(&container).ok_or_else(|| bad(11, "container"))?,
        encoding: Encoding::from_name(&encoding).ok_or_else(|| bad(12, "encoding"))?,
        sample_rate,
        channels,
        sample_count,
        duration_ms,
        data_offset: row.get::<_, i64>(23)? as usize,
        data_len: row.get::<_, i64>(24)? as usize,
    };
    Ok(RecordingSummary {
        row: row.get(0)?,
        recording_id: row.get(1)?,
        version: row.get(2)?,
        conflict: row.get(3)?,
        session_id: row.get(4)?,
        assistant_id: row.get(5)?,
        environment_id: row.get(6)?,
        start_timestamp: row.get(7)?,
        stop_timestamp: row.get(8)?,
        received_at: row.get(9)?,
        duration_ms,
        container: info.container,
        encoding: info.encoding,
        sample_rate,
        channels,
        sample_count,
        size_bytes: unsigned(row, 16)?,
        sha256: row.get(17)?,
        auth: AuthSummary { verdict: row.get(18)?, reason: row.get(19)? },
        path: row.get(20)?,
        filename: row.get(21)?,
        part_content_type: row.get(22)?,
        audio: info,
    })
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // IMMEDIATE so two processes opening a new file at once do not both migrate.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: usize = tx.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
    }
    tx.commit()?;
    Ok(())
}

/// Sends writes to the store's writer thread. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

#[derive(Debug)]
struct Job {
    request: NewRequest,
    recording: Option<NewRecording>,
    started: Instant,
    reply: oneshot::Sender<Result<Committed, String>>,
}

/// A write that failed; the message is SQLite's own (e.g. "database or disk is full").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WriteError(pub String);

impl Writer {
    /// Logs a request, storing its recording if it carries one, and returns
    /// once the transaction holding both has committed.
    pub async fn commit(
        &self,
        request: NewRequest,
        recording: Option<NewRecording>,
        started: Instant,
    ) -> Result<Committed, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { request, recording, started, reply })
            .await
            .map_err(|_| WriteError(StoreError::WriterGone.to_string()))?;
        answer.await.map_err(|_| WriteError(StoreError::WriterGone.to_string()))?.map_err(WriteError)
    }
}

/// Copies committed WAL frames into the database whenever the writer has
/// committed, without blocking it (PASSIVE). Ends with the writer.
fn checkpoint_loop(conn: Connection, nudged: std::sync::mpsc::Receiver<()>) {
    use std::sync::mpsc::RecvTimeoutError;
    while let Ok(()) | Err(RecvTimeoutError::Timeout) = nudged.recv_timeout(Duration::from_secs(1)) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(target: "earshot::store", "checkpoint failed (will retry): {e}");
        }
    }
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

fn write_loop(mut conn: Connection, mut rx: mpsc::Receiver<Job>, nudge: std::sync::mpsc::SyncSender<()>) {
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let results = commit_group(&mut conn, &jobs);
        // A full channel means a checkpoint is already due; nothing to add.
        let _ = nudge.try_send(());
        for (job, result) in jobs.into_iter().zip(results) {
            // The caller may have gone (client hung up); the write stands regardless.
            let _ = job.reply.send(result);
        }
    }
}

fn commit_group(conn: &mut Connection, jobs: &[Job]) -> Vec<Result<Committed, String>> {
    let fail_all = |e: rusqlite::Error| jobs.iter().map(|_| Err(e.to_string())).collect();
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return fail_all(e),
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        // A savepoint per job: one failing insert must not undo its neighbours.
        let result = tx.savepoint().and_then(|sp| {
            let done = apply(&sp, job)?;
            sp.commit()?;
            Ok(done)
        });
        match result {
            Ok(done) => results.push(Ok(done)),
            // SQLite rolls the whole transaction back on some errors (disk
            // full, I/O error); going on would run the next jobs in autocommit
            // mode, outside the group. Fail the group with the real cause.
            Err(e) if tx.is_autocommit() => return fail_all(e),
            Err(e) => results.push(Err(e.to_string())),
        }
    }
    match tx.commit() {
        Ok(()) => results,
        Err(e) => fail_all(e),
    }
}

fn apply(conn: &Connection, job: &Job) -> rusqlite::Result<Committed> {
    let (recording_row, version, outcome) = match &job.recording {
        None => (None, None, job.request.outcome),
        Some(rec) => {
            let (row, version, outcome) = store_recording(conn, rec)?;
            (Some(row), Some(version), outcome)
        }
    };
    let r = &job.request;
    conn.prepare_cached(
        "INSERT INTO requests (received_at, method, path, query, remote_addr, headers_json, status, latency_us,
            outcome, error_code, reason, session_id, recording_id, recording_row, auth_verdict, auth_reason,
            jwt_header, jwt_claims, parts_json, body_size, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
    )?
    .execute(params![
        r.received_at,
        r.method,
        r.path,
        r.query,
        r.remote_addr,
        r.headers_json,
        r.status,
        job.started.elapsed().as_micros() as i64,
        outcome.as_str(),
        r.error_code,
        r.reason,
        r.session_id,
        r.recording_id,
        recording_row,
        r.auth.verdict.as_str(),
        r.auth.reason,
        r.auth.jwt_header.as_ref().map(Value::to_string),
        r.auth.jwt_claims.as_ref().map(Value::to_string),
        r.parts_json,
        r.body_size as i64,
        r.body,
    ])?;
    Ok(Committed { request_id: conn.last_insert_rowid(), recording_row, version, outcome })
}

fn store_recording(conn: &Connection, rec: &NewRecording) -> rusqlite::Result<(i64, u32, Outcome)> {
    let sha = &rec.sha256;
    let existing: Vec<(i64, u32, String)> = conn
        .prepare_cached("SELECT id, version, sha256 FROM recordings WHERE recording_id = ?1 ORDER BY version")?
        .query_map([&rec.metadata.recording_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    if let Some((row, version, _)) = existing.iter().find(|(_, _, s)| s == sha) {
        return Ok((*row, *version, Outcome::Duplicate));
    }
    let version = existing.last().map_or(1, |(_, v, _)| v + 1);
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
        sha,
        rec.auth.verdict.as_str(),
        rec.auth.reason,
        rec.auth.jwt_header.as_ref().map(Value::to_string),
        rec.auth.jwt_claims.as_ref().map(Value::to_string),
        rec.audio,
    ])?;
    let outcome = if version > 1 { Outcome::Conflict } else { Outcome::Stored };
    Ok((conn.last_insert_rowid(), version, outcome))
}
