//! JSON Web Tokens as watsonx sends them: HMAC-signed with the webhook
//! secret, carried in `Authorization` (optionally `Bearer `) or, per an old
//! IBM sample, in `authentication`.
//!
//! Only HS256/384/512 are accepted; `alg: none` and asymmetric algorithms are
//! refused because the secret is shared, not a key pair. The signature is
//! compared in constant time by `hmac`'s `verify_slice`. Decoding never
//! needs the secret, so a rejected token can still be shown to the user.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::{Sha256, Sha384, Sha512};

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: i64 = 60;

/// Where a token was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// The `Authorization` header (the documented place).
    Authorization,
    /// The `authentication` header (IBM's classic sample reads this by mistake).
    Authentication,
}

impl TokenSource {
    /// Header name as written on the wire.
    pub fn header(self) -> &'static str {
        match self {
            TokenSource::Authorization => "authorization",
            TokenSource::Authentication => "authentication",
        }
    }
}

/// Header and claims of a token, decoded without checking the signature.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The JOSE header (`alg`, `typ`, …).
    pub header: Value,
    /// The claims object.
    pub claims: Value,
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three dot-separated parts.
    #[error("token is not a JWT: expected 3 dot-separated parts, found {0}")]
    Malformed(usize),
    /// A part is not base64url.
    #[error("token {0} is not valid base64url")]
    Base64(&'static str),
    /// A part is not a JSON object.
    #[error("token {0} is not a JSON object")]
    Json(&'static str),
    /// Unsigned token.
    #[error("token uses alg \"none\"; unsigned tokens are refused")]
    AlgNone,
    /// An algorithm other than HS256/384/512.
    #[error("token uses alg {0:?}; only HS256, HS384 and HS512 are accepted")]
    UnsupportedAlg(String),
    /// Signature does not match the secret.
    #[error("signature does not match the configured secret")]
    BadSignature,
    /// `exp` in the past beyond the leeway.
    #[error("token expired at {exp} (now {now}, leeway {LEEWAY_SECS} s)")]
    Expired {
        /// The `exp` claim.
        exp: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// `nbf` in the future beyond the leeway.
    #[error("token not valid before {nbf} (now {now}, leeway {LEEWAY_SECS} s)")]
    NotYetValid {
        /// The `nbf` claim.
        nbf: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// `exp` or `nbf` is present but not a number.
    #[error("claim {0:?} is not a number")]
    BadTimeClaim(&'static str),
}

impl JwtError {
    /// Stable machine-readable code, for the HTTP error body and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            JwtError::Malformed(_) | JwtError::Base64(_) | JwtError::Json(_) => "malformed_token",
            JwtError::AlgNone | JwtError::UnsupportedAlg(_) => "unsupported_alg",
            JwtError::BadSignature => "bad_signature",
            JwtError::Expired { .. } => "token_expired",
            JwtError::NotYetValid { .. } => "token_not_yet_valid",
            JwtError::BadTimeClaim(_) => "bad_claim",
        }
    }
}

#[derive(Clone, Copy)]
enum Alg {
    Hs256,
    Hs384,
    Hs512,
}

/// Finds the token: `Authorization` first, then `authentication`; a leading
/// `Bearer ` (any case) is removed.
pub fn extract(headers: &axum::http::HeaderMap) -> Option<(TokenSource, String)> {
    [TokenSource::Authorization, TokenSource::Authentication].into_iter().find_map(|source| {
        let value = headers.get(source.header())?.to_str().ok()?.trim();
        let token = strip_bearer(value).trim();
        (!token.is_empty()).then(|| (source, token.to_string()))
    })
}

fn strip_bearer(value: &str) -> &str {
    // A header of just "Bearer " arrives trimmed to "Bearer": no token at all.
    if value.eq_ignore_ascii_case("bearer") {
        return "";
    }
    match value.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => &value[7..],
        _ => value,
    }
}

fn decode_part(part: &str, name: &'static str) -> Result<Value, JwtError> {
    // Some encoders pad; the standard says not to. Accept both.
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).map_err(|_| JwtError::Base64(name))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(JwtError::Json(name)),
    }
}

