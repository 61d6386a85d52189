//! The `metadata` part parser on arbitrary bytes: it must answer a value or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(metadata) = earshot_core::metadata::parse(data) {
        assert!(!metadata.recording_id.is_empty());
    }
});
