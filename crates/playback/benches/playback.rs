//! Playback benchmark (prints a table; not a test).
//!
//! 1. Decode + resample speed in × real time: 60 s of 8 kHz μ-law through the
//!    pipeline to 48 kHz stereo, against a baseline measured in the same run
//!    (decoding alone, and decode + copy without resampling).
//! 2. Start latency on the default output (a PulseAudio null sink under
//!    `scripts/with-audio.sh`): `Play` sent → first callback carrying audio,
//!    with the stream already open (Load opens it).

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
    let pipeline = best_of(5, || {
        let track = Track::from_recording(&codes, &info).unwrap();
        let mut pipeline = Pipeline::new(RATE, 2);
        pipeline.load(track).unwrap();
        pipeline.play().unwrap();
        let mut out = vec![0f32; BLOCK * 2];
        while pipeline.state() == PlayState::Playing {
            pipeline.fill(&mut out);
        }
        std::hint::black_box(out);
    });
    row("Earshot: decode + sinc resample + gain (the playback pipeline)", pipeline);
}

fn latency() {
    let player = Player::start(None);
    let events = player.subscribe();
    let track = Track::from_recording(&codes()[..8000], &audio::describe(&[0xFF; 8000], None).unwrap()).unwrap();
    player.send(Control::Load(track)).unwrap();
    let opened = loop {
        match events.recv_timeout(Duration::from_secs(10)) {
            Ok(PlayerEvent::Output { device, rate, channels, format }) => {
                break format!("{device} {rate} Hz {channels} ch {format}");
            }
            Ok(PlayerEvent::Error(e)) => {
                println!("\nstart latency: skipped, {e}");
                return;
            }
            Ok(_) => {}
            Err(_) => {
                println!("\nstart latency: skipped, the device did not open");
                return;
            }
        }
    };
    // The ALSA→PulseAudio plugin holds a fresh stream ~2 s before consuming.
    std::thread::sleep(Duration::from_secs(3));
    let mut samples = Vec::new();
    for _ in 0..20 {
        player.send(Control::Stop).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        while events.try_recv().is_ok() {}
        let sent = Instant::now();
        player.send(Control::Play).unwrap();
        loop {
            match events.recv_timeout(Duration::from_secs(5)) {
                Ok(PlayerEvent::AudioStarted { at }) => {
                    samples.push(at.saturating_duration_since(sent));
                    break;
                }
                Ok(_) => {}
                Err(_) => panic!("no audio within 5 s of Play"),
            }
        }
    }
    player.shutdown();
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("\n| start latency on {opened}, stream open, 20 plays | ms |");
    println!("|---|---:|");
    println!("| best | {:.1} |", ms(samples[0]));
    println!("| median | {:.1} |", ms(samples[samples.len() / 2]));
    println!("| worst | {:.1} |", ms(samples[samples.len() - 1]));
}

fn main() {
    throughput();
    latency();
}
