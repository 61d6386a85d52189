//! What the store tests share: a fixed clock, a fresh store of the backend
//! under test, a listener over it, and [`both!`], which runs a test once
//! against SQLite and once against PostgreSQL (a private server, see
//! `postgres`): one contract suite, two backends.

#![allow(dead_code)]

use std::cell::Cell;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use earshot_core::{AuthConfig, AuthMode, Intake, IntakeConfig, Limits, Secret, Store, StoreUrl};
use tempfile::TempDir;

#[path = "../../../../tests/src/postgres.rs"]
pub mod postgres;

/// Which backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A SQLite file in a temp dir.
    Sqlite,
    /// A fresh database on the test process's private PostgreSQL server.
    Postgres,
}

thread_local! {
    static BACKEND: Cell<Kind> = const { Cell::new(Kind::Sqlite) };
}

/// Makes `kind` the backend of this test's stores; `false` when PostgreSQL
/// is not installed (the test skips; under `EARSHOT_STRICT=1` it panics instead).
pub fn use_backend(kind: Kind) -> bool {
    BACKEND.with(|b| b.set(kind));
    kind == Kind::Sqlite || postgres::PgServer::shared().is_some()
}

/// The backend of this test.
pub fn backend() -> Kind {
    BACKEND.with(Cell::get)
}

/// Where a fresh store of this test's backend is: the temp dir's SQLite file, or a new database.
pub fn store_url(dir: &TempDir) -> StoreUrl {
    match backend() {
        Kind::Sqlite => StoreUrl::Sqlite(dir.path().to_path_buf()),
        Kind::Postgres => StoreUrl::Postgres(postgres::PgServer::shared().expect("use_backend checked it").database()),
    }
}

/// A fresh store of this test's backend (`dir` holds the SQLite file, or nothing for PostgreSQL).
pub fn open_store(dir: &TempDir) -> Store {
    Store::open_url(&store_url(dir)).unwrap()
}

/// Runs each test twice, as `NAME::sqlite` and `NAME::postgres`.
#[allow(unused_macros)]
macro_rules! both {
    ($( $(#[$attr:meta])* async fn $name:ident() $body:block )*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$attr])*
            async fn sqlite() {
                crate::common::use_backend(crate::common::Kind::Sqlite);
                $body
            }

            $(#[$attr])*
            async fn postgres() {
                if !crate::common::use_backend(crate::common::Kind::Postgres) {
                    return;
                }
                $body
            }
        }
    )*};
    ($( $(#[$attr:meta])* fn $name:ident() $body:block )*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$attr])*
            fn sqlite() {
                crate::common::use_backend(crate::common::Kind::Sqlite);
                $body
            }

            $(#[$attr])*
            fn postgres() {
                if !crate::common::use_backend(crate::common::Kind::Postgres) {
                    return;
                }
                $body
            }
        }
    )*};
}
#[allow(unused_imports)]
pub(crate) use both;

/// The tests' "now": tokens are signed and checked against it.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

/// A store of the test's backend and an intake over it.
pub struct Fixture {
    pub _dir: TempDir,
    pub store: Store,
    pub intake: Intake,
}

/// An intake in `mode` (with `secret` unless the mode is off) taking bodies up to `max_body`.
pub fn fixture(mode: AuthMode, secret: &str, max_body: usize) -> Fixture {
    let dir = TempDir::new().unwrap();
    let store = open_store(&dir);
    let secret = (mode != AuthMode::Off).then(|| Secret::new(secret).unwrap());
    let config = IntakeConfig { auth: AuthConfig::new(Some(mode), secret).unwrap(), max_body, forward: None };
    let intake = Intake::new(config, &store, Arc::new(now), Limits::default()).unwrap();
    Fixture { _dir: dir, store, intake }
}

/// Starts a listener over `store` on loopback (authentication off, the time
/// from `clock`); its webhook URL.
pub async fn serve(store: &Store, clock: earshot_core::Clock) -> String {
    let config = IntakeConfig { auth: AuthConfig::off(), max_body: 4 << 20, forward: None };
    let intake = Intake::new(config, store, clock, Limits::default()).unwrap();
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/audio-webhook", socket.local_addr().unwrap());
    tokio::spawn(earshot_core::serve(socket, intake, std::future::pending()));
    url
}

/// Posts `audio` to `url` as one recording whose metadata spans `start` to
/// `stop` (RFC 3339), and expects `200`.
pub async fn send(url: &str, session: &str, recording: &str, audio: &[u8], start: &str, stop: &str) {
    const BOUNDARY: &str = "StoreTestBoundary";
    let metadata = serde_json::json!({
        "assistant_id": "a", "environment_id": "e", "session_id": session, "recording_id": recording,
        "start_timestamp": start, "stop_timestamp": stop,
    });
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{metadata}\r\n--{BOUNDARY}\r\n\
         Content-Disposition: form-data; name=\"audio_recording\"\r\nContent-Type: audio/mulaw;rate=8000\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(audio);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let reply = reqwest::Client::new()
        .post(url)
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200, "{}", reply.text().await.unwrap());
}
