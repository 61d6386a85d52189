//! `earshot replay`: sends a stored recording (or a logged request) again to
//! the user's service — byte for byte, or edited — and prints the answer.
//! Building, sending and recording the replay are the core's
//! (`earshot_core::relay`); this module turns flags into a
//! [`ReplayRequest`], finds the secret and the target the way the listener
//! would, and reports. It also holds that secret and target resolution for
//! `earshot requests --curl`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use earshot_core::relay::{self, Edits, MetadataEdit, RelayError, ReplayRequest, ReplaySource, TokenChoice, Upstream};
use earshot_core::{SavedSettings, Secret, Store};
use serde_json::{Value, json};

use crate::{CliError, say};

/// watsonx waits at most 30 s for the webhook; a replay waits as long by default.
const DEFAULT_TIMEOUT_SECS: f64 = 30.0;

/// Characters of the answer body shown in the human output.
const BODY_SHOWN: usize = 400;

/// Options of `earshot replay`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("token").args(["keep_token", "no_token", "bad_token"]))]
pub struct Args {
    /// Recording id or a unique prefix (`ID@N` or --version N picks a version); with --request, a request-log id.
    id: String,
    /// Where to send it (the request path is appended when URL ends in '/') [default: the forward URL].
    #[arg(long, value_name = "URL")]
    to: Option<String>,
    /// ID is a request-log id (`earshot requests`), not a recording id.
    #[arg(long)]
    request: bool,
    /// Which version of a conflicting resend [default: the newest].
    #[arg(long, value_name = "N", conflicts_with = "request")]
    version: Option<u32>,
    /// The shared secret to sign the token with (or EARSHOT_SECRET, or settings.json).
    #[arg(long, value_name = "S")]
    secret: Option<String>,
    /// Send the original token (its header and claims signed again with the secret: the same token when the secret is watsonx's).
    #[arg(long)]
    keep_token: bool,
    /// Send no token at all (your service's 401 path).
    #[arg(long)]
    no_token: bool,
    /// Send a token signed with a wrong key (your service's 400 path).
    #[arg(long)]
    bad_token: bool,
    /// Set a metadata field: FIELD=TEXT for a string, FIELD:=JSON for any JSON value (repeatable).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// Send this audio instead: a WAV (PCM, μ-law or A-law, any rate and channels) or raw μ-law, converted to 8 kHz μ-law.
    #[arg(long, value_name = "FILE")]
    audio: Option<PathBuf>,
    /// Add or replace a header, 'Name: value' (repeatable).
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    headers: Vec<String>,
    /// Seconds to wait for the whole answer.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_SECS)]
    timeout: f64,
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
}

impl Args {
    fn token(&self) -> TokenChoice {
        if self.keep_token {
            TokenChoice::Keep
        } else if self.no_token {
            TokenChoice::None
        } else if self.bad_token {
            TokenChoice::Bad
        } else {
            TokenChoice::Resign
        }
    }

    fn edits(&self) -> Result<Edits, CliError> {
        let set =
            self.set.iter().map(|s| MetadataEdit::parse(s)).collect::<Result<Vec<_>, _>>().map_err(relay_error)?;
        let headers = self.headers.iter().map(|h| parse_header(h)).collect::<Result<Vec<_>, _>>()?;
        let audio = match &self.audio {
            None => None,
            Some(path) => Some(read_audio(path)?),
        };
        Ok(Edits { set, audio, headers })
    }

    fn timeout(&self) -> Result<Duration, CliError> {
        if !self.timeout.is_finite() || self.timeout <= 0.0 || self.timeout > 600.0 {
            return Err(CliError::Message(format!(
                "--timeout {}: give a number of seconds above 0, at most 600",
                self.timeout
            )));
        }
        Ok(Duration::from_secs_f64(self.timeout))
    }
}

/// What a replay or a curl command falls back on when no flag says: the
/// secret and the forward URL, as `earshot serve` would find them — but
/// without needing the listener's other settings to be valid.
pub(crate) struct Fallbacks {
    saved: SavedSettings,
}

impl Fallbacks {
    /// Reads `settings.json` in the data dir (a missing file is no settings).
    pub(crate) fn load(data_dir: &Path) -> Result<Fallbacks, CliError> {
        Ok(Fallbacks { saved: SavedSettings::load(data_dir)? })
    }

