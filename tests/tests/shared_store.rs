//! The shared store with real processes and a real PostgreSQL server: two
//! `earshot serve` on one database under a burst split between them, one
//! killed with `kill -9` mid-burst; the same recording id reaching both at
//! the same moment; the database restarted under a running listener; and
//! `earshot store migrate` from a SQLite data dir, run twice.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use earshot_core::sample::{self, CallIds, Packaging};
use earshot_core::{Store, StoreUrl};
use earshot_tests::postgres::PgServer;
use earshot_tests::{Server, noise as audio, run_ok};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

async fn upload(client: &reqwest::Client, url: &str, id: &str, audio: &[u8]) -> Option<u16> {
    let ids = CallIds {
        assistant_id: "assistant".into(),
        environment_id: "environment".into(),
        session_id: format!("session-{}", &id[..id.len().min(8)]),
        recording_id: id.into(),
    };
    let built = sample::delivery(&ids, audio, Packaging::Raw, 1000, Utc::now(), "shared-boundary");
    let response = client.post(url).header("content-type", built.content_type).body(built.body).send().await.ok()?;
    Some(response.status().as_u16())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// A listener on the shared store `url`, with its own (empty) data dir.
fn listener(dir: &TempDir, name: &str, url: &str) -> Server {
    Server::start(&dir.path().join(name), &["--auth", "off", "--store", url])
}

/// Every version stored per recording id: `id → [(version, sha256)]`, each row's bytes checked against its sha256.
fn stored(url: &str) -> HashMap<String, Vec<(u32, String)>> {
    let store = Store::open_url(&StoreUrl::Postgres(url.to_string())).unwrap();
    let mut found: HashMap<String, Vec<(u32, String)>> = HashMap::new();
    for r in store.recordings(None).unwrap() {
        let bytes = store.audio(r.row).unwrap();
        assert_eq!(hex::encode(Sha256::digest(&bytes)), r.sha256, "{} v{} bytes differ", r.recording_id, r.version);
        found.entry(r.recording_id).or_default().push((r.version, r.sha256));
    }
    for versions in found.values_mut() {
        versions.sort();
    }
    found
}

#[test]
fn two_listeners_one_killed_mid_burst_keep_every_acknowledged_recording_exactly_once() {
    const UPLOADS: usize = 600;
    const KILL_AFTER: usize = 150;
    let Some(pg) = PgServer::start() else { return };
    let url = pg.database();
    let dir = TempDir::new().unwrap();
    let mut a = listener(&dir, "a", &url);
    let b = listener(&dir, "b", &url);
    let targets = [a.url("/audio-webhook"), b.url("/audio-webhook")];
    let acked = Arc::new(AtomicUsize::new(0));
    let (kill_tx, kill_rx) = std::sync::mpsc::channel::<()>();
    let pid = a.pid();
    let killer = std::thread::spawn(move || {
        kill_rx.recv().ok()?;
        Some(Command::new("kill").args(["-9", &pid.to_string()]).status().is_ok_and(|s| s.success()))
    });
    let outcomes: Vec<(String, String, Option<u16>)> = runtime().block_on(async {
        let client = reqwest::Client::new();
        futures_util::stream::iter(0..UPLOADS)
            .map(|i| {
                let (client, target, acked, kill_tx) =
                    (client.clone(), targets[i % 2].clone(), acked.clone(), kill_tx.clone());
                async move {
                    let id = format!("burst-{i:04}");
                    let bytes = audio(i, 4000 + i * 37 % 9000);
                    let status = upload(&client, &target, &id, &bytes).await;
                    if status == Some(200) && acked.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                        let _ = kill_tx.send(());
                    }
                    (id, hex::encode(Sha256::digest(&bytes)), status)
                }
            })
            .buffer_unordered(32)
            .collect()
            .await
    });
    drop(kill_tx);
    assert_eq!(killer.join().unwrap(), Some(true), "listener a was killed with kill -9");
    a.kill();
    let acknowledged: Vec<_> = outcomes.iter().filter(|(_, _, s)| *s == Some(200)).collect();
    assert!(outcomes.iter().all(|(_, _, s)| matches!(s, None | Some(200))), "an upload got an error status");
    let to_b = acknowledged.iter().filter(|(id, _, _)| id[6..].parse::<usize>().unwrap() % 2 == 1).count();
    assert!(acknowledged.len() > KILL_AFTER && to_b >= UPLOADS / 2 - 1, "b kept storing after a was killed");
    let stored = stored(&url);
    for (id, sha, _) in &acknowledged {
        assert_eq!(stored.get(id.as_str()), Some(&vec![(1, sha.clone())]), "{id}: acknowledged, so stored once");
    }
    drop(b);
}

