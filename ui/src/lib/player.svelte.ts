// The native player's state as the UI sees it: one subscription for the
// whole window, shared by whichever detail pane is showing.
import { api, errorMessage, onPlayerUpdate, type PlayerUpdate } from "../ipc";

class PlayerState {
  row = $state<number | null>(null);
  state = $state("stopped");
  position = $state(0);
  duration = $state(0);
  error = $state("");
  speed = $state(1);
  volume = $state(1);
  normalise = $state(false);
  loop = $state<[number, number] | null>(null);
  autoAdvance = $state(true);
  endedCount = $state(0);
  private subscribed = false;

  apply(update: PlayerUpdate) {
    switch (update.kind) {
      case "loaded":
        this.duration = update.duration;
        this.position = 0;
        this.error = "";
        break;
      case "state":
        this.state = update.state;
        if (update.state === "ended") this.endedCount++;
        break;
      case "position":
        this.position = update.position;
        this.duration = update.duration;
        break;
      case "error":
        this.error = update.message;
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
    }
  }

  /** Loads `row` (stopping whatever played) and optionally starts it, keeping speed, volume and normalise. */
  load(row: number, autoplay: boolean) {
    return this.run(async () => {
      this.row = row;
      this.loop = null;
      await api.playerLoad(row, autoplay);
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
