//! The desktop app end to end, in its real webview: under Xvfb, `tauri-driver`
//! and WebKitWebDriver drive the built `earshot-desktop`. `earshot send`
//! delivers two recordings of one call and one with a bad token; the call
//! must appear live with two recordings and the failure badge; a recording
//! opens; it is exported through the same command the button uses. The
//! tunnel card exposes the listener (a custom URL, then a stand-in
//! cloudflared), its self-test passes hop by hop, and SIGTERM ends the app in
//! order, leaving no cloudflared behind. The workbench test forwards to a
//! real upstream (an axum server in the test), replays a recording with an
//! edited metadata field from the Replay… editor, and simulates a 503 from
//! the Response card. The lifecycle test deletes a call through the
//! confirmation, sees it gone (also for `earshot sessions` in another
//! process), undoes it (the same sha256 back), and imports a bundle made in
//! another data dir through the command the Import… button calls.
//!
//! `make test` provides the display (Xvfb) and installs `tauri-driver`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use earshot_tests::driver::{Driver, ONE_SESSION, SECRET, descendants, free_port};
use earshot_tests::{Tmpfs, alive, fake_cloudflared, read_wav_i16, run, run_ok, skip};
use serde_json::{Value, json};

#[test]
fn the_driver_ends_only_its_own_processes() {
    // A process that is not ours, named like the one the old cleanup killed by name.
    let mut bystander = Command::new("bash").args(["-c", "exec -a WebKitWebDriver sleep 60"]).spawn().unwrap();
    let mut ours = Command::new("sh").args(["-c", "sleep 60 & sleep 60 & wait"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let below = descendants(ours.id());
    assert_eq!(below.len(), 2, "the two sleeps under our shell: {below:?}");
    assert!(!below.contains(&bystander.id()));
    let _ = ours.kill();
    let _ = ours.wait();
    for pid in below {
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    }
    assert!(bystander.try_wait().unwrap().is_none(), "a process this test did not start is left alone");
    let _ = bystander.kill();
    let _ = bystander.wait();
}

#[test]
fn a_call_appears_live_opens_and_exports_in_the_real_app() {
    let temp = tempfile::TempDir::new().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{listen}/audio-webhook");
    let _one_at_a_time = ONE_SESSION.lock().unwrap_or_else(|e| e.into_inner());
    let mut driver = Driver::start(temp.path(), &listen, &[]);

    // The first-run guide, with the URL to point watsonx (or `earshot send`) at.
    let guide = driver.wait_until("the empty state", Duration::from_secs(30), |d| {
        d.text_of(".empty").filter(|t| t.contains("No calls yet") && t.contains(&url))
    });
    assert!(guide.contains("earshot send"), "{guide}");
    assert_eq!(driver.text_of("[data-testid=call-count]").as_deref(), Some("0 calls"));

    let data = temp.path().join("data");
    run_ok(&data, &["send", &url, "--secret", SECRET, "--count", "2", "--session", "desktop-call"]);
    let sent = Instant::now();
    let refused = run(&data, &["send", &url, "--secret", "wrong secret", "--session", "desktop-call"]);
    assert!(!refused.status.success());

    let live = driver.wait_until("the call to appear with its failure badge", Duration::from_secs(10), |d| {
        let row = d.text_of(".sessions [role=option]")?;
        (row.contains("desktop-") && row.contains("2 rec") && row.contains("⚠ 1")).then_some(row)
    });
    println!("call shown {} ms after the first send returned: {live}", sent.elapsed().as_millis());

    driver.click(".sessions [role=option]");
    driver.wait_until("two recordings", Duration::from_secs(10), |d| {
        let n = d.script("return document.querySelectorAll('.recordings button.rec').length;", json!([]));
        (n == json!(2)).then_some(n)
    });
    let recordings: Value = serde_json::from_str(&run_ok(&data, &["recordings", "--json"])).unwrap();
    let (first, second) = (&recordings[0], &recordings[1]);
    let id = first["recording_id"].as_str().unwrap();
    let next_id = second["recording_id"].as_str().unwrap();
    driver.click(".recordings button.rec");
    let heading = driver.wait_until("the recording detail", Duration::from_secs(10), |d| {
        d.text_of(".detail h2").filter(|t| t.starts_with("Recording"))
    });

    // Native playback through the engine (a PulseAudio null sink under `make test`).
    driver.click("[data-testid=play]");
    let playing = driver.wait_until("playback to advance", Duration::from_secs(30), |d| {
        let shown = d.text_of("[data-testid=player-state]")?;
        let seconds: f64 = shown.split_whitespace().nth(1)?.split(':').nth(1)?.parse().ok()?;
        (shown.starts_with("playing") && seconds > 0.2).then_some(shown)
    });
    assert!(playing.ends_with("/ 0:02.5"), "{playing}");
    assert!(heading.contains(id), "detail shows the first recording: {heading}");
    // Auto-advance is on by default: the first recording's end is seen as the
    // second one opening (a stop or a pause would leave the first one shown).
    let advanced = driver.wait_until("playback to end and advance", Duration::from_secs(30), |d| {
        d.text_of(".detail h2").filter(|t| t.contains(next_id))
    });
    println!("advanced to {advanced}");
    let row = first["row"].as_i64().unwrap();

    let exported = temp.path().join("from-the-app.wav");
    let written =
        driver.invoke("export_recording", json!({"row": row, "format": "pcm16", "path": exported.to_str().unwrap()}));
    assert_eq!(written.as_str(), exported.to_str(), "{written}");
    let reference = temp.path().join("from-the-cli.wav");
    run_ok(&data, &["export", id, "-o", reference.to_str().unwrap()]);
    let samples = read_wav_i16(&std::fs::read(&exported).unwrap());
    assert_eq!(samples.len(), 20_000);
    assert_eq!(samples, read_wav_i16(&std::fs::read(&reference).unwrap()));

    driver.screenshot("screenshot.png");
}

#[test]
fn the_tunnel_card_exposes_the_listener_self_tests_and_leaves_no_cloudflared_after_exit() {
    let temp = tempfile::TempDir::new().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let local = format!("http://{listen}/audio-webhook");
    let cloudflared = fake_cloudflared(temp.path());
    let _one_at_a_time = ONE_SESSION.lock().unwrap_or_else(|e| e.into_inner());
    let mut driver = Driver::start(temp.path(), &listen, &[("EARSHOT_CLOUDFLARED_PATH", &cloudflared)]);
    driver.wait_until("the window", Duration::from_secs(30), |d| {
        d.text_of("[data-testid=header-url]").filter(|t| *t == local)
    });
    driver.click("[data-testid=open-setup]");

    // A custom URL that is really this listener: one click proves the whole path.
    driver.wait_until("the tunnel card", Duration::from_secs(10), |d| d.text_of("[data-testid=tunnel-status]"));
    driver.set_value("select[aria-label='tunnel provider']", "custom");
    driver.set_value("input[aria-label='public base URL']", &format!("http://localhost:{port}"));
    driver.click("[data-testid=tunnel-start]");
    let public = format!("http://localhost:{port}/audio-webhook");
    driver.wait_until("the public URL", Duration::from_secs(10), |d| {
        d.text_of("[data-testid=public-url]").filter(|t| *t == public)
    });
    driver.click("[data-testid=self-test]");
    let report = driver
        .wait_until("the self-test report", Duration::from_secs(30), |d| d.text_of("[data-testid=self-test-report]"));
    assert!(report.starts_with("Works"), "{report}");
    let outcomes = driver.script(
        "return [...document.querySelectorAll('[data-testid=self-test-report] li')].map(li => li.dataset.outcome);",
        json!([]),
    );
    assert_eq!(outcomes, json!(["passed", "passed", "passed", "passed", "passed", "passed"]), "{report}");
    assert!(report.contains("Token verified") && report.contains("stored byte-exact"), "{report}");
    driver.screenshot("tunnel.png");

    // cloudflared (a stand-in on EARSHOT_CLOUDFLARED_PATH): its URL is the one to paste, here and in the header.
    driver.set_value("select[aria-label='tunnel provider']", "cloudflared");
    driver.click("[data-testid=tunnel-start]");
    let quick = "https://quick-brown-fox.trycloudflare.com/audio-webhook";
    driver.wait_until("the trycloudflare URL", Duration::from_secs(20), |d| {
        d.text_of("[data-testid=public-url]").filter(|t| t == quick)
    });
    assert_eq!(driver.text_of("[data-testid=header-url]").as_deref(), Some(quick));
    let info = driver.invoke("get_tunnel", json!({}));
    let pid = info["pid"].as_u64().unwrap_or_else(|| panic!("cloudflared pid in {info}"));
    assert!(alive(pid));

    // SIGTERM (a logout, `kill`) ends the app in order: the tunnel is stopped before the process goes.
    let app = app_pid(&temp.path().join("data")).expect("the earshot-desktop process");
    assert!(Command::new("kill").args(["-TERM", &app.to_string()]).status().unwrap().success());
    driver.wait_until("the app and cloudflared to exit", Duration::from_secs(15), |_| {
        (!alive(app) && !alive(pid)).then_some(())
    });
    let log = std::fs::read_to_string(temp.path().join("app.log")).unwrap();
    let order: Vec<usize> = ["SIGTERM: exiting", "exiting: stopping the tunnel", "INFO stopped"]
        .iter()
        .map(|line| log.find(line).unwrap_or_else(|| panic!("{line:?} not in the app's log:\n{log}")))
        .collect();
    assert!(order.is_sorted(), "{log}");
}

/// The running `earshot-desktop` whose data dir is `data`.
fn app_pid(data: &Path) -> Option<u64> {
    let wanted = format!("EARSHOT_DATA_DIR={}", data.display());
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid: u64 = entry.file_name().to_str()?.parse().ok()?;
        let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
        let environ = std::fs::read(entry.path().join("environ")).ok()?;
        let has_dir = environ.split(|&b| b == 0).any(|var| var == wanted.as_bytes());
        (comm.trim() == "earshot-desktop" && has_dir && alive(pid)).then_some(pid)
    })
}