    /// `--secret`, else `EARSHOT_SECRET`, else the saved secret.
    pub(crate) fn secret(&self, flag: Option<&str>) -> Result<Option<Secret>, CliError> {
        let env = std::env::var("EARSHOT_SECRET").ok().filter(|v| !v.is_empty());
        let given = flag.map(str::to_string).or(env).or_else(|| self.saved.secret.clone());
        Ok(given.map(Secret::new).transpose()?)
    }

    /// `--to`, else `EARSHOT_FORWARD`, else the saved forward URL when forwarding is on.
    pub(crate) fn target(&self, flag: Option<&str>) -> Result<String, CliError> {
        let env = std::env::var("EARSHOT_FORWARD").ok().filter(|v| !v.is_empty());
        let saved = self.saved.forward.as_ref().filter(|f| f.enabled).map(|f| f.url.clone());
        let url = flag.map(str::to_string).or(env).or(saved).ok_or_else(|| relay_error(RelayError::NoTarget))?;
        relay::check_url(&url).map_err(relay_error)
    }
}

/// A relay error as the CLI prints it, ending in its code (`(no_target)`) for scripts that grep.
pub(crate) fn relay_error(error: RelayError) -> CliError {
    CliError::Message(format!("{} ({})", error, error.code()))
}

/// `Name: value` → (`Name`, `value`).
fn parse_header(text: &str) -> Result<(String, String), CliError> {
    let bad = |why: &str| CliError::Message(format!("--header {text:?}: {why}; expected 'Name: value'"));
    let (name, value) = text.split_once(':').ok_or_else(|| bad("there is no ':'"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("the name is empty"));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
        return Err(bad(&format!("{name:?} is not a header name")));
    }
    let value = value.trim();
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(bad("the value holds a line break"));
    }
    Ok((name.to_string(), value.to_string()))
}

/// The file as 8 kHz μ-law codes.
fn read_audio(path: &Path) -> Result<Vec<u8>, CliError> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::Message(format!("--audio {}: cannot read it: {e}", path.display())))?;
    earshot_audio::to_telephone_mulaw(&bytes)
        .map_err(|e| CliError::Message(format!("--audio {}: cannot use it as audio: {e}", path.display())))
}

/// `ID`, `ID@N` with an optional `--version`.
fn recording_ref(id: &str, version: Option<u32>) -> Result<(String, Option<u32>), CliError> {
    match id.rsplit_once('@') {
        Some((_, _)) if version.is_some() => {
            Err(CliError::Message(format!("{id:?}: give the version as ID@N or with --version, not both")))
        }
        Some((id, v)) => {
            let v = v
                .parse::<u32>()
                .map_err(|_| CliError::Message(format!("{id:?}@{v:?}: the part after @ must be a version number")))?;
            Ok((id.to_string(), Some(v)))
        }
        None => Ok((id.to_string(), version)),
    }
}

fn source(store: &Store, args: &Args) -> Result<(ReplaySource, String), CliError> {
    if args.request {
        let id = args.id.trim().parse::<i64>().map_err(|_| {
            CliError::Message(format!("--request {:?}: a request-log id is a number (see `earshot requests`)", args.id))
        })?;
        store.request(id)?;
        return Ok((ReplaySource::Request(id), format!("request {id}")));
    }
    let (id, version) = recording_ref(&args.id, args.version)?;
    let recording = store.find_recording(&id, version)?;
    Ok((ReplaySource::Recording(recording.row), format!("recording {} v{}", recording.recording_id, recording.version)))
}

