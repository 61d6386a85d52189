//! The `.deb` on a clean Debian 12 root, as a QA person would meet it: the
//! test builds a throwaway root with `debootstrap`, installs the package with
//! `apt-get` (which must pull every runtime dependency from the package's own
//! `Depends`), then runs `earshot --version`, `earshot serve` + `earshot send`
//! inside it, and starts the installed desktop app under the Xvfb display
//! until its window shows the first-run guide (screenshots in the target
//! dir's `earshot-e2e/`).
//!
//! It needs the package (`make package`), root (debootstrap, chroot, mount)
//! and the Debian mirror, and takes minutes, so it is `#[ignore]`d and run by
//! `make package-test`, which provides all three and the display.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use earshot_tests::skip;
use serde_json::{Value, json};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const SECRET: &str = "package test secret";
/// Where `debootstrap` and `apt-get` fetch from (the mirror a stock Debian 12 uses).
const MIRROR_VAR: &str = "EARSHOT_DEBIAN_MIRROR";
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
/// What the package may declare: the webview (WebKitGTK, GTK) and ALSA, nothing else.
const EXPECTED_DEPENDS: [&str; 3] = ["libasound2", "libgtk-3-0", "libwebkit2gtk-4.1-0"];
/// The environment every command in the root starts from: nothing of the host's.
const ROOT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The cargo target dir: this test runs from `target/debug/deps/`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).expect("target/<profile>/deps/<test>").to_path_buf()
}

/// `target/release/bundle/deb/Earshot_VERSION_amd64.deb`, as `make package` leaves it.
fn deb_path() -> PathBuf {
    target_dir().join("release/bundle/deb").join(format!("Earshot_{VERSION}_amd64.deb"))
}

/// A Debian 12 root made for this test. Dropping it unmounts what it mounted
/// and deletes it, but only once nothing is mounted below it any more.
struct Root {
    dir: PathBuf,
    mounts: Vec<PathBuf>,
}

impl Root {
    fn bootstrap(mirror: &str) -> Root {
        let dir = tempfile::Builder::new().prefix("earshot-root-").tempdir().unwrap().keep();
        let root = Root { dir, mounts: Vec::new() };
        let out = Command::new("debootstrap")
            .args(["--variant=minbase", "bookworm"])
            .arg(&root.dir)
            .arg(mirror)
            .output()
            .expect("debootstrap (make package-test installs it)");
        assert!(out.status.success(), "debootstrap failed:\n{}", String::from_utf8_lossy(&out.stdout));
        // A stock Debian 12's sources: the release, its updates and security fixes.
        let base = mirror.trim_end_matches('/');
        let security = base.replace("/debian", "/debian-security");
        std::fs::write(
            root.dir.join("etc/apt/sources.list"),
            format!(
                "deb {base} bookworm main\ndeb {base} bookworm-updates main\ndeb {security} bookworm-security main\n"
            ),
        )
        .unwrap();
        std::fs::copy("/etc/resolv.conf", root.dir.join("etc/resolv.conf")).unwrap();
        root
    }

    /// `/proc` and a private `/dev/shm` (WebKit shares memory through it). The
    /// host's `/dev` is not bound in: removing the root must never reach it.
    fn mount_for_apps(&mut self) {
        for (kind, at) in [("proc", "proc"), ("tmpfs", "dev/shm")] {
            let point = self.dir.join(at);
            std::fs::create_dir_all(&point).unwrap();
            let status = Command::new("mount").args(["-t", kind, kind]).arg(&point).status().unwrap();
            assert!(status.success(), "mount {kind} at {}", point.display());
            self.mounts.push(point);
        }
    }

    /// A command run inside the root with a clean environment plus `env`.
    fn command(&self, program: &str, args: &[&str], env: &[(&str, String)]) -> Command {
        let mut command = Command::new("chroot");
        command.arg(&self.dir).args(["/usr/bin/env", "-i", &format!("PATH={ROOT_PATH}"), "HOME=/root"]);
        command.args(["LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"]);
        command.args(env.iter().map(|(k, v)| format!("{k}={v}")));
        command.arg(program).args(args);
        command
    }

