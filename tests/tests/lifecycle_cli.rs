//! Owning the captures from the command line, with real processes:
//! `earshot delete` says what goes and refuses to act unasked when there is
//! no terminal; a deleted call is gone from every list while the listener
//! keeps running; `--before` takes exactly what arrived earlier; one version
//! or every version of a recording; `keep` survives retention; `compact`
//! reports the file's real size; and call bundles carry every recording byte
//! for byte between two data dirs, import idempotently, and a damaged one is
//! refused with nothing added.

use std::path::Path;
use std::process::Stdio;

use earshot_tests::{Server, earshot, earshot_bin, run, run_ok, skip};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const SECRET: &str = "lifecycle cli secret";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn send(data: &Path, server: &Server, session: &str, count: u32) {
    let url = server.url("/audio-webhook");
    let sent = run_ok(data, &["send", &url, "--secret", SECRET, "--session", session, "--count", &count.to_string()]);
    assert_eq!(sent.lines().filter(|l| l.starts_with("200 ")).count(), count as usize, "{sent}");
}

fn recordings(data: &Path) -> Vec<Value> {
    json(&run_ok(data, &["recordings", "--json"])).as_array().unwrap().clone()
}

/// Session ids of `earshot sessions --json`, sorted.
fn sessions(data: &Path) -> Vec<String> {
    let listed = json(&run_ok(data, &["sessions", "--json"]));
    let mut ids: Vec<String> =
        listed.as_array().unwrap().iter().map(|s| s["session_id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

/// (id, session) of every entry of `earshot requests --json`.
fn requests(data: &Path) -> Vec<(i64, Option<String>)> {
    let listed = json(&run_ok(data, &["requests", "--json", "--limit", "10000"]));
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["id"].as_i64().unwrap(), q["session_id"].as_str().map(str::to_string)))
        .collect()
}

/// (recording_id, version, sha256) of every recording, sorted.
fn shas(data: &Path) -> Vec<(String, u64, String)> {
    let mut all: Vec<_> = recordings(data)
        .iter()
        .map(|r| {
            (
                r["recording_id"].as_str().unwrap().to_string(),
                r["version"].as_u64().unwrap(),
                r["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    all.sort();
    all
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn deleting_a_call_with_yes_takes_its_recordings_and_requests_out_of_every_list_while_the_listener_runs() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--secret", SECRET]);
    send(&data, &server, "call-doomed", 2);
    send(&data, &server, "call-kept", 1);
    let kept_before: Vec<Value> = recordings(&data).into_iter().filter(|r| r["session_id"] == "call-kept").collect();
    assert_eq!(kept_before.len(), 1);

    let output = run(&data, &["delete", "--session", "call-doomed", "--yes", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        json(&stdout(&output))["removed"],
        serde_json::json!({"calls": 1, "recordings": 2, "requests": 2, "bytes": 40_000}),
        "two 2.5 s recordings of 8 kHz μ-law and the two requests that carried them"
    );
    assert!(
        stderr(&output).contains("would delete call call-doomed: 1 call, 2 recordings, 2 requests, 40.0 KB"),
        "the preview goes to stderr with --json: {}",
        stderr(&output)
    );

    assert_eq!(sessions(&data), ["call-kept"]);
    let left = requests(&data);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left.iter().all(|(_, s)| s.as_deref() == Some("call-kept")), "{left:?}");
    assert_eq!(recordings(&data), kept_before, "the other call's recording is untouched");

    // The listener still stores after the delete.
    send(&data, &server, "call-after", 1);
    assert_eq!(sessions(&data), ["call-after", "call-kept"]);

    // The human form says the same thing before and after.
    let said = run_ok(&data, &["delete", "--session", "call-after", "--yes"]);
    assert_eq!(
        said.lines().collect::<Vec<_>>(),
        [
            "would delete call call-after: 1 call, 1 recording, 1 request, 20.0 KB",
            "deleted 1 call, 1 recording, 1 request, 20.0 KB"
        ]
    );
}

#[test]
fn without_yes_and_without_a_terminal_delete_refuses_and_deletes_nothing() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--secret", SECRET]);
    send(&data, &server, "call-one", 2);
    let before = (shas(&data), requests(&data));
    let recording = recordings(&data)[0]["recording_id"].as_str().unwrap().to_string();

    for args in [
        vec!["delete", "--session", "call-one"],
        vec!["delete", recording.as_str()],
        vec!["delete", "--before", "2999-01-01", "--json"],
        vec!["delete", "--older-than", "0h"],
    ] {
        // stdin is not a terminal here (output() gives the child none), and even a "y" piped in is no answer.
        for piped in [false, true] {
            let mut command = earshot(&data);
            command.args(&args).stdout(Stdio::piped()).stderr(Stdio::piped());
            command.stdin(if piped { Stdio::piped() } else { Stdio::null() });
            let mut child = command.spawn().unwrap();
            if let Some(mut stdin) = child.stdin.take() {
                use std::io::Write;
                let _ = stdin.write_all(b"y\n");
            }
            let output = child.wait_with_output().unwrap();
            assert!(!output.status.success(), "{args:?} without --yes must fail: {}", stdout(&output));
            assert!(
                stderr(&output).contains("stdin is not a terminal") && stderr(&output).contains("--yes"),
                "{args:?}: {}",
                stderr(&output)
            );
            assert!(
                format!("{}{}", stdout(&output), stderr(&output)).contains("would delete"),
                "it still says what would go: {}",
                stdout(&output)
            );
            assert_eq!((shas(&data), requests(&data)), before, "{args:?} deleted something");
        }
    }
}

/// `earshot ARGS` on a pseudo-terminal (util-linux `script`), with `answer` typed in.
fn on_a_terminal(data: &Path, args: &str, answer: &str) -> std::process::Output {
    use std::io::Write;
    let command = format!("'{}' {args}", earshot_bin().display());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("EARSHOT_DATA_DIR", data)
        .env("EARSHOT_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn on_a_terminal_delete_asks_what_it_will_take_and_only_yes_deletes() {
    if std::process::Command::new("script").arg("--version").output().is_err() {
        return skip("util-linux `script` (a pseudo-terminal) is not installed");
    }
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--secret", SECRET]);
    send(&data, &server, "call-asked", 1);
    let question = "Delete call call-asked (1 call, 1 recording, 1 request, 20.0 KB)? [y/N]";

    for answer in ["n\n", "\n", "whatever\n"] {
        let output = on_a_terminal(&data, "delete --session call-asked", answer);
        let shown = stdout(&output);
        assert!(shown.contains(question), "{answer:?}: {shown}");
        assert!(!output.status.success(), "{answer:?}: declining exits non-zero: {shown}");
        assert!(shown.contains("not confirmed; nothing was deleted"), "{answer:?}: {shown}");
        assert_eq!(sessions(&data), ["call-asked"], "{answer:?} deleted the call");
    }
    let output = on_a_terminal(&data, "delete --session call-asked", "y\n");
    let shown = stdout(&output);
    assert!(output.status.success(), "{shown}");
    assert!(shown.contains(question) && shown.contains("deleted 1 call, 1 recording, 1 request, 20.0 KB"), "{shown}");
    assert!(sessions(&data).is_empty());
}

#[test]
fn unknown_ids_are_named_and_nothing_is_deleted() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--secret", SECRET]);
    send(&data, &server, "call-one", 1);
    let before = (shas(&data), requests(&data));
    for (args, says) in [
        (vec!["delete", "no-such-recording", "--yes"], "no recording matches \"no-such-recording\""),
        (vec!["delete", "--session", "no-such-call", "--yes"], "no call matches \"no-such-call\""),
        (vec!["delete", "--request", "1", "9999", "--yes"], "no request matches \"9999\""),
        (vec!["delete", "--older-than", "30", "--yes"], "not an age"),
        (vec!["delete", "--before", "last tuesday", "--yes"], "give a date"),
    ] {
        let output = run(&data, &args);
        assert!(!output.status.success(), "{args:?}");
        assert!(stderr(&output).contains(says), "{args:?}: {}", stderr(&output));
    }
    assert_eq!((shas(&data), requests(&data)), before);
}

#[test]
fn before_a_time_takes_exactly_what_arrived_earlier() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--secret", SECRET]);
    send(&data, &server, "call-early", 2);
    std::thread::sleep(std::time::Duration::from_millis(20));
    send(&data, &server, "call-late", 1);
    let late = recordings(&data).into_iter().find(|r| r["session_id"] == "call-late").unwrap();
    let cut = late["received_at"].as_str().unwrap().to_string();

    // Nothing is older than ten years or received before 2000.
    for args in [["delete", "--older-than", "3650d", "--yes"], ["delete", "--before", "2000-01-01", "--yes"]] {
        let said = run_ok(&data, &args);
        assert!(said.starts_with("nothing to delete: no recording or request was received before "), "{said}");
    }
    assert_eq!(sessions(&data), ["call-early", "call-late"]);

    // Up to the late call's arrival: the early call only.
    let removed = json(&run_ok(&data, &["delete", "--before", &cut, "--yes", "--json"]));
    assert_eq!(removed["removed"], serde_json::json!({"calls": 1, "recordings": 2, "requests": 2, "bytes": 40_000}));
    assert_eq!(sessions(&data), ["call-late"]);
    assert_eq!(requests(&data).len(), 1);

    // A date in the future: everything left.
    let removed = json(&run_ok(&data, &["delete", "--before", "2999-01-01", "--yes", "--json"]));
    assert_eq!(removed["removed"], serde_json::json!({"calls": 1, "recordings": 1, "requests": 1, "bytes": 20_000}));
    assert!(sessions(&data).is_empty());
    assert!(requests(&data).is_empty());
}

#[test]
fn one_version_or_every_version_of_a_recording_and_requests_by_id() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &[]);
    send(&data, &server, "call-versions", 1);
    let id = recordings(&data)[0]["recording_id"].as_str().unwrap().to_string();
    // Other audio under the same recording id: version 2, as a conflicting resend makes.
    let other = dir.path().join("other.ul");
    std::fs::write(&other, (0..16_000u32).map(|i| (i * 7 % 256) as u8).collect::<Vec<_>>()).unwrap();
    let url = server.url("/audio-webhook");
    run_ok(&data, &["replay", &id, "--to", &url, "--no-token", "--audio", other.to_str().unwrap()]);
    let versions: Vec<u64> = shas(&data).iter().map(|(_, v, _)| *v).collect();
    assert_eq!(versions, [1, 2]);
    assert_eq!(requests(&data).len(), 2);

    let said = run_ok(&data, &["delete", &format!("{id}@2"), "--yes"]);
    assert!(
        said.contains(&format!("would delete recording {id} v2: 0 calls, 1 recording, 0 requests, 16.0 KB")),
        "{said}"
    );
    assert!(said.contains("stay in the log"), "{said}");
    let left = shas(&data);
    assert_eq!(left.iter().map(|(_, v, _)| *v).collect::<Vec<_>>(), [1], "only version 2 went");
    assert_eq!(requests(&data).len(), 2, "the request that delivered it stays in the log");

    // A second v2 again, then the plain id takes every version (and the call with them).
    run_ok(&data, &["replay", &id, "--to", &url, "--no-token", "--audio", other.to_str().unwrap()]);
    assert_eq!(shas(&data).len(), 2);
    let removed = json(&run_ok(&data, &["delete", &id[..8], "--yes", "--json"]));
    assert_eq!(removed["removed"]["recordings"], 2, "{removed}");
    assert_eq!(removed["removed"]["calls"], 1, "{removed}");
    assert!(shas(&data).is_empty());

    // Requests by id.
    let ids: Vec<String> = requests(&data).iter().map(|(id, _)| id.to_string()).collect();
    assert_eq!(ids.len(), 3);
    let mut args = vec!["delete", "--request"];
    args.extend(ids[..2].iter().map(String::as_str));
    args.extend(["--yes", "--json"]);
    let removed = json(&run_ok(&data, &args));
    assert_eq!(removed["removed"], serde_json::json!({"calls": 0, "recordings": 0, "requests": 2, "bytes": 0}));
    assert_eq!(requests(&data).iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>(), ids[2..]);
}

#[test]
fn a_kept_recording_survives_retention_and_compact_reports_the_files_real_size() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    {
        let server = Server::start(&data, &["--secret", SECRET]);
        for call in ["call-old", "call-kept", "call-other"] {
            send(&data, &server, call, 1);
        }
    }
    let kept = recordings(&data).into_iter().find(|r| r["session_id"] == "call-kept").unwrap();
    let kept_id = kept["recording_id"].as_str().unwrap();

    let said = run_ok(&data, &["keep", &kept_id[..8]]);
    assert_eq!(
        said.trim(),
        format!(
            "kept recording {kept_id} (v1) of call call-kept: retention skips this call while it holds a kept recording"
        )
    );
    let listed = recordings(&data);
    let pinned: Vec<&str> =
        listed.iter().filter(|r| r["pinned"] == true).map(|r| r["session_id"].as_str().unwrap()).collect();
    assert_eq!(pinned, ["call-kept"]);
    let table = run_ok(&data, &["recordings"]);
    let marked: Vec<&str> = table.lines().filter(|l| l.ends_with("· kept")).collect();
    assert_eq!(marked.len(), 1, "{table}");
    assert!(marked[0].starts_with(kept_id), "{table}");

    // --off and back: the flag follows.
    let said = run_ok(&data, &["keep", kept_id, "--off"]);
    assert!(said.contains("is no longer kept") && said.contains("retention may remove call call-kept"), "{said}");
    assert!(recordings(&data).iter().all(|r| r["pinned"] == false));
    run_ok(&data, &["keep", kept_id]);

    // Retention down to 10 KB: every call goes but the kept one.
    let _server = Server::start(&data, &["--secret", SECRET, "--retention-max-gb", "0.00001"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sessions(&data).len() > 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(sessions(&data), ["call-kept"], "retention on start skipped only the kept call");
    drop(_server);

    let compacted = json(&run_ok(&data, &["compact", "--json"]));
    let (before, after) = (&compacted["before"], &compacted["after"]);
    assert!(after["bytes"].as_u64().unwrap() <= before["bytes"].as_u64().unwrap(), "{compacted}");
    assert_eq!(after["free_bytes"], 0, "{compacted}");
    let on_disk = |name: &str| std::fs::metadata(data.join(name)).map(|m| m.len()).unwrap_or(0);
    assert_eq!(
        on_disk("earshot.db") + on_disk("earshot.db-wal"),
        after["bytes"].as_u64().unwrap(),
        "the size after is the file's: {compacted}"
    );
    let said = run_ok(&data, &["compact"]);
    assert!(said.starts_with(&format!("compacted {}: ", data.join("earshot.db").display())), "{said}");
    assert!(said.contains(" → ") && said.contains("given back"), "{said}");
    assert_eq!(sessions(&data), ["call-kept"], "compacting removes nothing");
}

/// (id, version, sha256) of every recording's bytes as `earshot export --format original` writes them into `work`.
fn exported_shas(data: &Path, work: &Path) -> Vec<(String, u64, String)> {
    std::fs::create_dir_all(work).unwrap();
    let mut all: Vec<_> = recordings(data)
        .iter()
        .map(|r| {
            let (id, version) = (r["recording_id"].as_str().unwrap(), r["version"].as_u64().unwrap());
            let file = work.join(format!("{id}-{version}.ul"));
            run_ok(data, &["export", &format!("{id}@{version}"), "--format", "original", "-o", file.to_str().unwrap()]);
            (id.to_string(), version, hex::encode(Sha256::digest(std::fs::read(&file).unwrap())))
        })
        .collect();
    all.sort();
    all
}

#[test]
fn a_bundle_carries_a_call_byte_for_byte_to_another_data_dir_and_importing_twice_adds_nothing() {
    let dir = TempDir::new().unwrap();
    let (from, to, work) = (dir.path().join("from"), dir.path().join("to"), dir.path().join("work"));
    std::fs::create_dir_all(&work).unwrap();
    {
        let server = Server::start(&from, &["--secret", SECRET]);
        send(&from, &server, "call-handed-over", 3);
        send(&from, &server, "call-stays", 1);
    }
    let bundle = dir.path().join("handover.earshot");
    let said = run_ok(&from, &["export", "--session", "call-handed-over", "--bundle", bundle.to_str().unwrap()]);
    assert_eq!(said.lines().collect::<Vec<_>>()[1..], ["  call-handed-over: 3 recordings, 3 requests"], "{said}");
    assert!(said.starts_with(&format!("wrote {}: 1 call, 3 recordings, 3 requests (", bundle.display())), "{said}");

    let imported = json(&run_ok(&to, &["import", bundle.to_str().unwrap(), "--json"]));
    assert_eq!(
        (&imported["calls"], &imported["added"], &imported["skipped"], &imported["conflicts"], &imported["requests"]),
        (&1.into(), &3.into(), &0.into(), &0.into(), &3.into()),
        "{imported}"
    );
    let in_call: Vec<Value> = recordings(&from).into_iter().filter(|r| r["session_id"] == "call-handed-over").collect();
    let handed: Vec<_> = exported_shas(&from, &work.join("from"))
        .into_iter()
        .filter(|(id, ..)| in_call.iter().any(|r| r["recording_id"] == id.as_str()))
        .collect();
    assert_eq!(handed.len(), 3);
    assert_eq!(exported_shas(&to, &work.join("to")), handed, "every recording arrived byte for byte");
    assert_eq!(sessions(&to), ["call-handed-over"]);
    assert_eq!(requests(&to).len(), 3);
    assert!(recordings(&to).iter().all(|r| r["imported_from"] == "handover.earshot"));
    let table = run_ok(&to, &["recordings"]);
    assert_eq!(table.lines().filter(|l| l.ends_with("· imported from handover.earshot")).count(), 3, "{table}");

    // Again: all skipped, nothing added.
    let said = run_ok(&to, &["import", bundle.to_str().unwrap()]);
    assert!(
        said.starts_with(&format!(
            "imported {}: 1 call; 0 recordings added, 3 skipped (already here), 0 conflicts (added as a new version); 0 requests added",
            bundle.display()
        )),
        "{said}"
    );
    assert_eq!(exported_shas(&to, &work.join("again")), handed);
    assert_eq!(requests(&to).len(), 3);

    // --all carries both calls; an unknown call is an error and writes nothing.
    let all = dir.path().join("all");
    let said = run_ok(&from, &["export", "--all", "--bundle", all.to_str().unwrap()]);
    assert!(said.contains(": 2 calls, 4 recordings, 4 requests"), "{said}");
    assert!(dir.path().join("all.earshot").is_file(), ".earshot is added to a name without an extension");
    let missing = dir.path().join("missing.earshot");
    let output = run(&from, &["export", "--session", "no-such-call", "--bundle", missing.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("no call matches \"no-such-call\""), "{}", stderr(&output));
    assert!(!missing.exists());
    let output = run(&from, &["export", "--before", "2000-01-01", "--bundle", missing.to_str().unwrap()]);
    assert!(!output.status.success() && stderr(&output).contains("nothing matches"), "{}", stderr(&output));
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains("missing"))
    );
}

#[test]
fn a_truncated_bundle_is_refused_with_its_reason_and_adds_nothing() {
    let dir = TempDir::new().unwrap();
    let (from, to) = (dir.path().join("from"), dir.path().join("to"));
    {
        let server = Server::start(&from, &["--secret", SECRET]);
        send(&from, &server, "call-sent", 2);
    }
    {
        let server = Server::start(&to, &["--secret", SECRET]);
        send(&to, &server, "call-already-here", 1);
    }
    let bundle = dir.path().join("call.earshot");
    run_ok(&from, &["export", "--session", "call-sent", "--bundle", bundle.to_str().unwrap()]);
    let whole = std::fs::read(&bundle).unwrap();
    let cut = dir.path().join("cut.earshot");
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let before = (shas(&to), requests(&to));

    for json_flag in [false, true] {
        let mut args = vec!["import", cut.to_str().unwrap()];
        if json_flag {
            args.push("--json");
        }
        let output = run(&to, &args);
        assert!(!output.status.success(), "a damaged bundle must fail");
        let message = stderr(&output);
        assert!(
            message.starts_with("error: cut.earshot is not a readable Earshot bundle: ")
                && message.contains("(not_a_bundle); nothing was imported"),
            "{message}"
        );
        assert!(stdout(&output).is_empty(), "{}", stdout(&output));
        assert_eq!((shas(&to), requests(&to)), before, "nothing was added");
    }
    // The whole one still imports.
    let imported = json(&run_ok(&to, &["import", bundle.to_str().unwrap(), "--json"]));
    assert_eq!(imported["added"], 2, "{imported}");
}
