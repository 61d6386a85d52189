//! The shell on Tauri's mock runtime: the real commands, state and listener,
//! no window system.

use std::os::unix::fs::PermissionsExt;

use earshot_desktop::state::Launch;
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;

fn invoke(webview: &tauri::WebviewWindow<tauri::test::MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
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

#[test]
fn commands_answer_and_settings_are_saved_privately() {
    let dir = tempfile::TempDir::new().unwrap();
    let launch = Launch {
        data_dir: dir.path().to_path_buf(),
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..Launch::default()
    };
    let app = earshot_desktop::build(mock_builder(), launch).unwrap().build(mock_context(noop_assets())).unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();

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
