//! Which tunnel to run, checked before anything starts: a cloudflared quick
//! tunnel (the binary must be on `PATH`), ngrok in-process (an authtoken is
//! required), or the user's own public base URL. Also how a public base and
//! a path make the webhook URL to paste into watsonx.
//!
//! Nothing here starts a process or opens a socket; the supervisor does.

use earshot_core::TunnelChoice;
use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

use crate::TunnelError;

/// The path Earshot suggests for the webhook. The listener accepts any path
/// and records which one was used; this one reads well in watsonx settings.
pub const DEFAULT_WEBHOOK_PATH: &str = "/audio-webhook";

/// The name of cloudflared's executable on this platform.
#[cfg(windows)]
const CLOUDFLARED_EXE: &str = "cloudflared.exe";
#[cfg(not(windows))]
const CLOUDFLARED_EXE: &str = "cloudflared";

/// A tunnel provider, ready to start.
#[derive(Clone)]
pub enum Provider {
    /// A cloudflared quick tunnel (no account), run from the user's own binary.
    Cloudflared {
        /// The executable found on `PATH`.
        program: PathBuf,
    },
    /// An ngrok endpoint opened in-process with the ngrok SDK.
    Ngrok(NgrokConfig),
    /// A public URL the user runs themselves (another tunnel, a reverse proxy).
    Custom {
        /// `scheme://host[:port][/prefix]` without a trailing slash.
        base_url: String,
    },
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provider::Cloudflared { program } => f.debug_struct("Cloudflared").field("program", program).finish(),
            Provider::Ngrok(config) => f.debug_tuple("Ngrok").field(config).finish(),
            Provider::Custom { base_url } => f.debug_struct("Custom").field("base_url", base_url).finish(),
        }
    }
}

/// What ngrok needs: the user's authtoken, and optionally a reserved domain.
#[derive(Clone)]
pub struct NgrokConfig {
    authtoken: String,
    /// A domain reserved in the user's ngrok account (a free account has one), so
    /// the URL in watsonx survives restarts; `None` lets ngrok assign one.
    pub domain: Option<String>,
    /// The ngrok service address as `host:port`; `None` is ngrok's default.
    /// For ngrok's regional or dedicated endpoints.
    pub server_addr: Option<String>,
}

impl NgrokConfig {
    /// The token, for the session builder only.
    pub(crate) fn authtoken(&self) -> &str {
        &self.authtoken
    }
}

impl fmt::Debug for NgrokConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NgrokConfig")
            .field("authtoken", &"<redacted>")
            .field("domain", &self.domain)
            .field("server_addr", &self.server_addr)
            .finish()
    }
}

impl Provider {
    /// cloudflared from the process's `PATH`.
    pub fn cloudflared() -> Result<Provider, TunnelError> {
        Provider::cloudflared_in(&std::env::var_os("PATH").unwrap_or_default())
    }

    /// cloudflared from an explicit search path (same syntax as `PATH`).
    pub fn cloudflared_in(search_path: &OsStr) -> Result<Provider, TunnelError> {
        find_program(CLOUDFLARED_EXE, search_path)
            .map(|program| Provider::Cloudflared { program })
            .ok_or(TunnelError::CloudflaredMissing)
    }

    /// ngrok with the user's authtoken; a missing or blank token is an error that says where to get one.
    pub fn ngrok(authtoken: Option<&str>, domain: Option<&str>) -> Result<Provider, TunnelError> {
        let authtoken = authtoken.map(str::trim).filter(|t| !t.is_empty()).ok_or(TunnelError::NgrokTokenMissing)?;
        let domain = domain.map(str::trim).filter(|d| !d.is_empty()).map(str::to_string);
        Ok(Provider::Ngrok(NgrokConfig { authtoken: authtoken.to_string(), domain, server_addr: None }))
    }

