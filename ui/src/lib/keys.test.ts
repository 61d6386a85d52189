import { describe, expect, it } from "vitest";
import { command, visibleRange } from "./keys";

describe("keyboard", () => {
  it("moves with arrows and j/k, clamped to the list", () => {
    expect(command("ArrowDown", -1, 3, false)).toEqual({ kind: "move", to: 0 });
    expect(command("j", 2, 3, false)).toEqual({ kind: "move", to: 2 });
    expect(command("k", 0, 3, false)).toEqual({ kind: "move", to: 0 });
    expect(command("ArrowUp", 2, 3, false)).toEqual({ kind: "move", to: 1 });
    expect(command("j", -1, 0, false)).toEqual({ kind: "none" });
  });
  it("opens, searches and exports, but leaves typing alone", () => {
    expect(command("Enter", 1, 3, false)).toEqual({ kind: "open" });
    expect(command("Enter", -1, 3, false)).toEqual({ kind: "none" });
    expect(command("/", 0, 3, false)).toEqual({ kind: "search" });
    expect(command("e", 0, 3, false)).toEqual({ kind: "export" });
    expect(command("j", 0, 3, true)).toEqual({ kind: "none" });
    expect(command("Escape", 0, 3, true)).toEqual({ kind: "back" });
  });
  it("r replays the selected row, and only when one is selected", () => {
    expect(command("r", 1, 3, false)).toEqual({ kind: "replay" });
    expect(command("r", -1, 3, false)).toEqual({ kind: "none" });
    expect(command("r", 1, 3, true)).toEqual({ kind: "none" });
  });
  it("Delete asks to delete the selected row, and only when one is selected and not while typing", () => {
    expect(command("Delete", 0, 3, false)).toEqual({ kind: "delete" });
    expect(command("Delete", -1, 3, false)).toEqual({ kind: "none" });
    expect(command("Delete", 0, 3, true)).toEqual({ kind: "none" });
  });
  it("draws only what is on screen plus a margin", () => {
    expect(visibleRange(0, 520, 52, 100_000)).toEqual({ first: 0, count: 26 });
    expect(visibleRange(52 * 50_000, 520, 52, 100_000)).toEqual({ first: 49_992, count: 26 });
    expect(visibleRange(0, 520, 52, 3)).toEqual({ first: 0, count: 3 });
  });
});
