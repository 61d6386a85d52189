//! `earshot export`: one recording to a file, or a whole call to a folder.

use std::path::PathBuf;

use earshot_core::Store;
use earshot_core::export::{self, Format};

use crate::CliError;

/// Options of `earshot export`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["recording", "session"]))]
pub struct Args {
    /// Recording id or a unique prefix; `ID@N` picks version N of a conflicting resend.
    recording: Option<String>,
    /// Export every recording of this call into the folder given with -o.
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// pcm16 (plays everywhere), mulaw (WAV format 7) or original (bytes as received).
    #[arg(long, default_value = "pcm16")]
    format: Format,
    /// Output file (one recording; default: a name from id and start time) or folder (--session).
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
}

pub fn run(store: &Store, args: Args) -> Result<(), CliError> {
    if let Some(session) = args.session {
        let dir = args.output.ok_or_else(|| CliError::Message("--session needs -o DIR".into()))?;
        let files = export::export_session(store, &session, args.format, &dir, |done, total| {
            eprint!("\rexported {done}/{total}");
        })?;
        eprintln!();
        for file in files {
            println!("{}", file.display());
        }
        return Ok(());
    }
    let given = args.recording.unwrap_or_default();
    let (id, version) = match given.rsplit_once('@') {
        Some((id, v)) => {
            let v = v
                .parse::<u32>()
                .map_err(|_| CliError::Message(format!("{given:?}: the part after @ must be a version number")))?;
            (id.to_string(), Some(v))
        }
        None => (given.clone(), None),
    };
    let recording = store.find_recording(&id, version)?;
    let name = export::file_name(&recording, args.format);
    let path = match args.output {
        Some(path) if path.is_dir() => path.join(name),
        Some(path) => path,
        None => PathBuf::from(name),
    };
    export::export_to(store, &recording, args.format, &path)?;
    println!("{}", path.display());
    Ok(())
}
