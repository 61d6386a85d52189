//! The shell on Tauri's mock runtime: the real commands, state, listener and
//! tunnels (a stand-in cloudflared, a custom URL that is really the listener),
//! no window system.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use earshot_core::IntakeConfig;
use earshot_core::Store;
use earshot_core::{AuthConfig, Secret};
use earshot_core::{Limits, ListenerStatus, Server};

use earshot_core::Overrides;
use earshot_desktop::state::Launch;
use earshot_tests::{alive, fake_cloudflared};
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;

fn invoke(webview: &Webview, cmd: &str, args: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(webview, request).map(|body| body.deserialize::<Value>().unwrap())
}

type App = tauri::App<tauri::test::MockRuntime>;
type Webview = tauri::WebviewWindow<tauri::test::MockRuntime>;

/// The app on the mock runtime, listening on a free loopback port unless `launch` names one.
fn app(launch: Launch) -> (App, Webview) {
    let listen = launch.overrides.listen.or(Some("127.0.0.1:0".parse().unwrap()));
    let launch = Launch { overrides: Overrides { listen, ..launch.overrides.clone() }, ..launch };
    let app = earshot_desktop::build(mock_builder(), launch).unwrap().build(mock_context(noop_assets())).unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    (app, webview)
}

#[test]
fn commands_answer_and_settings_are_saved_privately() {
    let dir = tempfile::TempDir::new().unwrap();
    let (_app, webview) = app(Launch { data_dir: dir.path().to_path_buf(), ..Launch::default() });

    let setup = invoke(&webview, "get_setup", json!({})).unwrap();
    assert_eq!(setup["status"]["state"], "running", "{setup}");
    assert!(setup["status"]["webhook_url"].as_str().unwrap().ends_with("/audio-webhook"));
    assert_eq!((setup["auth_mode"].clone(), setup["secret_set"].clone()), (json!("off"), json!(false)));

    let page = invoke(&webview, "list_sessions", json!({"filter": {}, "offset": 0, "limit": 50})).unwrap();
    assert_eq!(page, json!({"items": [], "total": 0, "offset": 0}));

    let refused = invoke(&webview, "set_auth_mode", json!({"mode": "observe"})).unwrap_err();
    assert_eq!(refused["code"], "secret_required", "{refused}");
    let missing = invoke(&webview, "recording_detail", json!({"row": 42})).unwrap_err();
    assert_eq!(missing["code"], "not_found", "{missing}");

    let after = invoke(&webview, "set_secret", json!({"secret": "shell secret"})).unwrap();
    assert_eq!(after["secret_set"], true);
    assert_eq!(after["auth_mode"], "enforce");
    assert!(!after.to_string().contains("shell secret"), "the secret never goes back to the UI");
    let settings = dir.path().join("settings.json");
    assert_eq!(std::fs::metadata(&settings).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(std::fs::read_to_string(&settings).unwrap().contains("shell secret"));
    let empty = invoke(&webview, "set_secret", json!({"secret": ""})).unwrap_err();
    assert_eq!(empty["code"], "settings");
}

/// Polls `get_tunnel` until `state` (`online`, `error`, …) or fails after 20 s.
fn tunnel_until(webview: &Webview, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info = invoke(webview, "get_tunnel", json!({})).unwrap();
        if info["status"]["state"] == state {
            return info;
        }
        assert!(Instant::now() < deadline, "tunnel not {state} within 20 s: {info}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn local_port(webview: &Webview) -> u16 {
    let setup = invoke(webview, "get_setup", json!({})).unwrap();
    setup["status"]["address"].as_str().unwrap().rsplit(':').next().unwrap().parse().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn self_test_through_a_custom_url_passes_and_names_the_failing_hop() {
    let dir = tempfile::TempDir::new().unwrap();
    let launch = Launch {
        data_dir: dir.path().to_path_buf(),
        overrides: Overrides { secret: Some("tunnel secret".into()), ..Overrides::default() },
        ..Launch::default()
    };
    let (_app, webview) = app(launch);

    let idle = invoke(&webview, "get_tunnel", json!({})).unwrap();
    assert_eq!(idle["status"], json!({"state": "stopped"}));
    assert_eq!((idle["choice"].clone(), idle["webhook_url"].clone()), (json!("cloudflared"), Value::Null));
    let offline = invoke(&webview, "tunnel_self_test", json!({})).unwrap_err();
    assert_eq!(offline["code"], "tunnel_offline", "{offline}");
    let no_url = invoke(&webview, "start_tunnel", json!({"request": {"provider": "custom"}})).unwrap_err();
    assert_eq!(no_url["code"], "invalid_url", "{no_url}");
    let bad_url = invoke(&webview, "start_tunnel", json!({"request": {"provider": "custom", "url": "ftp://x"}}));
    assert_eq!(bad_url.unwrap_err()["code"], "invalid_url");

    // The "public" URL is really this app's listener.
    let base = format!("http://127.0.0.1:{}", local_port(&webview));
    invoke(&webview, "start_tunnel", json!({"request": {"provider": "custom", "url": format!("{base}/")}})).unwrap();
    let online = tunnel_until(&webview, "online");
    assert_eq!(online["webhook_url"], format!("{base}/audio-webhook"));
    assert_eq!((online["choice"].clone(), online["running"].clone()), (json!("custom"), json!("custom")));

    let report = invoke(&webview, "tunnel_self_test", json!({})).unwrap();
    assert_eq!((report["ok"].clone(), report["failed_hop"].clone()), (json!(true), Value::Null), "{report}");
    let outcomes: Vec<&str> =
        report["hops"].as_array().unwrap().iter().map(|h| h["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["passed"; 6], "{report}");
    assert!(report["latency_ms"].as_f64().unwrap() > 0.0);
    let sessions = invoke(&webview, "list_sessions", json!({"filter": {}, "offset": 0, "limit": 50})).unwrap();
    assert_eq!(sessions["items"][0]["session_id"], report["session_id"], "the test call is stored: {sessions}");

    // Another Earshot, with another secret, behind the "tunnel": the token is refused.
    let other_dir = tempfile::TempDir::new().unwrap();
    let other_store = Store::open(other_dir.path()).unwrap();
    let other = Server::new(other_store);
    let auth = AuthConfig::new(None, Some(Secret::new("another secret").unwrap())).unwrap();
    let config = IntakeConfig { auth, max_body: 1 << 20, forward: None };
    let status = tauri::async_runtime::block_on(other.start("127.0.0.1:0".parse().unwrap(), config, Limits::default()));
    let ListenerStatus::Running { address, .. } = status else { panic!("{status:?}") };
    invoke(&webview, "start_tunnel", json!({"request": {"provider": "custom", "url": format!("http://{address}")}}))
        .unwrap();
    tunnel_until(&webview, "online");
    let refused = invoke(&webview, "tunnel_self_test", json!({})).unwrap();
    assert_eq!((refused["ok"].clone(), refused["failed_hop"].clone()), (json!(false), json!("auth")), "{refused}");

    // Nothing listens behind the URL.
    let closed = format!("http://127.0.0.1:{}", free_port());
    invoke(&webview, "start_tunnel", json!({"request": {"provider": "custom", "url": closed}})).unwrap();
    tunnel_until(&webview, "online");
    let unreachable = invoke(&webview, "tunnel_self_test", json!({})).unwrap();
    assert_eq!(unreachable["failed_hop"], "connect", "{unreachable}");
    assert!(unreachable["summary"].as_str().unwrap().contains("cannot connect"), "{unreachable}");

    let saved: Value = serde_json::from_slice(&std::fs::read(dir.path().join("settings.json")).unwrap()).unwrap();
    assert_eq!((saved["tunnel"].clone(), saved["tunnel_url"].clone()), (json!("custom"), json!(closed)));
    let stopped = invoke(&webview, "stop_tunnel", json!({})).unwrap();
    assert_eq!((stopped["status"].clone(), stopped["running"].clone()), (json!({"state": "stopped"}), Value::Null));
    tauri::async_runtime::block_on(other.stop());
}

#[test]
fn ngrok_needs_a_token_which_is_saved_privately_and_never_sent_back() {
    let dir = tempfile::TempDir::new().unwrap();
    let (_app, webview) = app(Launch { data_dir: dir.path().to_path_buf(), ..Launch::default() });
    let missing = invoke(&webview, "start_tunnel", json!({"request": {"provider": "ngrok"}})).unwrap_err();
    assert_eq!(missing["code"], "ngrok_token_missing", "{missing}");
    let message = missing["message"].as_str().unwrap();
    assert!(message.contains("https://dashboard.ngrok.com/get-started/your-authtoken"), "{message}");
    assert!(message.contains("token field"), "{message}");
    assert!(!dir.path().join("settings.json").exists(), "a refused start saves nothing");

    // No network here: the session cannot connect, which the status says. The token is kept.
    let token = "2fakeEarshotTokenForTests_abcdefghijklmnop";
    let request = json!({"request": {"provider": "ngrok", "ngrok_token": token, "ngrok_domain": " "}});
    let started = invoke(&webview, "start_tunnel", request).unwrap();
    assert_eq!(started["ngrok_token_set"], true);
    let failing = tunnel_until(&webview, "error");
    assert!(failing["status"]["message"].as_str().unwrap().contains("restarting in"), "{failing}");
    let logs = invoke(&webview, "tunnel_logs", json!({})).unwrap();
    assert!(logs.to_string().contains("connecting to ngrok"), "{logs}");
    for shown in [&started, &failing, &logs] {
        assert!(!shown.to_string().contains(token), "the token never goes back to the UI: {shown}");
    }
    let settings = dir.path().join("settings.json");
    assert_eq!(std::fs::metadata(&settings).unwrap().permissions().mode() & 0o777, 0o600);
    let saved: Value = serde_json::from_slice(&std::fs::read(&settings).unwrap()).unwrap();
    assert_eq!((saved["tunnel"].clone(), saved["ngrok_authtoken"].clone()), (json!("ngrok"), json!(token)));
    assert_eq!(saved["ngrok_domain"], Value::Null, "a blank domain lets ngrok pick one");

    // The saved token is used when the field is left empty.
    invoke(&webview, "start_tunnel", json!({"request": {"provider": "ngrok"}})).unwrap();
    let stopped = invoke(&webview, "stop_tunnel", json!({})).unwrap();
    assert_eq!(stopped["status"], json!({"state": "stopped"}));
}

#[test]
fn cloudflared_runs_follows_the_listener_and_is_gone_when_the_window_closes() {
    let dir = tempfile::TempDir::new().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let launch = Launch {
        data_dir: dir.path().join("no-cf"),
        cloudflared_path: Some(empty.into_os_string()),
        ..Launch::default()
    };
    let (_none, webview) = app(launch);
    assert_eq!(invoke(&webview, "get_tunnel", json!({})).unwrap()["cloudflared"], Value::Null);
    let missing = invoke(&webview, "start_tunnel", json!({"request": {"provider": "cloudflared"}})).unwrap_err();
    assert_eq!(missing["code"], "cloudflared_missing", "{missing}");
    assert!(missing["message"].as_str().unwrap().contains("brew install cloudflared"), "{missing}");

    let bin = fake_cloudflared(dir.path());
    let launch = Launch {
        data_dir: dir.path().join("data"),
        cloudflared_path: Some(bin.clone().into_os_string()),
        ..Launch::default()
    };
    let (app, webview) = app(launch);
    let found = invoke(&webview, "get_tunnel", json!({})).unwrap();
    assert_eq!(found["cloudflared"], bin.join("cloudflared").display().to_string());
    invoke(&webview, "start_tunnel", json!({"request": {"provider": "cloudflared"}})).unwrap();
    let online = tunnel_until(&webview, "online");
    assert_eq!(online["webhook_url"], "https://quick-brown-fox.trycloudflare.com/audio-webhook");
    let first = online["pid"].as_u64().expect("cloudflared pid");
    assert!(alive(first));
    let logs = invoke(&webview, "tunnel_logs", json!({})).unwrap();
    assert!(logs.to_string().contains("trycloudflare.com"), "cloudflared's own lines are kept: {logs}");

    // The listener moves: the tunnel follows it to the new port.
    let port = free_port();
    invoke(&webview, "set_port", json!({"port": port})).unwrap();
    let moved = tunnel_until(&webview, "online");
    let second = moved["pid"].as_u64().unwrap();
    assert_ne!(first, second);
    assert!(!alive(first), "the old cloudflared {first} was stopped");
    let starts = std::fs::read_to_string(dir.path().join("starts")).unwrap();
    assert!(starts.lines().nth(1).unwrap().contains(&format!("--url http://127.0.0.1:{port} ")), "{starts}");

    // Closing the last window ends the app, which stops cloudflared on its way out.
    // (The mock runtime handles a close as a user's click only once its loop runs.)
    let closer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        webview.close().unwrap();
    });
    let code = app.run_return(earshot_desktop::on_run_event);
    closer.join().unwrap();
    assert_eq!(code, 0);
    assert!(!alive(second), "cloudflared {second} outlived the app");
}

#[test]
fn a_tunnel_left_running_starts_again_on_the_next_launch() {
    let dir = tempfile::TempDir::new().unwrap();
    let launch = || Launch { data_dir: dir.path().to_path_buf(), ..Launch::default() };
    {
        let (_app, webview) = app(launch());
        let request = json!({"request": {"provider": "custom", "url": "https://hooks.example.com"}});
        invoke(&webview, "start_tunnel", request).unwrap();
        tunnel_until(&webview, "online");
    }
    {
        let (_app, webview) = app(launch());
        let online = tunnel_until(&webview, "online");
        assert_eq!(online["webhook_url"], "https://hooks.example.com/audio-webhook");
        invoke(&webview, "stop_tunnel", json!({})).unwrap();
    }
    {
        let (_app, webview) = app(launch());
        assert_eq!(invoke(&webview, "get_tunnel", json!({})).unwrap()["status"], json!({"state": "stopped"}));
        invoke(&webview, "start_tunnel", json!({"request": {"provider": "custom"}})).unwrap();
    }
    {
        // The port is taken at launch, so the tunnel cannot start yet; it does once the listener is up.
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let (_app, webview) = app(Launch {
            overrides: Overrides { listen: Some(taken.local_addr().unwrap()), ..Overrides::default() },
            ..launch()
        });
        let waiting = invoke(&webview, "get_tunnel", json!({})).unwrap();
        assert!(
            waiting["status"]["message"].as_str().unwrap_or_default().contains("listener is not running"),
            "{waiting}"
        );
        invoke(&webview, "set_port", json!({"port": free_port()})).unwrap();
        let online = tunnel_until(&webview, "online");
        assert_eq!(online["webhook_url"], "https://hooks.example.com/audio-webhook");
    }

    // Left running, but cloudflared is gone since: the card says so instead of silently staying off.
    let settings = dir.path().join("settings.json");
    let mut saved: Value = serde_json::from_slice(&std::fs::read(&settings).unwrap()).unwrap();
    saved["tunnel"] = json!("cloudflared");
    saved["tunnel_on"] = json!(true);
    std::fs::write(&settings, saved.to_string()).unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (_app, webview) = app(Launch { cloudflared_path: Some(empty.into_os_string()), ..launch() });
    let failed = invoke(&webview, "get_tunnel", json!({})).unwrap();
    let message = failed["status"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("could not start the cloudflared tunnel again: cloudflared is not installed"),
        "{failed}"
    );
}

#[test]
fn forward_settings_and_simulated_answers_are_checked_saved_and_applied() {
    let dir = tempfile::TempDir::new().unwrap();
    let (_app, webview) = app(Launch { data_dir: dir.path().to_path_buf(), ..Launch::default() });
    let setup = invoke(&webview, "get_setup", json!({})).unwrap();
    assert_eq!(setup["forward"]["active_url"], Value::Null);
    assert_eq!(setup["forward"]["saved"]["timeout_secs"], 25.0, "the default timeout, inside watsonx's 30 s");

    let forward = |url: &str, enabled: bool, timeout: f64| {
        invoke(
            &webview,
            "set_forward",
            json!({"forward": {"enabled": enabled, "url": url, "mode": "tee", "timeout_secs": timeout}}),
        )
    };
    assert_eq!(forward("ftp://x/", true, 25.0).unwrap_err()["code"], "bad_url");
    assert_eq!(forward("http://127.0.0.1:9/", true, 31.0).unwrap_err()["code"], "bad_timeout");
    assert_eq!(forward("http://127.0.0.1:9/", true, -1.0).unwrap_err()["code"], "bad_timeout");
    assert!(!dir.path().join("settings.json").exists(), "nothing refused is saved");
    let on = forward(" http://127.0.0.1:9/hook ", true, 5.0).unwrap();
    assert_eq!(
        (on["forward"]["active_url"].clone(), on["forward"]["active_mode"].clone()),
        (json!("http://127.0.0.1:9/hook"), json!("tee"))
    );
    assert_eq!(on["status"]["state"], "running", "the listener restarted with it: {on}");
    let saved: Value = serde_json::from_slice(&std::fs::read(dir.path().join("settings.json")).unwrap()).unwrap();
    assert_eq!(
        saved["forward"],
        json!({"enabled": true, "url": "http://127.0.0.1:9/hook", "mode": "tee", "timeout_secs": 5.0})
    );
    let off = forward("http://127.0.0.1:9/hook", false, 5.0).unwrap();
    assert_eq!(off["forward"]["active_url"], Value::Null);
    assert_eq!(off["forward"]["saved"]["url"], "http://127.0.0.1:9/hook", "kept for next time");

    let simulate = |simulation: Value| invoke(&webview, "set_simulation", json!({"simulation": simulation}));
    let bad = simulate(json!({"status": 42, "delay_ms": 0, "drop": false, "scope": {"scope": "all"}})).unwrap_err();
    assert_eq!(bad["code"], "bad_simulation", "{bad}");
    let none = simulate(json!({"status": 503, "delay_ms": 0, "drop": false, "scope": {"scope": "next", "count": 0}}));
    assert_eq!(none.unwrap_err()["code"], "bad_simulation");
    let state = simulate(json!({"status": 503, "delay_ms": 0, "drop": false, "scope": {"scope": "next", "count": 2}}));
    assert_eq!(state.unwrap()["label"], "503, next 2");
    assert_eq!(invoke(&webview, "get_simulation", json!({})).unwrap()["label"], "503, next 2");
    assert_eq!(simulate(Value::Null).unwrap(), Value::Null);

    // The workbench's other commands name what is missing.
    let origin = json!({"origin": {"kind": "request", "id": 42}});
    assert_eq!(invoke(&webview, "replay_draft", origin.clone()).unwrap_err()["code"], "not_found");
    assert_eq!(invoke(&webview, "list_replays", origin).unwrap(), json!([]));
    assert_eq!(invoke(&webview, "curl_command", json!({"id": 42, "to": null})).unwrap_err()["code"], "not_found");
    let har = dir.path().join("all.har");
    invoke(&webview, "export_har", json!({"sessionId": null, "path": har})).unwrap();
    let har: Value = serde_json::from_slice(&std::fs::read(&har).unwrap()).unwrap();
    assert_eq!(har["log"]["version"], "1.2", "{har}");
}

#[test]
fn lifecycle_commands_count_delete_undo_keep_compact_retain_and_round_trip_a_bundle() {
    let dir = tempfile::TempDir::new().unwrap();
    let (_app, webview) = app(Launch { data_dir: dir.path().to_path_buf(), ..Launch::default() });
    let url = format!("http://127.0.0.1:{}/audio-webhook", local_port(&webview));
    earshot_tests::run_ok(dir.path(), &["send", &url, "--secret", "x", "--count", "2", "--session", "smoke-call"]);

    let call = json!({"target": {"kind": "session", "session_id": "smoke-call"}});
    let preview = invoke(&webview, "delete_preview", call.clone()).unwrap();
    assert_eq!(preview["calls"], 1, "{preview}");
    assert_eq!(preview["recordings"], 2, "{preview}");
    assert_eq!(preview["requests"], 2, "{preview}");
    let deleted = invoke(&webview, "delete", call).unwrap();
    assert_eq!(deleted["removed"], preview, "the preview counts what the writer removes");
    let sessions = invoke(&webview, "list_sessions", json!({"filter": {}, "offset": 0, "limit": 50})).unwrap();
    assert_eq!(sessions["total"], 0);
    let token = deleted["undo"].clone();
    let restored = invoke(&webview, "undo_delete", json!({"token": token})).unwrap();
    assert_eq!(restored["recordings"], 2, "{restored}");
    let twice = invoke(&webview, "undo_delete", json!({"token": token})).unwrap_err();
    assert_eq!(twice["code"], "undo_expired", "an undo is used once: {twice}");

    let recordings = invoke(&webview, "list_recordings", json!({"sessionId": "smoke-call"})).unwrap();
    let row = recordings[0]["row"].clone();
    invoke(&webview, "keep", json!({"row": row, "pinned": true})).unwrap();
    let kept = invoke(&webview, "list_recordings", json!({"sessionId": "smoke-call"})).unwrap();
    assert_eq!(kept[0]["pinned"], true);

    let size = invoke(&webview, "store_size", json!({})).unwrap();
    assert!(size["bytes"].as_u64().unwrap() > 0, "{size}");
    let compacted = invoke(&webview, "compact", json!({})).unwrap();
    assert!(compacted["after"]["bytes"].as_u64().is_some(), "{compacted}");

    let zero = invoke(&webview, "set_retention", json!({"policy": {"days": 0, "max_gb": null}})).unwrap_err();
    assert_eq!(zero["code"], "settings", "{zero}");
    let on = invoke(&webview, "set_retention", json!({"policy": {"days": 30, "max_gb": null}})).unwrap();
    assert_eq!(on, json!({"days": 30, "max_gb": null}));
    assert_eq!(invoke(&webview, "get_setup", json!({})).unwrap()["retention"], on);
    assert!(std::fs::read_to_string(dir.path().join("settings.json")).unwrap().contains("\"retention\""));
    let off = invoke(&webview, "set_retention", json!({"policy": null})).unwrap();
    assert_eq!(off, json!({"days": null, "max_gb": null}));

    let bundle = dir.path().join("smoke-call.earshot");
    let selection = json!({"sessions": ["smoke-call"], "after": null, "before": null});
    let written = invoke(&webview, "export_bundle", json!({"selection": selection, "path": bundle})).unwrap();
    assert_eq!(written["calls"][0]["session_id"], "smoke-call", "{written}");
    let again = invoke(&webview, "import_bundle", json!({"path": bundle})).unwrap();
    assert_eq!((again["added"].clone(), again["skipped"].clone()), (json!(0), json!(2)), "{again}");
    let junk = dir.path().join("junk.earshot");
    std::fs::write(&junk, b"not a zip").unwrap();
    let refused = invoke(&webview, "import_bundle", json!({"path": junk})).unwrap_err();
    assert_eq!(refused["code"], "not_a_bundle", "{refused}");
}

#[test]
fn review_commands_change_a_review_suggest_tags_analyse_and_draw_a_spectrogram() {
    let dir = tempfile::TempDir::new().unwrap();
    let (_app, webview) = app(Launch { data_dir: dir.path().to_path_buf(), ..Launch::default() });
    let url = format!("http://127.0.0.1:{}/audio-webhook", local_port(&webview));
    earshot_tests::run_ok(dir.path(), &["send", &url, "--secret", "x", "--count", "2", "--session", "qa-call"]);
    let recordings = invoke(&webview, "list_recordings", json!({"sessionId": "qa-call"})).unwrap();
    let row = recordings[0]["row"].clone();

    let change = |c: Value| {
        let base = json!({"verdict": null, "note": null, "add_tags": [], "remove_tags": [], "add_markers": [], "remove_markers": []});
        let mut merged = base.as_object().unwrap().clone();
        merged.extend(c.as_object().unwrap().clone());
        invoke(&webview, "review", json!({"row": row, "change": merged}))
    };
    change(json!({"verdict": "fail", "add_tags": ["echo"]})).unwrap();
    let review =
        change(json!({"note": "cut off", "add_markers": [{"start_ms": 500, "end_ms": 900, "text": "here"}]})).unwrap();
    assert_eq!(review["verdict"], "fail", "the second change kept the first: {review}");
    assert_eq!(review["tags"], json!(["echo"]));
    assert_eq!(review["markers"][0]["text"], "here");
    let backwards = change(json!({"add_markers": [{"start_ms": 900, "end_ms": 100, "text": ""}]})).unwrap_err();
    assert_eq!(backwards["code"], "bad_review", "{backwards}");
    let listed = invoke(&webview, "list_recordings", json!({"sessionId": "qa-call"})).unwrap();
    assert_eq!(listed[0]["review"], review, "the list carries the review");
    let calls = invoke(&webview, "list_sessions", json!({"filter": {}, "offset": 0, "limit": 50})).unwrap();
    assert_eq!((calls["items"][0]["reviewed"].clone(), calls["items"][0]["failed"].clone()), (json!(1), json!(1)));

    let tags = invoke(&webview, "review_tags", json!({})).unwrap();
    assert_eq!(tags, json!([{"tag": "echo", "uses": 1}]));
    let analysis = invoke(&webview, "analysis", json!({"row": row})).unwrap();
    assert!(analysis["peak_dbfs"].as_f64().is_some() && analysis["flags"].is_array(), "{analysis}");
    let picture = invoke(&webview, "spectrogram", json!({"row": row, "width": 300, "height": 64})).unwrap();
    assert_eq!(
        (picture["width"].clone(), picture["height"].clone(), picture["max_hz"].clone()),
        (json!(300), json!(64), json!(4000))
    );
    let levels = picture["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 300 * 64);
    assert!(levels.iter().any(|l| l.as_u64() != levels[0].as_u64()), "not a blank picture");
    let missing = invoke(&webview, "review", json!({"row": 9999, "change": {}})).unwrap_err();
    assert_eq!(missing["code"], "store", "{missing}");
}