#[test]
fn a_taken_port_opens_setup_with_the_reason_and_another_port_fixes_it() {
    let temp = tempfile::TempDir::new().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let _one_at_a_time = ONE_SESSION.lock().unwrap_or_else(|e| e.into_inner());
    let mut driver = Driver::start(temp.path(), &listen, &[]);

    // The window still opens, with Setup showing why nothing listens.
    let reason = driver.wait_until("the listener failure in Setup", Duration::from_secs(30), |d| {
        d.text_of("[data-testid=listener-failed]")
    });
    let port = taken.local_addr().unwrap().port();
    assert!(reason.contains(&format!("port {port} is already in use by another program")), "{reason}");
    assert!(driver.text_of("[data-testid=header-url]").is_none(), "no URL to offer while not listening");

    let free = free_port();
    driver.set_value("input[aria-label=port]", &free.to_string());
    driver.click("[data-testid=apply-port]");
    let url = format!("http://127.0.0.1:{free}/audio-webhook");
    driver.wait_until("the header to show the new listener", Duration::from_secs(10), |d| {
        d.text_of("[data-testid=header-url]").filter(|t| *t == url)
    });
    let data = temp.path().join("data");
    run_ok(&data, &["send", &url, "--secret", SECRET]);
    let saved: Value = serde_json::from_slice(&std::fs::read(data.join("settings.json")).unwrap()).unwrap();
    assert_eq!(saved["listen"], format!("127.0.0.1:{free}"), "the new port is remembered");
}

