//! The release build as a user meets it: how long the desktop app takes from
//! process start to its first painted frame (the UI reports it through the
//! `first_frame` command, which logs `first frame painted`), its idle memory
//! with an empty store and with 100,000 recordings, and the binary and
//! package sizes, each next to a baseline measured in the same run: a minimal
//! Tauri window with the same WebKitGTK (`src-tauri/examples/baseline`).
//!
//! `make bench-release` builds what it needs (release app, CLI, baseline,
//! packages) and runs this under Xvfb.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use earshot_tests::earshot_bin;

/// Starts per configuration; the goal is stated for the median of 10.
const STARTS: usize = 10;
/// How long a started app sits idle before its memory is read.
const IDLE: Duration = Duration::from_secs(5);
/// A start that paints nothing within this is a failure, not a slow sample.
const START_LIMIT: Duration = Duration::from_secs(60);
const MIB: f64 = 1024.0 * 1024.0;

/// One process's memory, in bytes, from `/proc/PID/smaps_rollup`.
#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    rss: u64,
    pss: u64,
}

impl Memory {
    fn read(pid: u32) -> Option<Memory> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
        let field = |name: &str| -> Option<u64> {
            let line = text.lines().find(|l| l.starts_with(name))?;
            Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
        };
        Some(Memory { rss: field("Rss:")?, pss: field("Pss:")? })
    }

    fn add(&mut self, other: Memory) {
        self.rss += other.rss;
        self.pss += other.pss;
    }
}

/// What one start measured.
struct Sample {
    first_frame: Duration,
    /// The app's own process.
    own: Memory,
    /// WebKit's web content process(es).
    web: Memory,
    /// WebKit's network process.
    network: Memory,
    /// Anything else below the app.
    other: Memory,
}

impl Sample {
    fn total(&self) -> Memory {
        let mut total = self.own;
        for part in [self.web, self.network, self.other] {
            total.add(part);
        }
        total
    }
}

/// Every process below `root` (WebKit's helpers are children of the app).
fn descendants(root: u32) -> Vec<u32> {
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        let pid = found[next];
        if let Ok(children) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
            found.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
        }
        next += 1;
    }
    found.remove(0);
    found
}

/// Starts `binary` with fresh WebKit dirs, waits for its first frame, lets it
/// idle, reads the memory of it and its processes, and ends them all.
fn start_once(binary: &Path, data_dir: &Path) -> Sample {
    let xdg = tempfile::TempDir::new().unwrap();
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env("EARSHOT_DATA_DIR", data_dir)
        .env("EARSHOT_LISTEN", "127.0.0.1:0")
        .env("EARSHOT_LOG", "info")
        .env("XDG_DATA_HOME", xdg.path().join("data"))
        .env("XDG_CACHE_HOME", xdg.path().join("cache"))
        .env("XDG_CONFIG_HOME", xdg.path().join("config"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
    let painted = first_frame(&mut child, started);
    std::thread::sleep(IDLE);
    let own = Memory::read(child.id()).expect("the app's memory");
    let (mut web, mut network, mut other) = (Memory::default(), Memory::default(), Memory::default());
    let helpers = descendants(child.id());
    for &pid in &helpers {
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let Some(memory) = Memory::read(pid) else { continue };
        match name.trim() {
            "WebKitWebProces" => web.add(memory),
            "WebKitNetworkPr" => network.add(memory),
            _ => other.add(memory),
        }
    }
    stop(child, &helpers);
    Sample { first_frame: painted, own, web, network, other }
}

/// Reads stderr until the first-frame line; keeps draining it afterwards so the app never blocks on a full pipe.
fn first_frame(child: &mut Child, started: Instant) -> Duration {
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("first frame painted") {
                let _ = tx.send(started.elapsed());
            }
        }
    });
    match rx.recv_timeout(START_LIMIT) {
        Ok(painted) => painted,
        Err(_) => {
            let _ = child.kill();
            panic!("no first frame within {START_LIMIT:?}");
        }
    }
}

fn stop(mut child: Child, helpers: &[u32]) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    for pid in helpers {
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    }
}

struct Config {
    name: &'static str,
    binary: PathBuf,
    data_dir: PathBuf,
    samples: Vec<Sample>,
}

fn median<T: Copy + PartialOrd>(mut values: Vec<T>) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    values[values.len() / 2]
}

fn size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

