//! Speed with the pitch kept (the default) and tape mode, through the headless
//! sink (the exact pipeline a device callback runs): a 440 Hz tone stays
//! 440 Hz at 0.5× and 2× and lasts twice / half as long, tape at 0.5× drops it
//! to 220 Hz, and the reported position stays on the audio being heard
//! through speed changes, seeks, loop wraps and a switch to tape while playing.

mod common;

use std::time::Duration;

use common::{tone, wait_for};
use earshot_playback::{Control, HeadlessSink, PlayState, Player, PlayerEvent, Track};

const RATE: u32 = 48_000;
const WAIT: Duration = Duration::from_secs(3);

/// Magnitude of `freq` in `samples` (a single-bin DFT).
fn magnitude(samples: &[f32], freq: f64) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (i, &s) in samples.iter().enumerate() {
        let phase = std::f64::consts::TAU * freq * i as f64 / RATE as f64;
        re += s as f64 * phase.cos();
        im += s as f64 * phase.sin();
    }
    (re * re + im * im).sqrt()
}

/// The strongest frequency between `lo` and `hi` Hz: 1 Hz steps, then 0.1 Hz around the best.
fn peak_hz(samples: &[f32], lo: f64, hi: f64) -> f64 {
    let best = |from: f64, to: f64, step: f64| {
        let steps = ((to - from) / step).round() as usize;
        (0..=steps)
            .map(|k| from + k as f64 * step)
            .max_by(|a, b| magnitude(samples, *a).total_cmp(&magnitude(samples, *b)))
            .unwrap()
    };
    let coarse = best(lo, hi, 1.0);
    best(coarse - 1.0, coarse + 1.0, 0.1)
}

fn state(want: PlayState) -> impl Fn(&PlayerEvent) -> bool {
    move |e| *e == PlayerEvent::State(want)
}

/// Plays `track` to the end at `speed` (tape mode or not); the audio frames the sink heard.
fn play_through(track: Track, speed: f64, tape: bool) -> Vec<f32> {
    let (player, sink) = Player::headless(RATE, 1);
    let events = player.subscribe();
    player.send(Control::SetTape(tape)).unwrap();
    player.send(Control::SetSpeed(speed)).unwrap();
    player.send(Control::Load(track)).unwrap();
    player.send(Control::Play).unwrap();
    wait_for(&events, WAIT, "Playing", state(PlayState::Playing));
    let mut heard = Vec::new();
    loop {
        let before = sink.emitted();
        heard.extend(sink.pull(4800));
        if sink.emitted() == before {
            break;
        }
        assert!(heard.len() < RATE as usize * 20, "never ended");
    }
    wait_for(&events, WAIT, "Ended", state(PlayState::Ended));
    player.shutdown();
    heard.truncate(sink.emitted() as usize);
    heard
}

#[test]
fn a_440_hz_tone_keeps_its_pitch_at_half_and_double_speed_and_tape_halves_it() {
    for (speed, tape, seconds, hz) in [(0.5, false, 4.0, 440.0), (2.0, false, 1.0, 440.0), (0.5, true, 4.0, 220.0)] {
        let heard = play_through(tone(440.0, 2.0), speed, tape);
        let length = heard.len() as f64 / RATE as f64;
        assert!((length / seconds - 1.0).abs() <= 0.02, "{speed}× tape={tape}: {length:.3} s, expected {seconds}");
        let middle = &heard[heard.len() / 3..heard.len() * 2 / 3];
        let measured = peak_hz(middle, 150.0, 500.0);
        assert!((measured - hz).abs() <= 3.0, "{speed}× tape={tape}: {measured:.1} Hz, expected {hz}");
        let top = middle.iter().fold(0f32, |m, s| m.max(s.abs()));
        assert!((0.4..0.6).contains(&top), "{speed}× tape={tape}: the tone's level 0.5 became {top}");
    }
}

/// 440 Hz for the first second, 880 Hz for the second.
fn two_notes() -> Track {
    let samples = (0..16_000)
        .map(|i| {
            let freq = if i < 8000 { 440.0 } else { 880.0 };
            0.5 * (std::f64::consts::TAU * freq * i as f64 / 8000.0).sin() as f32
        })
        .collect();
    Track::from_f32(samples, 8000).unwrap()
}

