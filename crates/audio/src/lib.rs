//! Earshot's audio formats, with no I/O: what a received `audio_recording`
//! part contains ([`describe`]), decoding it to linear PCM
//! ([`decode_pcm16`]), G.711 tables ([`mulaw`], [`alaw`]), RIFF/WAVE
//! sniffing and the two WAV flavours Earshot writes ([`wav`]), and waveform
//! peaks for drawing ([`peaks`]); any WAV as watsonx would send it
//! ([`to_telephone_mulaw`]). For review: levels, clipping, silences and
//! speech ([`analyze`], [`flags`]), a spectrogram for the drawn size
//! ([`spectrogram()`]), and slowing down with or without the pitch kept
//! ([`stretch()`], [`tape`]).
//!
//! The playback engine and the core both build on this crate, so playing a
//! recording does not pull in the listener, HTTP or SQLite.

pub mod alaw;
mod analysis;
mod encoding;
mod info;
pub mod mulaw;
mod spectrogram;
mod stretch;
mod telephone;
pub mod wav;
mod waveform;

pub use analysis::{Analysis, Flag, analyze, flags};
pub use encoding::{Container, Encoding};
pub use info::{
    AudioError, AudioInfo, DEFAULT_RATE, decode_pcm16, describe, sample_bytes, split_content_type, to_mulaw,
};
pub use spectrogram::{Spectrogram, spectrogram};
pub use stretch::{SPEED_RANGE, Stretcher, sinc_parameters, stretch, tape};
pub use telephone::{TELEPHONE_RATE, to_telephone_mulaw};
pub use waveform::{Peak, peaks};
