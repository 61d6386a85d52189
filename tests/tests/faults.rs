//! Crash and fault safety with real processes: `kill -9` during a burst of
//! uploads, a full and a read-only disk under a running listener, and two
//! listener processes plus CLI readers sharing one database.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Utc;
use earshot_core::sample::{self, CallIds, Packaging};
use earshot_core::{Backend, SqliteStore};
use earshot_tests::{Server, Tmpfs, noise as audio, run_ok, skip};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// A watsonx-shaped body for recording `id`: `(content type, body, sha256 of the audio)`.
fn delivery(id: &str, audio: &[u8]) -> (String, Vec<u8>, String) {
    let ids = CallIds {
        assistant_id: "assistant".into(),
        environment_id: "environment".into(),
        session_id: format!("session-{}", &id[..id.len().min(6)]),
        recording_id: id.into(),
    };
    let built = sample::delivery(&ids, audio, Packaging::Raw, 1000, Utc::now(), "fault-boundary");
    (built.content_type, built.body, hex::encode(Sha256::digest(audio)))
}

async fn upload(client: &reqwest::Client, url: &str, id: &str, audio: &[u8]) -> Result<(u16, String), reqwest::Error> {
    let (content_type, body, _) = delivery(id, audio);
    let response = client.post(url).header("content-type", content_type).body(body).send().await?;
    let status = response.status().as_u16();
    Ok((status, response.text().await?))
}

/// Every stored row's audio matches its recorded size and hash, and SQLite finds no damage.
fn assert_consistent(store: &SqliteStore) -> HashMap<String, String> {
    let conn = store.connect().unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let mut found = HashMap::new();
    for recording in store.recordings(None).unwrap() {
        let bytes = store.audio(recording.row).unwrap();
        assert_eq!(bytes.len() as u64, recording.size_bytes, "{} is half-written", recording.recording_id);
        assert_eq!(hex::encode(Sha256::digest(&bytes)), recording.sha256, "{} bytes differ", recording.recording_id);
        found.insert(recording.recording_id, recording.sha256);
    }
    found
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn kill_9_during_1000_uploads_keeps_every_acknowledged_recording() {
    const UPLOADS: usize = 1000;
    const KILL_AFTER: usize = 250;
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start(&data, &["--auth", "off"]);
    let url = server.url("/audio-webhook");
    let acked = Arc::new(AtomicUsize::new(0));
    let (kill_tx, kill_rx) = std::sync::mpsc::channel::<()>();
    let killer = {
        let pid = server.pid();
        std::thread::spawn(move || {
            kill_rx.recv().ok()?;
            Some(Command::new("kill").args(["-9", &pid.to_string()]).status().is_ok_and(|s| s.success()))
        })
    };
    let outcomes: Vec<(String, String, Option<u16>)> = runtime().block_on(async {
        let client = reqwest::Client::new();
        futures_util::stream::iter(0..UPLOADS)
            .map(|i| {
                let (client, url, acked, kill_tx) = (client.clone(), url.clone(), acked.clone(), kill_tx.clone());
                async move {
                    let id = format!("crash-{i:04}");
                    let bytes = audio(i, 4000 + i * 37 % 9000);
                    let sha = hex::encode(Sha256::digest(&bytes));
                    let status = match upload(&client, &url, &id, &bytes).await {
                        Ok((status, _)) => Some(status),
                        Err(_) => None,
                    };
                    if status == Some(200) && acked.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                        let _ = kill_tx.send(());
                    }
                    (id, sha, status)
                }
            })
            .buffer_unordered(32)
            .collect()
            .await
    });
    drop(kill_tx);
    // The kill happens as soon as the 250th acknowledgement arrives, with 31 uploads still in flight.
    let killed = killer.join().expect("the kill thread");
    assert_eq!(killed, Some(true), "kill -9 of the listener was asked for and succeeded");
    server.kill();
    let acknowledged: Vec<_> = outcomes.iter().filter(|(_, _, s)| *s == Some(200)).collect();
    let failed = outcomes.iter().filter(|(_, _, s)| s.is_none()).count();
    assert!(acknowledged.len() >= KILL_AFTER, "only {} uploads were acknowledged", acknowledged.len());
    assert!(
        outcomes.iter().all(|(_, _, s)| matches!(s, None | Some(200))),
        "an upload got an error status before the kill"
    );
    eprintln!("acknowledged {} of {UPLOADS}, {failed} cut off by the kill", acknowledged.len());

    let restarted = Server::start(&data, &["--auth", "off"]);
    let store = SqliteStore::open(&data).unwrap();
    let stored = assert_consistent(&store);
    for (id, sha, _) in &acknowledged {
        assert_eq!(stored.get(id.as_str()), Some(sha), "{id} was acknowledged with 200 but is missing or differs");
    }
    let later =
        runtime().block_on(upload(&reqwest::Client::new(), &restarted.url("/"), "after-restart", &audio(1, 2000)));
    assert_eq!(later.unwrap().0, 200, "the restarted listener stores again");
}

