import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { player, stepSpeed } from "./player.svelte";

afterEach(() => clearMocks());

describe("player", () => {
  it("steps speed through the usual values and stops at the ends", () => {
    expect(stepSpeed(1, 1)).toBe(1.25);
    expect(stepSpeed(1, -1)).toBe(0.75);
    expect(stepSpeed(2, 1)).toBe(2);
    expect(stepSpeed(0.5, -1)).toBe(0.5);
  });

  it("follows the engine's updates and counts endings for auto-advance", () => {
    player.apply({ kind: "loaded", duration: 2.5 });
    player.apply({ kind: "state", state: "playing" });
    player.apply({ kind: "position", position: 1.25, duration: 2.5 });
    expect([player.state, player.position, player.duration]).toEqual(["playing", 1.25, 2.5]);
    const before = player.endedCount;
    player.apply({ kind: "state", state: "ended" });
    expect(player.endedCount).toBe(before + 1);
    player.apply({ kind: "error", message: "no audio output device is available" });
    expect(player.error).toBe("no audio output device is available");
  });

  it("loads with the chosen tape mode, speed, volume and normalise, and clamps seeks", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return null;
    });
    player.speed = 1.5;
    player.tape = true;
    await player.load(7, true);
    expect(calls.map(([c]) => c)).toEqual(["player_subscribe", "player_load", "player_control", "player_control", "player_control", "player_control"]);
    expect(calls[1]?.[1]).toEqual({ row: 7, autoplay: true });
    expect(calls[2]?.[1]).toEqual({ action: { action: "tape", on: true } });
    expect(calls[3]?.[1]).toEqual({ action: { action: "speed", factor: 1.5 } });
    player.tape = false;
    player.apply({ kind: "loaded", duration: 2 });
    await player.seek(99);
    expect(calls.at(-1)?.[1]).toEqual({ action: { action: "seek", seconds: 2 } });
  });
});

describe("player view", () => {
  it("after an error it shows Play and a state that is not playing (Play with no sound server)", async () => {
    mockIPC(() => null);
    await player.load(3, true);
    player.apply({ kind: "state", state: "playing" });
    expect(player.view(3).playing).toBe(true);
    // What the engine sends when the output cannot open: the error, the position, then its state.
    player.apply({ kind: "error", message: "no audio output device is available (is a sound server running?)" });
    expect(player.view(3)).toMatchObject({ state: "error", playing: false });
    player.apply({ kind: "position", position: 0, duration: 2.5 });
    player.apply({ kind: "state", state: "error" });
    expect(player.view(3)).toMatchObject({ state: "error", playing: false, position: 0 });
    expect(player.error).toContain("no audio output device");
  });

  it("a refused control is followed by the engine's unchanged state, so playing shows again", async () => {
    mockIPC(() => null);
    await player.load(4, true);
    player.apply({ kind: "state", state: "playing" });
    player.apply({ kind: "error", message: "volume 7 is outside 0–1" });
    expect(player.view(4).playing).toBe(false);
    player.apply({ kind: "state", state: "playing" });
    expect(player.view(4)).toMatchObject({ state: "playing", playing: true });
  });

  it("a failed command shows Play, not Pause", async () => {
    mockIPC((cmd) => {
      if (cmd === "player_load") throw { code: "playback", message: "the playback engine has shut down" };
      return null;
    });
    player.apply({ kind: "state", state: "playing" });
    await player.load(5, true);
    expect(player.view(5)).toMatchObject({ state: "error", playing: false });
    expect(player.error).toBe("the playback engine has shut down");
  });

  it("shows the recording's length as soon as it is selected, before the first Play", async () => {
    const asked: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "recording_detail") {
        asked.push(args);
        return { recording: { duration_ms: 4200 } };
      }
      return null;
    });
    await player.select(9, 2500);
    expect(player.view(9)).toEqual({ state: "stopped", playing: false, position: 0, duration: 2.5 });
    await player.select(11);
    expect(asked).toEqual([{ row: 11 }]);
    expect(player.view(11).duration).toBe(4.2);
    await player.select(11);
    expect(asked).toHaveLength(1);
    // Loading keeps the known length until the engine reports the track's own.
    await player.load(9, false);
    expect(player.view(9)).toMatchObject({ state: "stopped", position: 0, duration: 2.5 });
    player.apply({ kind: "loaded", duration: 2.504 });
    expect(player.view(9).duration).toBe(2.504);
  });
});
