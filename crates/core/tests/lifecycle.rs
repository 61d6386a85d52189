//! Owning the captures, on a real SQLite file: a call deleted while a
//! listener stores others is gone from every list and from the file's bytes,
//! every other recording is untouched, and Undo puts it back exactly;
//! retention with a controlled clock removes exactly the calls it should and
//! skips kept ones; deleting one version leaves its request in the log
//! without the body; Compact gives free pages back.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use earshot_core::retention;
use earshot_core::{Committed, DB_FILE, DeleteTarget, Job, RetentionPolicy, SqliteStore, Store};
use tempfile::TempDir;

mod common;

/// A clock the test moves.
#[derive(Clone)]
struct TestClock(Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    fn at(time: DateTime<Utc>) -> TestClock {
        TestClock(Arc::new(Mutex::new(time)))
    }
    fn set(&self, time: DateTime<Utc>) {
        *self.0.lock().unwrap() = time;
    }
    fn clock(&self) -> earshot_core::Clock {
        let inner = self.0.clone();
        Arc::new(move || *inner.lock().unwrap())
    }
}

struct Listener {
    dir: TempDir,
    store: Store,
    url: String,
    clock: TestClock,
}

async fn listener() -> Listener {
    let dir = TempDir::new().unwrap();
    let store = common::open_store(&dir);
    let clock = TestClock::at(Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap());
    let url = common::serve(&store, clock.clock()).await;
    Listener { dir, store, url, clock }
}

/// Audio no other recording shares: 20 KB seeded by `seed`.
fn audio(seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..20_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect()
}

async fn send(url: &str, session: &str, recording: &str, audio: &[u8]) {
    common::send(url, session, recording, audio, "2026-11-01T08:59:58.000Z", "2026-11-01T08:59:59.000Z").await;
}

async fn submit(store: &Store, job: Job) -> Committed {
    store.writer().unwrap().submit(job, Instant::now()).await.unwrap()
}

fn file_holds(dir: &TempDir, needle: &[u8]) -> bool {
    [DB_FILE.to_string(), format!("{DB_FILE}-wal")].iter().any(|name| {
        std::fs::read(dir.path().join(name)).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
    })
}

fn shas(store: &Store) -> Vec<(String, String)> {
    let mut all: Vec<_> = store.recordings(None).unwrap().into_iter().map(|r| (r.recording_id, r.sha256)).collect();
    all.sort();
    all
}

common::both! {
    #[tokio::test]
    async fn a_call_deleted_while_others_arrive_leaves_no_bytes_behind_and_undo_puts_it_back_exactly() {
        let earshot = listener().await;
        for i in 0..3 {
            send(&earshot.url, "call-doomed", &format!("doomed-{i}"), &audio(i)).await;
        }
        let doomed_audio = audio(1);
        // PostgreSQL keeps deleted rows' bytes until vacuum reuses the space (docs/postgres.md).
        let sqlite = common::backend() == common::Kind::Sqlite;
        assert!(!sqlite || file_holds(&earshot.dir, &doomed_audio[..4096]), "the audio is in the file before");
        let before_requests = earshot.store.requests(100).unwrap().len();

        // Others arrive while the delete runs.
        let url = earshot.url.clone();
        let arrivals = tokio::spawn(async move {
            for i in 0..20 {
                send(&url, "call-kept", &format!("kept-{i}"), &audio(100 + i)).await;
            }
        });
        let Committed::Deleted { removed, snapshot } =
            submit(&earshot.store, Job::Delete { target: DeleteTarget::Session { session_id: "call-doomed".into() } })
                .await
        else {
            panic!("a delete answers Deleted")
        };
        arrivals.await.unwrap();
        assert_eq!((removed.calls, removed.recordings, removed.requests), (1, 3, 3));
        assert_eq!(removed.bytes, 60_000);

        let sessions: Vec<String> = earshot.store.sessions().unwrap().into_iter().map(|s| s.session_id).collect();
        assert_eq!(sessions, vec!["call-kept".to_string()], "gone from the calls list");
        assert!(earshot.store.find_recording("doomed-1", None).is_err(), "gone from find");
        assert!(
            earshot.store.requests(100).unwrap().iter().all(|r| r.session_id.as_deref() != Some("call-doomed")),
            "its request-log entries are gone"
        );
        assert!(
            !sqlite || !file_holds(&earshot.dir, &doomed_audio[..4096]),
            "the bytes are gone from the database file and its WAL"
        );
        let kept = shas(&earshot.store);
        assert_eq!(kept.len(), 20, "every other recording is there");
        for (id, sha) in &kept {
            let seed: u32 = id.trim_start_matches("kept-").parse().unwrap();
            assert_eq!(*sha, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(audio(100 + seed))), "{id} unchanged");
        }

        let Committed::Restored { restored } = submit(&earshot.store, Job::Restore { snapshot }).await else {
            panic!("a restore answers Restored")
        };
        assert_eq!((restored.recordings, restored.requests), (3, 3));
        let back = earshot.store.find_recording("doomed-1", None).unwrap();
        assert_eq!(earshot.store.audio(back.row).unwrap(), doomed_audio, "the same bytes");
        assert_eq!(earshot.store.requests(100).unwrap().len(), before_requests + 20, "its requests are back");
        let request = earshot.store.recording_detail(back.row).unwrap().request_id.unwrap();
        assert!(earshot.store.request_body(request).unwrap().is_some(), "with their bodies");
    }
}

