import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it } from "vitest";
import { SimulationStore } from "./simulation.svelte";
import { answerSummary, fateOf, metadataEdits, parseHeaders, presetOf, scopeOf, simulationOf } from "./workbench";

const all = { kind: "all" as const, count: 1, sessionId: "" };
const custom = { status: 418, delaySeconds: 1.5, drop: false };

describe("Response presets", () => {
  it("turn into the simulation the core runs", () => {
    expect(simulationOf("healthy", custom, all)).toBeNull();
    expect(simulationOf("503", custom, all)).toEqual({ status: 503, delay_ms: 0, drop: false, scope: { scope: "all" } });
    expect(simulationOf("slow", custom, { kind: "next", count: 3, sessionId: "" })).toEqual({ status: 200, delay_ms: 25_000, drop: false, scope: { scope: "next", count: 3 } });
    expect(simulationOf("timeout", custom, all)).toMatchObject({ delay_ms: 31_000 });
    expect(simulationOf("drop", custom, all)).toMatchObject({ drop: true });
    expect(simulationOf("custom", custom, { kind: "session", count: 0, sessionId: " call-a " })).toEqual({ status: 418, delay_ms: 1500, drop: false, scope: { scope: "session", session_id: "call-a" } });
  });
  it("refuse what the core would refuse, with the reason", () => {
    expect(simulationOf("custom", { ...custom, status: 42 }, all)).toEqual({ error: "42 is not an HTTP status (100–599)" });
    expect(simulationOf("custom", { ...custom, status: 42, drop: true }, all)).not.toHaveProperty("error");
    expect(scopeOf({ kind: "next", count: 0, sessionId: "" })).toHaveProperty("error");
    expect(scopeOf({ kind: "session", count: 1, sessionId: "  " })).toHaveProperty("error");
  });
  it("are recognised again from the simulation in force", () => {
    expect(presetOf(null)).toBe("healthy");
    expect(presetOf({ status: 503, delay_ms: 0, drop: false, scope: { scope: "next", count: 2 } })).toBe("503");
    expect(presetOf({ status: 0, delay_ms: 0, drop: true, scope: { scope: "all" } })).toBe("drop");
    expect(presetOf({ status: 503, delay_ms: 2000, drop: false, scope: { scope: "all" } })).toBe("custom");
  });
});

describe("the metadata editor", () => {
  const original = { recording_id: "r1", session_id: "s1", nested: { a: 1 } };
  it("sends only the fields that changed or were added", () => {
    const text = JSON.stringify({ recording_id: "r2", session_id: "s1", nested: { a: 1 }, extra: 3 }, null, 2);
    expect(metadataEdits(original, text)).toEqual({ edits: [{ field: "recording_id", value: "r2" }, { field: "extra", value: 3 }] });
    expect(metadataEdits(original, JSON.stringify(original))).toEqual({ edits: [] });
    expect(metadataEdits(original, JSON.stringify({ ...original, nested: { a: 2 } }))).toEqual({ edits: [{ field: "nested", value: { a: 2 } }] });
  });
  it("says why it cannot: bad JSON, not an object, a removed field", () => {
    expect(metadataEdits(original, "{")).toHaveProperty("error");
    expect(metadataEdits(original, "[1]")).toEqual({ error: "the metadata must be a JSON object" });
    expect(metadataEdits(original, JSON.stringify({ recording_id: "r1", nested: {} }))).toEqual({ error: "removing fields is not supported (session_id); set them to null instead" });
  });
});

describe("extra headers", () => {
  it("read one Name: value per line", () => {
    expect(parseHeaders("X-Test: 1\n\nX-Other:  a: b \n")).toEqual({ headers: [["X-Test", "1"], ["X-Other", "a: b"]] });
    expect(parseHeaders("not a header")).toHaveProperty("error");
    expect(parseHeaders("Bad Name: x")).toHaveProperty("error");
  });
});

describe("answers in one line", () => {
  it("show the status and latency, or the fault", () => {
    expect(answerSummary({ status: 202, latency_ms: 3.14, error_code: null })).toEqual({ label: "202 · 3.1 ms", tone: "ok" });
    expect(answerSummary({ status: 500, latency_ms: 120.4, error_code: null })).toEqual({ label: "500 · 120 ms", tone: "bad" });
    expect(answerSummary({ status: null, latency_ms: 25000, error_code: "upstream_timeout" })).toEqual({ label: "upstream timeout · 25000 ms", tone: "bad" });
  });
  it("say what became of a request beyond Earshot", () => {
    expect(fateOf({ status: 503, forward: null, simulated: "503" })).toEqual({ label: "answered 503 (simulated)", tone: "warn" });
    expect(fateOf({ status: 200, forward: null, simulated: null })).toBeNull();
    const forward = { mode: "pass" as const, url: "http://x/", status: 0, latency_ms: 0, error_code: null, error: null, headers: [], body: "", body_size: 0 };
    expect(fateOf({ status: 200, forward, simulated: null })?.label).toBe("pass → pending…");
    expect(fateOf({ status: 202, forward: { ...forward, status: 202, latency_ms: 4 }, simulated: null })).toEqual({ label: "pass → 202 · 4.0 ms", tone: "ok" });
  });
});

describe("the simulation state", () => {
  it("follows the core's events, so a countdown that ends clears the badge", async () => {
    const on = { simulation: { status: 503, delay_ms: 0, drop: false, scope: { scope: "next" as const, count: 1 } }, label: "503, next 1" };
    mockIPC((cmd) => (cmd === "get_simulation" ? on : null), { shouldMockEvents: true });
    const store = new SimulationStore();
    await store.init();
    expect(store.state?.label).toBe("503, next 1");
    await emit("earshot://simulation", null);
    expect(store.state).toBeNull();
    clearMocks();
  });
});