/// Decodes header and claims without verifying anything.
pub fn decode(token: &str) -> Result<Decoded, JwtError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(JwtError::Malformed(parts.len()));
    }
    Ok(Decoded { header: decode_part(parts[0], "header")?, claims: decode_part(parts[1], "payload")? })
}

/// Verifies a token against the secret at time `now` (Unix seconds).
///
/// Returns the decoded token either way, when it could be decoded, so the
/// caller can store what arrived.
pub fn verify(token: &str, secret: &[u8], now: i64) -> (Option<Decoded>, Result<(), JwtError>) {
    let decoded = match decode(token) {
        Ok(d) => d,
        Err(e) => return (None, Err(e)),
    };
    let result = check(token, &decoded, secret, now);
    (Some(decoded), result)
}

fn check(token: &str, decoded: &Decoded, secret: &[u8], now: i64) -> Result<(), JwtError> {
    let alg = match decoded.header.get("alg").and_then(Value::as_str) {
        Some("HS256") => Alg::Hs256,
        Some("HS384") => Alg::Hs384,
        Some("HS512") => Alg::Hs512,
        Some(a) if a.eq_ignore_ascii_case("none") => return Err(JwtError::AlgNone),
        Some(a) => return Err(JwtError::UnsupportedAlg(a.to_string())),
        None => return Err(JwtError::UnsupportedAlg(String::new())),
    };
    let (signing_input, signature) = token.rsplit_once('.').ok_or(JwtError::Malformed(1))?;
    let signature =
        URL_SAFE_NO_PAD.decode(signature.trim_end_matches('=')).map_err(|_| JwtError::Base64("signature"))?;
    let matches = match alg {
        Alg::Hs256 => mac_matches::<Hmac<Sha256>>(secret, signing_input.as_bytes(), &signature),
        Alg::Hs384 => mac_matches::<Hmac<Sha384>>(secret, signing_input.as_bytes(), &signature),
        Alg::Hs512 => mac_matches::<Hmac<Sha512>>(secret, signing_input.as_bytes(), &signature),
    };
    if !matches {
        return Err(JwtError::BadSignature);
    }
    if let Some(exp) = time_claim(&decoded.claims, "exp")?
        && now > exp + LEEWAY_SECS
    {
        return Err(JwtError::Expired { exp, now });
    }
    if let Some(nbf) = time_claim(&decoded.claims, "nbf")?
        && now + LEEWAY_SECS < nbf
    {
        return Err(JwtError::NotYetValid { nbf, now });
    }
    Ok(())
}

fn mac_matches<M: Mac + KeyInit>(key: &[u8], input: &[u8], signature: &[u8]) -> bool {
    let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
        return false;
    };
    mac.update(input);
    mac.verify_slice(signature).is_ok()
}

fn time_claim(claims: &Value, name: &'static str) -> Result<Option<i64>, JwtError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)).map(Some).ok_or(JwtError::BadTimeClaim(name))
        }
        Some(_) => Err(JwtError::BadTimeClaim(name)),
    }
}

/// Signs claims as an HS256 JWT, the way watsonx does; used by `earshot send`.
pub fn sign_hs256(claims: &Map<String, Value>, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string());
    let input = format!("{header}.{payload}");
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{input}.{signature}")
}