    /// The user's own public base URL, checked to be http(s) with a host and nothing after the path.
    pub fn custom(url: &str) -> Result<Provider, TunnelError> {
        let invalid = |reason: &str| TunnelError::InvalidUrl { url: url.to_string(), reason: reason.to_string() };
        let parsed = Url::parse(url.trim()).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid("only http:// and https:// URLs can receive the webhook"));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it has no host"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(invalid("a base URL cannot carry a query or fragment"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(invalid("credentials in the URL would be sent to every caller; remove them"));
        }
        let base_url = parsed.as_str().trim_end_matches('/').to_string();
        Ok(Provider::Custom { base_url })
    }

    /// Parses the CLI's `--tunnel` choice: `cloudflared`, `ngrok` (with `ngrok_token`), or a URL.
    pub fn parse(choice: &str, ngrok_token: Option<&str>, ngrok_domain: Option<&str>) -> Result<Provider, TunnelError> {
        match choice.trim() {
            "cloudflared" | "cloudflare" => Provider::cloudflared(),
            "ngrok" => Provider::ngrok(ngrok_token, ngrok_domain),
            other if other.contains("://") => Provider::custom(other),
            other => Err(TunnelError::InvalidUrl {
                url: other.to_string(),
                reason: "expected cloudflared, ngrok, or a public http(s) base URL".to_string(),
            }),
        }
    }

    /// Which kind of tunnel this is.
    pub fn choice(&self) -> TunnelChoice {
        match self {
            Provider::Cloudflared { .. } => TunnelChoice::Cloudflared,
            Provider::Ngrok(_) => TunnelChoice::Ngrok,
            Provider::Custom { .. } => TunnelChoice::Custom,
        }
    }

    /// `cloudflared`, `ngrok` or `custom`.
    pub fn name(&self) -> &'static str {
        self.choice().as_str()
    }
}

/// The URL to paste into watsonx: the public base plus `path` (one slash between).
pub fn webhook_url(base_url: &str, path: &str) -> String {
    format!("{}/{}", base_url.trim_end_matches('/'), path.trim_start_matches('/'))
}

/// The first executable file called `name` in the directories of `search_path`.
fn find_program(name: &str, search_path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(search_path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|path| is_executable(path))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_urls_are_checked_and_kept_as_given() {
        let Provider::Custom { base_url } = Provider::custom("https://hooks.example.com/earshot/").unwrap() else {
            panic!("custom")
        };
        assert_eq!(base_url, "https://hooks.example.com/earshot");
        assert_eq!(webhook_url(&base_url, DEFAULT_WEBHOOK_PATH), "https://hooks.example.com/earshot/audio-webhook");
        for (bad, says) in [
            ("ftp://x.example.com", "only http"),
            ("https://x.example.com/?a=1", "query"),
            ("https://user:pw@x.example.com", "credentials"),
            ("not a url", "relative URL"),
        ] {
            let message = Provider::custom(bad).unwrap_err().to_string();
            assert!(message.contains(says), "{bad}: {message}");
            assert!(message.contains(bad), "names the URL: {message}");
        }
    }

    #[test]
    fn ngrok_without_a_token_says_where_to_get_one() {
        for token in [None, Some(""), Some("   ")] {
            let message = Provider::ngrok(token, None).unwrap_err().to_string();
            assert!(message.contains("https://dashboard.ngrok.com/get-started/your-authtoken"), "{message}");
        }
        let with = Provider::ngrok(Some("2abc_secret"), Some(" my.ngrok.app ")).unwrap();
        let shown = format!("{with:?}");
        assert!(!shown.contains("2abc_secret"), "the token is never shown: {shown}");
        let Provider::Ngrok(config) = with else { panic!("ngrok") };
        assert_eq!(config.domain.as_deref(), Some("my.ngrok.app"));
    }

    #[test]
    fn the_cli_choice_picks_the_provider() {
        assert_eq!(Provider::parse("https://a.example.com", None, None).unwrap().name(), "custom");
        assert_eq!(Provider::parse("ngrok", Some("t"), None).unwrap().name(), "ngrok");
        let message = Provider::parse("localtunnel", None, None).unwrap_err().to_string();
        assert!(message.contains("expected cloudflared, ngrok"), "{message}");
    }

    #[test]
    fn cloudflared_is_looked_up_on_the_search_path() {
        let empty = tempfile::tempdir().unwrap();
        let message = Provider::cloudflared_in(empty.path().as_os_str()).unwrap_err().to_string();
        assert!(message.contains("cloudflared is not installed"), "{message}");
        assert!(message.contains("brew install cloudflared"), "says how to install it: {message}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let with = tempfile::tempdir().unwrap();
            let program = with.path().join("cloudflared");
            std::fs::write(&program, "#!/bin/sh\n").unwrap();
            // Present but not executable: still missing.
            assert!(Provider::cloudflared_in(with.path().as_os_str()).is_err());
            std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
            let search = std::env::join_paths([empty.path(), with.path()]).unwrap();
            let Provider::Cloudflared { program: found } = Provider::cloudflared_in(&search).unwrap() else {
                panic!("cloudflared")
            };
            assert_eq!(found, program);
        }
    }
}
