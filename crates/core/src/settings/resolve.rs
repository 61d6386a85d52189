//! The one settings resolution, shared by `earshot serve` and the desktop
//! app: a command-line flag, then the `EARSHOT_*` environment variable, then
//! `settings.json`, then the default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{AuthConfig, AuthMode, DEFAULT_LISTEN, DEFAULT_MAX_BODY, Limits, SavedSettings, Secret, SettingsError};
use crate::intake::IntakeConfig;
use crate::model::ForwardMode;
use crate::relay::{DEFAULT_FORWARD_TIMEOUT, ForwardConfig};
use crate::store::{RetentionPolicy, StoreUrl};

/// Values given for one run, by flags or by the environment. Every field optional.
#[derive(Clone, Default, PartialEq)]
pub struct Overrides {
    /// `--listen` / `EARSHOT_LISTEN`.
    pub listen: Option<SocketAddr>,
    /// `--secret` / `EARSHOT_SECRET`.
    pub secret: Option<String>,
    /// `--auth` / `EARSHOT_AUTH`.
    pub auth: Option<AuthMode>,
    /// `--max-body` / `EARSHOT_MAX_BODY`, bytes.
    pub max_body: Option<usize>,
    /// `--header-timeout` / `EARSHOT_HEADER_TIMEOUT`.
    pub header_timeout: Option<Duration>,
    /// `--body-timeout` / `EARSHOT_BODY_TIMEOUT`.
    pub body_timeout: Option<Duration>,
    /// `--max-connections` / `EARSHOT_MAX_CONNECTIONS`.
    pub max_connections: Option<usize>,
    /// `--max-buffered` / `EARSHOT_MAX_BUFFERED`, bytes.
    pub max_buffered: Option<usize>,
    /// `--forward` / `EARSHOT_FORWARD`: the user's service.
    pub forward: Option<String>,
    /// `--forward-mode` / `EARSHOT_FORWARD_MODE`.
    pub forward_mode: Option<ForwardMode>,
    /// `--forward-timeout` / `EARSHOT_FORWARD_TIMEOUT`.
    pub forward_timeout: Option<Duration>,
    /// `--retention-days` / `EARSHOT_RETENTION_DAYS`.
    pub retention_days: Option<u32>,
    /// `--retention-max-gb` / `EARSHOT_RETENTION_MAX_GB`.
    pub retention_max_gb: Option<f64>,
}

impl std::fmt::Debug for Overrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overrides")
            .field("listen", &self.listen)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("auth", &self.auth)
            .field("max_body", &self.max_body)
            .field("header_timeout", &self.header_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("max_connections", &self.max_connections)
            .field("max_buffered", &self.max_buffered)
            .field("forward", &self.forward)
            .field("forward_mode", &self.forward_mode)
            .field("forward_timeout", &self.forward_timeout)
            .field("retention_days", &self.retention_days)
            .field("retention_max_gb", &self.retention_max_gb)
            .finish()
    }
}

/// Environment variable for the data dir.
pub const DATA_DIR_VAR: &str = "EARSHOT_DATA_DIR";

/// The variable naming the store (`sqlite:DIR` or `postgres://…`), like `--store`.
pub const STORE_VAR: &str = "EARSHOT_STORE";

/// Reads one variable through `get`; empty counts as unset.
fn parsed<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    expected: &'static str,
) -> Result<Option<T>, SettingsError> {
    match get(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(value) => value.trim().parse().map(Some).map_err(|_| SettingsError::Env { name, value, expected }),
    }
}

impl Overrides {
    /// The `EARSHOT_*` variables of this process, naming any that cannot be used.
    pub fn from_env() -> Result<Overrides, SettingsError> {
        Overrides::from_vars(|name| std::env::var(name).ok())
    }