#[test]
fn full_or_read_only_disk_answers_503_damages_nothing_and_recovers() {
    let dir = TempDir::new().unwrap();
    let mount = dir.path().join("small");
    let Some(disk) = Tmpfs::mount(&mount, "24m") else {
        // CI runs as root, where this mounts; a developer without root sees a skip.
        skip("mounting a tmpfs needs root");
        return;
    };
    let data = mount.join("data");
    let server = Server::start(&data, &["--auth", "off"]);
    let url = server.url("/audio-webhook");
    let rt = runtime();
    let client = reqwest::Client::new();
    let mut expected = HashMap::new();
    for i in 0..5 {
        let bytes = audio(i, 20_000);
        let id = format!("before-{i}");
        assert_eq!(rt.block_on(upload(&client, &url, &id, &bytes)).unwrap().0, 200);
        expected.insert(id, hex::encode(Sha256::digest(&bytes)));
    }

    // Disk full: a ballast file takes every free block.
    let ballast = disk.fill();
    let big = audio(99, 4 * 1024 * 1024);
    let (status, body) = rt.block_on(upload(&client, &url, "while-full", &big)).unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("store_unavailable") && body.contains("full"), "{body}");
    std::fs::remove_file(&ballast).unwrap();
    let (status, body) = rt.block_on(upload(&client, &url, "after-full", &big)).unwrap();
    assert_eq!(status, 200, "recovers once space returns: {body}");
    expected.insert("after-full".into(), hex::encode(Sha256::digest(&big)));

    // Read-only: a filesystem cannot be remounted read-only while the
    // listener holds its files open for writing, so the listener restarts
    // on the read-only disk (it can still read) and must refuse to store.
    drop(server);
    disk.remount("ro");
    let server = Server::start(&data, &["--auth", "off"]);
    let small = audio(7, 3000);
    let (status, body) = rt.block_on(upload(&client, &server.url("/"), "while-read-only", &small)).unwrap();
    drop(server);
    disk.remount("rw");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("store_unavailable") && body.contains("readonly"), "{body}");
    let server = Server::start(&data, &["--auth", "off"]);
    let (status, body) = rt.block_on(upload(&client, &server.url("/"), "after-read-only", &small)).unwrap();
    assert_eq!(status, 200, "recovers once writable: {body}");
    expected.insert("after-read-only".into(), hex::encode(Sha256::digest(&small)));

    drop(server);
    let stored = assert_consistent(&SqliteStore::open(&data).unwrap());
    for (id, sha) in &expected {
        assert_eq!(stored.get(id), Some(sha), "{id}");
    }
    assert!(!stored.contains_key("while-full") && !stored.contains_key("while-read-only"));
}

#[test]
fn two_listeners_and_cli_readers_share_one_database_without_lock_errors() {
    const UPLOADS: usize = 300;
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let first = Server::start(&data, &["--auth", "off"]);
    let second = Server::start(&data, &["--auth", "off"]);
    let urls = [first.url("/a"), second.url("/b")];
    let stop = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (data, stop) = (data.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut reads = 0;
                while stop.load(Ordering::SeqCst) == 0 {
                    run_ok(&data, &["recordings", "--json"]);
                    run_ok(&data, &["requests", "--json"]);
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    let statuses: Vec<(u16, String)> = runtime().block_on(async {
        let client = reqwest::Client::new();
        futures_util::stream::iter(0..UPLOADS)
            .map(|i| {
                let (client, url) = (client.clone(), urls[i % 2].clone());
                async move { upload(&client, &url, &format!("shared-{i:03}"), &audio(i, 8000)).await.unwrap() }
            })
            .buffer_unordered(16)
            .collect()
            .await
    });
    stop.store(1, Ordering::SeqCst);
    let reads: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    let failures: Vec<_> = statuses.iter().filter(|(s, _)| *s != 200).collect();
    assert!(failures.is_empty(), "{} uploads failed, e.g. {:?}", failures.len(), failures.first());
    assert!(reads > 0, "the CLI readers ran");
    let stored = assert_consistent(&SqliteStore::open(&data).unwrap());
    assert_eq!(stored.len(), UPLOADS);
}
