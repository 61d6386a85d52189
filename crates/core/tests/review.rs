//! QA review on a real SQLite file with a real listener: reviews saved while
//! recordings arrive are all kept, and two changes to one review at the same
//! moment both stand; reviews go with a delete, come back with Undo and ride
//! along in a bundle; a database from before analysis is caught up with
//! progress, flags included; the analyser follows new recordings.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use earshot_core::analysis::{self, ANALYZER, Analyser, Progress};
use earshot_core::bundle::{self, Selection};
use earshot_core::{Committed, DeleteTarget, Job, Marker, ReviewChange, SqliteStore, Store, Verdict};
use tempfile::TempDir;

mod common;

async fn listener(dir: &TempDir) -> (Store, String) {
    let store = Store::open(dir.path()).unwrap();
    let url = common::serve(&store, earshot_core::system_clock()).await;
    (store, url)
}

/// 2.5 s of a 300 Hz tone as μ-law, a little different per `seed` (so each is a new recording).
fn tone(seed: u32) -> Vec<u8> {
    (0..20_000u32)
        .map(|n| {
            let s = (n as f32 * 2.0 * std::f32::consts::PI * 300.0 / 8000.0).sin() * 8000.0 + (seed % 7) as f32;
            earshot_audio::mulaw::encode(s as i16)
        })
        .collect()
}

/// Sends one recording whose metadata promises `span_s` seconds.
async fn send(url: &str, session: &str, recording: &str, audio: &[u8], span_s: f64) {
    let stop = chrono::DateTime::parse_from_rfc3339("2026-11-01T09:00:10.000Z").unwrap();
    let start = stop - chrono::Duration::milliseconds((span_s * 1000.0) as i64);
    let stamp = |t: chrono::DateTime<chrono::FixedOffset>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    common::send(url, session, recording, audio, &stamp(start), &stamp(stop)).await;
}

async fn review(store: &Store, row: i64, change: ReviewChange) -> earshot_core::Review {
    let job = Job::Review { row, change, now: "2026-11-01T10:00:00.000Z".into() };
    match store.writer().unwrap().submit(job, Instant::now()).await.unwrap() {
        Committed::Reviewed(review) => *review,
        other => panic!("a review answers Reviewed, not {other:?}"),
    }
}

fn row_of(store: &Store, recording_id: &str) -> i64 {
    store.find_recording(recording_id, None).unwrap().row
}

#[tokio::test]
async fn reviews_saved_while_recordings_arrive_are_all_kept_and_concurrent_changes_merge() {
    let dir = TempDir::new().unwrap();
    let (store, url) = listener(&dir).await;
    for i in 0..10 {
        send(&url, "call-a", &format!("first-{i}"), &tone(i), 2.5).await;
    }
    let arrivals = {
        let url = url.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                send(&url, "call-b", &format!("later-{i}"), &tone(100 + i), 2.5).await;
            }
        })
    };
    // Two "apps" change each of the first ten at once: one the verdict and a tag, the other a tag and a marker.
    let mut changes = Vec::new();
    for i in 0..10 {
        let row = row_of(&store, &format!("first-{i}"));
        let verdict = if i % 2 == 0 { Verdict::Pass } else { Verdict::Fail };
        let (a, b) = (store.clone(), store.clone());
        changes.push(tokio::spawn(async move {
            review(&a, row, ReviewChange { verdict: Some(verdict), add_tags: vec!["app".into()], ..Default::default() })
                .await
        }));
        changes.push(tokio::spawn(async move {
            let marker = Marker { start_ms: 100 * i as u64, end_ms: Some(900), text: format!("cut {i}") };
            review(
                &b,
                row,
                ReviewChange { add_tags: vec!["cli".into()], add_markers: vec![marker], ..Default::default() },
            )
            .await
        }));
    }
    for change in changes {
        change.await.unwrap();
    }
    arrivals.await.unwrap();

    let recordings = store.recordings(None).unwrap();
    assert_eq!(recordings.len(), 50, "every recording stored while reviews were written");
    for i in 0..10 {
        let r = recordings.iter().find(|r| r.recording_id == format!("first-{i}")).unwrap();
        let expected = if i % 2 == 0 { Verdict::Pass } else { Verdict::Fail };
        assert_eq!(r.review.verdict, expected, "first-{i}");
        assert_eq!(r.review.tags, ["app", "cli"], "first-{i}: both changes kept");
        assert_eq!(r.review.markers.len(), 1, "first-{i}");
        assert_eq!(r.review.markers[0].text, format!("cut {i}"));
    }
    let calls = store.sessions().unwrap();
    let a = calls.iter().find(|s| s.session_id == "call-a").unwrap();
    assert_eq!((a.reviewed, a.failed), (10, 5));
    let b = calls.iter().find(|s| s.session_id == "call-b").unwrap();
    assert_eq!((b.reviewed, b.failed), (0, 0));
    let tags: Vec<(String, u64)> = store.tags().unwrap().into_iter().map(|t| (t.tag, t.uses)).collect();
    assert_eq!(tags, [("app".to_string(), 10), ("cli".to_string(), 10)]);
    // A review of a recording that is not there is refused, and adds nothing.
    let refused = store
        .writer()
        .unwrap()
        .submit(Job::Review { row: 9_999, change: ReviewChange::default(), now: "t".into() }, Instant::now())
        .await;
    assert!(refused.unwrap_err().to_string().contains("no recording row 9999"));
}