    /// The `EARSHOT_*` variables as `get` reports them (tests pass a map).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Overrides, SettingsError> {
        let seconds = |name| parsed::<u64>(&get, name, "a whole number of seconds").map(|s| s.map(Duration::from_secs));
        Ok(Overrides {
            listen: parsed(&get, "EARSHOT_LISTEN", "an address such as 127.0.0.1:8787")?,
            secret: get("EARSHOT_SECRET").filter(|v| !v.is_empty()),
            auth: match get("EARSHOT_AUTH").filter(|v| !v.is_empty()) {
                None => None,
                Some(v) => Some(v.parse()?),
            },
            max_body: parsed(&get, "EARSHOT_MAX_BODY", "a number of bytes")?,
            header_timeout: seconds("EARSHOT_HEADER_TIMEOUT")?,
            body_timeout: seconds("EARSHOT_BODY_TIMEOUT")?,
            max_connections: parsed(&get, "EARSHOT_MAX_CONNECTIONS", "a number of connections")?,
            max_buffered: parsed(&get, "EARSHOT_MAX_BUFFERED", "a number of bytes")?,
            forward: get("EARSHOT_FORWARD").filter(|v| !v.is_empty()),
            forward_mode: match get("EARSHOT_FORWARD_MODE").filter(|v| !v.is_empty()) {
                None => None,
                Some(value) => Some(ForwardMode::from_name(value.trim()).ok_or(SettingsError::Env {
                    name: "EARSHOT_FORWARD_MODE",
                    value,
                    expected: "pass or tee",
                })?),
            },
            forward_timeout: parsed::<f64>(&get, "EARSHOT_FORWARD_TIMEOUT", "a number of seconds")?
                .map(|s| Duration::from_secs_f64(s.max(0.0))),
            retention_days: parsed(&get, "EARSHOT_RETENTION_DAYS", "a whole number of days")?,
            retention_max_gb: parsed(&get, "EARSHOT_RETENTION_MAX_GB", "a number of gigabytes")?,
        })
    }

    /// Each value from `self`, else from `lower`.
    pub fn or(self, lower: Overrides) -> Overrides {
        Overrides {
            listen: self.listen.or(lower.listen),
            secret: self.secret.or(lower.secret),
            auth: self.auth.or(lower.auth),
            max_body: self.max_body.or(lower.max_body),
            header_timeout: self.header_timeout.or(lower.header_timeout),
            body_timeout: self.body_timeout.or(lower.body_timeout),
            max_connections: self.max_connections.or(lower.max_connections),
            max_buffered: self.max_buffered.or(lower.max_buffered),
            forward: self.forward.or(lower.forward),
            forward_mode: self.forward_mode.or(lower.forward_mode),
            forward_timeout: self.forward_timeout.or(lower.forward_timeout),
            retention_days: self.retention_days.or(lower.retention_days),
            retention_max_gb: self.retention_max_gb.or(lower.retention_max_gb),
        }
    }
}

/// The settings in force for a listener.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Token verification, validated.
    pub auth: AuthConfig,
    /// Largest request body, bytes.
    pub max_body: usize,
    /// Slow- and large-client limits.
    pub limits: Limits,
    /// Where requests go on to, when forwarding is on.
    pub forward: Option<ForwardConfig>,
    /// How long recordings are kept.
    pub retention: RetentionPolicy,
}

impl Resolved {
    /// Flag over environment over `settings.json` over default, for every
    /// setting; the secret and mode are then checked together.
    pub fn resolve(flags: Overrides, env: Overrides, saved: &SavedSettings) -> Result<Resolved, SettingsError> {
        let given = flags.or(env);
        let listen = Resolved::listen(&given, saved);
        let secret = given.secret.clone().or_else(|| saved.secret.clone()).map(Secret::new).transpose()?;
        let auth = AuthConfig::new(given.auth.or(saved.auth), secret)?;
        let default = Limits::default();
        let limits = Limits {
            header_timeout: given.header_timeout.unwrap_or(default.header_timeout),
            body_timeout: given.body_timeout.unwrap_or(default.body_timeout),
            max_connections: given.max_connections.unwrap_or(default.max_connections),
            max_buffered: given.max_buffered.unwrap_or(default.max_buffered),
            ..default
        };
        let max_body = given.max_body.or(saved.max_body).unwrap_or(DEFAULT_MAX_BODY);
        let forward = Resolved::forward(&given, saved)?;
        let stored = saved.retention.unwrap_or_default();
        let retention = RetentionPolicy {
            days: given.retention_days.or(stored.days),
            max_gb: given.retention_max_gb.or(stored.max_gb),
        };
        if retention.max_gb.is_some_and(|gb| !gb.is_finite() || gb <= 0.0) {
            return Err(SettingsError::Retention("the size limit must be more than 0 GB".into()));
        }
        if retention.days == Some(0) {
            return Err(SettingsError::Retention(
                "keeping recordings for 0 days would remove them as they arrive".into(),
            ));
        }
        Ok(Resolved { listen, auth, max_body, limits, forward, retention })
    }

    /// Forwarding: on with a URL from a flag or the environment, else as saved (when switched on).
    fn forward(given: &Overrides, saved: &SavedSettings) -> Result<Option<ForwardConfig>, SettingsError> {
        let stored = saved.forward.as_ref().filter(|f| f.enabled);
        let Some(url) = given.forward.clone().or_else(|| stored.map(|f| f.url.clone())) else {
            return Ok(None);
        };
        let mode = given.forward_mode.or(stored.map(|f| f.mode)).unwrap_or_default();
        let timeout = given
            .forward_timeout
            .or_else(|| stored.map(|f| Duration::from_secs_f64(f.timeout_secs.max(0.0))))
            .unwrap_or(DEFAULT_FORWARD_TIMEOUT);
        ForwardConfig::new(&url, mode, timeout).map(Some).map_err(|e| SettingsError::Forward(e.to_string()))
    }

    /// What the listener runs with.
    pub fn intake_config(&self) -> IntakeConfig {
        IntakeConfig { auth: self.auth.clone(), max_body: self.max_body, forward: self.forward.clone() }
    }
}

impl Resolved {
    /// Just the address, from flags and environment already merged (`given`)
    /// over `settings.json` over the default: known even when the secret is
    /// unusable, so the UI can say where it would listen.
    pub fn listen(given: &Overrides, saved: &SavedSettings) -> SocketAddr {
        given.listen.or(saved.listen).unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("DEFAULT_LISTEN is an address"))
    }
}

