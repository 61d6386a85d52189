//! RIFF/WAV sniffing and decoding on arbitrary audio bytes and content types.
#![no_main]

use earshot_audio as audio;
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [Option<&str>; 5] =
    [None, Some("audio/basic"), Some("audio/wav"), Some("audio/x-alaw-basic;rate=8000"), Some("audio/L16;rate=16000")];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let _ = earshot_audio::wav::looks_like_riff(bytes);
    let _ = earshot_audio::wav::parse(bytes);
    let content_type = CONTENT_TYPES[usize::from(pick) % CONTENT_TYPES.len()];
    if let Ok(info) = audio::describe(bytes, content_type) {
        // Whatever was accepted must decode without panicking.
        let _ = audio::decode_pcm16(bytes, &info);
        let _ = audio::to_mulaw(bytes, &info);
    }
});
