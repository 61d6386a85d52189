//! RIFF/WAVE: sniffing what a sender delivered, and writing the two WAV
//! flavours Earshot exports.
//!
//! Parsing is hand-written because the common WAV crates reject the μ-law
//! (tag 7) and A-law (tag 6) files watsonx's own test client produces. PCM16
//! export goes through `hound`; the 58-byte μ-law header (with its `fact`
//! chunk) is written here since no maintained crate emits it.

use std::io::Cursor;
use std::ops::Range;

use crate::encoding::Encoding;

/// Size of the μ-law WAV header: RIFF(12) + fmt(8+18) + fact(8+4) + data header(8).
pub const MULAW_HEADER_LEN: usize = 58;

/// Highest sample rate accepted in a header; anything above is a corrupt file, not audio.
pub const MAX_SAMPLE_RATE: u32 = 384_000;

/// Highest channel count accepted in a header.
pub const MAX_CHANNELS: u16 = 8;

/// What a RIFF/WAVE header says about the audio inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavInfo {
    /// Sample encoding from the `fmt ` chunk's format tag.
    pub encoding: Encoding,
    /// Channels interleaved in the `data` chunk.
    pub channels: u16,
    /// Frames per second.
    pub sample_rate: u32,
    /// Byte range of the sample data within the file.
    pub data: Range<usize>,
}

/// Why a file that starts like a WAV could not be read as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WavError {
    /// `RIFF` present but the form type is not `WAVE`.
    #[error("RIFF file is not WAVE (form type {0:?})")]
    NotWave(String),
    /// A chunk header runs past the end of the file.
    #[error("chunk '{0}' is cut off: it claims {1} bytes but only {2} remain")]
    TruncatedChunk(String, u32, usize),
    /// No `fmt ` chunk before `data`.
    #[error("WAV has no 'fmt ' chunk before its 'data' chunk")]
    MissingFmt,
    /// No `data` chunk at all.
    #[error("WAV has no 'data' chunk")]
    MissingData,
    /// The `fmt ` chunk is shorter than the 16 bytes every format needs.
    #[error("'fmt ' chunk is {0} bytes; at least 16 are needed")]
    ShortFmt(u32),
    /// A format Earshot does not decode.
    #[error("WAV format tag {tag} with {bits} bits per sample is not supported (μ-law 7, A-law 6 or 16-bit PCM 1)")]
    UnsupportedFormat {
        /// The format tag as found.
        tag: u16,
        /// Bits per sample as found.
        bits: u16,
    },
    /// Labelled as WAV but without a RIFF header.
    #[error("the part is labelled {0} but does not start with a RIFF header")]
    NotRiff(String),
    /// Zero or absurd channel count.
    #[error("WAV declares {0} channels (1..={MAX_CHANNELS} accepted)")]
    BadChannels(u16),
    /// Zero or absurd sample rate.
    #[error("WAV declares a sample rate of {0} Hz (1..={MAX_SAMPLE_RATE} accepted)")]
    BadSampleRate(u32),
}

