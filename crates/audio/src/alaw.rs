//! G.711 A-law decoding, for senders that deliver A-law WAV (format tag 6).
//!
//! Only decoding lives here: Earshot never produces A-law.

const fn decode_formula(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let segment = ((a & 0x70) >> 4) as i32;
    match segment {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= segment - 1;
        }
    }
    if a & 0x80 != 0 { t as i16 } else { -t as i16 }
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

/// Decoded value of every A-law code, indexed by the code.
pub static DECODE: [i16; 256] = build_table();

/// Decodes one A-law code to a linear 16-bit sample.
#[inline]
pub fn decode(code: u8) -> i16 {
    DECODE[code as usize]
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn reference_spot_values() {
        // Values from the ITU G.711 reference tables.
        assert_eq!(decode(0xD5), 8);
        assert_eq!(decode(0x55), -8);
        assert_eq!(decode(0xAA), 32256);
        assert_eq!(decode(0x2A), -32256);
    }
}