fn main() {
    assert!(std::env::var_os("DISPLAY").is_some(), "no DISPLAY: run through `make bench-release` (Xvfb)");
    let release = earshot_bin().with_file_name("earshot-desktop");
    assert!(
        release.exists() && release.parent().is_some_and(|d| d.ends_with("release")),
        "{} is missing: run `make bench-release`, which builds the release app first",
        release.display()
    );
    let baseline = release.with_file_name("examples").join("baseline");
    assert!(baseline.exists(), "{} is missing: run `make bench-release`", baseline.display());

    let empty = tempfile::TempDir::new().unwrap();
    let large = tempfile::TempDir::new().unwrap();
    let seeding = Instant::now();
    earshot_tests::seed::seed(large.path(), 100_000);
    println!("seeded 100,000 recordings in {:.1} s", seeding.elapsed().as_secs_f64());

    let mut configs = [
        Config {
            name: "baseline: minimal Tauri window",
            binary: baseline.clone(),
            data_dir: empty.path().into(),
            samples: vec![],
        },
        Config {
            name: "Earshot, empty store",
            binary: release.clone(),
            data_dir: empty.path().into(),
            samples: vec![],
        },
        Config {
            name: "Earshot, 100,000 recordings",
            binary: release.clone(),
            data_dir: large.path().into(),
            samples: vec![],
        },
    ];
    // Interleaved, so a busy moment on the machine falls on every configuration alike.
    for round in 0..STARTS {
        for config in &mut configs {
            let sample = start_once(&config.binary, &config.data_dir);
            eprintln!("start {}/{STARTS} {}: {} ms", round + 1, config.name, sample.first_frame.as_millis());
            config.samples.push(sample);
        }
    }

    println!("\nrelease build, {STARTS} starts each (fresh WebKit cache and data dirs; the store's file stays);");
    println!(
        "first frame: process start → the UI's `first_frame` IPC call; memory after {} s idle (median)\n",
        IDLE.as_secs()
    );
    println!(
        "| | first frame median ms | min / max ms | app process RSS MiB | app process PSS MiB | web process PSS MiB | network process PSS MiB | all processes PSS MiB | all processes RSS MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for config in &configs {
        let s = &config.samples;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let frames: Vec<f64> = s.iter().map(|x| ms(x.first_frame)).collect();
        let min = frames.iter().copied().fold(f64::MAX, f64::min);
        let max = frames.iter().copied().fold(0.0, f64::max);
        let mib = |f: &dyn Fn(&Sample) -> u64| median(s.iter().map(|x| f(x) as f64 / MIB).collect());
        println!(
            "| {} | {:.0} | {:.0} / {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            config.name,
            median(frames),
            min,
            max,
            mib(&|x| x.own.rss),
            mib(&|x| x.own.pss),
            mib(&|x| x.web.pss),
            mib(&|x| x.network.pss),
            mib(&|x| x.total().pss),
            mib(&|x| x.total().rss),
        );
    }
    let others: u64 = configs.iter().flat_map(|c| &c.samples).map(|s| s.other.rss).max().unwrap_or(0);
    if others > 0 {
        println!("\n(other processes below the app: up to {:.1} MiB RSS)", others as f64 / MIB);
    }

    let target = release.parent().expect("target/release").to_path_buf();
    let version = env!("CARGO_PKG_VERSION");
    let deb = target.join(format!("bundle/deb/Earshot_{version}_amd64.deb"));
    let rpm = target.join(format!("bundle/rpm/Earshot-{version}-1.x86_64.rpm"));
    let installed = Command::new("dpkg-deb")
        .args(["-f"])
        .arg(&deb)
        .arg("Installed-Size")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<u64>().ok());
    println!("\n| artifact | size MiB |");
    println!("|---|---:|");
    let rows: [(&str, Option<u64>); 6] = [
        ("earshot-desktop (release binary)", size(&release)),
        ("earshot (CLI, release binary)", size(&earshot_bin())),
        ("baseline window (release binary)", size(&baseline)),
        (".deb package", size(&deb)),
        (".deb installed size", installed.map(|kib| kib * 1024)),
        (".rpm package", size(&rpm)),
    ];
    for (name, bytes) in rows {
        match bytes {
            Some(bytes) => println!("| {name} | {:.1} |", bytes as f64 / MIB),
            None => println!("| {name} | not built (`make package`) |"),
        }
    }
}