pub fn run(store: &Store, data_dir: &Path, args: Args) -> Result<(), CliError> {
    let fallbacks = Fallbacks::load(data_dir)?;
    let (source, what) = source(store, &args)?;
    let token = args.token();
    let request = ReplayRequest {
        source,
        to: fallbacks.target(args.to.as_deref())?,
        token,
        secret: fallbacks.secret(args.secret.as_deref())?,
        edits: args.edits()?,
        timeout: args.timeout()?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Message(format!("cannot start tokio: {e}")))?;
    let outcome = runtime.block_on(relay::replay(store, &Upstream::new(), &request, Utc::now()));
    let outcome = outcome.map_err(relay_error)?;
    let answer = &outcome.answer;
    let body = String::from_utf8_lossy(&answer.body);
    let latency_ms = answer.latency_us as f64 / 1000.0;
    let failure = match (&answer.fault, answer.status) {
        (Some((fault, message)), _) => Some((fault.as_str(), message.clone())),
        (None, Some(status)) if !answer.is_success() => {
            Some(("not_2xx", format!("{} answered {status}, not 2xx", answer.url)))
        }
        _ => None,
    };
    let of = match outcome.prepared.request_id {
        Some(id) => format!("request {id}"),
        None => what.clone(),
    };
    if args.json {
        let value = json!({
            "status": answer.status,
            "latency_ms": (latency_ms * 10.0).round() / 10.0,
            "body": body,
            "replay_id": outcome.replay_id,
            "replay_of": outcome.prepared.request_id,
            "url": answer.url,
            "identical": outcome.prepared.identical,
            "changes": outcome.prepared.changes,
            "error": failure.as_ref().map(|(code, message)| json!({"code": code, "message": message})),
        });
        say(&serde_json::to_string_pretty(&value).expect("JSON serializes"));
    } else {
        let status = answer.status.map_or_else(|| "no answer".to_string(), |s| s.to_string());
        say(&format!("{status} from {} in {latency_ms:.1} ms", answer.url));
        say(&format!(
            "replay {} of {of} ({what}): {}",
            outcome.replay_id,
            describe(&outcome.prepared.changes, outcome.prepared.identical)
        ));
        if !body.is_empty() {
            let shown: String = body.chars().take(BODY_SHOWN).collect();
            let more = if shown.len() < body.len() {
                format!(" … ({} bytes in all)", answer.body_size)
            } else {
                String::new()
            };
            say(&format!("{}{more}", shown.trim_end()));
        }
    }
    match failure {
        Some((_, message)) => Err(CliError::Message(message)),
        None => Ok(()),
    }
}

/// `changes` in words: "byte-identical body, token kept", "set recording_id, token resigned".
fn describe(changes: &Value, identical: bool) -> String {
    let mut words = vec![if identical { "byte-identical body".to_string() } else { "edited body".to_string() }];
    if changes.get("rebuilt").is_some() {
        words.push("rebuilt from the recording".into());
    }
    if let Some(set) = changes.get("set").and_then(Value::as_object) {
        words.push(format!("set {}", set.keys().cloned().collect::<Vec<_>>().join(", ")));
    }
    if let Some(audio) = changes.get("audio") {
        words.push(format!("audio swapped ({} bytes)", audio["bytes"]));
    }
    if let Some(token) = changes.get("token").and_then(Value::as_str) {
        words.push(format!("token {token}"));
    }
    if let Some(headers) = changes.get("headers").and_then(Value::as_array) {
        let names: Vec<&str> = headers.iter().filter_map(|h| h.get(0).and_then(Value::as_str)).collect();
        words.push(format!("headers {}", names.join(", ")));
    }
    if let Some(dropped) = changes.get("dropped_headers").and_then(Value::as_array) {
        let names: Vec<&str> = dropped.iter().filter_map(Value::as_str).collect();
        words.push(format!("dropped {}", names.join(", ")));
    }
    words.join(", ")
}

#[cfg(test)]
mod tests {
    use super::{parse_header, recording_ref};

    #[test]
    fn headers_need_a_name_and_a_colon() {
        assert_eq!(parse_header("X-Trace: abc").unwrap(), ("X-Trace".into(), "abc".into()));
        assert_eq!(parse_header("Authorization:Bearer x:y").unwrap().1, "Bearer x:y");
        for bad in ["X-Trace abc", ": v", "Bad Name: v"] {
            let message = parse_header(bad).unwrap_err().to_string();
            assert!(message.contains(bad) && message.contains("'Name: value'"), "{message}");
        }
    }

    #[test]
    fn a_version_comes_after_at_or_from_the_flag() {
        assert_eq!(recording_ref("abc@2", None).unwrap(), ("abc".into(), Some(2)));
        assert_eq!(recording_ref("abc", Some(3)).unwrap(), ("abc".into(), Some(3)));
        assert!(recording_ref("abc@2", Some(3)).is_err());
        assert!(recording_ref("abc@x", None).is_err());
    }
}