/// Signs `header_b64.payload_b64` (both as they will appear in the token)
/// with the HMAC that `alg` names; `None` for any other algorithm. Signing is
/// deterministic, so the original segments signed with the original secret
/// give back the original token byte for byte.
pub fn sign_segments(header_b64: &str, payload_b64: &str, alg: &str, secret: &[u8]) -> Option<String> {
    let input = format!("{header_b64}.{payload_b64}");
    let signature = match alg {
        "HS256" => mac_bytes::<Hmac<Sha256>>(secret, input.as_bytes()),
        "HS384" => mac_bytes::<Hmac<Sha384>>(secret, input.as_bytes()),
        "HS512" => mac_bytes::<Hmac<Sha512>>(secret, input.as_bytes()),
        _ => return None,
    };
    Some(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// Signs `claims` under `header` (its `alg` picks the HMAC; HS256 when it names none Earshot signs with).
pub fn sign_with_header(header: &Map<String, Value>, claims: &Map<String, Value>, secret: &[u8]) -> String {
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .filter(|alg| ["HS256", "HS384", "HS512"].contains(alg))
        .unwrap_or("HS256");
    let mut header = header.clone();
    header.insert("alg".into(), Value::String(alg.into()));
    let header_b64 = URL_SAFE_NO_PAD.encode(Value::Object(header).to_string());
    let payload_b64 = URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string());
    sign_segments(&header_b64, &payload_b64, alg, secret).expect("an HMAC algorithm")
}

fn mac_bytes<M: Mac + KeyInit>(key: &[u8], input: &[u8]) -> Vec<u8> {
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

/// Splits a stored (signature-redacted) `Authorization` value into its
/// prefix (`Bearer ` or none) and the token's header and payload segments.
pub fn unsigned_segments(redacted: &str) -> Option<(String, String, String)> {
    let value = redacted.trim();
    let token = strip_bearer(value);
    let prefix = value[..value.len() - token.len()].to_string();
    let mut segments = token.split('.');
    let (header, payload) = (segments.next()?, segments.next()?);
    (!header.is_empty() && !payload.is_empty()).then(|| (prefix, header.to_string(), payload.to_string()))
}

/// Removes the signature from a token so it can be stored and shown without
/// letting anyone replay it.
pub fn redact_signature(value: &str) -> String {
    let token = strip_bearer(value.trim());
    let prefix = &value.trim()[..value.trim().len() - token.len()];
    match token.rsplit_once('.') {
        Some((unsigned, _)) if token.matches('.').count() == 2 => format!("{prefix}{unsigned}.<signature removed>"),
        _ => format!("{prefix}<redacted {} chars>", token.chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::{Value, json};

    use super::{JwtError, TokenSource, decode, extract, redact_signature, sign_hs256, verify};

    const SECRET: &str = "a webhook secret";
    const NOW: i64 = 1_760_000_000;

    /// Tokens made by an independent implementation (the `jsonwebtoken` crate).
    fn foreign(alg: Algorithm, claims: Value, secret: &str) -> String {
        jsonwebtoken::encode(&Header::new(alg), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    fn ibm_claims() -> Value {
        json!({"sub": "user", "iss": "test-client", "exp": NOW + 30})
    }

    fn verdict(token: &str) -> Result<(), JwtError> {
        verify(token, SECRET.as_bytes(), NOW).1
    }

    #[test]
    fn hs256_hs384_hs512_from_another_library_verify() {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let token = foreign(alg, ibm_claims(), SECRET);
            let (decoded, result) = verify(&token, SECRET.as_bytes(), NOW);
            assert_eq!(result, Ok(()), "{alg:?}");
            assert_eq!(decoded.unwrap().claims["iss"], "test-client");
        }
    }

    #[test]
    fn our_signer_is_accepted_by_another_library() {
        let claims = ibm_claims().as_object().unwrap().clone();
        let token = sign_hs256(&claims, SECRET.as_bytes());
        let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
            &validation,
        )
        .unwrap();
        assert_eq!(data.claims, ibm_claims());
    }

    #[test]
    fn wrong_secret_is_a_bad_signature() {
        let token = foreign(Algorithm::HS256, ibm_claims(), "another secret");
        assert_eq!(verdict(&token), Err(JwtError::BadSignature));
    }

    #[test]
    fn tampered_payload_is_a_bad_signature() {
        let token = foreign(Algorithm::HS256, ibm_claims(), SECRET);
        let parts: Vec<&str> = token.split('.').collect();
        let forged = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            json!({"sub": "admin", "iss": "test-client", "exp": NOW + 30}).to_string(),
        );
        let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
        assert_eq!(verdict(&tampered), Err(JwtError::BadSignature));
    }

    #[test]
    fn alg_none_and_asymmetric_algs_are_refused() {
        let enc = |v: Value| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, v.to_string());
        let none = format!("{}.{}.", enc(json!({"alg": "none"})), enc(ibm_claims()));
        assert_eq!(verdict(&none), Err(JwtError::AlgNone));
        let rs = format!("{}.{}.c2ln", enc(json!({"alg": "RS256"})), enc(ibm_claims()));
        assert_eq!(verdict(&rs), Err(JwtError::UnsupportedAlg("RS256".into())));
    }

    #[test]
    fn expiry_and_not_before_use_a_60_second_leeway() {
        let expired = foreign(Algorithm::HS256, json!({"exp": NOW - 61}), SECRET);
        assert_eq!(verdict(&expired), Err(JwtError::Expired { exp: NOW - 61, now: NOW }));
        let just_inside = foreign(Algorithm::HS256, json!({"exp": NOW - 59}), SECRET);
        assert_eq!(verdict(&just_inside), Ok(()));
        let future = foreign(Algorithm::HS256, json!({"nbf": NOW + 61}), SECRET);
        assert_eq!(verdict(&future), Err(JwtError::NotYetValid { nbf: NOW + 61, now: NOW }));
        let soon = foreign(Algorithm::HS256, json!({"nbf": NOW + 59}), SECRET);
        assert_eq!(verdict(&soon), Ok(()));
        let no_times = foreign(Algorithm::HS256, json!({"sub": "user"}), SECRET);
        assert_eq!(verdict(&no_times), Ok(()));
    }

    #[test]
    fn malformed_tokens_say_what_is_wrong() {
        assert_eq!(verdict("not-a-jwt"), Err(JwtError::Malformed(1)));
        assert_eq!(verdict("a.b.c.d"), Err(JwtError::Malformed(4)));
        assert_eq!(verdict("!!!.e30.sig"), Err(JwtError::Base64("header")));
        assert_eq!(decode("e30.bm90IGpzb24.sig"), Err(JwtError::Json("payload")));
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn token_is_found_with_or_without_bearer_in_any_case() {
        let token = foreign(Algorithm::HS256, ibm_claims(), SECRET);
        for value in [token.clone(), format!("Bearer {token}"), format!("bearer {token}"), format!("BEARER  {token}")] {
            let (source, found) = extract(&headers(&[("authorization", &value)])).unwrap();
            assert_eq!(source, TokenSource::Authorization);
            assert_eq!(found, token);
            assert_eq!(verdict(&found), Ok(()));
        }
    }

    #[test]
    fn authentication_header_is_a_fallback_and_missing_is_none() {
        let token = foreign(Algorithm::HS256, ibm_claims(), SECRET);
        let (source, _) = extract(&headers(&[("authentication", &token)])).unwrap();
        assert_eq!(source, TokenSource::Authentication);
        assert_eq!(extract(&headers(&[("authorization", "Bearer ")])), None);
        assert_eq!(extract(&HeaderMap::new()), None);
    }

    #[test]
    fn stored_headers_never_keep_a_signature() {
        let token = foreign(Algorithm::HS256, ibm_claims(), SECRET);
        let signature = token.rsplit('.').next().unwrap();
        let redacted = redact_signature(&format!("Bearer {token}"));
        assert!(redacted.starts_with("Bearer ey"));
        assert!(!redacted.contains(signature));
        assert_eq!(redact_signature("static-token"), "<redacted 12 chars>");
    }
}
