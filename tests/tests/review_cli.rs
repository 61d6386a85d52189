//! `earshot review`, `earshot analyze` and the review filters of `earshot
//! recordings`, against the real binary: reviews set from the CLI while an
//! `earshot serve` in another process stores a burst into the same database
//! are all kept, and so is every recording; the analysis the listener
//! computed is what `recordings --json` and `analyze --json` print; bad
//! input is refused by name and changes nothing.

use earshot_tests::{Server, run, run_ok};
use serde_json::Value;

const SECRET: &str = "review cli secret";

fn recordings(data: &std::path::Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["recordings", "--json"];
    all.extend_from_slice(args);
    serde_json::from_str::<Value>(&run_ok(data, &all)).unwrap().as_array().unwrap().clone()
}

#[test]
fn reviews_from_the_cli_while_a_listener_stores_are_all_kept_and_filters_find_them() {
    let temp = tempfile::TempDir::new().unwrap();
    let data = temp.path().join("data");
    let server = Server::start(&data, &["--secret", SECRET]);
    let url = server.url("/audio-webhook");
    run_ok(&data, &["send", &url, "--secret", SECRET, "--session", "judged-call", "--count", "6"]);
    let judged: Vec<String> = recordings(&data, &["--session", "judged-call"])
        .iter()
        .map(|r| r["recording_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(judged.len(), 6);

    // A burst into the same database from the listener while the reviews are written.
    let burst = {
        let (data, url) = (data.clone(), url.clone());
        std::thread::spawn(move || {
            run_ok(&data, &["send", &url, "--secret", SECRET, "--session", "busy-call", "--count", "30"])
        })
    };
    for (i, id) in judged.iter().enumerate() {
        let verdict = ["pass", "fail", "follow-up"][i % 3];
        run_ok(&data, &["review", id, "--verdict", verdict, "--tag", "batch", "--marker", "0.5-1.25=cut off"]);
    }
    run_ok(&data, &["review", &judged[0], "--note", "said \"yes\", then hung up", "--tag", "Noise"]);
    burst.join().unwrap();

    let all = recordings(&data, &[]);
    assert_eq!(all.len(), 36, "every recording of the burst stored");
    let failed = recordings(&data, &["--verdict", "fail"]);
    assert_eq!(failed.len(), 2);
    assert!(
        failed
            .iter()
            .all(|r| r["review"]["markers"][0]
                == serde_json::json!({"start_ms": 500, "end_ms": 1250, "text": "cut off"}))
    );
    assert_eq!(recordings(&data, &["--tag", "batch"]).len(), 6);
    assert_eq!(recordings(&data, &["--tag", "noise"]).len(), 1, "tags match in any case");
    let first = all.iter().find(|r| r["recording_id"] == judged[0].as_str()).unwrap();
    assert_eq!(first["review"]["note"], "said \"yes\", then hung up");
    assert_eq!(first["review"]["tags"], serde_json::json!(["Noise", "batch"]));
    assert_eq!(first["review"]["verdict"], "pass", "a later change kept the earlier verdict");
    assert!(all.iter().all(|r| r["analysis"]["peak_dbfs"].is_number()), "every recording analysed");
    assert_eq!(recordings(&data, &["--flag", "silent"]).len(), 0);

    let analysed: Value = serde_json::from_str(&run_ok(&data, &["analyze", &judged[1], "--json"])).unwrap();
    let listed = all.iter().find(|r| r["recording_id"] == judged[1].as_str()).unwrap();
    assert_eq!(analysed, listed["analysis"], "analyze prints what is stored");
    for key in [
        "peak_dbfs",
        "rms_dbfs",
        "lufs",
        "clipped_samples",
        "leading_silence_ms",
        "trailing_silence_ms",
        "speech_ratio",
        "expected_duration_ms",
        "flags",
    ] {
        assert!(analysed.get(key).is_some(), "analysis has {key}: {analysed}");
    }

    let calls: Value = serde_json::from_str(&run_ok(&data, &["sessions", "--json"])).unwrap();
    let call = calls.as_array().unwrap().iter().find(|s| s["session_id"] == "judged-call").unwrap();
    assert_eq!((call["reviewed"].as_u64(), call["failed"].as_u64()), (Some(6), Some(2)));

    // Bad input: named, and nothing changes.
    for (args, says) in [
        (vec!["review", &judged[2], "--verdict", "maybe"], "is not a verdict"),
        (vec!["review", &judged[2], "--marker", "2-1=backwards"], "before it starts"),
        (vec!["review", &judged[2], "--marker", "1.5"], "no text"),
        (vec!["review", "no-such-recording", "--verdict", "pass"], "no recording"),
        (vec!["recordings", "--flag", "loud"], "is not a flag"),
    ] {
        let out = run(&data, &args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let unchanged = recordings(&data, &[]).into_iter().find(|r| r["recording_id"] == judged[2].as_str()).unwrap();
    assert_eq!(unchanged["review"]["verdict"], "follow-up");
    drop(server);
}