/// The data dir: the one given (a flag), else `EARSHOT_DATA_DIR`, else the
/// OS data dir's `earshot` folder (e.g. `~/.local/share/earshot`).
pub fn data_dir(given: Option<PathBuf>) -> Result<PathBuf, SettingsError> {
    given
        .or_else(|| std::env::var_os(DATA_DIR_VAR).filter(|v| !v.is_empty()).map(PathBuf::from))
        .or_else(|| dirs::data_dir().map(|d| d.join("earshot")))
        .ok_or(SettingsError::NoDataDir)
}

/// Which store to open: `given` (`--store`), else [`STORE_VAR`], else the
/// one saved in `data_dir`'s settings, else the SQLite file in `data_dir`.
pub fn store_url(given: Option<&str>, data_dir: &Path) -> Result<StoreUrl, SettingsError> {
    let env = std::env::var(STORE_VAR).ok().filter(|v| !v.trim().is_empty());
    let chosen = match given.map(str::to_string).or(env) {
        Some(text) => Some(text),
        None => SavedSettings::load(data_dir)?.store.filter(|v| !v.trim().is_empty()),
    };
    match chosen {
        Some(text) => StoreUrl::parse(&text).map_err(|e| SettingsError::Store(e.to_string())),
        None => Ok(StoreUrl::Sqlite(data_dir.to_path_buf())),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::{Overrides, Resolved};
    use crate::settings::{AuthMode, SavedSettings, SettingsError};

    fn env(pairs: &[(&str, &str)]) -> Overrides {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Overrides::from_vars(|name| map.get(name).cloned()).unwrap()
    }

    #[test]
    fn flag_beats_env_and_env_beats_settings_json_and_that_beats_the_default() {
        let saved = SavedSettings {
            listen: Some("127.0.0.1:7001".parse().unwrap()),
            max_body: Some(3000),
            auth: Some(AuthMode::Observe),
            secret: Some("from-file".into()),
            ..SavedSettings::default()
        };
        let from_env = env(&[("EARSHOT_LISTEN", "127.0.0.1:7002"), ("EARSHOT_MAX_BODY", "2000")]);
        let flags = Overrides { listen: Some("127.0.0.1:7003".parse().unwrap()), ..Overrides::default() };

        let all = Resolved::resolve(flags, from_env.clone(), &saved).unwrap();
        assert_eq!(all.listen.port(), 7003, "flag over env");
        assert_eq!(all.max_body, 2000, "env over settings.json");
        assert_eq!(all.auth.mode(), AuthMode::Observe, "settings.json over the default");

        let no_flags = Resolved::resolve(Overrides::default(), from_env, &saved).unwrap();
        assert_eq!(no_flags.listen.port(), 7002, "env over settings.json");

        let defaults =
            Resolved::resolve(Overrides::default(), Overrides::default(), &SavedSettings::default()).unwrap();
        assert_eq!(defaults.listen.to_string(), "127.0.0.1:8787");
        assert_eq!(defaults.max_body, 50 * 1024 * 1024);
        assert_eq!(defaults.auth.mode(), AuthMode::Off);
    }

    #[test]
    fn an_unusable_variable_is_named_with_what_was_expected() {
        let bad = Overrides::from_vars(|name| (name == "EARSHOT_MAX_BODY").then(|| "lots".to_string()));
        let Err(SettingsError::Env { name, value, .. }) = bad else { panic!("expected an Env error, got {bad:?}") };
        assert_eq!((name, value.as_str()), ("EARSHOT_MAX_BODY", "lots"));
        let message = Overrides::from_vars(|n| (n == "EARSHOT_LISTEN").then(|| "here".into())).unwrap_err().to_string();
        assert!(message.contains("EARSHOT_LISTEN") && message.contains("127.0.0.1:8787"), "{message}");
    }

    #[test]
    fn the_limit_variables_reach_the_limits_and_flags_beat_them() {
        let from_env = env(&[
            ("EARSHOT_HEADER_TIMEOUT", "3"),
            ("EARSHOT_BODY_TIMEOUT", "7"),
            ("EARSHOT_MAX_CONNECTIONS", "12"),
            ("EARSHOT_MAX_BUFFERED", "4096"),
        ]);
        let flags = Overrides { max_connections: Some(5), ..Overrides::default() };
        let limits = Resolved::resolve(flags, from_env, &SavedSettings::default()).unwrap().limits;
        assert_eq!(limits.header_timeout, std::time::Duration::from_secs(3));
        assert_eq!(limits.body_timeout, std::time::Duration::from_secs(7));
        assert_eq!((limits.max_connections, limits.max_buffered), (5, 4096));
    }

    #[test]
    fn empty_variables_count_as_unset() {
        assert_eq!(env(&[("EARSHOT_LISTEN", ""), ("EARSHOT_SECRET", "")]), Overrides::default());
    }

    #[test]
    fn the_secret_is_not_in_debug_output() {
        let shown = format!("{:?}", env(&[("EARSHOT_SECRET", "hunter2")]));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
