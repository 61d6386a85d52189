//! QA review in the real app (real webview, under Xvfb): review mode over a
//! call of three recordings, driven by its keys — `m` drops a marker at the
//! playhead (typed text, drawn on the time line), `t` adds a tag, `p` / `f` /
//! `u` mark and move on — then the verdicts, the tag and the marker are read
//! back by `earshot recordings --json` in another process; the spectrogram
//! under the waveform is drawn (pixels that are not blank); Export report…
//! writes the call's HTML report; the calls list counts what was reviewed
//! and failed.
//!
//! `make test` provides the display (Xvfb) and installs `tauri-driver`.

use std::time::Duration;

use earshot_tests::driver::{Driver, ONE_SESSION, SECRET, free_port};
use earshot_tests::run_ok;
use serde_json::{Value, json};

fn press(driver: &Driver, key: &str) {
    driver.script(
        "window.dispatchEvent(new KeyboardEvent('keydown', {key: arguments[0], bubbles: true}));",
        json!([key]),
    );
}

fn progress(driver: &Driver) -> String {
    driver.text_of("[data-testid=review-progress]").unwrap_or_default()
}

/// Submits the form around a control the way Enter in it would.
fn submit(driver: &Driver, css: &str) {
    let done = driver.script(
        "const e = document.querySelector(arguments[0]); if (!e || !e.form) return false; e.form.requestSubmit(); return true;",
        json!([css]),
    );
    assert_eq!(done, json!(true), "no form around {css}");
}

/// How many of the spectrogram canvas's pixels differ from its quietest colour, and how many it has.
fn spectrogram_pixels(driver: &Driver) -> (u64, u64) {
    let counted = driver.script(
        "const c = document.querySelector('[data-testid=spectrogram]');
         if (!c || c.width < 2) return null;
         const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
         const [r, g, b] = [d[0], d[1], d[2]];
         let lit = 0;
         for (let i = 0; i < d.length; i += 4) {
           if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) > 30) lit++;
         }
         return [lit, d.length / 4];",
        json!([]),
    );
    match counted.as_array().map(|a| (a[0].as_u64(), a[1].as_u64())) {
        Some((Some(lit), Some(all))) => (lit, all),
        _ => (0, 0),
    }
}

