//! The user's own service for forward and replay scenarios: starts the
//! express + multer + jsonwebtoken server in `tests/fixtures/ibm-server`
//! (shaped like IBM's assistant-toolkit `audio-webhook-server`) on a free
//! loopback port, with its own temporary upload directory.
//!
//! It only spawns and stops the server; what the server answers is described
//! in the header of `server.js`. It does not install `node_modules`:
//! `scripts/setup.sh` does (`npm ci`).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Node starts express in well under a second; allow for a loaded CI machine.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The fixture directory holding `server.js`, `package.json` and (after setup) `node_modules`.
pub fn ibm_server_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ibm-server")
}

/// A running IBM-shaped webhook server, killed (and its upload directory removed) on drop.
pub struct IbmServer {
    /// `http://127.0.0.1:PORT/audiowebhook`, the one route it serves.
    pub url: String,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Where multer stores each `audio_recording` part; the answer's `saved` is a file in here.
    pub upload_dir: PathBuf,
    child: Child,
    // Held open so the server (started with EXIT_ON_STDIN_END=1) exits if this
    // process dies without running Drop.
    _stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl IbmServer {
    /// Starts `node server.js` with `secret` as its `AUDIO_WEBHOOK_SECRET` and
    /// waits for its `listening on` line; panics with the server's stderr if it
    /// does not come up (e.g. `node_modules` missing: run `scripts/setup.sh`).
    pub fn start(secret: &str) -> IbmServer {
        let fixture = ibm_server_dir();
        assert!(
            fixture.join("node_modules").is_dir(),
            "{} has no node_modules: run scripts/setup.sh (npm ci) first",
            fixture.display()
        );
        let dir = tempfile::tempdir().expect("temp upload dir");
        let upload_dir = dir.path().to_path_buf();
        let mut child = Command::new("node")
            .arg("server.js")
            .current_dir(&fixture)
            .env("AUDIO_WEBHOOK_SECRET", secret)
            .env("UPLOAD_DIR", &upload_dir)
            .env("PORT", "0")
            .env("HOST", "127.0.0.1")
            .env("EXIT_ON_STDIN_END", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn node: Node.js 20 or newer must be on PATH (scripts/setup.sh checks)");
        let stdin = child.stdin.take();
        let stderr = collect(child.stderr.take().expect("piped stderr"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Keeps draining after the first line so the per-request log never fills the pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        let base_url = loop {
            if let Ok(url) = rx.recv_timeout(Duration::from_millis(100)) {
                break url;
            }
            if let Ok(Some(status)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(100)); // let the stderr reader finish
                panic!(
                    "the IBM-shaped server exited early with {status} (missing node_modules? run scripts/setup.sh):\n{}",
                    stderr.lock().unwrap()
                );
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the IBM-shaped server did not report its address within {} s:\n{}",
                    START_TIMEOUT.as_secs(),
                    stderr.lock().unwrap()
                );
            }
        };
        IbmServer {
            url: format!("{base_url}/audiowebhook"),
            base_url,
            upload_dir,
            child,
            _stdin: stdin,
            stderr,
            _dir: dir,
        }
    }

    /// What the server has written to stderr so far (errors from its JSON error handler).
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for IbmServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `pipe` to its end on a thread, appending to the returned buffer.
fn collect(mut pipe: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let buffer = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&buffer);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    buffer
}