/// True when the bytes start with a RIFF header and so must parse as a WAV.
pub fn looks_like_riff(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && &bytes[..4] == b"RIFF"
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Reads the header of a RIFF/WAVE file.
///
/// Tolerant where real writers are sloppy: the RIFF size is ignored, a
/// `data` size of 0 or `0xFFFFFFFF` (streaming writers) means "to the end",
/// and unknown chunks are skipped. Strict where a lie would misplace samples.
pub fn parse(bytes: &[u8]) -> Result<WavInfo, WavError> {
    if bytes.len() < 12 {
        return Err(WavError::TruncatedChunk("RIFF".into(), 12, bytes.len()));
    }
    if &bytes[8..12] != b"WAVE" {
        return Err(WavError::NotWave(String::from_utf8_lossy(&bytes[8..12]).into_owned()));
    }
    let mut at = 12;
    let mut format: Option<(Encoding, u16, u32)> = None;
    while at + 8 <= bytes.len() {
        let id = String::from_utf8_lossy(&bytes[at..at + 4]).into_owned();
        let size = u32_at(bytes, at + 4);
        let body = at + 8;
        let remaining = bytes.len() - body;
        if id == "data" {
            let (encoding, channels, sample_rate) = format.ok_or(WavError::MissingFmt)?;
            let len = if size == 0 || size == u32::MAX {
                remaining
            } else if size as usize > remaining {
                return Err(WavError::TruncatedChunk(id, size, remaining));
            } else {
                size as usize
            };
            return Ok(WavInfo { encoding, channels, sample_rate, data: body..body + len });
        }
        if size as usize > remaining {
            return Err(WavError::TruncatedChunk(id, size, remaining));
        }
        if id == "fmt " {
            format = Some(parse_fmt(&bytes[body..body + size as usize])?);
        }
        // Chunks are word-aligned: odd sizes carry a pad byte.
        at = body + size as usize + (size as usize & 1);
    }
    Err(if format.is_some() { WavError::MissingData } else { WavError::MissingFmt })
}

fn parse_fmt(fmt: &[u8]) -> Result<(Encoding, u16, u32), WavError> {
    if fmt.len() < 16 {
        return Err(WavError::ShortFmt(fmt.len() as u32));
    }
    let mut tag = u16_at(fmt, 0);
    let channels = u16_at(fmt, 2);
    let sample_rate = u32_at(fmt, 4);
    let bits = u16_at(fmt, 14);
    // WAVE_FORMAT_EXTENSIBLE carries the real tag in the first two bytes of its sub-format GUID.
    if tag == 0xFFFE && fmt.len() >= 26 {
        tag = u16_at(fmt, 24);
    }
    let encoding = match (tag, bits) {
        (7, 8) => Encoding::Mulaw,
        (6, 8) => Encoding::Alaw,
        (1, 16) => Encoding::Pcm16,
        _ => return Err(WavError::UnsupportedFormat { tag, bits }),
    };
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(WavError::BadChannels(channels));
    }
    if sample_rate == 0 || sample_rate > MAX_SAMPLE_RATE {
        return Err(WavError::BadSampleRate(sample_rate));
    }
    Ok((encoding, channels, sample_rate))
}

/// Wraps μ-law codes in a format-7 WAV: the 58-byte header, the data, and a
/// pad byte when the data length is odd.
pub fn mulaw_wav(codes: &[u8], sample_rate: u32, channels: u16) -> Vec<u8> {
    let data_len = codes.len() as u32;
    let pad = data_len & 1;
    let frames = data_len / channels.max(1) as u32;
    let mut out = Vec::with_capacity(MULAW_HEADER_LEN + codes.len() + 1);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(50 + data_len + pad).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    out.extend_from_slice(&7u16.to_le_bytes()); // WAVE_FORMAT_MULAW
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * channels as u32).to_le_bytes()); // byte rate
    out.extend_from_slice(&channels.to_le_bytes()); // block align
    out.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(&0u16.to_le_bytes()); // cbSize
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&frames.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(codes);
    if pad == 1 {
        out.push(0);
    }
    out
}