#[tokio::test]
async fn reviews_go_with_a_delete_come_back_with_undo_and_ride_along_in_a_bundle() {
    let dir = TempDir::new().unwrap();
    let (store, url) = listener(&dir).await;
    send(&url, "call-r", "judged", &tone(1), 2.5).await;
    let row = row_of(&store, "judged");
    let change = ReviewChange {
        verdict: Some(Verdict::FollowUp),
        note: Some("ask, \"twice\"\nthen check".into()),
        add_tags: vec!["echo".into()],
        add_markers: vec![Marker::parse("0.5-1.5=garbled").unwrap()],
        ..Default::default()
    };
    let reviewed = review(&store, row, change).await;

    let Committed::Deleted { snapshot, .. } = store
        .writer()
        .unwrap()
        .submit(Job::Delete { target: DeleteTarget::Session { session_id: "call-r".into() } }, Instant::now())
        .await
        .unwrap()
    else {
        panic!("a delete answers Deleted")
    };
    let raw = SqliteStore::open(dir.path()).unwrap().connect().unwrap();
    let left: i64 = raw.query_row("SELECT COUNT(*) FROM reviews", [], |r| r.get(0)).unwrap();
    assert_eq!(left, 0, "the review went with its recording");
    store.writer().unwrap().submit(Job::Restore { snapshot }, Instant::now()).await.unwrap();
    assert_eq!(store.find_recording("judged", None).unwrap().review, reviewed, "Undo brings the review back");

    let file = dir.path().join("call.earshot");
    bundle::export_to(&store, &Selection::default(), &file, chrono::Utc::now()).unwrap();
    let other = TempDir::new().unwrap();
    let target = Store::open(other.path()).unwrap();
    bundle::import_from(&target, &file).await.unwrap();
    assert_eq!(target.find_recording("judged", None).unwrap().review, reviewed, "the bundle carries the review");
    // Imported again, nothing doubles; a review made on this side stays.
    let here = row_of(&target, "judged");
    review(&target, here, ReviewChange { verdict: Some(Verdict::Pass), ..Default::default() }).await;
    bundle::import_from(&target, &file).await.unwrap();
    let after = target.find_recording("judged", None).unwrap().review;
    assert_eq!(after.verdict, Verdict::Pass);
    assert_eq!(after.markers, reviewed.markers);
}

#[tokio::test]
async fn a_database_from_before_analysis_is_caught_up_with_progress_and_the_analyser_follows_new_ones() {
    let dir = TempDir::new().unwrap();
    let (store, url) = listener(&dir).await;
    for i in 0..40 {
        send(&url, "call-old", &format!("old-{i}"), &tone(i), 2.5).await;
    }
    // 2.5 s of audio where the metadata promises 10 s: truncated.
    send(&url, "call-old", "short", &tone(99), 10.0).await;
    // What a database written before analysis existed looks like.
    SqliteStore::open(dir.path()).unwrap().connect().unwrap().execute("DELETE FROM analyses", []).unwrap();
    assert_eq!(store.unanalysed(ANALYZER, 0).unwrap().1, 41);

    let seen = Arc::new(Mutex::new(Vec::<Progress>::new()));
    let record = seen.clone();
    let caught = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || analysis::catch_up(&store, &move |p| record.lock().unwrap().push(p)))
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(caught, 41);
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 2, "progress after each batch: {seen:?}");
    assert_eq!(seen.last(), Some(&Progress { done: 41, total: 41 }));
    assert!(seen.windows(2).all(|w| w[0].done < w[1].done), "{seen:?}");
    let recordings = store.recordings(None).unwrap();
    assert!(recordings.iter().all(|r| r.analysis.is_some()));
    let short = recordings.iter().find(|r| r.recording_id == "short").unwrap().analysis.clone().unwrap();
    assert_eq!(short.expected_duration_ms, Some(10_000));
    assert!(short.flags.contains(&earshot_audio::Flag::Truncated), "{short:?}");
    let normal = recordings.iter().find(|r| r.recording_id == "old-0").unwrap().analysis.clone().unwrap();
    assert!(normal.flags.is_empty(), "{normal:?}");
    assert!(normal.measures.speech_ratio > 0.5, "a steady tone reads as voiced: {normal:?}");
    let again = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || analysis::catch_up(&store, &|_| {})).await.unwrap().unwrap()
    };
    assert_eq!(again, 0, "computed once");

    let _analyser = Analyser::start(store.clone(), Arc::new(|_| {}));
    send(&url, "call-new", "fresh", &tone(7), 2.5).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.find_recording("fresh", None).unwrap().analysis.is_none() {
        assert!(Instant::now() < deadline, "the analyser did not reach the new recording");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
