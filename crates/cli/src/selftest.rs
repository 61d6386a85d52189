//! `earshot selftest URL`: sends one watsonx-shaped, signed request to the
//! public webhook URL and prints each hop — DNS, connect, tunnel, auth,
//! parse, store — with the round-trip latency, or the hop that failed and
//! why. With the listener's database in the data dir it also confirms the
//! recording arrived byte-exact and how its token fared.

use std::time::Duration;

use earshot_core::{DB_FILE, Store, StoreUrl};
use earshot_core::{SavedSettings, Secret};
use earshot_tunnel::selftest::{DEFAULT_TIMEOUT, Outcome};
use earshot_tunnel::{SelfTest, SelfTestReport};

use crate::CliError;

/// Options of `earshot selftest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The public webhook URL, e.g. `https://x.trycloudflare.com/audio-webhook`.
    url: String,
    /// The secret Earshot checks tokens with [default: settings.json's].
    #[arg(long, env = "EARSHOT_SECRET", hide_env_values = true, value_name = "S")]
    secret: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Seconds to wait for the answer.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT.as_secs())]
    timeout: u64,
}

pub fn run(place: &crate::Place, args: Args) -> Result<(), CliError> {
    let data_dir = place.data_dir()?;
    let secret = match args.secret {
        Some(secret) => Some(secret),
        None => SavedSettings::load(&data_dir)?.secret,
    };
    // Only an existing database can confirm anything; never create one here.
    let store = match place.store_url()? {
        StoreUrl::Sqlite(dir) if !dir.join(DB_FILE).exists() => None,
        url => Some(Store::open_url(&url)?),
    };
    let test = SelfTest {
        url: args.url,
        secret: secret.map(Secret::new).transpose()?,
        store,
        timeout: Duration::from_secs(args.timeout.max(1)),
    };
    let report = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Message(format!("cannot start tokio: {e}")))?
        .block_on(test.run());
    if args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| CliError::Message(e.to_string()))?;
        println!("{json}");
    } else {
        print(&report);
    }
    if report.ok { Ok(()) } else { Err(CliError::Message(report.summary)) }
}

fn print(report: &SelfTestReport) {
    println!("selftest {}", report.url);
    for line in &report.hops {
        let outcome = match line.outcome {
            Outcome::Passed => "ok",
            Outcome::Failed => "FAILED",
            Outcome::Unconfirmed => "unconfirmed",
            Outcome::NotReached => "-",
        };
        println!("  {:<8} {:<12} {}", line.hop.as_str(), outcome, line.detail);
    }
    if report.ok {
        println!("{}", report.summary);
    }
}
