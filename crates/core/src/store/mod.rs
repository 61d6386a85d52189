//! Where recordings and the request log live, behind one seam.
//!
//! [`Backend`] is every operation the intake, the CLI and the desktop need:
//! write jobs (through one group-committing writer), paged lists, finding a
//! recording, its audio bytes, and change events. [`Store`] is a cheap handle
//! to one backend; callers never learn which one it is. SQLite
//! ([`SqliteStore`], one file per data dir) is the embedded default;
//! PostgreSQL ([`PostgresStore`]) is the shared store for teams, chosen with a
//! [`StoreUrl`].
//!
//! This module does not know HTTP or the UI; it stores what it is given.

mod apply;
mod fields;
mod job;
mod lifecycle;
mod page;
mod postgres;
mod rows;
mod sqlite;
pub mod transfer;

use std::fmt;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::broadcast;

pub use job::{Committed, Job, Logged, WriteError, Writer};
pub use lifecycle::{Cell, DeleteTarget, Removed, RetentionPolicy, Snapshot, StoreSize, TableRows};
pub use page::{Filter, MAX_PAGE, PREVIEW_BYTES, Page, RecordingDetail, RequestDetail, VerdictFilter, hex_dump};
pub use postgres::{PostgresStore, TlsMode};
pub use sqlite::{BUSY_TIMEOUT, DB_FILE, SqliteStore, WAL_SOFT_LIMIT};

use crate::events::Event;
use crate::model::{RecordingSummary, ReplayEntry, RequestEntry, SessionSummary, TagCount};

/// Whose replays to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayOf {
    /// A request log entry's.
    Request(i64),
    /// A recording row's.
    Recording(i64),
}

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
    /// PostgreSQL refused an operation or could not be reached (the shared store).
    #[error("PostgreSQL: {message}")]
    Postgres {
        /// What the server or the connection said, with which store it was (never its password).
        message: String,
        /// The SQLSTATE, when the server answered with one.
        code: Option<String>,
    },
    /// A store URL that cannot be used (`--store`, `EARSHOT_STORE`, settings).
    #[error("store {0}")]
    BadUrl(String),
    /// The writer thread is gone (the process is shutting down).
    #[error("the database writer has stopped")]
    WriterGone,
    /// Something else went wrong; the message says what.
    #[error("{0}")]
    Failed(String),
}

impl StoreError {
    pub(crate) fn postgres(message: String, code: Option<String>) -> StoreError {
        StoreError::Postgres { message, code }
    }
}

/// Which store to open: `sqlite:DIR` (the embedded default: a data dir) or
/// a `postgres://` URL (the shared store).
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// The SQLite file in this data dir.
    Sqlite(PathBuf),
    /// A PostgreSQL database (the URL as given, password and all; shown only through [`StoreUrl::describe`]).
    Postgres(String),
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({})", self.describe())
    }
}

impl StoreUrl {
    /// Reads `sqlite:DIR`, `sqlite://DIR`, `postgres://…` or `postgresql://…`.
    pub fn parse(text: &str) -> Result<StoreUrl, StoreError> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(text.to_string()));
        }
        match text.strip_prefix("sqlite://").or_else(|| text.strip_prefix("sqlite:")) {
            Some(dir) if !dir.is_empty() => Ok(StoreUrl::Sqlite(PathBuf::from(dir))),
            _ => Err(StoreError::BadUrl(format!(
                "{:?} is not a store: give sqlite:DIR or postgres://user@host/db",
                postgres::redact_url(text)
            ))),
        }
    }

    /// Where it is, for people: the data dir, or `postgres://user@host:port/db` without the password.
    pub fn describe(&self) -> String {
        match self {
            StoreUrl::Sqlite(dir) => format!("sqlite:{}", dir.display()),
            StoreUrl::Postgres(url) => {
                postgres::Target::parse(url).map_or_else(|_| postgres::redact_url(url), |t| t.describe())
            }
        }
    }

    /// The same URL with `password` set in it (percent-encoded), for saving
    /// what the app's password field was given; SQLite URLs come back as they were.
    pub fn with_password(&self, password: &str) -> StoreUrl {
        let StoreUrl::Postgres(url) = self else { return self.clone() };
        let Some((scheme, rest)) = url.split_once("://") else { return self.clone() };
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let Some((userinfo, host)) = authority.rsplit_once('@') else { return self.clone() };
        let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
        let encoded: String = password
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                other => format!("%{other:02X}"),
            })
            .collect();
        StoreUrl::Postgres(format!("{scheme}://{user}:{encoded}@{host}{tail}"))
    }

    /// Whether this is the shared store.
    pub fn is_shared(&self) -> bool {
        matches!(self, StoreUrl::Postgres(_))
    }
}

/// `url` for people: a `postgres://` URL without its password, anything else as given.
pub fn describe_url(url: &str) -> String {
    StoreUrl::parse(url).map_or_else(|_| postgres::redact_url(url), |u| u.describe())
}

