//! A private PostgreSQL server for tests: `initdb` in a temp dir, `pg_ctl
//! start` on a free loopback port and a unix socket in that dir, one
//! database per test, stopped (`-m immediate`) and removed on drop.
//!
//! PostgreSQL refuses to run as root, so as root (CI) the server runs as
//! the `postgres` OS user through `runuser`. A watcher process stops the
//! server if the test process dies without dropping it (a panic that
//! aborts, `kill -9`), so no postmaster outlives its tests.
//!
//! Without PostgreSQL installed the tests that need it skip, except under
//! `EARSHOT_STRICT=1` (`make test`), where that is a failure.
//!
//! This file is also compiled into `crates/core/tests` (through `#[path]`),
//! so it uses nothing but `std` and `tempfile`.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where Debian's `postgresql` package puts the server binaries.
const BIN_DIRS: &[&str] = &["/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"];

/// A running private server.
#[derive(Debug)]
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    databases: AtomicUsize,
}

fn strict() -> bool {
    std::env::var("EARSHOT_STRICT").is_ok_and(|v| v == "1")
}

fn bin_dir() -> Option<PathBuf> {
    BIN_DIRS.iter().map(PathBuf::from).find(|d| d.join("initdb").exists())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl PgServer {
    /// Starts a server of its own; `None` (the test skips) when PostgreSQL is
    /// not installed, a panic under `EARSHOT_STRICT=1`.
    pub fn start() -> Option<PgServer> {
        let Some(bin) = bin_dir() else {
            assert!(!strict(), "EARSHOT_STRICT=1 but PostgreSQL is not installed (scripts/setup.sh installs it)");
            eprintln!("skipped: PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb)");
            return None;
        };
        let dir = tempfile::Builder::new().prefix("earshot-pg-").tempdir().unwrap();
        let as_postgres = is_root();
        let server = PgServer { dir, bin, port: free_port(), as_postgres, databases: AtomicUsize::new(0) };
        if as_postgres {
            let status = Command::new("chown").arg("postgres").arg(server.dir.path()).status().unwrap();
            assert!(status.success(), "chown postgres {}", server.dir.path().display());
        }
        let data = server.data().display().to_string();
        server.run("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        server.watch();
        server.start_again();
        Some(server)
    }

    /// One server for every test of this process (each test takes a database of its own).
    pub fn shared() -> Option<&'static PgServer> {
        static SHARED: OnceLock<Option<PgServer>> = OnceLock::new();
        SHARED.get_or_init(PgServer::start).as_ref()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("pg")
    }

    /// Runs one of the server's programs (as `postgres` when root); panics with its output on failure.
    fn run(&self, program: &str, args: &[&str]) {
        let binary = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(binary);
            c
        } else {
            Command::new(binary)
        };
        let out = command.args(args).stdin(Stdio::null()).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A shell that stops the server once this process is gone, however it went.
    // Never waited for on purpose: it must outlive this process, and it only exits after it.
    #[allow(clippy::zombie_processes)]
    fn watch(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = format!(
            "{}{} -D '{}' -m immediate stop",
            if self.as_postgres { "runuser -u postgres -- " } else { "" },
            pg_ctl.display(),
            self.data().display()
        );
        let script = format!(
            "while kill -0 {} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf '{}'",
            std::process::id(),
            self.dir.path().display()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
    }

    /// Starts the server (again, after [`PgServer::stop`]) on the same port.
    pub fn start_again(&self) {
        let options = format!("-k {} -p {} -c listen_addresses=127.0.0.1", self.dir.path().display(), self.port);
        let log = self.dir.path().join("pg.log").display().to_string();
        let data = self.data().display().to_string();
        self.run("pg_ctl", &["-D", &data, "-l", &log, "-w", "-o", &options, "start"]);
    }

    /// Stops the server at once (`-m immediate`: like a crash, clients see their connections drop).
    pub fn stop(&self) {
        let data = self.data().display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The unix socket dir.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new, empty database; its URL.
    pub fn database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::SeqCst);
        let name = format!("earshot_{}_{n}", std::process::id());
        let port = self.port.to_string();
        self.run("createdb", &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", &name]);
        self.url(&name)
    }

    /// Runs `sql` with `psql` in database `name`; its output.
    pub fn psql(&self, name: &str, sql: &str) -> String {
        let port = self.port.to_string();
        let binary = self.bin.join("psql");
        let args = ["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-d", name, "-At", "-c", sql];
        let out = Command::new(binary).args(args).stdin(Stdio::null()).output().unwrap();
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A `psql` in database `name` that runs the statements written to its
    /// stdin as they arrive (stopping at the first error), shown as `app` in
    /// `pg_stat_activity`: a second client holding a transaction open.
    pub fn session(&self, name: &str, app: &str) -> std::process::Child {
        let port = self.port.to_string();
        let args = ["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-d", name, "-At", "-v", "ON_ERROR_STOP=1"];
        Command::new(self.bin.join("psql"))
            .args(args)
            .env("PGAPPNAME", app)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// The database name in `url` (from [`PgServer::database`]).
    pub fn name_of(url: &str) -> &str {
        url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default()
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}?sslmode=disable", self.port)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        // Already stopped is fine.
        let _ = std::panic::catch_unwind(|| self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]));
    }
}
