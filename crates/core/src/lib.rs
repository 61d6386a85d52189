//! Earshot's core: everything that runs without a window.
//!
//! A watsonx Audio webhook request flows through `intake` (HTTP, limits,
//! the multipart delivery, metadata, the token) into the `store` as a write
//! [`Job`]; the store's one writer commits waiting jobs together and
//! publishes [`Event`]s. [`Server`] is the one listener start-up that
//! `earshot serve` and the desktop app share; `settings` resolves what it
//! runs with. [`export`] turns stored bytes back into files, [`sample`]
//! builds watsonx-shaped requests for `earshot send` and the tests. Audio
//! formats are `earshot_audio`'s.
//!
//! Modules are private; this is the surface. The desktop app and the CLI are
//! thin consumers of it.

mod about;
pub mod analysis;
pub mod bundle;
mod events;
pub mod export;
mod intake;
pub mod logging;
mod model;
pub mod relay;
pub mod report;
pub mod retention;
pub mod sample;
mod server;
mod settings;
mod store;

pub use about::About;
pub use events::Event;
pub use intake::{
    AUDIO_PART, BUDGET_WAIT, Clock, DeliveryError, Intake, IntakeConfig, MAX_METADATA, METADATA_PART, Metadata,
    MetadataError, REJECTED_BODY_CAP, Rejection, jwt, metadata, router, serve, serve_router, system_clock,
};
pub use model::{
    ANSWER_BODY_CAP, Answer, AnswerEntry, AuthRecord, AuthSummary, ForwardEntry, ForwardMode, MAX_LABEL, MAX_MARKERS,
    MAX_NOTE, Marker, NewRecording, NewReplay, NewRequest, Outcome, RecordingAnalysis, RecordingSummary, ReplayEntry,
    RequestEntry, Review, ReviewChange, ReviewFilter, SessionSummary, TagCount, TokenCheck, UpstreamBrief,
    UpstreamFault, Verdict, promised_span,
};
pub use server::{ListenFault, ListenerStatus, Server, WEBHOOK_PATH};
pub use settings::{
    AuthConfig, AuthMode, DATA_DIR_VAR, DEFAULT_LISTEN, DEFAULT_MAX_BODY, ForwardSettings, Limits, MAX_SECRET_CHARS,
    Overrides, Resolved, SETTINGS_FILE, STORE_VAR, SavedSettings, Secret, SettingsError, TunnelChoice, data_dir,
    store_url,
};
pub use store::transfer;
pub use store::{
    BUSY_TIMEOUT, Backend, Cell, Committed, DB_FILE, DeleteTarget, Filter, Job, Logged, MAX_PAGE, PREVIEW_BYTES, Page,
    PostgresStore, RecordingDetail, Removed, ReplayOf, RequestDetail, RetentionPolicy, Snapshot, SqliteStore, Store,
    StoreError, StoreSize, StoreUrl, TableRows, TlsMode, VerdictFilter, WAL_SOFT_LIMIT, WriteError, Writer,
    describe_url, hex_dump,
};
