//! JWT decoding and HS256 verification on arbitrary tokens and secrets.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte splits the input into secret and token.
    let Some((&split, rest)) = data.split_first() else { return };
    let split = usize::from(split).min(rest.len());
    let (secret, token) = rest.split_at(split);
    let token = String::from_utf8_lossy(token);
    let _ = earshot_core::jwt::decode(&token);
    let (_, verdict) = earshot_core::jwt::verify(&token, secret, 1_700_000_000);
    if verdict.is_ok() {
        assert!(earshot_core::jwt::decode(&token).is_ok(), "a verified token must decode");
    }
    let _ = earshot_core::jwt::redact_signature(&token);
});
