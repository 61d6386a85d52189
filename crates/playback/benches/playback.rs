//! Playback benchmark (prints a table; not a test).
//!
//! 1. Decode + resample speed in × real time: 60 s of 8 kHz μ-law through the
//!    pipeline to 48 kHz stereo, against a baseline measured in the same run
//!    (decoding alone, and decode + copy without resampling).
//! 2. Start latency on a PulseAudio null sink (`scripts/with-audio.sh`), for
//!    the old path (cpal's ALSA host, `alsa:default`, through the `pulse`
//!    plugin) and the new one (cpal's native PulseAudio host, the default
//!    when the server answers), in the same run. Cases: "`earshot play`" (a
//!    fresh engine, `Load` and `Play` at once) and "app" (`Play` on a stream
//!    an earlier `Load` opened). Each is timed from `Play` to the first
//!    callback that hands audio to the device (`PlayerEvent::AudioStarted`),
//!    to the first non-zero sample recorded from the sink's monitor (`parec`,
//!    what a listener hears), and to `Ended` less the clip's 1 s (the hold).
//!
//!    Once with nothing recording, once with the monitor recorded: an idle
//!    null sink renders 2 s blocks, and when a low-latency stream arrives it
//!    cannot rewind into the block already rendered (module-null-sink only
//!    resizes its rewind limit; ALSA hardware sinks rewind fully on a latency
//!    change), so a new stream waits for that block to end. A recorder keeps
//!    the sink in short blocks, like a sink in use.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use earshot_audio::{self as audio, mulaw};
use earshot_playback::pipeline::Pipeline;
use earshot_playback::{Control, PlayState, Player, PlayerEvent, Track};

const SECONDS: usize = 60;
const RATE: u32 = 48_000;
const BLOCK: usize = 1024;

