//! G.711 μ-law: the 256-entry decode table and the matching encoder.
//!
//! The decoder is the ITU reference (Sun's `g711.c`, as used by FFmpeg and
//! sox), evaluated at compile time. This module knows nothing about
//! containers; `wav` and `audio` do.

/// μ-law bias from G.711: added before segmenting so that segment 0 is not empty.
const BIAS: i32 = 0x84;
/// Largest magnitude the encoder represents; anything louder clips here.
const CLIP: i32 = 32635;

/// Decoded value of every μ-law code, indexed by the code.
pub static DECODE: [i16; 256] = build_table();

const fn decode_formula(code: u8) -> i16 {
    let u = !code;
    let mut t = (((u & 0x0F) as i32) << 3) + BIAS;
    t <<= ((u & 0x70) >> 4) as i32;
    if u & 0x80 != 0 { (BIAS - t) as i16 } else { (t - BIAS) as i16 }
}

const fn build_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = decode_formula(code as u8);
        code += 1;
    }
    table
}

/// Decodes one μ-law code to a linear 16-bit sample.
#[inline]
pub fn decode(code: u8) -> i16 {
    DECODE[code as usize]
}

/// Decodes a run of μ-law codes.
pub fn decode_all(codes: &[u8]) -> Vec<i16> {
    codes.iter().map(|&c| decode(c)).collect()
}

/// Encodes a linear 16-bit sample to μ-law (G.711 `linear2ulaw`).
pub fn encode(sample: i16) -> u8 {
    let mut pcm = sample as i32;
    let sign = if pcm < 0 { 0x80 } else { 0x00 };
    if pcm < 0 {
        pcm = -pcm;
    }
    pcm = pcm.min(CLIP) + BIAS;
    // Segment = position of the highest set bit above bit 7, 0..=7.
    let exponent = (31 - (pcm as u32).leading_zeros() as i32 - 7).clamp(0, 7);
    let mantissa = (pcm >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) | mantissa) as u8
}

#[cfg(test)]
mod tests {
    use super::{DECODE, decode, encode};

    /// The formula from CONTRACT.md, written out again independently of the table builder.
    fn reference(code: u8) -> i32 {
        let u = !code as i32 & 0xFF;
        let mut t = ((u & 0x0F) << 3) + 0x84;
        t <<= (u & 0x70) >> 4;
        if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }
    }

    #[test]
    fn all_256_codes_match_the_reference_formula() {
        for code in 0..=255u8 {
            assert_eq!(DECODE[code as usize] as i32, reference(code), "code {code:#04x}");
        }
    }

    #[test]
    fn spot_values_from_the_contract() {
        assert_eq!(decode(0x00), -32124);
        assert_eq!(decode(0x7F), 0);
        assert_eq!(decode(0x80), 32124);
        assert_eq!(decode(0xFF), 0);
        assert_eq!(decode(0x7E), -8);
    }

    #[test]
    fn encode_inverts_decode_for_every_code_but_negative_zero() {
        for code in 0..=255u8 {
            let expected = if code == 0x7F { 0xFF } else { code };
            assert_eq!(encode(decode(code)), expected, "code {code:#04x}");
        }
    }

    #[test]
    fn encode_clips_and_rounds_toward_the_nearest_segment_step() {
        assert_eq!(encode(i16::MAX), 0x80);
        assert_eq!(encode(i16::MIN), 0x00);
        assert_eq!(encode(0), 0xFF);
        assert_eq!(decode(encode(1000)), 988);
    }
}
