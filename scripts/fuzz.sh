#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ from a clean clone: installs cargo-fuzz
# if missing, seeds each target's corpus from fuzz/seeds/TARGET, and runs each
# for $SECONDS (default 60). libFuzzer needs nightly features; the one stable
# toolchain here is asked for them with RUSTC_BOOTSTRAP=1.
# Usage: scripts/fuzz.sh [TARGET]   (SECONDS_PER_TARGET=600 scripts/fuzz.sh jwt; or make fuzz)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${SECONDS_PER_TARGET:-60}"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz from crates.io"
    cargo install cargo-fuzz --locked --quiet
fi
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(ls fuzz_targets | sed 's/\.rs$//')
fi
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    if [ -d "seeds/$target" ]; then
        cp -n seeds/"$target"/* "corpus/$target/" 2>/dev/null || true
    fi
    echo "fuzz: $target for ${seconds} s"
    RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds"
done
