//! Paged lists for the desktop: the fast unfiltered path and the general
//! filtered query must describe the same calls, and filters must narrow.

use earshot_core::{Filter, Store, StoreUrl, VerdictFilter};

mod common;

use common::Kind;
use common::postgres::PgServer;

/// 230 recordings in 40 calls (and a request each), written straight into a
/// fresh store of the test's backend.
fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::TempDir::new().unwrap();
    let url = common::store_url(&dir);
    let store = Store::open_url(&url).unwrap();
    let audio = match common::backend() {
        Kind::Sqlite => "x'ffffffff'",
        Kind::Postgres => "'\\xffffffff'::bytea",
    };
    let (mut recordings, mut requests) = (Vec::new(), Vec::new());
    for i in 0..230 {
        // Calls interleave in time so "newest first" is not insertion order.
        let session = format!("call-{:03}", (i * 7) % 40);
        let at = format!("2026-03-{:02}T10:{:02}:{:02}.000Z", 1 + i % 20, i % 60, (i * 13) % 60);
        let (verdict, status) = if i % 17 == 0 { ("invalid", 401) } else { ("valid", 200) };
        recordings.push(format!(
            "('rec-{i:04}', 1, 0, '{session}', 'a', 'e', '{at}', '{at}', '{at}', '{{}}', '/', 'raw', 'mulaw',
              8000, 1, 4, 0, 0, 4, 4, 's', '{verdict}', {audio})"
        ));
        requests.push(format!(
            "('{at}', 'POST', '/', '[]', {status}, 1, 'stored', '{session}', 'rec-{i:04}', '{verdict}', 4)"
        ));
    }
    let sql = format!(
        "INSERT INTO recordings (recording_id, version, conflict, session_id, assistant_id, environment_id,
            start_timestamp, stop_timestamp, received_at, metadata_json, path, container, encoding, sample_rate,
            channels, sample_count, duration_ms, data_offset, data_len, size_bytes, sha256, auth_verdict, audio)
         VALUES {};
         INSERT INTO requests (received_at, method, path, headers_json, status, latency_us, outcome, session_id,
            recording_id, auth_verdict, body_size)
         VALUES {};",
        recordings.join(",\n"),
        requests.join(",\n")
    );
    match url {
        StoreUrl::Sqlite(path) => {
            earshot_core::SqliteStore::open(&path).unwrap().connect().unwrap().execute_batch(&sql).unwrap()
        }
        StoreUrl::Postgres(url) => drop(PgServer::shared().unwrap().psql(PgServer::name_of(&url), &sql)),
    }
    (dir, store)
}

common::both! {
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
    let past_the_end = store.sessions_page(&Filter::default(), 45, 10).unwrap();
    assert_eq!((past_the_end.items.len(), past_the_end.total), (0, 40));
}
}

common::both! {
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
}
