#!/usr/bin/env bash
# Installs what Earshot needs to build and test, and nothing that is already
# there: a second run costs a few dpkg look-ups. Uses sudo only when not root.
set -euo pipefail

# build-essential, pkg-config: the bundled SQLite and ring's C code.
# sox: the independent μ-law decoder the tests compare exports against.
# libwebkit2gtk-4.1-dev: the desktop app's webview (pulls GTK 3 and libsoup 3).
# xvfb, xauth, webkit2gtk-driver: the desktop end-to-end test's display and WebDriver.
# imagemagick: screenshots when checking the UI by hand.
APT_PACKAGES=(build-essential pkg-config sox libwebkit2gtk-4.1-dev xvfb xauth webkit2gtk-driver imagemagick)
# python3: runs the stand-in cloudflared the tunnel tests put on PATH.
APT_PACKAGES+=(python3)
# libasound2-dev: cpal's ALSA backend (earshot-playback). pulseaudio, pulseaudio-utils,
# libasound2-plugins: the null sink `scripts/with-audio.sh` starts so tests play in real time.
APT_PACKAGES+=(libasound2-dev pulseaudio pulseaudio-utils libasound2-plugins)
# espeak-ng: real speech for the audio analysis tests. python3-venv: the venv below.
APT_PACKAGES+=(espeak-ng python3-venv)
# postgresql: the private PostgreSQL servers the shared-store tests start (tests/src/postgres.rs).
# Debian starts a cluster on 5432 when it installs it; the tests never use it.
APT_PACKAGES+=(postgresql)
# debootstrap: `make package-test` installs the .deb on a clean Debian 12 root it
# builds with it. (The .rpm needs no rpmbuild: Tauri's bundler writes it itself.)
APT_PACKAGES+=(debootstrap)

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

# pyloudnorm (with numpy): the independent EBU R128 meter and FFT the audio analysis tests compare
# against. A venv outside the clone, so `make test` leaves the work tree clean; the tests find it
# at the same path (or at $EARSHOT_PYTHON).
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/earshot/venv"
if ! "$VENV/bin/python" -c "import pyloudnorm, numpy" >/dev/null 2>&1; then
    echo "setup: installing pyloudnorm into $VENV"
    /usr/bin/python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check pyloudnorm
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install Rust with rustup (https://rustup.rs), then run make again" >&2
    exit 1
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "setup: npm not found; install Node.js 20.19 or newer, then run make again" >&2
    exit 1
fi
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    echo "setup: installing npm packages for ui/"
    (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi
# The IBM-shaped webhook server the forward and replay tests send to (express, multer, jsonwebtoken).
IBM_SERVER=tests/fixtures/ibm-server
if [ ! -d "$IBM_SERVER/node_modules" ] || [ "$IBM_SERVER/package-lock.json" -nt "$IBM_SERVER/node_modules/.package-lock.json" ]; then
    echo "setup: installing npm packages for $IBM_SERVER/"
    (cd "$IBM_SERVER" && npm ci --no-audit --no-fund --loglevel=error)
fi

# tauri-driver bridges WebDriver to WebKitWebDriver for the desktop end-to-end test.
if ! command -v tauri-driver >/dev/null 2>&1; then
    echo "setup: building tauri-driver from crates.io (about a minute)"
    cargo install tauri-driver --locked --quiet
fi
