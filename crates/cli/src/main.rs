//! `earshot`: the headless face of Earshot. Serves the webhook, lists and
//! exports what arrived, and sends watsonx-shaped test calls. All real work
//! is in `earshot-core`; this crate parses arguments and prints.

mod bundle;
mod compact;
mod completions;
mod curl;
mod delete;
mod devices;
mod export;
mod har;
mod keep;
mod list;
mod play;
mod replay;
mod report;
mod review;
mod selftest;
mod send;
mod serve;
mod transfer;
mod tunnel;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use earshot_core::{Store, StoreUrl};

/// Capture, inspect and replay IBM watsonx Assistant Audio webhook recordings.
#[derive(Debug, Parser)]
#[command(name = "earshot", version, about)]
struct Cli {
    /// Where the database lives (or EARSHOT_DATA_DIR) [default: the OS data dir, e.g. ~/.local/share/earshot].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Which store: sqlite:DIR (the default: the data dir's file) or postgres://user@host/db?sslmode=…,
    /// the shared store (or EARSHOT_STORE, or the one saved in settings.json). The password comes
    /// from the URL, PGPASSWORD or ~/.pgpass.
    #[arg(long, global = true, value_name = "URL")]
    store: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the webhook listener until Ctrl-C.
    Serve(serve::Args),
    /// List calls (sessions), newest first.
    Sessions(list::SessionsArgs),
    /// List recordings in time order.
    Recordings(list::RecordingsArgs),
    /// Show the request log, newest first, with reasons for rejections; or one request as curl, or all as HAR.
    Requests(list::RequestsArgs),
    /// Send a stored recording or request again to your own service, as it came or edited.
    Replay(replay::Args),
    /// Write a recording, or a whole call, to WAV files; or calls to one bundle file (--bundle).
    Export(export::Args),
    /// Import a call bundle (NAME.earshot) written by another Earshot: all of it or nothing.
    Import(bundle::ImportArgs),
    /// Delete a recording, a call, requests or everything before a date, for real.
    Delete(delete::Args),
    /// Keep a recording (or stop keeping it with --off): retention never removes its call.
    Keep(keep::Args),
    /// Give the database's free pages back to the disk; prints its size before and after.
    Compact(compact::Args),
    /// Send watsonx-shaped recordings to a webhook URL.
    Send(send::Args),
    /// Check a public webhook URL end to end: DNS, connect, tunnel, auth, parse, store.
    Selftest(selftest::Args),
    /// Set a recording's review: verdict, note, tags and time-line markers.
    Review(review::Args),
    /// Show a recording's levels, loudness, silence, speech and flags.
    Analyze(review::AnalyzeArgs),
    /// Write the reviews of a call, a verdict, a tag or a flag to a CSV or self-contained HTML report.
    Report(report::Args),
    /// Play a recording through the audio output, with a progress line.
    Play(play::Args),
    /// List the audio output devices.
    Devices,
    /// Work on whole stores: move local captures into the shared store.
    #[command(subcommand)]
    Store(transfer::Command),
    /// Print the shell completion script for SHELL (bash, zsh, fish, …).
    Completions(completions::CompletionsArgs),
    /// Print the man page (the packages install it).
    #[command(hide = true)]
    Man(completions::ManArgs),
}

/// Everything that ends a command early, printed as `error: …`.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Settings or arguments that cannot be used.
    #[error(transparent)]
    Settings(#[from] earshot_core::SettingsError),
    /// The database.
    #[error(transparent)]
    Store(#[from] earshot_core::StoreError),
    /// Writing exported files.
    #[error(transparent)]
    Export(#[from] earshot_core::export::ExportError),
    /// Anything else, already phrased for the user.
    #[error("{0}")]
    Message(String),
}

/// Prints a line on stdout. A reader that went away (`earshot serve | head -1`)
/// must not take the listener down with it, as `println!` would.
pub(crate) fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// `ID@N` → (`ID`, Some(N)); a plain id → (id, None).
pub(crate) fn split_version(given: &str) -> Result<(String, Option<u32>), CliError> {
    match given.rsplit_once('@') {
        Some((id, v)) => {
            let v = v
                .parse::<u32>()
                .map_err(|_| CliError::Message(format!("{given:?}: the part after @ must be a version number")))?;
            Ok((id.to_string(), Some(v)))
        }
        None => Ok((given.to_string(), None)),
    }
}

/// Runs one future to completion on a runtime of its own (the store's writer is a thread, not a task).
pub(crate) fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Message(format!("cannot start tokio: {e}")))?;
    Ok(runtime.block_on(future))
}

/// Bytes for people: `812 bytes`, `40.0 KB`, `9.1 MB`, `1.20 GB` (powers of 1000, as retention's GB are).
pub(crate) fn size_text(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{:.1} KB", b / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b / 1e6),
        _ => format!("{:.2} GB", b / 1e9),
    }
}

/// Where the data dir and the store are, from the global flags.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    data_dir: Option<PathBuf>,
    store: Option<String>,
}

impl Place {
    /// The data dir (settings.json; the SQLite file unless another store is chosen).
    pub(crate) fn data_dir(&self) -> Result<PathBuf, CliError> {
        Ok(earshot_core::data_dir(self.data_dir.clone())?)
    }

    /// The store chosen (see [`earshot_core::store_url`]).
    pub(crate) fn store_url(&self) -> Result<StoreUrl, CliError> {
        Ok(earshot_core::store_url(self.store.as_deref(), &self.data_dir()?)?)
    }

    /// Opens the chosen store.
    pub(crate) fn open(&self) -> Result<Store, CliError> {
        Ok(Store::open_url(&self.store_url()?)?)
    }
}

fn open_store(place: &Place) -> Result<Store, CliError> {
    place.open()
}

/// Opens the store and also hands over its data dir (where `settings.json` is).
fn with_store(
    place: &Place,
    run: impl FnOnce(&Store, &std::path::Path) -> Result<(), CliError>,
) -> Result<(), CliError> {
    run(&place.open()?, &place.data_dir()?)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    earshot_core::logging::init();
    let place = Place { data_dir: cli.data_dir, store: cli.store };
    let result = match cli.command {
        Command::Serve(args) => serve::run(&place, args),
        Command::Sessions(args) => open_store(&place).and_then(|s| list::sessions(&s, args)),
        Command::Recordings(args) => open_store(&place).and_then(|s| list::recordings(&s, args)),
        Command::Requests(args) => with_store(&place, |s, dir| list::requests(s, dir, args)),
        Command::Replay(args) => with_store(&place, |s, dir| replay::run(s, dir, args)),
        Command::Export(args) => open_store(&place).and_then(|s| export::run(&s, args)),
        Command::Import(args) => open_store(&place).and_then(|s| bundle::import(&s, args)),
        Command::Delete(args) => open_store(&place).and_then(|s| delete::run(&s, args)),
        Command::Keep(args) => open_store(&place).and_then(|s| keep::run(&s, args)),
        Command::Compact(args) => open_store(&place).and_then(|s| compact::run(&s, args)),
        Command::Send(args) => send::run(args),
        Command::Selftest(args) => selftest::run(&place, args),
        Command::Review(args) => open_store(&place).and_then(|s| review::run(&s, args)),
        Command::Analyze(args) => open_store(&place).and_then(|s| review::analyze(&s, args)),
        Command::Report(args) => open_store(&place).and_then(|s| report::run(&s, args)),
        Command::Play(args) => open_store(&place).and_then(|s| play::run(&s, args)),
        Command::Devices => devices::run(),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
        Command::Store(command) => transfer::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