/// Pulls 20 ms blocks for `seconds` of output; for each, the position reported before it and
/// whether it is the high note. Asserts each block's note is the one at that position (blocks
/// within 40 ms of the change at 1.0 s or of a loop's `edges` are not judged: a block spans up
/// to 20 ms of source and WSOLA places frames ±12 ms).
fn check_in_step(sink: &HeadlessSink, seconds: f64, edges: &[f64], what: &str) -> Vec<(f64, bool)> {
    let block = RATE as usize / 50;
    let blocks = (seconds * 50.0) as usize;
    (0..blocks)
        .map(|_| {
            let position = sink.position();
            let heard = sink.pull(block);
            let high = magnitude(&heard, 880.0) > magnitude(&heard, 440.0);
            let near_edge = [1.0].iter().chain(edges).any(|edge| (position - edge).abs() <= 0.04);
            if !near_edge && position < 1.96 {
                assert_eq!(
                    high,
                    position > 1.0,
                    "{what}: at {position:.3} s heard the {} note",
                    if high { "high" } else { "low" }
                );
            }
            (position, high)
        })
        .collect()
}

#[test]
fn the_reported_position_follows_the_audio_heard_through_speed_seek_loop_and_tape() {
    let (player, sink) = Player::headless(RATE, 1);
    let events = player.subscribe();
    player.send(Control::Load(two_notes())).unwrap();
    player.send(Control::SetSpeed(0.5)).unwrap();
    player.send(Control::Play).unwrap();
    wait_for(&events, WAIT, "Playing", state(PlayState::Playing));

    // 0.5×: 1.6 s of output covers 0 … 0.8 s of the source.
    let heard = check_in_step(&sink, 1.6, &[], "0.5× from the start");
    assert!((sink.position() - 0.8).abs() < 0.012, "position {:.4} after 1.6 s at 0.5×", sink.position());
    assert!(heard.iter().all(|(_, high)| !high));

    // Speed up while playing: no reset, the note changes at 1.0 s all the same.
    player.send(Control::SetSpeed(0.75)).unwrap();
    player.send(Control::Seek(0.9)).unwrap();
    wait_for(
        &events,
        WAIT,
        "position 0.9",
        |e| matches!(e, PlayerEvent::Position { position, .. } if (position - 0.9).abs() < 1e-9),
    );
    let heard = check_in_step(&sink, 0.4, &[], "0.75× across the change");
    assert!(heard.last().is_some_and(|&(p, high)| p > 1.1 && high), "{heard:?}");

    // An A–B loop across the change, many laps: still in step after every wrap.
    player.send(Control::SetLoop(Some((0.8, 1.2)))).unwrap();
    wait_for(
        &events,
        WAIT,
        "position 0.8",
        |e| matches!(e, PlayerEvent::Position { position, .. } if (position - 0.8).abs() < 1e-9),
    );
    let heard = check_in_step(&sink, 4.0, &[0.8, 1.2], "looping 0.8–1.2 s at 0.75×");
    let laps = heard.windows(2).filter(|w| w[1].0 < w[0].0).count();
    assert!(laps >= 5, "{laps} wraps in 4 s of a 0.4 s loop at 0.75×");

    // Tape while playing: the position carries on, the notes drop an octave.
    player.send(Control::SetLoop(None)).unwrap();
    player.send(Control::Seek(1.3)).unwrap();
    player.send(Control::SetTape(true)).unwrap();
    wait_for(
        &events,
        WAIT,
        "position 1.3",
        |e| matches!(e, PlayerEvent::Position { position, .. } if (position - 1.3).abs() < 1e-9),
    );
    let heard = sink.pull(RATE as usize / 5);
    let (low, high) = (magnitude(&heard, 880.0 * 0.75), magnitude(&heard, 880.0));
    assert!(low > high * 10.0, "tape at 0.75× plays 880 Hz as 660 Hz");
    assert!((sink.position() - (1.3 + 0.2 * 0.75)).abs() < 0.012, "position {:.4}", sink.position());
    player.shutdown();
}
