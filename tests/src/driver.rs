//! Drives the built desktop app in its real webview: `tauri-driver` and
//! WebKitWebDriver under Xvfb, over raw W3C WebDriver HTTP. The app gets a
//! data dir, a listen address and the test secret from the environment; the
//! driver ends only the processes it started.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::earshot_bin;

/// The secret the app under test checks tokens with.
pub const SECRET: &str = "desktop end-to-end secret";

/// WebKitWebDriver drives one session at a time; the tests of one binary take turns.
pub static ONE_SESSION: Mutex<()> = Mutex::new(());

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The built desktop app, beside the `earshot` binary.
pub fn app_bin() -> PathBuf {
    earshot_bin().with_file_name("earshot-desktop")
}

/// One WebDriver session on the app, ended (with every process it started) on drop.
pub struct Driver {
    child: Child,
    base: String,
    session: Option<String>,
    http: reqwest::blocking::Client,
}

impl Driver {
    /// Starts `tauri-driver` and the app with a data dir under `temp`, listening on `listen`.
    pub fn start(temp: &Path, listen: &str, env: &[(&str, &Path)]) -> Driver {
        assert!(std::env::var_os("DISPLAY").is_some(), "no DISPLAY: run through `make test`, which starts Xvfb");
        let port = free_port();
        let child = Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &free_port().to_string()])
            .env("EARSHOT_DATA_DIR", temp.join("data"))
            .env("EARSHOT_LISTEN", listen)
            .env("EARSHOT_SECRET", SECRET)
            .env("XDG_DATA_HOME", temp.join("xdg-data"))
            .env("XDG_CACHE_HOME", temp.join("xdg-cache"))
            .env("XDG_CONFIG_HOME", temp.join("xdg-config"))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            // The app's own log (it inherits this through WebKitWebDriver), for tests that read it.
            .stderr(std::fs::File::create(temp.join("app.log")).unwrap())
            .spawn()
            .expect("tauri-driver on PATH (make test installs it with `cargo install tauri-driver`)");
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let mut driver = Driver { child, base, session: None, http };
        driver.wait_until("tauri-driver answers", Duration::from_secs(20), |d| {
            d.http.get(format!("{}/status", d.base)).send().ok().map(|r| r.status().is_success())
        });
        let created = driver.call(
            "POST",
            "/session",
            json!({"capabilities": {"alwaysMatch": {"browserName": "wry", "tauri:options": {"application": app_bin()}}}}),
        );
        driver.session = Some(created["sessionId"].as_str().expect("session id").to_string());
        driver
    }

    /// One WebDriver command; its `value`.
    pub fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = match &self.session {
            Some(id) if path != "/session" => format!("{}/session/{id}{path}", self.base),
            _ => format!("{}{path}", self.base),
        };
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let reply: Value = request.send().expect("webdriver request").json().expect("webdriver JSON");
        reply["value"].clone()
    }

    /// Polls `probe` until it finds something, failing with what the window shows after `limit`.
    pub fn wait_until<T>(&mut self, what: &str, limit: Duration, mut probe: impl FnMut(&mut Self) -> Option<T>) -> T {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(found) = probe(self) {
                return found;
            }
            if Instant::now() >= deadline {
                let shown = self.script("return document.body ? document.body.innerText : '';", json!([]));
                panic!("timed out waiting for {what}; the window shows:\n{}", shown.as_str().unwrap_or_default());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Runs JavaScript in the page; its return value.
    pub fn script(&self, source: &str, args: Value) -> Value {
        self.call("POST", "/execute/sync", json!({"script": source, "args": args}))
    }

    /// The text of the first element `css` matches, if any.
    pub fn text_of(&self, css: &str) -> Option<String> {
        let found = self
            .script("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", json!([css]));
        found.as_str().map(str::to_string)
    }

    /// Sets a form control's value the way typing or choosing would (Svelte's bindings listen for these events).
    pub fn set_value(&self, css: &str, value: &str) {
        let set = self.script(
            "const e = document.querySelector(arguments[0]); if (!e) return false; e.value = arguments[1];
             e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true}));
             return true;",
            json!([css, value]),
        );
        assert_eq!(set, json!(true), "no control at {css}");
    }

    /// Calls an IPC command in the page, as the UI does.
    pub fn invoke(&self, command: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/async",
            json!({
                "script": "const done = arguments[arguments.length - 1];
                           window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then(done, (e) => done({failed: e}));",
                "args": [command, args]
            }),
        )
    }

    /// Saves what the window shows as `NAME` in the target dir's `earshot-e2e/`
    /// (never in the source tree: `make test` leaves `git status` clean), and
    /// also in `$EARSHOT_SCREENSHOTS` when set (`make screenshots` points it
    /// at `docs/` to refresh the README's pictures).
    pub fn screenshot(&self, name: &str) {
        // WebKit's snapshot can lag what the DOM already holds by a few frames.
        std::thread::sleep(Duration::from_secs(1));
        let shot = self.call("GET", "/screenshot", json!({}));
        let png = base64_decode(shot.as_str().expect("screenshot"));
        assert_eq!(&png[1..4], b"PNG");
        let mut dirs = vec![screenshot_dir()];
        dirs.extend(std::env::var_os("EARSHOT_SCREENSHOTS").map(PathBuf::from));
        for dir in dirs {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), &png).unwrap();
        }
    }

    /// Clicks the first element `css` matches.
    pub fn click(&self, css: &str) {
        let clicked = self.script(
            "const e = document.querySelector(arguments[0]); if (!e) return false; e.click(); return true;",
            json!([css]),
        );
        assert_eq!(clicked, json!(true), "nothing to click at {css}");
    }

    /// Clicks the calls-list row whose text contains `text`.
    pub fn click_call(&mut self, text: &str) {
        self.wait_until(&format!("a call row with {text}"), Duration::from_secs(10), |d| {
            let clicked = d.script(
                "const row = [...document.querySelectorAll('.sessions [role=option]')].find((e) => e.textContent.includes(arguments[0]));
                 if (!row) return false; row.click(); return true;",
                json!([text]),
            );
            (clicked == json!(true)).then_some(())
        });
    }

    /// The calls list as it reads, one row per line.
    pub fn call_rows(&self) -> String {
        let rows = self.script(
            "return [...document.querySelectorAll('.sessions [role=option]')].map((e) => e.textContent).join('\\n');",
            json!([]),
        );
        rows.as_str().unwrap_or_default().to_string()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // WebKitWebDriver allows one session at a time: always end it (it may be gone with its window).
        if let Some(id) = &self.session {
            let _ = self.http.delete(format!("{}/session/{id}", self.base)).send();
        }
        // Only what this test started: tauri-driver and the processes under it
        // (WebKitWebDriver, the app), found before it dies and they are re-parented.
        let started = descendants(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in started {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
    }
}

/// Where screenshots go: `earshot-e2e/` beside the test binaries in the target dir.
pub fn screenshot_dir() -> PathBuf {
    earshot_bin().with_file_name("earshot-e2e")
}

/// Every process below `root`, children before grandchildren, read from `/proc`.
pub fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid …`; comm may hold spaces, so read after the last ')'.
            let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(parents.iter().filter(|(_, ppid)| *ppid == parent).map(|(pid, _)| *pid));
        next += 1;
    }
    found.remove(0);
    found
}

/// Decodes a WebDriver screenshot.
pub fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64 screenshot")
}