/// What every store offers. Reads block (callers on an async runtime use
/// `spawn_blocking`); writes go through [`Backend::writer`], whose jobs are
/// committed in groups by one writer per store.
pub trait Backend: Send + Sync + fmt::Debug {
    /// Where the data is, for people: a file path or a server URL without its password.
    fn describe(&self) -> String;

    /// The store's writer, started on first use; every clone feeds the same one.
    fn writer(&self) -> Result<Writer, StoreError>;

    /// What changed, as the writer commits it: subscribe before reading so nothing is missed.
    fn subscribe(&self) -> broadcast::Receiver<Event>;

    /// Every call, newest activity first.
    fn sessions(&self) -> Result<Vec<SessionSummary>, StoreError>;

    /// Calls matching `filter`, newest activity first, `count` from `offset`.
    fn sessions_page(&self, filter: &Filter, offset: usize, count: usize) -> Result<Page<SessionSummary>, StoreError>;

    /// Recordings in time order, optionally of one call.
    fn recordings(&self, session_id: Option<&str>) -> Result<Vec<RecordingSummary>, StoreError>;

    /// A recording by full id or unique prefix; the newest version unless one is named.
    fn find_recording(&self, id: &str, version: Option<u32>) -> Result<RecordingSummary, StoreError>;

    /// A recording version by its row id.
    fn recording_row(&self, row: i64) -> Result<RecordingSummary, StoreError>;

    /// A recording with its metadata, token and the delivering request's headers.
    fn recording_detail(&self, row: i64) -> Result<RecordingDetail, StoreError>;

    /// The bytes exactly as received for a stored recording row.
    fn audio(&self, row: i64) -> Result<Vec<u8>, StoreError>;

    /// The request log, newest first, at most `limit` entries.
    fn requests(&self, limit: usize) -> Result<Vec<RequestEntry>, StoreError>;

    /// The request log matching `filter`, newest first.
    fn requests_page(&self, filter: &Filter, offset: usize, count: usize) -> Result<Page<RequestEntry>, StoreError>;

    /// One request log entry.
    fn request(&self, id: i64) -> Result<RequestEntry, StoreError>;

    /// The body of a logged request as received: whole for accepted requests
    /// (rebuilt from the kept envelope and the recording), up to
    /// [`crate::REJECTED_BODY_CAP`] for rejected ones; `None` when none was kept.
    fn request_body(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError>;

    /// The whole kept body of the user's service's answer to a forwarded request.
    fn forward_body(&self, request_id: i64) -> Result<Option<Vec<u8>>, StoreError>;

    /// Replays of a request or a recording, newest first.
    fn replays(&self, of: ReplayOf) -> Result<Vec<ReplayEntry>, StoreError>;

    /// One replay.
    fn replay(&self, id: i64) -> Result<ReplayEntry, StoreError>;

    /// How big the store is, and how much compaction would give back.
    fn size(&self) -> Result<StoreSize, StoreError>;

    /// Recording rows lacking an analysis by `analyzer` (or a newer one),
    /// oldest first, at most `limit`, and how many there are in all.
    fn unanalysed(&self, analyzer: u32, limit: usize) -> Result<(Vec<i64>, u64), StoreError>;

    /// Every review tag in use, most used first (the UI suggests them).
    fn tags(&self) -> Result<Vec<TagCount>, StoreError>;

    /// The rows of the calls `selection` picks, as a call bundle carries them.
    fn bundle_rows(&self, selection: &crate::bundle::Selection) -> Result<Snapshot, StoreError>;

    /// A request with a hex and text preview of its stored body.
    fn request_detail(&self, id: i64) -> Result<RequestDetail, StoreError> {
        let request = self.request(id)?;
        let body = self.request_body(id)?.unwrap_or_default();
        Ok(RequestDetail::new(request, &body))
    }
}

/// A handle to the store in use. Cheap to clone; dereferences to [`Backend`].
#[derive(Debug, Clone)]
pub struct Store(Arc<dyn Backend>);

impl Store {
    /// Opens (creating if needed) the embedded SQLite store in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Ok(Store::from_backend(SqliteStore::open(data_dir)?))
    }

    /// Opens the store `url` names (see [`StoreUrl`]).
    pub fn open_url(url: &StoreUrl) -> Result<Store, StoreError> {
        match url {
            StoreUrl::Sqlite(dir) => Store::open(dir),
            StoreUrl::Postgres(url) => Ok(Store::from_backend(PostgresStore::open(url)?)),
        }
    }

    /// Wraps any backend.
    pub fn from_backend(backend: impl Backend + 'static) -> Store {
        Store(Arc::new(backend))
    }
}

impl Deref for Store {
    type Target = dyn Backend;

    fn deref(&self) -> &(dyn Backend + 'static) {
        &*self.0
    }
}
