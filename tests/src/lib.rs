//! Helpers for Earshot's end-to-end scenarios: find the built `earshot`
//! binary, run it in an isolated data dir, and start `earshot serve` on a
//! free loopback port.

pub mod seed;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub mod driver;
pub mod postgres;
pub mod upstream;
pub mod workbench;

/// The `earshot` binary next to the test executable (`target/<profile>/earshot`).
///
/// `make test` builds it first with `cargo build --workspace --bins`.
pub fn earshot_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>");
    let bin = profile_dir.join(format!("earshot{}", std::env::consts::EXE_SUFFIX));
    if bin.exists() {
        return bin;
    }
    // Benchmarks run from target/release but may use the debug binaries `make` builds.
    let debug = profile_dir.with_file_name("debug").join(format!("earshot{}", std::env::consts::EXE_SUFFIX));
    assert!(
        debug.exists(),
        "{} is missing: run `cargo build --workspace --bins` first (make test does)",
        bin.display()
    );
    debug
}

/// A command for `earshot` with only this test's data dir in its environment.
pub fn earshot(data_dir: &Path) -> Command {
    let mut command = Command::new(earshot_bin());
    command
        .env_remove("EARSHOT_SECRET")
        .env_remove("EARSHOT_LISTEN")
        .env_remove("EARSHOT_AUTH")
        .env_remove("EARSHOT_MAX_BODY")
        .env_remove("EARSHOT_STORE")
        .env("EARSHOT_DATA_DIR", data_dir)
        .env("EARSHOT_LOG", "warn");
    command
}

/// Runs `earshot ARGS` and returns its output.
pub fn run(data_dir: &Path, args: &[&str]) -> Output {
    earshot(data_dir).args(args).output().expect("run earshot")
}

/// Stdout of a successful run; panics with stderr otherwise.
pub fn run_ok(data_dir: &Path, args: &[&str]) -> String {
    let output = run(data_dir, args);
    assert!(
        output.status.success(),
        "earshot {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// `size` bytes of μ-law that differ for every `seed` (xorshift), so every upload is new audio.
pub fn noise(seed: usize, size: usize) -> Vec<u8> {
    let mut state = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// A running `earshot serve`, killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
}

impl Server {
    /// Starts `earshot serve --listen 127.0.0.1:0 EXTRA…` and waits for its address.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        Server::start_with_env(data_dir, extra, &[])
    }

    /// Like [`Server::start`], with extra `EARSHOT_*` variables in its environment.
    pub fn start_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = earshot(data_dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn earshot serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let base_url = loop {
            if let Ok(url) = rx.recv_timeout(Duration::from_millis(100)) {
                break url;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("earshot serve exited early with {status}");
            }
            assert!(Instant::now() < deadline, "earshot serve did not report its address within 20 s");
        };
        Server { child, base_url }
    }

    /// The webhook URL at `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ends the process with SIGKILL (no shutdown, no flush) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Peak resident memory of the process so far, in KiB (`VmHWM`, Linux only).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Decodes raw μ-law with sox, the independent reference decoder.
pub fn sox_decode_mulaw(raw: &[u8], work: &Path) -> Vec<i16> {
    let input = work.join("sox-in.ul");
    let output = work.join("sox-out.wav");
    std::fs::write(&input, raw).expect("write sox input");
    let status = Command::new("sox")
        .args(["-t", "ul", "-r", "8000", "-c", "1"])
        .arg(&input)
        .args(["-e", "signed", "-b", "16"])
        .arg(&output)
        .status()
        .expect("sox is needed as the reference decoder (make test installs it)");
    assert!(status.success(), "sox failed");
    read_wav_i16(&std::fs::read(&output).expect("sox output"))
}

/// Reads a PCM16 WAV with `hound` (not Earshot's own parser).
pub fn read_wav_i16(bytes: &[u8]) -> Vec<i16> {
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).expect("a PCM WAV");
    reader.into_samples::<i16>().collect::<Result<_, _>>().expect("16-bit samples")
}

/// Set by `make test`: a test that cannot run its real part fails instead of skipping.
pub const STRICT_VAR: &str = "EARSHOT_STRICT";

/// Ends a test that cannot run here: a visible skip for a developer without
/// root, but a failure under `make test` (and CI), where every test must run.
pub fn skip(reason: &str) {
    assert!(
        std::env::var_os(STRICT_VAR).is_none(),
        "{reason}, and {STRICT_VAR} is set (make test): this test must run, not skip"
    );
    eprintln!("SKIPPED: {reason}");
}

/// A tmpfs mounted for a test (needs root, as in CI), unmounted on drop.
pub struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. `24m`) at `at`; `None` when mounting is not allowed.
    pub fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(at).status();
        ok.is_ok_and(|s| s.success()).then(|| Tmpfs(at.to_path_buf()))
    }

    /// Remounts it `ro` or `rw`.
    pub fn remount(&self, mode: &str) {
        let status = Command::new("mount").args(["-o", &format!("remount,{mode}")]).arg(&self.0).status().unwrap();
        assert!(status.success(), "remount {mode}");
    }

    /// Fills every free block with a ballast file and returns its path (remove it to free the space).
    pub fn fill(&self) -> PathBuf {
        use std::io::Write;
        let ballast = self.0.join("ballast");
        let mut file = std::fs::File::create(&ballast).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        ballast
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// A `bin` directory in `dir` holding a stand-in `cloudflared`
/// (crates/tunnel/tests/fixtures/cloudflared.py) that appends
/// "PID NS ARGS" to `dir/starts` each time it starts.
pub fn fake_cloudflared(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/tunnel/tests/fixtures/cloudflared.py");
    let python = if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let wrapper = format!(
        "#!/bin/sh\nexport FAKE_CF_STARTS='{}'\nexec {python} '{}' \"$@\"\n",
        dir.join("starts").display(),
        script.display()
    );
    std::fs::write(bin.join("cloudflared"), wrapper).unwrap();
    std::fs::set_permissions(bin.join("cloudflared"), std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// Whether `pid` is a running process (not gone, not a zombie).
pub fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !matches!(stat.rsplit(')').next().unwrap_or("").trim_start().chars().next(), Some('Z' | 'X')))
}
