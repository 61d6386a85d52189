import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { DeleteTarget, Removed } from "../ipc";
import { DeletionStore } from "./deletion.svelte";
import { baseName, confirmText, deletedText, Expiring, importText, isBundle, removedText, retentionFrom, retentionText, UNDO_MS } from "./lifecycle";

afterEach(() => {
  clearMocks();
  vi.useRealTimers();
});

const call: Removed = { calls: 1, recordings: 2, requests: 3, bytes: 40_000 };

describe("what a delete says", () => {
  it("names every count that is not zero, with the audio's size", () => {
    expect(removedText(call)).toBe("1 call, 2 recordings (40 KB of audio) and 3 request-log entries");
    expect(removedText({ calls: 0, recordings: 1, requests: 0, bytes: 1200 })).toBe("1 recording (1.2 KB of audio)");
    expect(removedText({ calls: 0, recordings: 0, requests: 1, bytes: 0 })).toBe("1 request-log entry");
    expect(removedText({ calls: 0, recordings: 0, requests: 0, bytes: 0 })).toBe("nothing");
  });

  it("asks before, and reports after, from the counts", () => {
    expect(confirmText("call 1234abcd", call)).toBe(
      "Delete call 1234abcd? This removes 1 call, 2 recordings (40 KB of audio) and 3 request-log entries from the database for real.",
    );
    expect(confirmText("request #7", { calls: 0, recordings: 0, requests: 1, bytes: 0 }, "The recording it delivered stays.")).toMatch(
      /1 request-log entry from the database for real\. The recording it delivered stays\.$/,
    );
    expect(deletedText("call 1234abcd", call)).toBe("Deleted call 1234abcd: 1 call, 2 recordings (40 KB of audio) and 3 request-log entries");
  });

  it("reports an import's added, skipped and conflicts", () => {
    const text = importText("a.earshot", { calls: 1, added: 2, skipped: 1, conflicts: 0, requests: 3, skipped_ids: ["x"], conflict_ids: [] });
    expect(text).toBe("Imported a.earshot (1 call): 2 added, 1 already here (skipped), 0 conflicts; 3 request-log entries added.");
  });

  it("recognises bundles among dropped files", () => {
    expect(isBundle("/tmp/Call.EARSHOT")).toBe(true);
    expect(isBundle("/tmp/call.wav")).toBe(false);
    expect(baseName("C:\\calls\\x.earshot")).toBe("x.earshot");
    expect(baseName("/home/me/x.earshot")).toBe("x.earshot");
  });
});

describe("the retention form", () => {
  it("is off with both fields empty, and takes either limit alone", () => {
    expect(retentionFrom("", " ")).toBeNull();
    expect(retentionFrom("30", "")).toEqual({ days: 30, max_gb: null });
    expect(retentionFrom("", "2.5")).toEqual({ days: null, max_gb: 2.5 });
    expect(retentionText({ days: 30, max_gb: 2.5 })).toBe("keep 30 days, at most 2.5 GB");
    expect(retentionText({ days: null, max_gb: null })).toBe("off");
  });

  it("refuses what the core would refuse, saying why", () => {
    expect(retentionFrom("0", "")).toEqual({ error: "0 is not a number of days (a whole number, 1 or more)" });
    expect(retentionFrom("1.5", "")).toHaveProperty("error");
    expect(retentionFrom("", "0")).toEqual({ error: "0 is not a size in GB (a number above 0)" });
    expect(retentionFrom("", "lots")).toHaveProperty("error");
  });
});

describe("the undo toast", () => {
  it("hides itself after 10 s, and a newer toast is not hidden by an older timer", () => {
    vi.useFakeTimers();
    const seen: (string | null)[] = [];
    const toast = new Expiring<string>((v) => seen.push(v));
    toast.show("first");
    vi.advanceTimersByTime(UNDO_MS - 1000);
    toast.show("second");
    vi.advanceTimersByTime(1500);
    expect(toast.current).toBe("second");
    vi.advanceTimersByTime(UNDO_MS);
    expect(toast.current).toBeNull();
    expect(seen).toEqual(["first", "second", null]);
  });

  it("asks with the preview, deletes on confirm, and Undo sends the token back", async () => {
    vi.useFakeTimers();
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "delete_preview") return call;
      if (cmd === "delete") return { removed: call, undo: 7 };
      if (cmd === "undo_delete") return call;
      return null;
    });
    const store = new DeletionStore();
    const target: DeleteTarget = { kind: "session", session_id: "1234abcd-e" };
    await store.ask(target, "call 1234abcd");
    expect(store.asking?.text).toBe(confirmText("call 1234abcd", call));
    await store.confirm();
    expect(store.asking).toBeNull();
    expect(store.toast).toEqual({ text: deletedText("call 1234abcd", call), token: 7 });
    await store.undo();
    expect(calls.map(([c]) => c)).toEqual(["delete_preview", "delete", "undo_delete"]);
    expect(calls[2]?.[1]).toEqual({ token: 7 });
    expect(store.toast?.token).toBeNull();
    expect(store.toast?.text).toMatch(/^Restored 1 call/);
    vi.advanceTimersByTime(UNDO_MS);
    expect(store.toast).toBeNull();
  });

  it("shows the adapter's message when the undo came too late", async () => {
    mockIPC((cmd) => {
      if (cmd === "delete_preview") return call;
      if (cmd === "delete") return { removed: call, undo: 1 };
      if (cmd === "undo_delete") throw { code: "undo_expired", message: "this delete can no longer be undone" };
      return null;
    });
    const store = new DeletionStore();
    await store.ask({ kind: "requests", ids: [3] }, "request #3");
    await store.confirm();
    await store.undo();
    expect(store.toast).toBeNull();
    expect(store.error).toBe("this delete can no longer be undone");
  });
});
