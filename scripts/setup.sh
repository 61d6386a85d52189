#!/usr/bin/env bash
# Installs what Earshot needs to build and test, and nothing that is already
# there: a second run costs a few dpkg look-ups. Uses sudo only when not root.
set -euo pipefail

# build-essential, pkg-config: the bundled SQLite and ring's C code.
# sox: the independent μ-law decoder the tests compare exports against.
APT_PACKAGES=(build-essential pkg-config sox)
# libasound2-dev: cpal's ALSA backend (earshot-playback). pulseaudio, pulseaudio-utils,
# libasound2-plugins: the null sink `scripts/with-audio.sh` starts so tests play in real time.
APT_PACKAGES+=(libasound2-dev pulseaudio pulseaudio-utils libasound2-plugins)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install Rust with rustup (https://rustup.rs), then run make again" >&2
    exit 1
fi

if [ -f ui/package.json ] && [ ! -d ui/node_modules ]; then
    echo "setup: installing npm packages for ui/"
    (cd ui && npm ci --no-audit --no-fund)
fi
