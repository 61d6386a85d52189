//! A database filled with many recordings, written straight into SQLite
//! (one transaction) so benchmarks can start from 100,000 recordings in
//! seconds rather than sending them through the intake.

use rusqlite::params;

/// Recordings per call in the seeded data (a typical IVR call records a few utterances).
pub const PER_CALL: usize = 5;
/// Audio bytes per seeded recording: small, because this measures listing, not storage.
pub const AUDIO: usize = 2000;

/// Writes `recordings` recordings (and a request each) into the store in `dir`.
pub fn seed(dir: &std::path::Path, recordings: usize) {
    let mut conn = earshot_core::SqliteStore::open(dir).expect("store").connect().expect("connect");
    let tx = conn.transaction().expect("tx");
    {
        let mut rec = tx
            .prepare(
                "INSERT INTO recordings (recording_id, version, conflict, session_id, assistant_id, environment_id,
                    start_timestamp, stop_timestamp, received_at, metadata_json, path, container, encoding,
                    sample_rate, channels, sample_count, duration_ms, data_offset, data_len, size_bytes, sha256,
                    auth_verdict, audio)
                 VALUES (?1, 1, 0, ?2, 'assistant', 'environment', ?3, ?3, ?3, '{}', '/audio-webhook', 'raw',
                    'mulaw', 8000, 1, ?4, 250, 0, ?4, ?4, 'sha', ?5, ?6)",
            )
            .expect("prepare");
        let mut req = tx
            .prepare(
                "INSERT INTO requests (received_at, method, path, headers_json, status, latency_us, outcome,
                    session_id, recording_id, auth_verdict, body_size)
                 VALUES (?1, 'POST', '/audio-webhook', '[]', ?2, 1000, ?3, ?4, ?5, ?6, ?7)",
            )
            .expect("prepare");
        let audio = vec![0xFFu8; AUDIO];
        let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap();
        for i in 0..recordings {
            let session = format!("{:08x}-call", i / PER_CALL);
            let id = format!("{i:08x}-recording");
            let at = (start + chrono::Duration::seconds(i as i64 * 7))
                .to_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let verdict = if i % 97 == 0 { "invalid" } else { "valid" };
            rec.execute(params![id, session, at, AUDIO as i64, verdict, audio]).expect("insert recording");
            let status = if verdict == "valid" { 200 } else { 401 };
            let outcome = if verdict == "valid" { "stored" } else { "rejected" };
            req.execute(params![at, status, outcome, session, id, verdict, AUDIO as i64]).expect("insert request");
        }
    }
    tx.commit().expect("commit");
}
