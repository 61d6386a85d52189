import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { api, errorMessage, isIpcError } from "./index";

afterEach(() => clearMocks());

describe("ipc", () => {
  it("calls commands by their Rust names with camelCase arguments", async () => {
    const seen: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, args]);
      if (cmd === "list_sessions") return { items: [], total: 0, offset: 0 };
      if (cmd === "list_recordings") return [];
      return null;
    });
    await api.listSessions({ id_prefix: "abc", from: null, to: null, verdict: "flagged" }, 100, 50);
    await api.listRecordings("call-1");
    expect(seen).toEqual([
      ["list_sessions", { filter: { id_prefix: "abc", from: null, to: null, verdict: "flagged" }, offset: 100, limit: 50 }],
      ["list_recordings", { sessionId: "call-1" }],
    ]);
  });
  it("surfaces {code, message} errors as readable text", async () => {
    mockIPC(() => {
      throw { code: "not_found", message: "no recording row matches \"42\"" };
    });
    const failure = await api.recordingDetail(42).catch((e: unknown) => e);
    expect(isIpcError(failure)).toBe(true);
    expect(errorMessage(failure)).toBe('no recording row matches "42"');
  });
});