common::both! {
    #[tokio::test]
    async fn deleting_one_version_keeps_its_request_in_the_log_without_the_body() {
        let earshot = listener().await;
        send(&earshot.url, "call-v", "rec-v", &audio(7)).await;
        send(&earshot.url, "call-v", "rec-v", &audio(8)).await;
        let first = earshot.store.find_recording("rec-v", Some(1)).unwrap();
        let request = earshot.store.recording_detail(first.row).unwrap().request_id.unwrap();
        let Committed::Deleted { removed, snapshot } =
            submit(&earshot.store, Job::Delete { target: DeleteTarget::Version { row: first.row } }).await
        else {
            panic!()
        };
        assert_eq!((removed.calls, removed.recordings, removed.requests), (0, 1, 0), "the call still has version 2");
        assert_eq!(earshot.store.find_recording("rec-v", None).unwrap().version, 2);
        assert!(earshot.store.request(request).is_ok(), "the log entry stays");
        assert_eq!(earshot.store.request_body(request).unwrap(), None, "without the body that carried the audio");
        submit(&earshot.store, Job::Restore { snapshot }).await;
        assert!(earshot.store.request_body(request).unwrap().is_some(), "undo brings the body back too");
    }
}

common::both! {
    #[tokio::test]
    async fn retention_removes_exactly_the_old_calls_and_skips_kept_ones() {
        let earshot = listener().await;
        let day = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 9, 0, 0).unwrap();
        for (d, session) in [(1, "call-nov-01"), (2, "call-nov-02"), (3, "call-nov-03"), (20, "call-nov-20")] {
            earshot.clock.set(day(d));
            send(&earshot.url, session, &format!("rec-{session}"), &audio(d)).await;
        }
        let kept = earshot.store.find_recording("rec-call-nov-02", None).unwrap();
        assert_eq!(submit(&earshot.store, Job::Pin { row: kept.row, pinned: true }).await, Committed::Pinned);

        // 10 days kept, as of Nov 21: Nov 1 and 3 go, Nov 2 is kept, Nov 20 is recent.
        earshot.clock.set(day(21));
        let policy = RetentionPolicy { days: Some(10), max_gb: None };
        let removed = retention::apply(&earshot.store, policy, &earshot.clock.clock()).await.unwrap();
        assert_eq!((removed.calls, removed.recordings), (2, 2));
        let left: Vec<String> = earshot.store.sessions().unwrap().into_iter().map(|s| s.session_id).collect();
        assert_eq!(left, vec!["call-nov-20".to_string(), "call-nov-02".to_string()]);

        // A size limit of 45 KB over 60 KB stored: the oldest unpinned call goes, whole.
        send(&earshot.url, "call-nov-21", "rec-call-nov-21", &audio(21)).await;
        let by_size = RetentionPolicy { days: None, max_gb: Some(45e3 / 1e9) };
        let removed = retention::apply(&earshot.store, by_size, &earshot.clock.clock()).await.unwrap();
        assert_eq!(removed.calls, 1, "the oldest unpinned call, whole");
        let left: Vec<String> = earshot.store.sessions().unwrap().into_iter().map(|s| s.session_id).collect();
        assert_eq!(left, vec!["call-nov-21".to_string(), "call-nov-02".to_string()]);
        let off = retention::apply(&earshot.store, RetentionPolicy::default(), &earshot.clock.clock()).await.unwrap();
        assert_eq!(off.recordings, 0, "no policy removes nothing");
    }
}

