//! Earshot's core: everything that runs without a window.
//!
//! A watsonx Audio webhook request flows `intake` (HTTP, limits, token) →
//! `delivery` (the multipart parts) → `metadata` / `audio` / `jwt`
//! (validation) → `store` (one SQLite transaction) → `events` (broadcast to
//! whoever listens). `export`, `wav`, `mulaw` and `alaw` turn stored bytes
//! back into files. `query` serves paged lists to the desktop, `service` runs
//! a restartable listener for it, `waveform` reduces audio to drawable peaks. `sample` builds
//! watsonx-shaped requests for `earshot send` and the tests. The desktop app
//! and the CLI are thin consumers of this crate.

pub mod alaw;
pub mod audio;
pub mod delivery;
pub mod events;
pub mod export;
pub mod intake;
pub mod jwt;
pub mod listener;
pub mod metadata;
pub mod model;
pub mod mulaw;
pub mod query;
pub mod sample;
pub mod service;
pub mod settings;
pub mod store;
pub mod wav;
pub mod waveform;
