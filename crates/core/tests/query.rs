//! Paged lists for the desktop: the fast unfiltered path and the general
//! filtered query must describe the same calls, and filters must narrow.

use earshot_core::Store;
use earshot_core::{Filter, VerdictFilter};
use rusqlite::params;

fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::TempDir::new().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let conn = earshot_core::SqliteStore::open(dir.path()).unwrap().connect().unwrap();
    for i in 0..230 {
        // Calls interleave in time so "newest first" is not insertion order.
        let session = format!("call-{:03}", (i * 7) % 40);
        let at = format!("2026-03-{:02}T10:{:02}:{:02}.000Z", 1 + i % 20, i % 60, (i * 13) % 60);
        let verdict = if i % 17 == 0 { "invalid" } else { "valid" };
        conn.execute(
            "INSERT INTO recordings (recording_id, version, conflict, session_id, assistant_id, environment_id,
                start_timestamp, stop_timestamp, received_at, metadata_json, path, container, encoding, sample_rate,
                channels, sample_count, duration_ms, data_offset, data_len, size_bytes, sha256, auth_verdict, audio)
             VALUES (?1, 1, 0, ?2, 'a', 'e', ?3, ?3, ?3, '{}', '/', 'raw', 'mulaw', 8000, 1, 4, 0, 0, 4, 4, 's', ?4, x'ffffffff')",
            params![format!("rec-{i:04}"), session, at, verdict],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO requests (received_at, method, path, headers_json, status, latency_us, outcome, session_id,
                recording_id, auth_verdict, body_size) VALUES (?1, 'POST', '/', '[]', ?2, 1, 'stored', ?3, ?4, ?5, 4)",
            params![at, if verdict == "valid" { 200 } else { 401 }, session, format!("rec-{i:04}"), verdict],
        )
        .unwrap();
    }
    (dir, store)
}

#[test]
fn fast_unfiltered_pages_equal_the_general_query() {
    let (_dir, store) = seeded();
    let everything = Filter { from: Some("2000-01-01".into()), ..Filter::default() };
    for (offset, count) in [(0, 10), (10, 10), (35, 10), (0, 500)] {
        let fast = store.sessions_page(&Filter::default(), offset, count).unwrap();
        let general = store.sessions_page(&everything, offset, count).unwrap();
        assert_eq!(fast, general, "offset {offset} count {count}");
        assert_eq!(fast.total, 40);
    }
    let first = store.sessions_page(&Filter::default(), 0, 40).unwrap().items;
    assert!(first.windows(2).all(|w| w[0].last_received_at >= w[1].last_received_at), "newest first");
    assert_eq!(first.iter().map(|s| s.recording_count).sum::<u64>(), 230);
}

#[test]
fn filters_narrow_by_prefix_date_and_verdict() {
    let (_dir, store) = seeded();
    let prefix =
        store.sessions_page(&Filter { id_prefix: Some("call-01".into()), ..Filter::default() }, 0, 50).unwrap();
    assert_eq!(prefix.total, 10);
    assert!(prefix.items.iter().all(|s| s.session_id.starts_with("call-01")));
    let by_recording =
        store.sessions_page(&Filter { id_prefix: Some("rec-0007".into()), ..Filter::default() }, 0, 50).unwrap();
    assert_eq!(by_recording.items.iter().map(|s| s.session_id.as_str()).collect::<Vec<_>>(), ["call-009"]);
    let day = Filter { from: Some("2026-03-02".into()), to: Some("2026-03-02".into()), ..Filter::default() };
    let on_day = store.sessions_page(&day, 0, 50).unwrap();
    assert!(on_day.items.iter().all(|s| s.last_received_at.starts_with("2026-03-02")));
    let flagged =
        store.sessions_page(&Filter { verdict: Some(VerdictFilter::Flagged), ..Filter::default() }, 0, 50).unwrap();
    assert!(flagged.total > 0 && flagged.items.iter().all(|s| s.flagged_requests > 0));
    let requests =
        store.requests_page(&Filter { verdict: Some(VerdictFilter::Invalid), ..Filter::default() }, 0, 50).unwrap();
    assert_eq!(requests.total, 14);
    assert!(requests.items.iter().all(|r| r.status == 401));
}