fn codes() -> Vec<u8> {
    (0..SECONDS * 8000)
        .map(|i| mulaw::encode((8000.0 * (i as f64 * 0.37).sin() * (i as f64 * 0.0011).cos()) as i16))
        .collect()
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn row(name: &str, took: Duration) {
    let x = SECONDS as f64 / took.as_secs_f64();
    println!("| {name} | {:.2} | {x:.0}× |", took.as_secs_f64() * 1000.0);
}

fn throughput() {
    let codes = codes();
    let info = audio::describe(&codes, Some("audio/mulaw;rate=8000")).unwrap();
    println!("| {SECONDS} s of 8 kHz μ-law → 48 kHz stereo | ms (best of 5) | × real time |");
    println!("|---|---:|---:|");
    let decode = best_of(5, || {
        std::hint::black_box(Track::from_recording(&codes, &info).unwrap());
    });
    row("baseline: decode to f32 (μ-law table)", decode);
    let track = Track::from_recording(&codes, &info).unwrap();
    let copy = best_of(5, || {
        // Same framing as the pipeline (blocks of interleaved stereo), each source sample repeated 6×.
        let mut out = vec![0f32; BLOCK * 2];
        let mut acc = 0f32;
        let samples = track.samples();
        for block in 0..SECONDS * RATE as usize / BLOCK {
            for (i, frame) in out.chunks_mut(2).enumerate() {
                let s = samples[(block * BLOCK + i) / 6];
                frame.fill(s);
            }
            acc += out[0];
        }
        std::hint::black_box(acc);
    });
    row("baseline: decode + nearest-sample upsample, no filter", decode + copy);
    let run = |speed: f64, tape: bool| {
        best_of(5, || {
            let track = Track::from_recording(&codes, &info).unwrap();
            let mut pipeline = Pipeline::new(RATE, 2);
            pipeline.set_tape(tape).unwrap();
            pipeline.set_speed(speed).unwrap();
            pipeline.load(track).unwrap();
            pipeline.play().unwrap();
            let mut out = vec![0f32; BLOCK * 2];
            while pipeline.state() == PlayState::Playing {
                pipeline.fill(&mut out);
            }
            std::hint::black_box(out);
        })
    };
    row("Earshot: decode + sinc resample + gain at 1×, tape mode (the pipeline before pitch-keeping)", run(1.0, true));
    row("Earshot: decode + WSOLA + sinc resample + gain at 1× (the playback pipeline)", run(1.0, false));
    row("Earshot: the same at 0.75×, pitch kept (source s ÷ wall time)", run(0.75, false));
    row("Earshot: the same at 0.75×, tape", run(0.75, true));
}

/// Fresh engines per path for the "earshot play" case, and plays per path for the "app" case.
const COLD_RUNS: usize = 6;
const WARM_RUNS: usize = 6;
/// A recorded sample louder than this (of 32 767) is the recording, not silence (exact zeros).
const HEARD: i16 = 300;
/// How long to wait for audio before giving a run up.
const LIMIT: Duration = Duration::from_secs(5);

/// `parec` on the null sink's monitor, noting when each burst of sound starts.
struct Monitor {
    child: Child,
    onsets: Arc<Mutex<Vec<Instant>>>,
    last_loud: Arc<Mutex<Option<Instant>>>,
}

impl Monitor {
    /// Starts recording and waits until the recording delivers (parec takes ~2 s to start).
    fn start() -> Option<Monitor> {
        let args = ["--device=nullsink.monitor", "--raw", "--format=s16le", "--rate=48000", "--channels=1"];
        let mut child = Command::new("parec").args(args).arg("--latency-msec=5").stdout(Stdio::piped()).spawn().ok()?;
        let mut out = child.stdout.take()?;
        let onsets = Arc::new(Mutex::new(Vec::new()));
        let last_loud = Arc::new(Mutex::new(None));
        let (started_tx, started) = std::sync::mpsc::channel();
        let (on, last) = (Arc::clone(&onsets), Arc::clone(&last_loud));
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            let mut loud_before = false;
            while let Ok(n @ 1..) = out.read(&mut buf) {
                let now = Instant::now();
                let _ = started_tx.send(());
                let loud = buf[..n & !1].chunks(2).any(|c| i16::from_le_bytes([c[0], c[1]]).saturating_abs() > HEARD);
                if loud {
                    if !loud_before {
                        on.lock().unwrap().push(now);
                    }
                    *last.lock().unwrap() = Some(now);
                }
                loud_before = loud;
            }
        });
        started.recv_timeout(Duration::from_secs(10)).ok()?;
        std::thread::sleep(Duration::from_millis(500));
        Some(Monitor { child, onsets, last_loud })
    }

    /// From `since` to the first sound recorded after it.
    fn heard_after(&self, since: Instant) -> Option<Duration> {
        let deadline = Instant::now() + LIMIT;
        while Instant::now() < deadline {
            if let Some(&at) = self.onsets.lock().unwrap().iter().find(|&&t| t >= since) {
                return Some(at - since);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        None
    }

    /// Waits until nothing has been heard for 300 ms.
    fn wait_quiet(&self) {
        while self.last_loud.lock().unwrap().is_some_and(|t| t.elapsed() < Duration::from_millis(300)) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One second of the benchmark's signal, as a recording.
fn second() -> Track {
    let codes = codes();
    Track::from_recording(&codes[..8000], &audio::describe(&codes[..8000], None).unwrap()).unwrap()
}

/// Waits for the output to open; its description, or why it did not.
fn opened(events: &std::sync::mpsc::Receiver<PlayerEvent>) -> Result<String, String> {
    loop {
        match events.recv_timeout(Duration::from_secs(10)) {
            Ok(PlayerEvent::Output { device, rate, channels, format }) => {
                return Ok(format!("{device}, {rate} Hz {channels} ch {format}"));
            }
            Ok(PlayerEvent::Error(e)) => return Err(e.to_string()),
            Ok(_) => {}
            Err(_) => return Err("the device did not open".into()),
        }
    }
}

/// When the first callback carrying audio after `sent` ran.
fn audio_started(events: &std::sync::mpsc::Receiver<PlayerEvent>, sent: Instant) -> Option<Duration> {
    loop {
        match events.recv_timeout(LIMIT) {
            Ok(PlayerEvent::AudioStarted { at }) => return Some(at.saturating_duration_since(sent)),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

/// Waits for the end of the clip; when it was reported.
fn ended(events: &std::sync::mpsc::Receiver<PlayerEvent>) -> Option<Instant> {
    loop {
        match events.recv_timeout(LIMIT) {
            Ok(PlayerEvent::State(PlayState::Ended)) => return Some(Instant::now()),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

/// One timed play, from `Play`: audio handed to the device, heard on the monitor (when one
/// records), and the wall time the 1 s clip took beyond its length (the start-up hold).
type Sample = [Option<Duration>; 3];

/// Times the play that `sent` started, through to its end.
fn time_play(events: &std::sync::mpsc::Receiver<PlayerEvent>, sent: Instant, monitor: Option<&Monitor>) -> Sample {
    let handed = audio_started(events, sent);
    let heard = monitor.and_then(|m| m.heard_after(sent));
    let extra = ended(events).map(|at| (at - sent).saturating_sub(Duration::from_secs(1)));
    [handed, heard, extra]
}

/// "earshot play": a fresh engine each time, Load and Play sent together.
fn cold(device: Option<&str>, monitor: Option<&Monitor>) -> Result<(String, Vec<Sample>), String> {
    let mut opened_on = String::new();
    let mut samples = Vec::new();
    for run in 0..COLD_RUNS {
        // Uneven gaps, so the starts fall at different points of the idle sink's 2 s render block.
        std::thread::sleep(Duration::from_millis(300 + 370 * run as u64));
        if let Some(m) = monitor {
            m.wait_quiet();
        }
        let player = Player::start(device.map(str::to_string));
        let events = player.subscribe();
        let sent = Instant::now();
        player.send(Control::Load(second())).unwrap();
        player.send(Control::Play).unwrap();
        opened_on = opened(&events)?;
        samples.push(time_play(&events, sent, monitor));
        player.shutdown();
    }
    Ok((opened_on, samples))
}

/// The app: the stream opened at Load and running; Play later, again and again.
fn warm(device: Option<&str>, monitor: Option<&Monitor>) -> Result<Vec<Sample>, String> {
    let player = Player::start(device.map(str::to_string));
    let events = player.subscribe();
    player.send(Control::Load(second())).unwrap();
    opened(&events)?;
    std::thread::sleep(Duration::from_secs(3));
    let mut samples = Vec::new();
    for _ in 0..WARM_RUNS {
        player.send(Control::Stop).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        if let Some(m) = monitor {
            m.wait_quiet();
        }
        while events.try_recv().is_ok() {}
        let sent = Instant::now();
        player.send(Control::Play).unwrap();
        samples.push(time_play(&events, sent, monitor));
    }
    player.shutdown();
    Ok(samples)
}

/// "median / worst" in ms, or what went missing.
fn spread(mut values: Vec<Option<Duration>>) -> String {
    let missing = values.iter().filter(|v| v.is_none()).count();
    if missing > 0 {
        return format!("{missing} of {} missing", values.len());
    }
    values.sort();
    let ms = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    format!("{:.0} / {:.0}", ms(values[values.len() / 2]), ms(values[values.len() - 1]))
}

/// Prints one row per case for `path`.
fn measure(path: &str, device: Option<&str>, monitor: Option<&Monitor>) {
    let recording = if monitor.is_some() { "monitor recorded" } else { "nothing recording" };
    let row = |on: &str, case: &str, samples: Vec<Sample>| {
        let column = |i: usize| spread(samples.iter().map(|s| s[i]).collect());
        let heard = if monitor.is_some() { column(1) } else { "—".into() };
        println!("| {path} | {on} | {case}, {recording} | {} | {heard} | {} |", column(0), column(2));
    };
    let (on, samples) = match cold(device, monitor) {
        Ok(result) => result,
        Err(e) => return println!("| {path} | not available: {e} | | | | |"),
    };
    row(&on, &format!("`earshot play`: fresh engine, Load + Play ({COLD_RUNS}×)"), samples);
    match warm(device, monitor) {
        Ok(samples) => row(&on, &format!("app: Play on an open stream ({WARM_RUNS}×)"), samples),
        Err(e) => println!("| {path} | {on} | app: failed, {e} | | | |"),
    }
}

fn latency() {
    let paths =
        [("before: ALSA host (`alsa:default`)", Some("alsa:default")), ("now: PulseAudio host (default)", None)];
    let columns =
        ["path", "output", "1 s clip", "Play → handed to the device", "→ heard on the monitor", "→ end − 1 s"];
    println!("\nStart latency on a PulseAudio null sink, ms (median / worst):\n\n| {} |", columns.join(" | "));
    println!("|---|---|---|---:|---:|---:|");
    for (path, device) in paths {
        measure(path, device, None);
    }
    // A recorder on the monitor keeps the null sink rendering in short blocks, as a sink in use does.
    let Some(monitor) = Monitor::start() else {
        return println!("\n(no `parec`: nothing recorded from the sink's monitor)");
    };
    for (path, device) in paths {
        measure(path, device, Some(&monitor));
    }
}

/// cpal's PulseAudio client reads the server's cookie only from `$PULSE_COOKIE` or
/// `~/.config/pulse/cookie`, while a private server (scripts/with-audio.sh) writes it under
/// `$XDG_CONFIG_HOME`. Without it the native host cannot connect and the "now" row would be
/// ALSA again, so the bench runs itself once more with the variable set.
fn rerun_with_cookie() -> Option<ExitStatus> {
    if std::env::var_os("PULSE_COOKIE").is_some() {
        return None;
    }
    let cookie = std::path::PathBuf::from(std::env::var_os("XDG_CONFIG_HOME")?).join("pulse/cookie");
    if !cookie.exists() {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    Command::new(exe).args(std::env::args_os().skip(1)).env("PULSE_COOKIE", cookie).status().ok()
}

fn main() {
    if let Some(status) = rerun_with_cookie() {
        std::process::exit(status.code().unwrap_or(1));
    }
    throughput();
    latency();
}
