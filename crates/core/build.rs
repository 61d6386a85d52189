//! Finds the SQL migrations so adding one is adding a file: writes
//! `$OUT_DIR/migrations.rs` (SQLite's, from `migrations/`) and
//! `$OUT_DIR/postgres_migrations.rs` (from `migrations/postgres/`), each a
//! list of (file name, SQL) in name order.

use std::fmt::Write;
use std::path::Path;

fn write_list(dir: &Path, out_file: &str) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the migrations dir exists")
        .map(|entry| entry.expect("readable migrations dir").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    names.sort();
    let mut out = String::from(
        "/// Schema steps in name order: (file name, SQL).\npub(crate) const MIGRATIONS: &[(&str, &str)] = &[\n",
    );
    for name in &names {
        let path = dir.join(name);
        writeln!(out, "    ({name:?}, include_str!({:?})),", path.display().to_string()).expect("write to a String");
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join(out_file);
    std::fs::write(target, out).expect("write the migrations list");
}

fn main() {
    let dir =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("migrations");
    write_list(&dir, "migrations.rs");
    write_list(&dir.join("postgres"), "postgres_migrations.rs");
}
