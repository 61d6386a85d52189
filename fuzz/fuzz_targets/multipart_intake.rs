//! The whole intake handler (multipart, metadata, audio, store) on arbitrary
//! bodies, driven through the router in-process. The store lives in a temp
//! dir for the run; every input must get an answer, never a panic or a 5xx.
#![no_main]

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use earshot_core::{Intake, IntakeConfig};
use earshot_core::AuthConfig;
use earshot_core::Store;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

const CONTENT_TYPES: [&str; 4] = [
    "multipart/form-data; boundary=XyZ",
    "multipart/form-data",
    "application/octet-stream",
    "multipart/form-data; boundary=\"a b\"",
];

struct Harness {
    runtime: tokio::runtime::Runtime,
    router: Router,
    _dir: tempfile::TempDir,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let dir = tempfile::tempdir_in(std::env::var_os("EARSHOT_FUZZ_DIR").unwrap_or_else(|| "/dev/shm".into()))
            .or_else(|_| tempfile::tempdir())
            .expect("temp dir");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let store = Store::open(dir.path()).expect("store");
        let router = runtime.block_on(async {
            let config = IntakeConfig { auth: AuthConfig::off(), max_body: 1024 * 1024 };
            earshot_core::router(
                Intake::new(config, &store, earshot_core::system_clock(), earshot_core::Limits::default()).expect("intake"),
            )
        });
        Harness { runtime, router, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let harness = harness();
    let request = Request::post("/audio-webhook")
        .header("content-type", CONTENT_TYPES[usize::from(pick) % CONTENT_TYPES.len()])
        .body(Body::from(body.to_vec()))
        .expect("request");
    let response = harness.runtime.block_on(harness.router.clone().oneshot(request)).expect("infallible");
    assert!(response.status().as_u16() < 500, "{} for a hostile body", response.status());
});
