//! Settings shared by `earshot serve` and the desktop app: where the data
//! lives, where to listen, the webhook secret and how strictly to use it,
//! and the limits on clients.
//!
//! `resolve` is the one resolution: flag, then environment variable, then
//! `settings.json` in the data dir (`saved`), then the defaults here.
//! The secret's `Debug` never prints it.

mod limits;
mod resolve;
mod saved;

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use limits::{BUDGET_WAIT, Limits};
pub use resolve::{DATA_DIR_VAR, Overrides, Resolved, STORE_VAR, data_dir, store_url};
pub use saved::{ForwardSettings, SETTINGS_FILE, SavedSettings, TunnelChoice};

/// The listener's default address: loopback only, a tunnel exposes it.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// Largest request body accepted by default. A 30 s watsonx utterance is
/// 240 KB; 50 MiB leaves room for long PCM recordings.
pub const DEFAULT_MAX_BODY: usize = 50 * 1024 * 1024;

/// watsonx accepts secrets of 1 to 1,024 characters.
pub const MAX_SECRET_CHARS: usize = 1024;

/// Settings problems, each naming the value at fault.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Secret outside watsonx's 1–1,024 characters.
    #[error("the secret must be 1 to {MAX_SECRET_CHARS} characters (got {0})")]
    SecretLength(usize),
    /// `enforce` or `observe` without a secret.
    #[error("auth mode '{0}' needs a secret: pass --secret, set EARSHOT_SECRET, or use --auth off")]
    SecretRequired(&'static str),
    /// Unknown auth mode name.
    #[error("unknown auth mode {0:?} (expected enforce, observe or off)")]
    AuthMode(String),
    /// The settings file exists but cannot be read.
    #[error("cannot read {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An `EARSHOT_*` variable that cannot be used.
    #[error("{name}={value:?} cannot be used: expected {expected}")]
    Env {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it should hold.
        expected: &'static str,
    },
    /// No data dir given and the OS has none.
    #[error("no data dir: pass --data-dir or set EARSHOT_DATA_DIR")]
    NoDataDir,
    /// The retention policy cannot be used.
    #[error("retention cannot be set up: {0}")]
    Retention(String),
    /// The store URL cannot be used.
    #[error("{0}")]
    Store(String),
    /// The forward URL, mode or timeout cannot be used.
    #[error("forwarding cannot be set up: {0}")]
    Forward(String),
}

/// The webhook secret. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Validates watsonx's length rule.
    pub fn new(value: impl Into<String>) -> Result<Secret, SettingsError> {
        let value = value.into();
        let chars = value.chars().count();
        if chars == 0 || chars > MAX_SECRET_CHARS {
            return Err(SettingsError::SecretLength(chars));
        }
        Ok(Secret(value))
    }

    /// The UTF-8 bytes used as the HMAC key.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How the listener treats tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Refuse requests without a valid token (401).
    Enforce,
    /// Accept everything; record the verdict on each recording.
    Observe,
    /// No secret; nothing is checked.
    Off,
}

impl AuthMode {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Enforce => "enforce",
            AuthMode::Observe => "observe",
            AuthMode::Off => "off",
        }
    }
}

impl std::str::FromStr for AuthMode {
    type Err = SettingsError;

    fn from_str(s: &str) -> Result<AuthMode, SettingsError> {
        match s.to_ascii_lowercase().as_str() {
            "enforce" => Ok(AuthMode::Enforce),
            "observe" => Ok(AuthMode::Observe),
            "off" => Ok(AuthMode::Off),
            _ => Err(SettingsError::AuthMode(s.to_string())),
        }
    }
}

/// Verification settings, validated together.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    mode: AuthMode,
    secret: Option<Secret>,
}

impl AuthConfig {
    /// Pairs a mode with a secret. No mode given means `enforce` with a secret, `off` without.
    pub fn new(mode: Option<AuthMode>, secret: Option<Secret>) -> Result<AuthConfig, SettingsError> {
        let mode = mode.unwrap_or(if secret.is_some() { AuthMode::Enforce } else { AuthMode::Off });
        if mode != AuthMode::Off && secret.is_none() {
            return Err(SettingsError::SecretRequired(mode.as_str()));
        }
        Ok(AuthConfig { mode, secret })
    }

    /// No verification at all.
    pub fn off() -> AuthConfig {
        AuthConfig { mode: AuthMode::Off, secret: None }
    }

    /// The mode in force.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// The secret, unless the mode is `off`.
    pub fn secret(&self) -> Option<&Secret> {
        if self.mode == AuthMode::Off { None } else { self.secret.as_ref() }
    }
}

#[cfg(test)]
mod tests {
    use super::{AuthConfig, AuthMode, SavedSettings, Secret, SettingsError, TunnelChoice};

    #[test]
    fn secret_length_follows_watsonx() {
        assert!(matches!(Secret::new(""), Err(SettingsError::SecretLength(0))));
        assert!(Secret::new("x".repeat(1024)).is_ok());
        assert!(matches!(Secret::new("é".repeat(1025)), Err(SettingsError::SecretLength(1025))));
        assert_eq!(format!("{:?}", Secret::new("hunter2").unwrap()), "Secret(<redacted>)");
    }

    #[test]
    fn mode_defaults_follow_the_secret() {
        let with = AuthConfig::new(None, Some(Secret::new("s").unwrap())).unwrap();
        assert_eq!(with.mode(), AuthMode::Enforce);
        assert_eq!(AuthConfig::new(None, None).unwrap().mode(), AuthMode::Off);
        assert!(matches!(AuthConfig::new(Some(AuthMode::Observe), None), Err(SettingsError::SecretRequired(_))));
    }

    #[test]
    fn debug_hides_the_secret_and_the_ngrok_token() {
        let saved = SavedSettings {
            secret: Some("hunter2".into()),
            ngrok_authtoken: Some("2abcTOKEN".into()),
            tunnel: Some(TunnelChoice::Ngrok),
            ..SavedSettings::default()
        };
        let shown = format!("{saved:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("2abcTOKEN"), "{shown}");
        assert!(shown.contains("ngrok"), "{shown}");
    }

    #[test]
    fn older_files_without_tunnel_fields_still_load() {
        let dir = tempfile::TempDir::new().unwrap();
        std::fs::write(dir.path().join(super::SETTINGS_FILE), r#"{"listen":"127.0.0.1:9000","secret":null}"#).unwrap();
        let saved = SavedSettings::load(dir.path()).unwrap();
        assert_eq!(saved.listen, Some("127.0.0.1:9000".parse().unwrap()));
        assert_eq!((saved.tunnel, saved.ngrok_authtoken), (None, None));
    }

    #[test]
    fn an_unknown_tunnel_name_reads_as_none_and_the_rest_still_loads() {
        let dir = tempfile::TempDir::new().unwrap();
        let file = dir.path().join(super::SETTINGS_FILE);
        std::fs::write(&file, r#"{"listen":"127.0.0.1:9001","tunnel":"wormhole"}"#).unwrap();
        let saved = SavedSettings::load(dir.path()).unwrap();
        assert_eq!((saved.listen.map(|a| a.port()), saved.tunnel), (Some(9001), None));
        std::fs::write(&file, r#"{"tunnel":"custom"}"#).unwrap();
        assert_eq!(SavedSettings::load(dir.path()).unwrap().tunnel, Some(TunnelChoice::Custom));
    }
}
