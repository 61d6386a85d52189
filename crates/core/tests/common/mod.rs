//! What the intake tests share: a fixed clock and a listener over a fresh store.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use earshot_core::{AuthConfig, AuthMode, Intake, IntakeConfig, Limits, Secret, Store};
use tempfile::TempDir;

/// The tests' "now": tokens are signed and checked against it.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

/// A store in a temp dir and an intake over it.
pub struct Fixture {
    pub _dir: TempDir,
    pub store: Store,
    pub intake: Intake,
}

/// An intake in `mode` (with `secret` unless the mode is off) taking bodies up to `max_body`.
pub fn fixture(mode: AuthMode, secret: &str, max_body: usize) -> Fixture {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let secret = (mode != AuthMode::Off).then(|| Secret::new(secret).unwrap());
    let config = IntakeConfig { auth: AuthConfig::new(Some(mode), secret).unwrap(), max_body, forward: None };
    let intake = Intake::new(config, &store, Arc::new(now), Limits::default()).unwrap();
    Fixture { _dir: dir, store, intake }
}
