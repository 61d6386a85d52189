//! Earshot's core: everything that runs without a window.
//!
//! A watsonx Audio webhook request flows `intake` (HTTP, multipart, token) →
//! `metadata` / `audio` / `jwt` (validation) → `store` (one SQLite
//! transaction) → `events` (broadcast to whoever listens). `export`, `wav`,
//! `mulaw` and `alaw` turn stored bytes back into files. `sample` builds
//! watsonx-shaped requests for `earshot send` and the tests. The desktop app
//! and the CLI are thin consumers of this crate.

pub mod alaw;
pub mod audio;
pub mod events;
pub mod export;
pub mod intake;
pub mod jwt;
pub mod listener;
pub mod metadata;
pub mod model;
pub mod mulaw;
pub mod sample;
pub mod settings;
pub mod store;
pub mod wav;