#[test]
fn a_full_disk_shows_the_banner_until_a_recording_is_stored_again() {
    let temp = tempfile::TempDir::new().unwrap();
    let Some(disk) = Tmpfs::mount(&temp.path().join("small"), "24m") else {
        // CI runs as root, where this mounts; a developer without root sees a skip.
        skip("mounting a tmpfs needs root");
        return;
    };
    let data = temp.path().join("small/data");
    let listen = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{listen}/audio-webhook");
    let _one_at_a_time = ONE_SESSION.lock().unwrap_or_else(|e| e.into_inner());
    let mut driver = Driver::start(temp.path(), &listen, &[("EARSHOT_DATA_DIR", &data)]);
    driver.wait_until("the window", Duration::from_secs(30), |d| d.text_of("[data-testid=header-url]"));
    assert_eq!(driver.text_of(".fault"), None);

    // Four seconds of caller audio cannot fit: every block is taken.
    let big = temp.path().join("long.ul");
    std::fs::write(&big, (0..4 * 1024 * 1024).map(|i| (i * 7 % 251) as u8).collect::<Vec<u8>>()).unwrap();
    let ballast = disk.fill();
    let refused = run(&data, &["send", &url, "--secret", SECRET, "--audio", big.to_str().unwrap()]);
    assert!(!refused.status.success());
    let banner = driver.wait_until("the store-fault banner", Duration::from_secs(10), |d| d.text_of(".fault"));
    assert!(banner.contains("Recordings are not being saved") && banner.contains("full"), "{banner}");

    std::fs::remove_file(&ballast).unwrap();
    run_ok(&data, &["send", &url, "--secret", SECRET]);
    driver.wait_until("the banner to go once a recording is stored", Duration::from_secs(10), |d| {
        d.text_of(".fault").is_none().then_some(())
    });
    driver.wait_until("the stored call", Duration::from_secs(10), |d| {
        d.text_of("[data-testid=call-count]").filter(|t| t == "1 call")
    });
}