#[test]
fn the_same_recording_id_at_both_listeners_at_once_is_one_row_or_two_versions() {
    const IDS: usize = 24;
    let Some(pg) = PgServer::start() else { return };
    let url = pg.database();
    let dir = TempDir::new().unwrap();
    let a = listener(&dir, "a", &url);
    let b = listener(&dir, "b", &url);
    let (to_a, to_b) = (a.url("/audio-webhook"), b.url("/audio-webhook"));
    let statuses: Vec<(Option<u16>, Option<u16>)> = runtime().block_on(async {
        let client = reqwest::Client::new();
        futures_util::stream::iter(0..IDS * 2)
            .map(|i| {
                let (client, to_a, to_b) = (client.clone(), to_a.clone(), to_b.clone());
                async move {
                    // Even: the same bytes to both; odd: different bytes under the same id.
                    let id = format!("race-{i:03}");
                    let first = audio(i, 6000);
                    let second = if i % 2 == 0 { first.clone() } else { audio(i + 1000, 6000) };
                    tokio::join!(upload(&client, &to_a, &id, &first), upload(&client, &to_b, &id, &second))
                }
            })
            .buffer_unordered(16)
            .collect()
            .await
    });
    assert!(statuses.iter().all(|s| *s == (Some(200), Some(200))), "both listeners answer 200: {statuses:?}");
    let stored = stored(&url);
    for i in 0..IDS * 2 {
        let versions = &stored[&format!("race-{i:03}")];
        let numbers: Vec<u32> = versions.iter().map(|(v, _)| *v).collect();
        if i % 2 == 0 {
            assert_eq!(numbers, vec![1], "race-{i:03}: the same bytes twice are one row");
        } else {
            assert_eq!(numbers, vec![1, 2], "race-{i:03}: different bytes are versions 1 and 2");
            assert_ne!(versions[0].1, versions[1].1);
        }
    }
}

#[test]
fn a_database_restarted_under_a_running_listener_gives_503_while_down_and_recovers() {
    let Some(pg) = PgServer::start() else { return };
    let url = pg.database();
    let dir = TempDir::new().unwrap();
    let server = listener(&dir, "a", &url);
    let target = server.url("/audio-webhook");
    let rt = runtime();
    let client = reqwest::Client::new();
    assert_eq!(rt.block_on(upload(&client, &target, "before-down", &audio(1, 3000))), Some(200));
    pg.stop();
    let down = rt.block_on(upload(&client, &target, "while-down", &audio(2, 3000)));
    assert_eq!(down, Some(503), "nothing can be stored, so nothing is acknowledged");
    pg.start_again();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match rt.block_on(upload(&client, &target, "after-restart", &audio(3, 3000))) {
            Some(200) => break,
            other => assert!(Instant::now() < deadline, "no recovery within 20 s (last answer {other:?})"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("stored again after {attempt} attempt(s)");
    let stored = stored(&url);
    assert!(stored.contains_key("before-down") && stored.contains_key("after-restart"));
    assert!(!stored.contains_key("while-down"), "a 503 stored nothing");
}

#[test]
fn store_migrate_moves_every_version_request_and_keep_once() {
    let Some(pg) = PgServer::shared() else { return };
    let url = pg.database();
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("local");
    {
        let server = Server::start(&data, &["--auth", "off"]);
        let target = server.url("/audio-webhook");
        let rt = runtime();
        let client = reqwest::Client::new();
        for i in 0..12 {
            assert_eq!(rt.block_on(upload(&client, &target, &format!("mig-{i:02}"), &audio(i, 2000))), Some(200));
        }
        // A second version, a duplicate and a refused request.
        assert_eq!(rt.block_on(upload(&client, &target, "mig-03", &audio(99, 2000))), Some(200));
        assert_eq!(rt.block_on(upload(&client, &target, "mig-04", &audio(4, 2000))), Some(200));
        let refused = rt.block_on(client.post(&target).body("not multipart").send()).unwrap();
        assert_eq!(refused.status().as_u16(), 415);
    }
    run_ok(&data, &["keep", "mig-05"]);
    let local = Store::open(&data).unwrap();
    let from = format!("sqlite:{}", data.display());
    let first = run_ok(&data, &["store", "migrate", "--from", &from, "--to", &url, "--json"]);
    let summary: serde_json::Value = serde_json::from_str(first.trim()).unwrap();
    assert_eq!(summary["recordings_added"], 13, "{summary}");
    assert_eq!(summary["requests_added"], local.requests(500).unwrap().len(), "{summary}");
    assert!(!first.contains("s3cret"));
    let again = run_ok(&data, &["store", "migrate", "--from", &from, "--to", &url, "--json"]);
    let again: serde_json::Value = serde_json::from_str(again.trim()).unwrap();
    assert_eq!((again["recordings_added"].as_u64(), again["requests_added"].as_u64()), (Some(0), Some(0)), "{again}");
    assert_eq!(again["recordings_skipped"], 13);

    let shared = Store::open_url(&StoreUrl::Postgres(url.clone())).unwrap();
    let view = |store: &Store| {
        let mut rows: Vec<_> = store
            .recordings(None)
            .unwrap()
            .into_iter()
            .map(|r| (r.recording_id, r.version, r.sha256, r.pinned, r.received_at))
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(view(&shared), view(&local), "every version, hash, Keep and time, once");
    let log = |store: &Store| {
        let mut entries: Vec<_> = store
            .requests(500)
            .unwrap()
            .into_iter()
            .map(|q| (q.received_at, q.status, q.outcome, q.body_size))
            .collect();
        entries.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        entries
    };
    assert_eq!(log(&shared), log(&local), "the request log, refused request included");
    let v2 = shared.find_recording("mig-03", Some(2)).unwrap();
    assert_eq!(
        shared.request_body(shared.recording_detail(v2.row).unwrap().request_id.unwrap()).unwrap().map(|b| b.len()),
        local
            .request_body(
                local
                    .recording_detail(local.find_recording("mig-03", Some(2)).unwrap().row)
                    .unwrap()
                    .request_id
                    .unwrap()
            )
            .unwrap()
            .map(|b| b.len()),
        "the delivering request's body rebuilds on the shared store"
    );
}
