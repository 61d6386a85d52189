#!/usr/bin/env bash
# Builds the release app and bundles it with Tauri's bundler into a .deb and
# an .rpm (both offline; AppImage is left out because its bundler downloads
# linuxdeploy at build time). The packages also carry the `earshot` CLI, its
# man pages and its bash/zsh/fish completions, staged here into
# src-tauri/gen/package/ (not tracked) where tauri.conf.json's
# bundle.linux.{deb,rpm}.files picks them up.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
stage=src-tauri/gen/package

cargo build --release --locked -p earshot-cli
earshot="$target_dir/release/earshot"

rm -rf "$stage"
mkdir -p "$stage/completions"
install -m 0755 "$earshot" "$stage/earshot"
"$earshot" completions bash >"$stage/completions/earshot.bash"
"$earshot" completions zsh >"$stage/completions/_earshot"
"$earshot" completions fish >"$stage/completions/earshot.fish"
"$earshot" man --dir "$stage/man1"
gzip -9n "$stage"/man1/*.1

# The bundler builds earshot-desktop (release, ui/dist embedded) and runs
# beforeBuildCommand (the UI build) itself.
(cd src-tauri && ../ui/node_modules/.bin/tauri build --ci --bundles deb,rpm)

version="$("$earshot" --version | cut -d' ' -f2)"
echo "package: $(ls "$target_dir"/release/bundle/deb/Earshot_"$version"_*.deb)"
echo "package: $(ls "$target_dir"/release/bundle/rpm/Earshot-"$version"-*.rpm)"
