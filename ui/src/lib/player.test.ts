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

  it("loads with the chosen speed, volume and normalise, and clamps seeks", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return null;
    });
    player.speed = 1.5;
    await player.load(7, true);
    expect(calls.map(([c]) => c)).toEqual(["player_subscribe", "player_load", "player_control", "player_control", "player_control"]);
    expect(calls[1]?.[1]).toEqual({ row: 7, autoplay: true });
    expect(calls[2]?.[1]).toEqual({ action: { action: "speed", factor: 1.5 } });
    player.apply({ kind: "loaded", duration: 2 });
    await player.seek(99);
    expect(calls.at(-1)?.[1]).toEqual({ action: { action: "seek", seconds: 2 } });
  });
});
