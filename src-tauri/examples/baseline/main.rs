//! The floor this stack can reach: a Tauri window with the same WebKitGTK and
//! the same release profile as Earshot, showing one static page and nothing
//! else (no plugins, no listener, no store). Its page reports its first frame
//! through IPC exactly as Earshot's UI does, so `make bench-release` measures
//! both the same way.
//!
//! Built only for the benchmark: `cargo build --release -p earshot-desktop
//! --example baseline --features bench-baseline`.

/// The page calls this after its first painted frame.
#[tauri::command]
fn first_frame() {
    eprintln!("first frame painted");
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![first_frame])
        .run(tauri::generate_context!("examples/baseline/tauri.conf.json"))
        .expect("the baseline window runs");
}
