//! Shared by the playback tests: tones as stored recordings, and waiting for events.

// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use earshot_audio::{self as audio, mulaw};
use earshot_playback::{PlayerEvent, Track};

/// A `freq` Hz tone at 8 kHz, `seconds` long, as headerless μ-law decoded through the core.
pub fn tone(freq: f64, seconds: f64) -> Track {
    let frames = (seconds * 8000.0).round() as usize;
    let codes: Vec<u8> = (0..frames)
        .map(|i| {
            let value = 0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / 8000.0).sin();
            mulaw::encode((value * 32767.0) as i16)
        })
        .collect();
    let info = audio::describe(&codes, Some("audio/mulaw;rate=8000")).unwrap();
    Track::from_recording(&codes, &info).unwrap()
}

/// The first event matching `want` within `limit`; panics naming what was awaited.
pub fn wait_for(
    events: &Receiver<PlayerEvent>,
    limit: Duration,
    what: &str,
    want: impl Fn(&PlayerEvent) -> bool,
) -> PlayerEvent {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(event) if want(&event) => return event,
            Ok(PlayerEvent::Error(error)) => panic!("error event while waiting for {what}: {error}"),
            Ok(_) => {}
            Err(_) => panic!("no {what} within {limit:?}"),
        }
    }
}
