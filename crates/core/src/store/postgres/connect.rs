//! Reaching the server: a `postgres://` URL read the way libpq reads it
//! (password from the URL, `PGPASSWORD` or `~/.pgpass`; `sslmode` of
//! `disable`, `prefer`, `require` or `verify-full`), TLS through rustls, and
//! the pool every read and the writer take connections from.
//!
//! The password never leaves this module except into the driver: the
//! description used in logs, errors and the UI is `postgres://user@host:port/db`.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::StoreError;

/// Connections one process keeps: the writer's, the change listener's, and
/// reads from the app's or the CLI's threads.
const POOL_SIZE: usize = 16;

/// How long to wait for the server to accept a connection. A listener that
/// cannot reach its database must still answer 503 well inside watsonx's
/// 30 s timeout.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How TLS is used, as libpq's `sslmode` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, plain otherwise; the certificate is not checked.
    Prefer,
    /// TLS or nothing; the certificate is not checked (libpq's meaning).
    Require,
    /// TLS with the certificate checked against trusted roots and the host name.
    VerifyFull,
}

impl TlsMode {
    fn parse(value: &str) -> Result<TlsMode, StoreError> {
        match value {
            "disable" => Ok(TlsMode::Disable),
            "prefer" => Ok(TlsMode::Prefer),
            "require" => Ok(TlsMode::Require),
            "verify-full" => Ok(TlsMode::VerifyFull),
            other => Err(StoreError::BadUrl(format!(
                "sslmode={other} is not supported: use disable, prefer, require or verify-full"
            ))),
        }
    }
}

/// A parsed `postgres://` store URL.
#[derive(Clone)]
pub struct Target {
    config: tokio_postgres::Config,
    tls: TlsMode,
    root_cert: Option<PathBuf>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password: only what `describe` shows.
        f.debug_struct("Target").field("url", &self.describe()).field("tls", &self.tls).finish()
    }
}

impl Target {
    /// Reads `url` (`postgres://user[:password]@host[:port]/db?sslmode=…`),
    /// filling in the user and password as libpq would.
    pub fn parse(url: &str) -> Result<Target, StoreError> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut tls = TlsMode::Prefer;
        let mut root_cert = None;
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=').unwrap_or((pair, "")) {
                ("sslmode", value) => tls = TlsMode::parse(value)?,
                ("sslrootcert", value) => root_cert = Some(PathBuf::from(value)),
                _ => rest.push(pair),
            }
        }
        let driver_url = if rest.is_empty() { base.to_string() } else { format!("{base}?{}", rest.join("&")) };
        let mut config = tokio_postgres::Config::from_str(&driver_url)
            .map_err(|e| StoreError::BadUrl(format!("{}: {e}", redact_url(url))))?;
        if config.get_user().is_none() {
            let user = env("PGUSER").or_else(|| env("USER")).unwrap_or_else(|| "postgres".into());
            config.user(user);
        }
        if config.get_password().is_none()
            && let Some(password) = env("PGPASSWORD").or_else(|| pgpass_lookup(&config))
        {
            config.password(password);
        }
        config.ssl_mode(match tls {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            TlsMode::Require | TlsMode::VerifyFull => SslMode::Require,
        });
        config.connect_timeout(CONNECT_TIMEOUT);
        config.application_name("earshot");
        Ok(Target { config, tls, root_cert })
    }

    /// `postgres://user@host:port/db`: where the store is, without the password.
    pub fn describe(&self) -> String {
        let user = self.config.get_user().unwrap_or_default();
        format!("postgres://{user}@{}:{}/{}", self.host(), self.port(), self.dbname())
    }

    fn host(&self) -> String {
        match self.config.get_hosts().first() {
            Some(Host::Tcp(name)) => name.clone(),
            Some(Host::Unix(path)) => path.display().to_string(),
            None => "localhost".into(),
        }
    }

    fn port(&self) -> u16 {
        self.config.get_ports().first().copied().unwrap_or(5432)
    }

    fn dbname(&self) -> String {
        self.config.get_dbname().or(self.config.get_user()).unwrap_or_default().to_string()
    }

    /// The password in use, for redacting it from anything shown.
    pub(super) fn password(&self) -> Option<String> {
        self.config.get_password().map(|p| String::from_utf8_lossy(p).into_owned())
    }

    /// The driver's configuration (the change listener opens its own connection with it).
    pub(super) fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// A TLS connector for this target's `sslmode`.
    pub(super) fn tls(&self) -> Result<MakeRustlsConnect, StoreError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::BadUrl(format!("TLS: {e}")))?;
        let config = match self.tls {
            TlsMode::VerifyFull => {
                let mut roots = rustls::RootCertStore::empty();
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                if let Some(path) = &self.root_cert {
                    for cert in read_certs(path)? {
                        roots.add(cert).map_err(|e| StoreError::BadUrl(format!("{}: {e}", path.display())))?;
                    }
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            _ => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
                .with_no_client_auth(),
        };
        Ok(MakeRustlsConnect::new(config))
    }

    /// The pool every read and the writer take connections from; it opens
    /// connections on demand, so a server that is down now is reached later.
    pub(super) fn pool(&self) -> Result<Pool, StoreError> {
        let manager = Manager::from_config(
            self.config.clone(),
            self.tls()?,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT * 2))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::BadUrl(e.to_string()))
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, StoreError> {
    let unreadable = |e: &dyn std::fmt::Display| StoreError::BadUrl(format!("sslrootcert {}: {e}", path.display()));
    CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(&e))
}