#[test]
fn the_player_keys_play_pause_seek_change_speed_and_loop_in_the_real_app() {
    let temp = tempfile::TempDir::new().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{listen}/audio-webhook");
    let _one_at_a_time = ONE_SESSION.lock().unwrap_or_else(|e| e.into_inner());
    let mut driver = Driver::start(temp.path(), &listen, &[]);
    driver.wait_until("the empty state", Duration::from_secs(30), |d| d.text_of(".empty"));
    run_ok(&temp.path().join("data"), &["send", &url, "--secret", SECRET, "--session", "keys-call"]);
    driver.wait_until("the call", Duration::from_secs(10), |d| d.text_of(".sessions [role=option]"));
    driver.click(".sessions [role=option]");
    driver.wait_until("the recording", Duration::from_secs(10), |d| d.text_of(".recordings button.rec"));
    driver.click(".recordings button.rec");
    driver.wait_until("the detail", Duration::from_secs(10), |d| d.text_of("[data-testid=player-state]"));
    let press = |d: &Driver, key: &str| {
        d.script(
            "window.dispatchEvent(new KeyboardEvent('keydown', {key: arguments[0], bubbles: true}));",
            json!([key]),
        );
    };
    let state = |d: &mut Driver| d.text_of("[data-testid=player-state]").unwrap_or_default();
    let speed = |d: &Driver| d.script("return document.querySelector('.player select').value;", json!([]));

    press(&driver, "]");
    driver.wait_until("] to step the speed up", Duration::from_secs(5), |d| (speed(d) == json!("1.25")).then_some(()));
    press(&driver, "[");
    press(&driver, "[");
    driver.wait_until("[ to step it down twice", Duration::from_secs(5), |d| (speed(d) == json!("0.75")).then_some(()));

    press(&driver, " ");
    driver.wait_until("Space to play", Duration::from_secs(10), |d| state(d).starts_with("playing").then_some(()));
    press(&driver, "l");
    let looped = driver
        .wait_until("l to loop the whole recording", Duration::from_secs(5), |d| d.text_of("button[title='loop (l)']"));
    assert!(looped.contains("0:00.0–0:02.5"), "{looped}");
    press(&driver, " ");
    let paused = driver.wait_until("Space to pause", Duration::from_secs(5), |d| {
        let shown = state(d);
        shown.starts_with("paused").then_some(shown)
    });
    press(&driver, "ArrowLeft");
    driver.wait_until("← to seek back to the start", Duration::from_secs(5), |d| {
        state(d).starts_with("paused 0:00.0").then_some(())
    });
    press(&driver, "ArrowRight");
    let forward = driver.wait_until("→ to seek forward", Duration::from_secs(5), |d| {
        let shown = state(d);
        (!shown.contains(" 0:00.0 /")).then_some(shown)
    });
    println!("paused at {paused}, after → {forward}");
}

/// What the test's upstream received: one entry per request.
#[derive(Debug, Clone)]
struct Received {
    metadata: Value,
    authorization: Option<String>,
}

/// The user's own service, as far as the workbench can tell: a real HTTP
/// server on loopback that reads each multipart request's metadata part,
/// keeps it, and answers 202 naming the recording it got — or 500 for the
/// call `wb-fail`, so the calls list has an upstream failure to badge.
struct Upstream {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    _runtime: tokio::runtime::Runtime,
}