    fn run(&self, program: &str, args: &[&str], env: &[(&str, String)]) -> Output {
        self.command(program, args, env).output().expect("chroot")
    }

    fn run_ok(&self, program: &str, args: &[&str], env: &[(&str, String)]) -> String {
        let out = self.run(program, args, env);
        assert!(
            out.status.success(),
            "{program} {args:?} failed in the root:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn file(&self, path: &str) -> PathBuf {
        self.dir.join(path.trim_start_matches('/'))
    }

    fn mounted_below(&self) -> bool {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let prefix = self.dir.display().to_string();
        mounts.lines().any(|line| line.split(' ').nth(4).is_some_and(|point| point.starts_with(&prefix)))
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        // Lazily: a WebKit process still exiting keeps /proc busy for a moment,
        // and a detached mount is out of the tree that is removed below.
        for point in self.mounts.iter().rev() {
            let _ = Command::new("umount").arg("--lazy").arg(point).status();
        }
        if self.mounted_below() {
            eprintln!("{} still has mounts below it; leaving it in place", self.dir.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A process started in the root, ended on drop with everything it started
/// (the app's WebKit processes), found from `/proc` before it dies.
struct Running(Child);

impl Running {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let below = descendants(self.0.id());
        let _ = self.0.kill();
        let _ = self.0.wait();
        for pid in below {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
    }
}

/// Every process below `root`, read from `/proc`.
fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
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

fn wait_for_line(log: &Path, needle: &str, limit: Duration, child: &mut Running) -> Duration {
    let started = Instant::now();
    loop {
        if std::fs::read_to_string(log).is_ok_and(|text| text.contains(needle)) {
            return started.elapsed();
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("exited with {status} before {needle:?}:\n{}", std::fs::read_to_string(log).unwrap_or_default());
        }
        assert!(
            started.elapsed() < limit,
            "no {needle:?} within {limit:?}:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn phase(name: &str, since: Instant) {
    println!("package test: {name}: {:.1} s", since.elapsed().as_secs_f64());
}

#[test]
#[ignore = "needs `make package`, root and the Debian mirror; run it with `make package-test`"]
fn the_deb_installs_on_a_clean_debian_12_and_its_cli_and_app_work() {
    let deb = deb_path();
    if !deb.exists() {
        return skip(&format!("{} is missing: run `make package` first", deb.display()));
    }
    if Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout != b"0\n") {
        return skip("debootstrap, chroot and mount need root");
    }
    assert!(std::env::var_os("DISPLAY").is_some(), "no DISPLAY: run through `make package-test`, which starts Xvfb");
    let total = Instant::now();

    // What the package declares, read from the file itself.
    let depends = Command::new("dpkg-deb").args(["-f"]).arg(&deb).arg("Depends").output().unwrap();
    let mut declared: Vec<String> = String::from_utf8_lossy(&depends.stdout)
        .split(',')
        .map(|d| d.split_whitespace().next().unwrap_or("").to_string())
        .filter(|d| !d.is_empty())
        .collect();
    declared.sort();
    assert_eq!(declared, EXPECTED_DEPENDS, "the package's Depends");

    let started = Instant::now();
    let mirror = std::env::var(MIRROR_VAR).unwrap_or_else(|_| DEFAULT_MIRROR.to_string());
    let mut root = Root::bootstrap(&mirror);
    phase("debootstrap", started);
    assert!(
        !root.file("/usr/bin/earshot").exists()
            && !root.file("/usr/lib/x86_64-linux-gnu/libwebkit2gtk-4.1.so.0").exists()
    );

    let started = Instant::now();
    std::fs::copy(&deb, root.file("/tmp/earshot.deb")).unwrap();
    root.run_ok("apt-get", &["update", "-qq"], &[]);
    root.run_ok("apt-get", &["install", "-y", "-qq", "--no-install-recommends", "/tmp/earshot.deb"], &[]);
    phase("apt-get install ./earshot.deb", started);

    // The CLI on PATH, with its man pages and completions; the app's menu entry and icon.
    assert_eq!(root.run_ok("earshot", &["--version"], &[]).trim(), format!("earshot {VERSION}"));
    let listed = root.run_ok("dpkg", &["-L", "earshot"], &[]);
    for file in [
        "/usr/bin/earshot",
        "/usr/bin/earshot-desktop",
        "/usr/share/applications/Earshot.desktop",
        "/usr/share/man/man1/earshot.1.gz",
        "/usr/share/man/man1/earshot-serve.1.gz",
        "/usr/share/bash-completion/completions/earshot",
        "/usr/share/zsh/vendor-completions/_earshot",
        "/usr/share/fish/vendor_completions.d/earshot.fish",
    ] {
        assert!(listed.lines().any(|l| l == file), "the package installs {file}:\n{listed}");
    }
    assert!(listed.lines().any(|l| l.starts_with("/usr/share/icons/hicolor/") && l.ends_with(".png")), "{listed}");
    let entry = std::fs::read_to_string(root.file("/usr/share/applications/Earshot.desktop")).unwrap();
    assert!(entry.contains("Exec=earshot-desktop") && entry.contains("Icon=earshot-desktop"), "{entry}");
    let page = root.run_ok("zcat", &["/usr/share/man/man1/earshot.1.gz"], &[]);
    assert!(page.contains(".TH earshot 1") && page.contains("completions"), "{page:.300}");
    let bash = std::fs::read_to_string(root.file("/usr/share/bash-completion/completions/earshot")).unwrap();
    assert!(bash.contains("complete -F _earshot") && bash.contains("selftest"), "{bash:.300}");

    // `earshot serve` + `earshot send` inside the root.
    let started = Instant::now();
    let port = free_port();
    let cli_env = [("EARSHOT_DATA_DIR", "/var/tmp/earshot-cli".to_string()), ("EARSHOT_LOG", "warn".to_string())];
    let mut serve = root
        .command("earshot", &["serve", "--listen", &format!("127.0.0.1:{port}"), "--secret", SECRET], &cli_env)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(serve.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let serve = Running(serve);
    assert_eq!(first.trim(), format!("listening on http://127.0.0.1:{port}"), "serve's first line");
    let url = format!("http://127.0.0.1:{port}/audio-webhook");
    let sent =
        root.run_ok("earshot", &["send", &url, "--secret", SECRET, "--count", "2", "--session", "pkg-call"], &cli_env);
    assert_eq!(sent.lines().filter(|l| l.starts_with("200 recording ")).count(), 2, "{sent}");
    let stored: Value = serde_json::from_str(&root.run_ok("earshot", &["recordings", "--json"], &cli_env)).unwrap();
    let stored = stored.as_array().expect("a JSON array");
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(stored.iter().all(|r| r["session_id"] == "pkg-call" && r["auth"]["verdict"] == "valid"), "{stored:?}");
    drop(serve);
    phase("earshot serve + send", started);

    // The app: every library it links is installed, and it paints its first frame.
    root.mount_for_apps();
    let linked = root.run_ok("ldd", &["/usr/bin/earshot-desktop"], &[]);
    assert!(!linked.contains("not found"), "{linked}");
    let started = Instant::now();
    let log = root.file("/var/tmp/app.log");
    let app_listen = format!("127.0.0.1:{}", free_port());
    let app_env = |data: &str| {
        vec![
            ("DISPLAY", std::env::var("DISPLAY").unwrap()),
            ("EARSHOT_DATA_DIR", format!("/var/tmp/{data}")),
            ("EARSHOT_LISTEN", app_listen.clone()),
            ("XDG_DATA_HOME", format!("/var/tmp/{data}-xdg/data")),
            ("XDG_CACHE_HOME", format!("/var/tmp/{data}-xdg/cache")),
            ("XDG_CONFIG_HOME", format!("/var/tmp/{data}-xdg/config")),
        ]
    };
    let mut app = Running(
        root.command("earshot-desktop", &[], &app_env("app"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let painted = wait_for_line(&log, "first frame painted", Duration::from_secs(60), &mut app);
    println!("package test: the installed app painted its first frame {} ms after it started", painted.as_millis());
    let shots = target_dir().join("debug/earshot-e2e");
    std::fs::create_dir_all(&shots).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let shot = shots.join("package-first-start.png");
    let status = Command::new("import").args(["-window", "root"]).arg(&shot).status().expect("import (imagemagick)");
    assert!(status.success() && std::fs::metadata(&shot).unwrap().len() > 10_000, "a screenshot of the display");
    let _ = Command::new("kill").args(["-TERM", &app.pid().to_string()]).status();
    drop(app);
    phase("the app's first frame", started);

    // What the window shows, through WebDriver in the root (installed only now,
    // after the app ran on the package's own dependencies).
    let started = Instant::now();
    root.run_ok("apt-get", &["install", "-y", "-qq", "--no-install-recommends", "webkit2gtk-driver"], &[]);
    let host_driver = String::from_utf8(Command::new("which").arg("tauri-driver").output().unwrap().stdout).unwrap();
    std::fs::copy(host_driver.trim(), root.file("/usr/local/bin/tauri-driver")).expect("tauri-driver on PATH");
    let driver_port = free_port();
    let mut env = app_env("driven");
    env.push(("EARSHOT_SECRET", SECRET.to_string()));
    let driver = Running(
        root.command(
            "tauri-driver",
            &["--port", &driver_port.to_string(), "--native-port", &free_port().to_string()],
            &env,
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );
    let webdriver = WebDriver::start(driver_port);
    // The guide fills in the listener's URL once the UI has the setup; wait for that, not just the heading.
    let guide =
        webdriver.wait_for_text(".empty", &format!("http://{app_listen}/audio-webhook"), Duration::from_secs(60));
    assert!(guide.contains("No calls yet") && guide.contains("earshot send"), "{guide}");
    let about = webdriver.invoke("about");
    assert_eq!(about["version"], VERSION, "the app's About and `earshot --version` agree: {about}");
    assert_eq!(about["store"], "/var/tmp/driven/earshot.db", "{about}");
    // WebKit's snapshot can lag what the DOM already holds by a few frames.
    std::thread::sleep(Duration::from_secs(1));
    std::fs::write(shots.join("package-first-run-guide.png"), webdriver.screenshot()).unwrap();
    drop(webdriver);
    drop(driver);
    phase("the first-run guide in the installed app", started);
    phase("total", total);
}

/// Just enough W3C WebDriver for one session against tauri-driver.
struct WebDriver {
    base: String,
    http: reqwest::blocking::Client,
}

impl WebDriver {
    fn start(port: u16) -> WebDriver {
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let root = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !http.get(format!("{root}/status")).send().is_ok_and(|r| r.status().is_success()) {
            assert!(Instant::now() < deadline, "tauri-driver did not answer within 20 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry", "tauri:options": {"application": "/usr/bin/earshot-desktop"}}}});
        let created: Value = http.post(format!("{root}/session")).json(&caps).send().unwrap().json().unwrap();
        let id = created["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}"));
        WebDriver { base: format!("{root}/session/{id}"), http }
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let reply: Value = self.http.post(format!("{}{path}", self.base)).json(&body).send().unwrap().json().unwrap();
        reply["value"].clone()
    }

    fn wait_for_text(&self, css: &str, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let found = self.post(
                "/execute/sync",
                json!({"script": "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", "args": [css]}),
            );
            if let Some(text) = found.as_str().filter(|t| t.contains(needle)) {
                return text.to_string();
            }
            assert!(Instant::now() < deadline, "no {needle:?} in {css} within {limit:?}: {found}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn invoke(&self, command: &str) -> Value {
        self.post(
            "/execute/async",
            json!({"script": "const done = arguments[arguments.length - 1];
                              window.__TAURI_INTERNALS__.invoke(arguments[0]).then(done, (e) => done({failed: e}));",
                   "args": [command]}),
        )
    }

    fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let mut reply = String::new();
        self.http.get(format!("{}/screenshot", self.base)).send().unwrap().read_to_string(&mut reply).unwrap();
        let value: Value = serde_json::from_str(&reply).unwrap();
        let png = base64::engine::general_purpose::STANDARD.decode(value["value"].as_str().unwrap()).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        png
    }
}

impl Drop for WebDriver {
    fn drop(&mut self) {
        let _ = self.http.delete(&self.base).send();
    }
}
