//! `earshot export`: one recording to a file, or a whole call to a folder;
//! with `--bundle`, calls to one bundle file (see `crate::bundle`); with
//! `--speed`, one recording slowed or sped up as `earshot play` plays it.

use std::path::PathBuf;

use earshot_core::Store;
use earshot_core::bundle::Selection;
use earshot_core::export::{self, Format, Speed};

use crate::CliError;

/// Options of `earshot export`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("what").required(true).multiple(true).args(["recording", "session", "all", "before", "after"]))]
pub struct Args {
    /// Recording id or a unique prefix; `ID@N` picks version N of a conflicting resend.
    #[arg(conflicts_with_all = ["session", "bundle"])]
    recording: Option<String>,
    /// Export every recording of this call into the folder given with -o; with --bundle, this call (repeat for several).
    #[arg(long, value_name = "ID")]
    session: Vec<String>,
    /// With --bundle: every call.
    #[arg(long, requires = "bundle", conflicts_with = "session")]
    all: bool,
    /// With --bundle: only what was received before DATE (YYYY-MM-DD, its start in UTC, or RFC 3339).
    #[arg(long, value_name = "DATE", requires = "bundle")]
    before: Option<String>,
    /// With --bundle: only what was received at or after DATE (YYYY-MM-DD, its start in UTC, or RFC 3339).
    #[arg(long, value_name = "DATE", requires = "bundle")]
    after: Option<String>,
    /// Write the calls, with their versions, tokens and request log, as one bundle FILE (.earshot) for `earshot import`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["format", "output"])]
    bundle: Option<PathBuf>,
    /// pcm16 (plays everywhere), mulaw (WAV format 7) or original (bytes as received).
    #[arg(long, default_value = "pcm16")]
    format: Format,
    /// One recording at speed X (0.5–2) with the pitch kept, as `earshot play --speed` plays it:
    /// a PCM16 WAV at the recording's rate (channels averaged).
    #[arg(long, value_name = "X", value_parser = crate::play::speed, conflicts_with_all = ["session", "bundle"])]
    speed: Option<f64>,
    /// With --speed: let the pitch follow the speed, as on tape.
    #[arg(long, requires = "speed")]
    tape: bool,
    /// Output file (one recording; default: a name from id and start time) or folder (--session).
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
}

pub fn run(store: &Store, args: Args) -> Result<(), CliError> {
    if let Some(file) = &args.bundle {
        let time = |flag: &str, given: &Option<String>| {
            given.as_deref().map(|t| crate::delete::store_time(flag, t)).transpose()
        };
        let selection = Selection {
            sessions: (!args.session.is_empty()).then(|| args.session.clone()),
            after: time("--after", &args.after)?,
            before: time("--before", &args.before)?,
        };
        return crate::bundle::export(store, &selection, file);
    }
    if let Some(session) = args.session.first() {
        if args.session.len() > 1 {
            return Err(CliError::Message("WAV export takes one --session; several go into a --bundle".into()));
        }
        let dir = args.output.ok_or_else(|| CliError::Message("--session needs -o DIR".into()))?;
        let files = export::export_session(store, session, args.format, &dir, |done, total| {
            eprint!("\rexported {done}/{total}");
        })?;
        eprintln!();
        for file in files {
            println!("{}", file.display());
        }
        return Ok(());
    }
    let (id, version) = crate::split_version(&args.recording.unwrap_or_default())?;
    let speed = args.speed.map(|factor| Speed::new(factor, args.tape)).transpose()?;
    if speed.is_some() && args.format != Format::Pcm16 {
        return Err(CliError::Message("--speed writes a PCM16 WAV; it does not combine with --format".into()));
    }
    let recording = store.find_recording(&id, version)?;
    let name = match speed {
        Some(speed) => export::file_name_at_speed(&recording, speed),
        None => export::file_name(&recording, args.format),
    };
    let path = match args.output {
        Some(path) if path.is_dir() => path.join(name),
        Some(path) => path,
        None => PathBuf::from(name),
    };
    match speed {
        Some(speed) => export::export_at_speed(store, &recording, speed, &path)?,
        None => export::export_to(store, &recording, args.format, &path)?,
    }
    println!("{}", path.display());
    Ok(())
}