impl Upstream {
    fn start() -> Upstream {
        use axum::http::{HeaderMap, StatusCode};
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = received.clone();
        let handler = move |headers: HeaderMap, body: bytes::Bytes| {
            let kept = kept.clone();
            async move {
                let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
                let metadata = match multer::parse_boundary(content_type) {
                    Ok(boundary) => metadata_part(body, boundary).await,
                    Err(_) => Value::Null,
                };
                let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
                kept.lock().unwrap().push(Received { metadata: metadata.clone(), authorization });
                let status = if metadata["session_id"] == "wb-fail" {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::ACCEPTED
                };
                (status, axum::Json(json!({"service": "test upstream", "got": metadata["recording_id"]})))
            }
        };
        let app = axum::Router::new().fallback(handler);
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        runtime.spawn(async move { axum::serve(listener, app).await });
        Upstream { url, received, _runtime: runtime }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn metadata_part(body: bytes::Bytes, boundary: String) -> Value {
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("metadata") {
            return field.bytes().await.ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
        }
    }
    Value::Null
}

#[test]
fn the_workbench_forwards_replays_an_edited_recording_and_simulates_a_503_in_the_real_app() {
    let temp = tempfile::TempDir::new().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{listen}/audio-webhook");
    let upstream = Upstream::start();
    let data = temp.path().join("data");
    let _one_at_a_time = ONE_SESSION.lock().unwrap_or_else(|e| e.into_inner());
    let mut driver = Driver::start(temp.path(), &listen, &[]);
    driver.wait_until("the empty state", Duration::from_secs(30), |d| d.text_of(".empty"));

    // Setup → Forward to your service: the URL, then the switch (which saves and restarts the listener).
    driver.click("[data-testid=open-setup]");
    driver.wait_until("the forward card", Duration::from_secs(10), |d| d.text_of("[data-testid=forward-status]"));
    driver.set_value("[data-testid=forward-url]", &upstream.url);
    driver.click("[data-testid=forward-enabled]");
    let badge = driver.wait_until("the forwarding badge", Duration::from_secs(10), |d| {
        d.text_of("[data-testid=forwarding-badge]").filter(|t| t.contains(&upstream.url))
    });
    assert_eq!(badge, format!("forwarding → {}", upstream.url));
    let saved: Value = serde_json::from_slice(&std::fs::read(data.join("settings.json")).unwrap()).unwrap();
    assert_eq!(saved["forward"], json!({"enabled": true, "url": upstream.url, "mode": "pass", "timeout_secs": 25.0}));
    driver.click("button[aria-label='close setup']");

    // In pass mode the sender gets the upstream's answer.
    let sent = run_ok(&data, &["send", &url, "--secret", SECRET, "--session", "wb-call"]);
    assert!(sent.starts_with("202 recording "), "{sent}");
    let original_id = sent.split_whitespace().nth(2).unwrap().to_string();
    let failed = run(&data, &["send", &url, "--secret", SECRET, "--session", "wb-fail"]);
    assert!(String::from_utf8_lossy(&failed.stdout).starts_with("500 recording "), "{failed:?}");
    let first = upstream.received();
    assert_eq!(first.len(), 2, "{first:?}");
    assert_eq!(first[0].metadata["recording_id"], original_id.as_str());

    // The call whose service answered 500 is badged in the list.
    driver.wait_until("the upstream-failure badge", Duration::from_secs(10), |d| {
        d.text_of("[data-testid=upstream-failures]").filter(|t| t.contains('1'))
    });

    // Open the good call's recording and replay it with an edited recording_id. A live
    // refresh can replace a row under the click, so each click is repeated until it takes.
    driver.wait_until("the call's recordings", Duration::from_secs(10), |d| {
        d.script(
            "const row = [...document.querySelectorAll('.sessions [role=option]')].find(e => e.textContent.includes('wb-call'));
             if (row) row.click();",
            json!([]),
        );
        d.text_of(".recordings button.rec")
    });
    driver.wait_until("the detail", Duration::from_secs(10), |d| {
        d.script("document.querySelector('.recordings button.rec')?.click();", json!([]));
        d.text_of("[data-testid=recording-replay]")
    });
    driver.click("[data-testid=recording-replay]");
    let shown = driver.wait_until("the editor's metadata", Duration::from_secs(10), |d| {
        let text = d.script(
            "const e = document.querySelector('[data-testid=replay-metadata]'); return e ? e.value : null;",
            json!([]),
        );
        text.as_str().filter(|t| !t.is_empty()).map(str::to_string)
    });
    let mut metadata: Value = serde_json::from_str(&shown).expect("the editor shows the metadata as JSON");
    assert_eq!(metadata["recording_id"], original_id.as_str());
    let target = driver.script("return document.querySelector('[data-testid=replay-to]').value;", json!([]));
    assert_eq!(target, json!(upstream.url), "the forward URL is the default target");
    metadata["recording_id"] = json!("edited-in-the-replay-editor");
    driver.set_value("[data-testid=replay-metadata]", &serde_json::to_string_pretty(&metadata).unwrap());
    driver.wait_until("the edit to be recognised", Duration::from_secs(5), |d| {
        d.text_of("[data-testid=replay-edits]").filter(|t| t.contains("Changes: recording_id"))
    });
    driver.click("[data-testid=replay-send]");
    let answer = driver.wait_until("the upstream's answer", Duration::from_secs(30), |d| {
        d.text_of("[data-testid=replay-answer]").filter(|t| t.contains("202"))
    });
    assert!(answer.contains("edited-in-the-replay-editor"), "the answer names the edited recording: {answer}");
    let replayed = upstream.received();
    assert_eq!(replayed.len(), 3, "{replayed:?}");
    assert_eq!(
        replayed[2].metadata["recording_id"], "edited-in-the-replay-editor",
        "the upstream got the edited field"
    );
    assert_eq!(replayed[2].metadata["session_id"], "wb-call", "the other fields as received");
    assert!(replayed[2].authorization.as_deref().is_some_and(|a| a.starts_with("Bearer ")), "re-signed token");
    driver.screenshot("replay.png");

    // The recording lists its replay with the answer; the original is unchanged.
    driver.click("button[aria-label='close replay']");
    let listed = driver.wait_until("the replays list", Duration::from_secs(10), |d| {
        d.text_of("[data-testid=replays]").filter(|t| t.contains("202") && t.contains("set recording_id"))
    });
    println!("replays: {listed}");
    assert!(driver.text_of(".detail h2").unwrap_or_default().contains(&original_id));

    // Response → 503: the header says so, and the next sender gets it.
    driver.click("[data-testid=open-setup]");
    driver.wait_until("the response card", Duration::from_secs(10), |d| d.text_of("[data-testid=response-status]"));
    driver.click("[data-testid=preset-503]");
    let simulating = driver
        .wait_until("the simulation badge", Duration::from_secs(10), |d| d.text_of("[data-testid=simulation-badge]"));
    assert_eq!(simulating, "simulating: 503");
    // The badge (behind the open panel until it closes) opens the Response card.
    driver.click("button[aria-label='close setup']");
    driver.wait_until("the panel to close", Duration::from_secs(5), |d| {
        d.text_of("[data-testid=response-status]").is_none().then_some(())
    });
    driver.click("[data-testid=simulation-badge]");
    let card =
        driver.wait_until("the Response card", Duration::from_secs(10), |d| d.text_of("[data-testid=response-status]"));
    assert_eq!(card, "simulating: 503");
    driver.screenshot("response.png");
    driver.click("button[aria-label='close setup']");
    let refused = run(&data, &["send", &url, "--secret", SECRET, "--session", "wb-call"]);
    let said = String::from_utf8_lossy(&refused.stdout).to_string();
    assert!(!refused.status.success() && said.starts_with("503 recording "), "the client got 503: {said}");
    driver.wait_until("the recording to be forwarded even so", Duration::from_secs(10), |_| {
        (upstream.received().len() == 4).then_some(())
    });

    // Requests: the simulated answer beside the request, and the upstream's own answer in its detail.
    driver.click("nav button:nth-child(2)");
    let fate = driver.wait_until("the simulated request", Duration::from_secs(10), |d| {
        d.text_of("[data-testid=request-fate]").filter(|t| t.contains("(simulated)"))
    });
    assert_eq!(fate, "answered 503 (simulated)");
    let note = driver.wait_until("the request detail", Duration::from_secs(10), |d| {
        d.script("document.querySelector('section[aria-label=requests] [role=option]')?.click();", json!([]));
        d.text_of("[data-testid=request-simulated]")
    });
    assert!(note.contains("503 (simulated)") && note.contains("still forwarded"), "{note}");
    driver.wait_until("the upstream's answer to it", Duration::from_secs(10), |d| {
        d.text_of("[data-testid=upstream-status]").filter(|t| t.starts_with("202"))
    });
    driver.screenshot("requests-workbench.png");
}

/// A bundle of one call, made in another data dir with the core: an
/// in-process listener stores what `earshot send` delivers, then
/// `bundle::export_to` writes the file, as `earshot export --bundle` does.
fn bundle_from_another_earshot(temp: &Path, session: &str) -> PathBuf {
    use earshot_core::{AuthConfig, Intake, IntakeConfig, Limits, Store};
    let other = temp.join("other-data");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open(&other).unwrap();
    let url = runtime.block_on(async {
        let config = IntakeConfig { auth: AuthConfig::off(), max_body: 4 << 20, forward: None };
        let intake = Intake::new(config, &store, earshot_core::system_clock(), Limits::default()).unwrap();
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/audio-webhook", socket.local_addr().unwrap());
        tokio::spawn(earshot_core::serve(socket, intake, std::future::pending()));
        url
    });
    run_ok(&other, &["send", &url, "--secret", SECRET, "--session", session]);
    let path = temp.join(format!("{session}.earshot"));
    earshot_core::bundle::export_to(&store, &earshot_core::bundle::Selection::default(), &path, chrono::Utc::now())
        .unwrap();
    path
}

/// The session ids `earshot sessions --json` lists, read by another process on the same data dir.
fn sessions_in(data: &Path) -> Vec<String> {
    let listed: Value = serde_json::from_str(&run_ok(data, &["sessions", "--json"])).unwrap();
    listed.as_array().unwrap().iter().map(|s| s["session_id"].as_str().unwrap().to_string()).collect()
}

/// The sha256 of each recording of `session`, from `earshot recordings --json`.
fn sha256s_of(data: &Path, session: &str) -> Vec<String> {
    let listed: Value = serde_json::from_str(&run_ok(data, &["recordings", "--json"])).unwrap();
    listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["session_id"] == session)
        .map(|r| r["sha256"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_call_is_deleted_undone_and_a_bundle_imported_in_the_real_app() {
    let temp = tempfile::TempDir::new().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{listen}/audio-webhook");
    let bundle = bundle_from_another_earshot(temp.path(), "handover-call");
    let _one_at_a_time = ONE_SESSION.lock().unwrap_or_else(|e| e.into_inner());
    let mut driver = Driver::start(temp.path(), &listen, &[]);
    driver.wait_until("the empty state", Duration::from_secs(30), |d| {
        d.text_of(".empty").filter(|t| t.contains("No calls yet"))
    });

    let data = temp.path().join("data");
    run_ok(&data, &["send", &url, "--secret", SECRET, "--count", "2", "--session", "stays-call"]);
    run_ok(&data, &["send", &url, "--secret", SECRET, "--session", "goner-call"]);
    driver.wait_until("both calls", Duration::from_secs(10), |d| {
        d.text_of("[data-testid=call-count]").filter(|t| t == "2 calls")
    });
    let sha_before = sha256s_of(&data, "goner-call");
    assert_eq!(sha_before.len(), 1);

    // Delete the call through the UI: the confirmation counts what goes.
    driver.click_call("goner-ca");
    driver.wait_until("the call's header", Duration::from_secs(10), |d| {
        d.text_of(".recordings header").filter(|t| t.contains("goner-ca"))
    });
    driver.click("[data-testid=delete-call]");
    let asked =
        driver.wait_until("the confirmation", Duration::from_secs(10), |d| d.text_of("[data-testid=delete-text]"));
    assert!(asked.starts_with("Delete call goner-ca? This removes 1 call, 1 recording ("), "{asked}");
    assert!(asked.contains("and 1 request-log entry from the database for real"), "{asked}");
    driver.screenshot("delete-confirm.png");
    driver.click("[data-testid=delete-confirm]");

    let toast = driver.wait_until("the Undo toast", Duration::from_secs(10), |d| d.text_of("[data-testid=undo-toast]"));
    assert!(toast.contains("Deleted call goner-ca: 1 call, 1 recording"), "{toast}");
    driver.wait_until("the call to leave the list", Duration::from_secs(10), |d| {
        (d.text_of("[data-testid=call-count]").as_deref() == Some("1 call") && !d.call_rows().contains("goner-ca"))
            .then_some(())
    });
    assert_eq!(sessions_in(&data), ["stays-call"], "gone for another process on the same data dir too");

    // Undo puts it back, byte for byte.
    driver.click("[data-testid=undo]");
    driver.wait_until("the call to come back", Duration::from_secs(10), |d| {
        (d.text_of("[data-testid=call-count]").as_deref() == Some("2 calls") && d.call_rows().contains("goner-ca"))
            .then_some(())
    });
    let mut sessions = sessions_in(&data);
    sessions.sort();
    assert_eq!(sessions, ["goner-call", "stays-call"]);
    assert_eq!(sha256s_of(&data, "goner-call"), sha_before, "the same audio is back");

    // Import: the command the Import… button (and a drop on the window) calls.
    let report = driver.invoke("import_bundle", json!({"path": bundle.to_str().unwrap()}));
    assert_eq!(report["added"], 1, "{report}");
    assert_eq!(report["skipped"], 0, "{report}");
    driver.wait_until("the imported call", Duration::from_secs(10), |d| {
        d.text_of("[data-testid=call-count]").filter(|t| t == "3 calls")
    });
    driver.click_call("handover");
    let mark = driver.wait_until("the imported mark", Duration::from_secs(10), |d| {
        let title = d.script(
            "const e = document.querySelector('[data-testid=imported-badge]'); return e ? e.title : null;",
            json!([]),
        );
        title.as_str().map(str::to_string)
    });
    assert_eq!(mark, "imported from handover-call.earshot");
    driver.click(".recordings button.rec");
    let from =
        driver.wait_until("the detail's origin", Duration::from_secs(10), |d| d.text_of("[data-testid=imported-from]"));
    assert_eq!(from, "handover-call.earshot");

    // Importing the same bundle again adds nothing.
    let again = driver.invoke("import_bundle", json!({"path": bundle.to_str().unwrap()}));
    assert_eq!((again["added"].clone(), again["skipped"].clone()), (json!(0), json!(1)), "{again}");
    driver.screenshot("imported.png");

    // Setup → Storage: the size, Compact's before → after, and retention saved like the other settings.
    driver.click("[data-testid=open-setup]");
    driver.wait_until("the database size", Duration::from_secs(10), |d| {
        d.text_of("[data-testid=db-size]").filter(|t| t.ends_with("KB") || t.ends_with("MB"))
    });
    driver.click("[data-testid=compact]");
    let compacted =
        driver.wait_until("Compact's report", Duration::from_secs(20), |d| d.text_of("[data-testid=compacted]"));
    assert!(compacted.starts_with("Compacted: ") && compacted.contains(" → "), "{compacted}");
    driver.set_value("[aria-label='retention days']", "30");
    driver.click("[data-testid=apply-retention]");
    driver.wait_until("retention saved", Duration::from_secs(10), |d| {
        d.text_of("[data-testid=storage-card]").filter(|t| t.contains("Retention: keep 30 days."))
    });
    let settings: Value = serde_json::from_str(&std::fs::read_to_string(data.join("settings.json")).unwrap()).unwrap();
    assert_eq!(settings["retention"]["days"], 30, "{settings}");
}

#[test]
fn the_app_on_the_shared_store_shows_live_a_call_that_another_listener_stored() {
    let Some(pg) = earshot_tests::postgres::PgServer::start() else { return };
    let store = pg.database();
    let temp = tempfile::TempDir::new().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let _one_at_a_time = ONE_SESSION.lock().unwrap_or_else(|e| e.into_inner());
    let mut driver = Driver::start(temp.path(), &listen, &[("EARSHOT_STORE", Path::new(&store))]);
    driver.wait_until("the empty state", Duration::from_secs(30), |d| {
        d.text_of(".empty").filter(|t| t.contains("No calls yet"))
    });
    let setup = driver.invoke("get_setup", json!({}));
    assert_eq!(setup["store"]["shared"], json!(true), "{setup}");
    assert_eq!(
        setup["store"]["running"],
        json!(format!(
            "postgres://postgres@127.0.0.1:{}/{}",
            pg.port(),
            earshot_tests::postgres::PgServer::name_of(&store)
        ))
    );

    // Another process, another data dir, the same database.
    let other_data = temp.path().join("other");
    let other = earshot_tests::Server::start(&other_data, &["--store", &store, "--auth", "off"]);
    run_ok(&other_data, &["send", &other.url("/audio-webhook"), "--secret", "any", "--session", "shared-call"]);
    let sent = Instant::now();
    let live = driver.wait_until("the other listener's call to appear", Duration::from_secs(10), |d| {
        d.text_of(".sessions [role=option]").filter(|row| row.contains("shared-") && row.contains("1 rec"))
    });
    println!("shown {} ms after the other listener answered: {live}", sent.elapsed().as_millis());
    assert!(sent.elapsed() < Duration::from_secs(2), "live within a second or so, not on a refresh");
}
