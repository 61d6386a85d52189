#!/usr/bin/env bash
# Runs CMD… with a private PulseAudio server whose default sink is a null sink
# (paced in real time like a sound card, no hardware needed), then always stops
# it. cpal's ALSA `default` device reaches it through libasound2-plugins.
# Sets EARSHOT_AUDIO_TEST=1 so the real-stream tests refuse to skip.
#
# Works as root (CI): --system is not used; the daemon runs per-user in a temp
# XDG_RUNTIME_DIR with anonymous auth on its own socket.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: scripts/with-audio.sh CMD [ARGS…]" >&2
    exit 2
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/earshot-audio.XXXXXX")"
export XDG_RUNTIME_DIR="$dir/run" XDG_CONFIG_HOME="$dir/config"
mkdir -p -m 700 "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME"

stop() {
    if [ -f "$XDG_RUNTIME_DIR/pulse/pid" ]; then
        kill "$(cat "$XDG_RUNTIME_DIR/pulse/pid")" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap stop EXIT

pulseaudio --daemonize=yes --exit-idle-time=-1 --disallow-exit -n --use-pid-file=yes \
    --log-target=file:"$dir/pulse.log" \
    --load="module-native-protocol-unix auth-anonymous=1" \
    --load="module-null-sink sink_name=nullsink" \
    --load=module-always-sink
export PULSE_SERVER="unix:$XDG_RUNTIME_DIR/pulse/native"
# cpal's native PulseAudio client sends a cookie even to an anonymous server
# and is refused without one; the daemon writes it here.
export PULSE_COOKIE="$XDG_CONFIG_HOME/pulse/cookie"

for _ in $(seq 100); do
    pactl info >/dev/null 2>&1 && break
    sleep 0.1
done
if ! pactl info >/dev/null 2>&1; then
    echo "with-audio: PulseAudio did not start; its log:" >&2
    cat "$dir/pulse.log" >&2 || true
    exit 1
fi
pactl set-default-sink nullsink
echo "with-audio: PulseAudio null sink at $PULSE_SERVER" >&2

export EARSHOT_AUDIO_TEST=1
"$@"
