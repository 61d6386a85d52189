//! The shared store: PostgreSQL, for teams. Several listeners write to one
//! database and several apps and CLIs read it; every guarantee of the
//! embedded store holds across them (200 only after `COMMIT`; duplicates and
//! versions decided by the database's unique index).
//!
//! The driver is async (`tokio-postgres` with a `deadpool` pool); the
//! [`Backend`] seam is blocking. The store owns a small tokio runtime: reads
//! run on its blocking threads and the caller waits for the answer, so a
//! caller on another runtime is never asked to nest one. The writer is a
//! thread of its own, like SQLite's, that blocks on that runtime.
//!
//! Files: `connect` (URL, password, TLS, pool), `sql` (statements as plain
//! calls), `migrate`, one file per table as on the SQLite side, `lifecycle`,
//! `writer`, `notify` (LISTEN/NOTIFY).

mod answers;
mod connect;
mod lifecycle;
mod migrate;
mod notify;
mod recordings;
mod requests;
mod reviews;
mod sessions;
mod sql;
mod writer;

use std::sync::{Arc, Mutex};

use deadpool_postgres::Pool;
use tokio::sync::broadcast;

pub use connect::TlsMode;
pub(crate) use connect::{Target, redact_url};

use self::sql::Db;
use crate::events::{self, Event};
use crate::model::{RecordingSummary, ReplayEntry, RequestEntry, SessionSummary, TagCount};
use crate::store::{Backend, Filter, Page, RecordingDetail, ReplayOf, Snapshot, StoreError, StoreSize, Writer};

/// A runtime that may be dropped anywhere, even inside another runtime's task
/// (tests and the app drop stores there): it is shut down in the background.
#[derive(Debug)]
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl OwnedRuntime {
    fn handle(&self) -> &tokio::runtime::Handle {
        self.0.as_ref().expect("present until dropped").handle()
    }
}

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// What the store, its writer thread and its reads share.
#[derive(Debug)]
struct Shared {
    runtime: OwnedRuntime,
    pool: Pool,
    events: broadcast::Sender<Event>,
    /// This process's mark on the notifications it sends, so it does not hear its own twice.
    origin: String,
    /// `postgres://user@host:port/db`.
    describe: String,
    password: Option<String>,
}

impl Shared {
    /// `error` with which store it came from, never the password.
    fn locate(&self, error: StoreError) -> StoreError {
        let StoreError::Postgres { message, code } = error else { return error };
        let message = format!("{message} ({})", self.describe);
        let message = match &self.password {
            Some(p) if !p.is_empty() => message.replace(p.as_str(), "***"),
            _ => message,
        };
        StoreError::Postgres { message, code }
    }

    /// `error` as the writer reports it to the job's sender.
    fn fault(&self, error: StoreError) -> String {
        self.locate(error).to_string()
    }
}

/// The PostgreSQL backend. Use it through [`crate::Store`].
#[derive(Debug)]
pub struct PostgresStore {
    shared: Arc<Shared>,
    /// Started on first use, so a CLI that only reads never spawns it.
    writer: Mutex<Option<Writer>>,
}

impl PostgresStore {
    /// Connects to the database `url` names, brings its schema up to date
    /// and starts listening for other processes' changes.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let target = Target::parse(url)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("earshot-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::postgres(format!("cannot start the store's runtime: {e}"), None))?;
        let pool = {
            let _inside = runtime.enter();
            target.pool()?
        };
        let (events, _) = broadcast::channel(events::CAPACITY);
        let shared = Arc::new(Shared {
            runtime: OwnedRuntime(Some(runtime)),
            pool,
            events: events.clone(),
            origin: uuid::Uuid::new_v4().to_string(),
            describe: target.describe(),
            password: target.password(),
        });
        let store = PostgresStore { shared, writer: Mutex::new(None) };
        store.read(migrate::migrate)?;
        let origin = store.shared.origin.clone();
        store.shared.runtime.handle().spawn(notify::listen(target, origin, events));
        Ok(store)
    }

    /// Runs `f` on a pooled connection on one of the store runtime's blocking
    /// threads and waits for it; callable from any thread, async or not.
    fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Db<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let shared = self.shared.clone();
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.shared.runtime.handle().spawn_blocking(move || {
            let handle = tokio::runtime::Handle::current();
            let result = handle
                .block_on(shared.pool.get())
                .map_err(StoreError::from)
                .and_then(|client| f(&Db { client: &client, handle: &handle }));
            let _ = tx.send(result.map_err(|e| shared.locate(e)));
        });
        rx.recv().map_err(|_| StoreError::postgres("the store's runtime stopped".into(), None))?
    }
}