/// Writes linear samples as a 16-bit PCM WAV (44-byte header) through `hound`.
pub fn pcm16_wav(samples: &[i16], sample_rate: u32, channels: u16) -> Vec<u8> {
    let spec = hound::WavSpec { channels, sample_rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    {
        // Writing to memory cannot fail short of allocation failure.
        let mut writer = hound::WavWriter::new(&mut cursor, spec).expect("in-memory WAV header");
        let mut fast = writer.get_i16_writer(samples.len() as u32);
        for &s in samples {
            fast.write_sample(s);
        }
        fast.flush().expect("in-memory WAV samples");
        writer.finalize().expect("in-memory WAV finalize");
    }
    cursor.into_inner()
}

#[cfg(test)]
mod tests {
    use super::{MULAW_HEADER_LEN, WavError, mulaw_wav, parse, pcm16_wav};
    use crate::encoding::Encoding;

    #[test]
    fn mulaw_header_is_byte_exact_with_pad_for_odd_data() {
        let wav = mulaw_wav(&[1, 2, 3], 8000, 1);
        let mut expected = Vec::new();
        expected.extend_from_slice(b"RIFF");
        expected.extend_from_slice(&54u32.to_le_bytes()); // 4 + 26 + 12 + 8 + 3 + 1
        expected.extend_from_slice(b"WAVEfmt ");
        expected.extend_from_slice(&[18, 0, 0, 0, 7, 0, 1, 0]);
        expected.extend_from_slice(&8000u32.to_le_bytes());
        expected.extend_from_slice(&8000u32.to_le_bytes());
        expected.extend_from_slice(&[1, 0, 8, 0, 0, 0]);
        expected.extend_from_slice(b"fact");
        expected.extend_from_slice(&[4, 0, 0, 0, 3, 0, 0, 0]);
        expected.extend_from_slice(b"data");
        expected.extend_from_slice(&[3, 0, 0, 0, 1, 2, 3, 0]);
        assert_eq!(wav, expected);
        assert_eq!(wav.len(), MULAW_HEADER_LEN + 4);
        assert_eq!(u32::from_le_bytes(wav[4..8].try_into().unwrap()) as usize, wav.len() - 8);
    }

    #[test]
    fn even_data_has_no_pad_byte() {
        let wav = mulaw_wav(&[9; 8000], 8000, 1);
        assert_eq!(wav.len(), MULAW_HEADER_LEN + 8000);
    }

    #[test]
    fn round_trip_mulaw_through_wav_gives_the_same_codes() {
        let codes: Vec<u8> = (0..=255u8).cycle().take(1001).collect();
        let wav = mulaw_wav(&codes, 8000, 1);
        let info = parse(&wav).unwrap();
        assert_eq!(info.encoding, Encoding::Mulaw);
        assert_eq!((info.channels, info.sample_rate), (1, 8000));
        assert_eq!(&wav[info.data], &codes[..]);
    }

    #[test]
    fn pcm16_header_is_the_canonical_44_bytes() {
        let wav = pcm16_wav(&[0, -1, 32767], 8000, 1);
        assert_eq!(wav.len(), 44 + 6);
        assert_eq!(&wav[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(wav[4..8].try_into().unwrap()), 42);
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(&wav[16..24], &[16, 0, 0, 0, 1, 0, 1, 0]);
        assert_eq!(u32::from_le_bytes(wav[24..28].try_into().unwrap()), 8000);
        assert_eq!(u32::from_le_bytes(wav[28..32].try_into().unwrap()), 16000);
        assert_eq!(&wav[32..36], &[2, 0, 16, 0]);
        assert_eq!(&wav[36..40], b"data");
        assert_eq!(u32::from_le_bytes(wav[40..44].try_into().unwrap()), 6);
        assert_eq!(&wav[44..], &[0, 0, 0xFF, 0xFF, 0xFF, 0x7F]);
        let info = parse(&wav).unwrap();
        assert_eq!(info.encoding, Encoding::Pcm16);
    }

    #[test]
    fn lying_and_broken_headers_are_named() {
        let mut wav = mulaw_wav(&[1, 2, 3, 4], 8000, 1);
        wav[54..58].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(parse(&wav), Err(WavError::TruncatedChunk("data".into(), 1000, 4)));

        let mut zero_channels = mulaw_wav(&[1, 2], 8000, 1);
        zero_channels[22] = 0;
        assert_eq!(parse(&zero_channels), Err(WavError::BadChannels(0)));

        let mut unknown = mulaw_wav(&[1, 2], 8000, 1);
        unknown[20] = 0x55; // MPEG layer 3
        assert!(matches!(parse(&unknown), Err(WavError::UnsupportedFormat { tag: 0x55, .. })));

        assert!(matches!(parse(b"RIFF\0\0\0\0AVI LIST"), Err(WavError::NotWave(_))));
    }

    #[test]
    fn streaming_writers_with_unknown_data_size_are_read_to_the_end() {
        let mut wav = mulaw_wav(&[1, 2, 3, 4], 8000, 1);
        wav[54..58].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse(&wav).unwrap().data, 58..62);
    }
}
