// The native player's state as the UI sees it: one subscription for the
// whole window, shared by whichever detail pane is showing.
import { api, errorMessage, onPlayerUpdate, type PlayState, type PlayerUpdate } from "../ipc";

export type { PlayState };

const PLAY_STATES: readonly PlayState[] = ["stopped", "playing", "paused", "ended", "error"];

/** A state name from the engine; anything unknown counts as not playing. */
function playState(name: string): PlayState {
  return PLAY_STATES.find((s) => s === name) ?? "error";
}

/** What the player pane of one recording shows. */
export interface PlayerView {
  state: PlayState;
  /** Whether the button offers Pause (true) or Play. */
  playing: boolean;
  /** Seconds. */
  position: number;
  /** Seconds; the recording's own length until the engine reports the loaded track's. */
  duration: number;
}

class PlayerState {
  row = $state<number | null>(null);
  state = $state<PlayState>("stopped");
  position = $state(0);
  duration = $state(0);
  error = $state("");
  speed = $state(1);
  /** Tape mode: the pitch follows the speed; off (the default), the pitch is kept. */
  tape = $state(false);
  volume = $state(1);
  normalise = $state(false);
  loop = $state<[number, number] | null>(null);
  autoAdvance = $state(true);
  endedCount = $state(0);
  /** Recording lengths in seconds by row, known before anything is loaded. */
  private lengths = $state<Record<number, number>>({});
  private subscribed = false;

  apply(update: PlayerUpdate) {
    switch (update.kind) {
      case "loaded":
        this.duration = update.duration;
        this.position = 0;
        this.error = "";
        break;
      case "state":
        this.state = playState(update.state);
        if (this.state === "ended") this.endedCount++;
        break;
      case "position":
        this.position = update.position;
        this.duration = update.duration;
        break;
      case "error":
        // Not playing until the engine says otherwise; it follows every error with its state.
        this.error = update.message;
        this.state = "error";
        break;
    }
  }

  async ensureSubscribed() {
    if (this.subscribed) return;
    this.subscribed = true;
    await onPlayerUpdate((u) => this.apply(u));
  }

  private async run(work: () => Promise<void>) {
    try {
      await this.ensureSubscribed();
      await work();
    } catch (e) {
      this.error = errorMessage(e);
      this.state = "error";
    }
  }

  /** Makes `row`'s length known before its first Play: `durationMs` from the recording summary, or asked for. */
  async select(row: number, durationMs?: number) {
    if (durationMs !== undefined) {
      this.lengths[row] = durationMs / 1000;
      return;
    }
    if (row in this.lengths) return;
    try {
      const detail = await api.recordingDetail(row);
      this.lengths[row] = detail.recording.duration_ms / 1000;
    } catch {
      // The detail view shows why the recording cannot be read; the length stays unknown (0).
    }
  }

  /** What the pane for `row` shows: the engine's state once `row` is loaded, else stopped at 0. */
  view(row: number): PlayerView {
    const known = this.lengths[row] ?? 0;
    if (this.row !== row) return { state: "stopped", playing: false, position: 0, duration: known };
    return { state: this.state, playing: this.state === "playing", position: this.position, duration: this.duration || known };
  }

  /** Loads `row` (stopping whatever played) and optionally starts it, keeping speed, volume and normalise. */
  load(row: number, autoplay: boolean) {
    return this.run(async () => {
      this.row = row;
      this.loop = null;
      this.state = "stopped";
      this.position = 0;
      this.duration = this.lengths[row] ?? 0;
      this.error = "";
      await api.playerLoad(row, autoplay);
      await api.playerControl({ action: "tape", on: this.tape });
      await api.playerControl({ action: "speed", factor: this.speed });
      await api.playerControl({ action: "volume", level: this.volume });
      await api.playerControl({ action: "normalise", on: this.normalise });
    });
  }

  toggle() {
    return this.run(() => api.playerControl({ action: this.state === "playing" ? "pause" : "play" }));
  }

  seek(seconds: number) {
    const to = Math.max(0, Math.min(this.duration, seconds));
    return this.run(() => api.playerControl({ action: "seek", seconds: to }));
  }

  setSpeed(factor: number) {
    this.speed = Math.max(0.5, Math.min(2, Math.round(factor * 100) / 100));
    return this.run(() => api.playerControl({ action: "speed", factor: this.speed }));
  }

  setTape(on: boolean) {
    this.tape = on;
    return this.run(() => api.playerControl({ action: "tape", on }));
  }

  setVolume(level: number) {
    this.volume = level;
    return this.run(() => api.playerControl({ action: "volume", level }));
  }

  setNormalise(on: boolean) {
    this.normalise = on;
    return this.run(() => api.playerControl({ action: "normalise", on }));
  }

  setLoop(range: [number, number] | null) {
    this.loop = range && range[1] - range[0] >= 0.05 ? range : null;
    return this.run(() => api.playerControl({ action: "loop", range: this.loop }));
  }
}

export const player = new PlayerState();

/** The speed steps `[` and `]` move between. */
export const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];

/** The next speed step down (-1) or up (+1) from `current`. */
export function stepSpeed(current: number, direction: -1 | 1): number {
  const index = SPEEDS.findIndex((s) => s >= current - 1e-9);
  const at = index < 0 ? SPEEDS.length - 1 : index;
  const next = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, at + direction))];
  return next ?? current;
}
