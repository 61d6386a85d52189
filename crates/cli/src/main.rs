//! `earshot`: the headless face of Earshot. Serves the webhook, lists and
//! exports what arrived, and sends watsonx-shaped test calls. All real work
//! is in `earshot-core`; this crate parses arguments and prints.

mod curl;
mod devices;
mod export;
mod har;
mod list;
mod play;
mod replay;
mod selftest;
mod send;
mod serve;
mod tunnel;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use earshot_core::Store;

/// Capture, inspect and replay IBM watsonx Assistant Audio webhook recordings.
#[derive(Debug, Parser)]
#[command(name = "earshot", version, about)]
struct Cli {
    /// Where the database lives (or EARSHOT_DATA_DIR) [default: the OS data dir, e.g. ~/.local/share/earshot].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,

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
    /// Write a recording, or a whole call, to WAV files.
    Export(export::Args),
    /// Send watsonx-shaped recordings to a webhook URL.
    Send(send::Args),
    /// Check a public webhook URL end to end: DNS, connect, tunnel, auth, parse, store.
    Selftest(selftest::Args),
    /// Play a recording through the audio output, with a progress line.
    Play(play::Args),
    /// List the audio output devices.
    Devices,
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

fn open_store(data_dir: Option<PathBuf>) -> Result<Store, CliError> {
    Ok(Store::open(&earshot_core::data_dir(data_dir)?)?)
}

/// Opens the store and also hands over its data dir (where `settings.json` is).
fn with_store(
    data_dir: Option<PathBuf>,
    run: impl FnOnce(&Store, &std::path::Path) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let dir = earshot_core::data_dir(data_dir)?;
    run(&Store::open(&dir)?, &dir)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    earshot_core::logging::init();
    let result = match cli.command {
        Command::Serve(args) => serve::run(cli.data_dir, args),
        Command::Sessions(args) => open_store(cli.data_dir).and_then(|s| list::sessions(&s, args)),
        Command::Recordings(args) => open_store(cli.data_dir).and_then(|s| list::recordings(&s, args)),
        Command::Requests(args) => with_store(cli.data_dir, |s, dir| list::requests(s, dir, args)),
        Command::Replay(args) => with_store(cli.data_dir, |s, dir| replay::run(s, dir, args)),
        Command::Export(args) => open_store(cli.data_dir).and_then(|s| export::run(&s, args)),
        Command::Send(args) => send::run(args),
        Command::Selftest(args) => selftest::run(cli.data_dir, args),
        Command::Play(args) => open_store(cli.data_dir).and_then(|s| play::run(&s, args)),
        Command::Devices => devices::run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
