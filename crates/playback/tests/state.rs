//! What the UI receives as the player's state: `PlayState` serializes itself,
//! so no caller builds the name from `Debug` output.

use earshot_playback::PlayState;

const ALL: [PlayState; 5] =
    [PlayState::Stopped, PlayState::Playing, PlayState::Paused, PlayState::Ended, PlayState::Error];

/// Regression: the desktop sent `format!("{state:?}").to_lowercase()`, so renaming a variant
/// would have changed what the UI compares against without any type noticing.
#[test]
fn play_state_serializes_as_the_names_the_ui_lists_not_debug_output() {
    let names: Vec<String> =
        ALL.iter().map(|s| serde_json::to_value(s).unwrap().as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["stopped", "playing", "paused", "ended", "error"]);
    for state in ALL {
        let back: PlayState = serde_json::from_value(serde_json::to_value(state).unwrap()).unwrap();
        assert_eq!(back, state);
    }
}

/// With the `ts` feature the TypeScript declaration is the same union.
#[cfg(feature = "ts")]
#[test]
fn the_typescript_declaration_is_the_union_of_those_names() {
    use ts_rs::TS;
    let decl = PlayState::decl(&ts_rs::Config::new());
    assert!(decl.contains(r#""stopped" | "playing" | "paused" | "ended" | "error""#), "{decl}");
}