#[test]
fn review_mode_marks_a_call_with_its_keys_draws_a_marker_and_the_spectrogram_in_the_real_app() {
    let temp = tempfile::TempDir::new().unwrap();
    let data = temp.path().join("data");
    let listen = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{listen}/audio-webhook");
    let _one_at_a_time = ONE_SESSION.lock().unwrap_or_else(|e| e.into_inner());
    let mut driver = Driver::start(temp.path(), &listen, &[]);
    driver.wait_until("the empty state", Duration::from_secs(30), |d| d.text_of(".empty"));
    run_ok(&data, &["send", &url, "--secret", SECRET, "--session", "review-call", "--count", "3"]);
    // The list redraws as the analyser reports on each new recording; click until the call is open.
    driver.wait_until("the call open with its three recordings", Duration::from_secs(15), |d| {
        let count = d.script("return document.querySelectorAll('.recordings button.rec').length;", json!([]));
        if count == json!(3) {
            return Some(());
        }
        d.script("const row = document.querySelector('.sessions [role=option]'); if (row) row.click();", json!([]));
        std::thread::sleep(Duration::from_millis(200));
        None
    });

    press(&driver, "v");
    driver.wait_until("review mode with nothing reviewed", Duration::from_secs(10), |d| {
        (progress(d) == "0 of 3 reviewed").then_some(())
    });
    let (lit, all) = driver.wait_until("the spectrogram drawn", Duration::from_secs(10), |d| {
        let (lit, all) = spectrogram_pixels(d);
        (all > 0 && lit > all / 20).then_some((lit, all))
    });
    println!("spectrogram: {lit} of {all} pixels lit");

    // m: a marker at the playhead, with its text typed and Enter pressed.
    press(&driver, "m");
    driver.wait_until("the marker's text field", Duration::from_secs(5), |d| d.text_of("[data-testid=marker-text]"));
    driver.set_value("[data-testid=marker-text]", "caller cut off here");
    submit(&driver, "[data-testid=marker-text]");
    driver.wait_until("the marker drawn on the time line", Duration::from_secs(5), |d| {
        d.text_of(".wave [data-testid=marker]").filter(|t| t.contains("caller cut off here"))
    });
    driver.screenshot("review.png");
    press(&driver, "p");
    driver.wait_until("p to pass it and move on", Duration::from_secs(5), |d| {
        (progress(d) == "1 of 3 reviewed").then_some(())
    });

    // t: a tag on the second, then f.
    press(&driver, "t");
    driver.set_value("[data-testid=review-tag-input]", "noise");
    submit(&driver, "[data-testid=review-tag-input]");
    driver.wait_until("the tag", Duration::from_secs(5), |d| d.text_of("[data-testid=review-tag]"));
    press(&driver, "f");
    driver.wait_until("f to fail it", Duration::from_secs(5), |d| (progress(d) == "2 of 3 reviewed").then_some(()));
    press(&driver, "u");
    driver.wait_until("u, and every recording judged", Duration::from_secs(5), |d| {
        d.text_of("[data-testid=review-finished]").filter(|_| progress(d) == "3 of 3 reviewed")
    });

    // What another process reads from the same store.
    let listed: Value =
        serde_json::from_str(&run_ok(&data, &["recordings", "--session", "review-call", "--json"])).unwrap();
    let listed = listed.as_array().unwrap();
    let verdicts: Vec<&str> = listed.iter().map(|r| r["review"]["verdict"].as_str().unwrap()).collect();
    assert_eq!(verdicts, ["pass", "fail", "follow-up"], "in time order, as review mode played them");
    let markers = &listed[0]["review"]["markers"];
    assert_eq!(markers.as_array().map(Vec::len), Some(1), "{markers}");
    assert_eq!(markers[0]["text"], "caller cut off here");
    assert!(markers[0]["end_ms"].is_null(), "a point: nothing was dragged");
    assert_eq!(listed[1]["review"]["tags"], json!(["noise"]));
    assert!(listed.iter().all(|r| r["analysis"]["speech_ratio"].as_f64().is_some()), "every one analysed");

    // Export report…: the command its button calls once the save dialog has a path (the native
    // dialog itself cannot be driven), with a progress channel as the button passes one.
    let report = temp.path().join("review-call.html");
    let summary = driver.call(
        "POST",
        "/execute/async",
        json!({
            "script": "const done = arguments[arguments.length - 1];
                       const seen = [];
                       const id = window.__TAURI_INTERNALS__.transformCallback((m) => seen.push(m));
                       window.__TAURI_INTERNALS__.invoke('export_report', {
                         filter: {session: 'review-call', verdict: null, tag: null, flag: null, reviewed: null},
                         format: 'html', path: arguments[0], onProgress: '__CHANNEL__:' + id,
                       }).then((s) => done({summary: s}), (e) => done({failed: e}));",
            "args": [report.to_str().unwrap()]
        }),
    );
    assert_eq!(summary["summary"]["recordings"], 3, "{summary}");
    let html = std::fs::read_to_string(&report).unwrap();
    assert_eq!(html.matches("<audio").count(), 3);
    assert!(html.contains("caller cut off here") && html.contains("noise"), "the marker and the tag are in it");
    assert!(!html.contains("http://") && !html.contains("https://"), "self-contained");

    press(&driver, "Escape");
    let counted = driver.wait_until("the call's review counts", Duration::from_secs(10), |d| {
        Some((d.text_of("[data-testid=call-reviewed]")?, d.text_of("[data-testid=call-failed]")?))
    });
    assert!(counted.0.contains("3/3"), "{counted:?}");
    assert!(counted.1.contains('1'), "{counted:?}");
}
