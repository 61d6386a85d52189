//! The `earshot-desktop` binary: everything is in the library so tests can build the same app.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    earshot_desktop::run();
}