/// `url` with any password replaced by `***`, for error messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            let shown = if userinfo.contains(':') { format!("{user}:***") } else { user.to_string() };
            format!("{scheme}://{shown}@{host}{tail}")
        }
        None => url.to_string(),
    }
}

/// The password `~/.pgpass` (or `$PGPASSFILE`) gives this target, as libpq
/// reads it: `host:port:db:user:password`, `*` matching anything, `\` escaping;
/// a file others can read is ignored.
fn pgpass_lookup(config: &tokio_postgres::Config) -> Option<String> {
    let path = env("PGPASSFILE").map(PathBuf::from).or_else(|| dirs::home_dir().map(|h| h.join(".pgpass")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::metadata(&path).ok()?.permissions().mode() & 0o077 != 0 {
            tracing::warn!(target: "earshot::store", "{} is readable by others; ignored, as libpq does", path.display());
            return None;
        }
    }
    let text = std::fs::read_to_string(path).ok()?;
    let target = Target { config: config.clone(), tls: TlsMode::Prefer, root_cert: None };
    let wanted = [target.host(), target.port().to_string(), target.dbname(), target.config.get_user()?.to_string()];
    pgpass_match(&text, &wanted)
}

/// The password of the first `.pgpass` line matching `wanted` (host, port, db, user).
fn pgpass_match(text: &str, wanted: &[String; 4]) -> Option<String> {
    text.lines().filter(|l| !l.trim_start().starts_with('#')).find_map(|line| {
        let fields = split_pgpass(line);
        let [host, port, db, user, password] = fields.as_slice() else { return None };
        let matches = |field: &str, want: &str| field == "*" || field == want;
        let host_ok = matches(host, &wanted[0]) || (host == "localhost" && wanted[0].starts_with('/'));
        (host_ok && matches(port, &wanted[1]) && matches(db, &wanted[2]) && matches(user, &wanted[3]))
            .then(|| password.clone())
    })
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().expect("one field").extend(chars.next()),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

/// `sslmode=prefer`/`require` as libpq means them: encrypted, the
/// certificate not checked (signatures still are). `verify-full` checks it.
#[derive(Debug)]
struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::{Target, pgpass_match, redact_url};

    #[test]
    fn the_description_and_errors_never_show_the_password() {
        let target = Target::parse("postgres://qa:s3cret@db.example:6543/earshot?sslmode=require").unwrap();
        assert_eq!(target.describe(), "postgres://qa@db.example:6543/earshot");
        assert!(!format!("{target:?}").contains("s3cret"));
        assert_eq!(redact_url("postgres://qa:s3cret@db/x?sslmode=disable"), "postgres://qa:***@db/x?sslmode=disable");
        let bad = Target::parse("postgres://qa:s3cret@db/x?sslmode=verify-ca").unwrap_err().to_string();
        assert!(bad.contains("verify-ca") && !bad.contains("s3cret"), "{bad}");
        let bad = Target::parse("postgres://qa:s3cret@db:notaport/x").unwrap_err().to_string();
        assert!(!bad.contains("s3cret"), "{bad}");
    }

    #[test]
    fn pgpass_lines_match_like_libpq() {
        let text = "# comment\nother:5432:*:qa:nope\ndb.example:*:earshot:qa:pa\\:ss\n*:*:*:*:fallback\n";
        let want =
            |host: &str, user: &str| pgpass_match(text, &[host.into(), "6543".into(), "earshot".into(), user.into()]);
        assert_eq!(want("db.example", "qa").as_deref(), Some("pa:ss"));
        assert_eq!(want("elsewhere", "qa").as_deref(), Some("fallback"));
    }
}
