//! `earshot store migrate --from sqlite:DIR --to postgres://…`: moves local
//! captures into the shared store (or any store into any other), with a line
//! per window on stderr and, with `--json`, a summary on stdout.

use clap::Subcommand;
use earshot_core::{Store, StoreUrl};

use crate::{CliError, block_on, say};

/// `earshot store …`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Copy every recording (all versions), the request log, forwards, replays and Keep from one store
    /// into another. Safe to run again: what is already there is skipped.
    Migrate(MigrateArgs),
}

/// `earshot store migrate`.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The store to read: sqlite:DIR or postgres://….
    #[arg(long, value_name = "URL")]
    from: String,
    /// The store to add to: postgres://… or sqlite:DIR.
    #[arg(long, value_name = "URL")]
    to: String,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(command: Command) -> Result<(), CliError> {
    let Command::Migrate(args) = command;
    let from_url = StoreUrl::parse(&args.from)?;
    let to_url = StoreUrl::parse(&args.to)?;
    if from_url == to_url {
        return Err(CliError::Message("--from and --to are the same store".into()));
    }
    if let StoreUrl::Sqlite(dir) = &from_url
        && !dir.join(earshot_core::DB_FILE).exists()
    {
        return Err(CliError::Message(format!("no Earshot database in {}", dir.display())));
    }
    let from = Store::open_url(&from_url)?;
    let to = Store::open_url(&to_url)?;
    eprintln!("migrating {} → {}", from.describe(), to.describe());
    let report = block_on(earshot_core::transfer::transfer(&from, &to, |p| {
        eprintln!(
            "window {}/{}: {} recordings added, {} already there, {} requests added",
            p.window, p.windows, p.report.added, p.report.skipped, p.report.requests
        );
    }))?
    .map_err(|e| CliError::Message(e.to_string()))?;
    if args.json {
        let summary = serde_json::json!({
            "from": from.describe(),
            "to": to.describe(),
            "recordings_added": report.added,
            "recordings_skipped": report.skipped,
            "conflicts": report.conflicts,
            "requests_added": report.requests,
        });
        say(&summary.to_string());
    } else {
        say(&format!(
            "{} recordings added ({} as new versions), {} already there, {} requests added",
            report.added, report.conflicts, report.skipped, report.requests
        ));
    }
    Ok(())
}