impl Backend for PostgresStore {
    fn describe(&self) -> String {
        self.shared.describe.clone()
    }

    fn writer(&self) -> Result<Writer, StoreError> {
        let mut slot = self.writer.lock().expect("writer slot");
        if let Some(writer) = slot.as_ref() {
            return Ok(writer.clone());
        }
        let writer = writer::start(self.shared.clone())?;
        *slot = Some(writer.clone());
        Ok(writer)
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.shared.events.subscribe()
    }

    fn sessions(&self) -> Result<Vec<SessionSummary>, StoreError> {
        self.read(sessions::all)
    }

    fn sessions_page(&self, filter: &Filter, offset: usize, count: usize) -> Result<Page<SessionSummary>, StoreError> {
        let filter = filter.clone();
        self.read(move |db| sessions::page(db, &filter, offset, count))
    }

    fn recordings(&self, session_id: Option<&str>) -> Result<Vec<RecordingSummary>, StoreError> {
        let session_id = session_id.map(str::to_string);
        self.read(move |db| recordings::list(db, session_id.as_deref()))
    }

    fn find_recording(&self, id: &str, version: Option<u32>) -> Result<RecordingSummary, StoreError> {
        let id = id.to_string();
        self.read(move |db| recordings::find(db, &id, version))
    }

    fn recording_row(&self, row: i64) -> Result<RecordingSummary, StoreError> {
        self.read(move |db| recordings::by_row(db, row))
    }

    fn recording_detail(&self, row: i64) -> Result<RecordingDetail, StoreError> {
        self.read(move |db| recordings::detail(db, row))
    }

    fn audio(&self, row: i64) -> Result<Vec<u8>, StoreError> {
        self.read(move |db| recordings::audio(db, row))
    }

    fn requests(&self, limit: usize) -> Result<Vec<RequestEntry>, StoreError> {
        self.read(move |db| requests::newest(db, limit))
    }

    fn requests_page(&self, filter: &Filter, offset: usize, count: usize) -> Result<Page<RequestEntry>, StoreError> {
        let filter = filter.clone();
        self.read(move |db| requests::page(db, &filter, offset, count))
    }

    fn request(&self, id: i64) -> Result<RequestEntry, StoreError> {
        self.read(move |db| requests::by_id(db, id))
    }

    fn request_body(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |db| requests::body(db, id))
    }

    fn forward_body(&self, request_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |db| answers::forward_body(db, request_id))
    }

    fn replays(&self, of: ReplayOf) -> Result<Vec<ReplayEntry>, StoreError> {
        self.read(move |db| match of {
            ReplayOf::Request(id) => answers::replays_of(db, Some(id), None),
            ReplayOf::Recording(row) => answers::replays_of(db, None, Some(row)),
        })
    }

    fn replay(&self, id: i64) -> Result<ReplayEntry, StoreError> {
        self.read(move |db| answers::replay(db, id))
    }

    fn size(&self) -> Result<StoreSize, StoreError> {
        self.read(lifecycle::size)
    }

    fn unanalysed(&self, analyzer: u32, limit: usize) -> Result<(Vec<i64>, u64), StoreError> {
        self.read(move |db| reviews::unanalysed(db, analyzer, limit))
    }

    fn tags(&self) -> Result<Vec<TagCount>, StoreError> {
        self.read(reviews::tags)
    }

    fn bundle_rows(&self, selection: &crate::bundle::Selection) -> Result<Snapshot, StoreError> {
        let selection = selection.clone();
        self.read(move |db| {
            // One snapshot of the database, so the tables agree with each other.
            db.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
            let rows = lifecycle::bundle_rows(db, &selection);
            db.batch(if rows.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
            rows
        })
    }
}