#[tokio::test]
async fn compact_gives_the_free_pages_back() {
    let earshot = listener().await;
    for i in 0..30 {
        send(&earshot.url, &format!("call-{i}"), &format!("rec-{i}"), &audio(1000 + i)).await;
    }
    submit(&earshot.store, Job::Delete { target: DeleteTarget::Before { before: "2100-01-01".into() } }).await;
    assert!(earshot.store.sessions().unwrap().is_empty());
    let Committed::Compacted { before, after } = submit(&earshot.store, Job::Compact).await else { panic!() };
    assert!(after.bytes < before.bytes || before.free_bytes == 0, "{before:?} → {after:?}");
    assert_eq!(after.free_bytes, 0, "{after:?}");
    let sqlite = SqliteStore::open(earshot.dir.path()).unwrap();
    let mode: i64 = sqlite.connect().unwrap().query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, 2, "incremental vacuum is on");
}

common::both! {
    #[tokio::test]
    async fn undo_after_new_arrivals_took_the_freed_ids_touches_none_of_them() {
        let earshot = listener().await;
        send(&earshot.url, "call-old", "rec-old", &audio(40)).await;
        let Committed::Deleted { snapshot, .. } =
            submit(&earshot.store, Job::Delete { target: DeleteTarget::Session { session_id: "call-old".into() } }).await
        else {
            panic!()
        };
        // SQLite hands the freed highest ids to what arrives next, and the same recording is resent.
        send(&earshot.url, "call-new", "rec-new", &audio(41)).await;
        send(&earshot.url, "call-old", "rec-old", &audio(42)).await;
        let newcomer = earshot.store.find_recording("rec-new", None).unwrap();
        submit(&earshot.store, Job::Restore { snapshot }).await;
        assert_eq!(earshot.store.audio(newcomer.row).unwrap(), audio(41), "the newcomer keeps its row");
        let versions: Vec<(u32, bool)> =
            earshot.store.recordings(Some("call-old")).unwrap().into_iter().map(|r| (r.version, r.conflict)).collect();
        assert_eq!(versions.len(), 2, "the resend and the restored original: {versions:?}");
        assert!(versions.contains(&(2, true)), "the restored one became the next version: {versions:?}");
        assert_eq!(earshot.store.requests(10).unwrap().len(), 3, "every request log entry is there");
    }
}

common::both! {
    #[tokio::test]
    async fn a_time_that_is_not_one_deletes_nothing_and_offsets_are_honoured() {
        let earshot = listener().await;
        send(&earshot.url, "call-t", "rec-t", &audio(50)).await; // received 2026-11-01T09:00:00.000Z
        let writer = earshot.store.writer().unwrap();
        let garbage = writer
            .submit(Job::Delete { target: DeleteTarget::Before { before: "yesterday".into() } }, Instant::now())
            .await;
        let message = garbage.unwrap_err().to_string();
        assert!(message.contains("not a time"), "{message}");
        assert_eq!(earshot.store.recordings(None).unwrap().len(), 1, "nothing deleted");
        // 10:30 at +02:00 is 08:30 UTC: before the recording, so it stays.
        let early = DeleteTarget::Before { before: "2026-11-01T10:30:00+02:00".into() };
        let Committed::Deleted { removed, .. } = submit(&earshot.store, Job::Delete { target: early }).await else {
            panic!()
        };
        assert_eq!(removed.recordings, 0);
        // Exactly its arrival second is not "before" it.
        let same = DeleteTarget::Before { before: "2026-11-01T09:00:00Z".into() };
        let Committed::Deleted { removed, .. } = submit(&earshot.store, Job::Delete { target: same }).await else {
            panic!()
        };
        assert_eq!(removed.recordings, 0);
        assert_eq!(removed.to_string(), "0 calls, 0 recordings, 0 requests, 0.0 MB");
        let missing = writer.submit(Job::Pin { row: 999, pinned: true }, Instant::now()).await.unwrap_err();
        assert!(missing.to_string().contains("no recording row 999"), "{missing}");
    }
}
