// The integration workbench's decisions, kept pure so Vitest covers them:
// what each Response preset simulates, which metadata fields an edited JSON
// text changes, how extra header lines read, and how an upstream answer or a
// request's fate is summed up in one line.

import type { AnswerEntry, FieldEdit, JsonValue, RequestEntry, SimScope, Simulation } from "../ipc";

export type Tone = "ok" | "warn" | "bad" | "muted";

/** A preset of the Response card: what it answers, or `null` for the real answer. */
export interface Preset {
  id: string;
  label: string;
  hint: string;
  answer: Omit<Simulation, "scope"> | null;
}

export const PRESETS: Preset[] = [
  { id: "healthy", label: "Healthy 200", hint: "Off: the real answer (Earshot's 200, or your service's when forwarding).", answer: null },
  { id: "slow", label: "Slow 25 s", hint: "200 after 25 s: inside watsonx's 30 s, but the caller waits.", answer: { status: 200, delay_ms: 25_000, drop: false } },
  { id: "timeout", label: "Past the timeout 31 s", hint: "200 after 31 s: watsonx has given up and disconnects the call.", answer: { status: 200, delay_ms: 31_000, drop: false } },
  { id: "500", label: "500", hint: "Internal Server Error at once.", answer: { status: 500, delay_ms: 0, drop: false } },
  { id: "503", label: "503", hint: "Service Unavailable at once.", answer: { status: 503, delay_ms: 0, drop: false } },
  { id: "drop", label: "Drop the connection", hint: "Close the connection without an answer.", answer: { status: 200, delay_ms: 0, drop: true } },
];

/** What the Response card's custom fields hold. */
export interface CustomAnswer {
  status: number;
  delaySeconds: number;
  drop: boolean;
}

/** Which requests: the card's scope fields. */
export interface ScopeForm {
  kind: SimScope["scope"];
  count: number;
  sessionId: string;
}

/** The scope to send, or why it cannot be sent. */
export function scopeOf(form: ScopeForm): SimScope | { error: string } {
  switch (form.kind) {
    case "all":
      return { scope: "all" };
    case "next":
      if (!Number.isInteger(form.count) || form.count < 1) return { error: "the next N needs a whole number of 1 or more" };
      return { scope: "next", count: form.count };
    case "session":
      if (!form.sessionId.trim()) return { error: "give the session id of the call to simulate for" };
      return { scope: "session", session_id: form.sessionId.trim() };
  }
}

/** The simulation a preset (or "custom") turns on, `null` for Healthy, or why not. */
export function simulationOf(presetId: string, custom: CustomAnswer, scope: ScopeForm): Simulation | null | { error: string } {
  let answer: Omit<Simulation, "scope"> | null;
  if (presetId === "custom") {
    if (!custom.drop && !(Number.isInteger(custom.status) && custom.status >= 100 && custom.status <= 599)) {
      return { error: `${custom.status} is not an HTTP status (100–599)` };
    }
    if (!(custom.delaySeconds >= 0)) return { error: "the delay is a number of seconds, 0 or more" };
    answer = { status: custom.status, delay_ms: Math.round(custom.delaySeconds * 1000), drop: custom.drop };
  } else {
    const preset = PRESETS.find((p) => p.id === presetId);
    if (!preset) return { error: `unknown preset ${presetId}` };
    answer = preset.answer;
  }
  if (answer === null) return null;
  const s = scopeOf(scope);
  if ("error" in s) return s;
  return { ...answer, scope: s };
}

/** The preset a simulation in force matches, else "custom" ("healthy" when off). */
export function presetOf(simulation: Simulation | null): string {
  if (!simulation) return "healthy";
  const same = PRESETS.find(
    (p) => p.answer && p.answer.drop === simulation.drop && p.answer.delay_ms === simulation.delay_ms && (simulation.drop || p.answer.status === simulation.status),
  );
  return same?.id ?? "custom";
}

function isObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function same(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The metadata fields the edited JSON text sets, against the original: each
 * top-level field added or changed becomes one edit (nested values are sent
 * whole). Removing a field cannot be replayed as an edit, so it is an error.
 */
export function metadataEdits(original: JsonValue | null, edited: string): { edits: FieldEdit[] } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(edited);
  } catch (e) {
    return { error: `the metadata is not valid JSON: ${(e as Error).message}` };
  }
  if (!isObject(parsed)) return { error: "the metadata must be a JSON object" };
  const before = isObject(original) ? original : {};
  const removed = Object.keys(before).filter((k) => !(k in parsed));
  if (removed.length) return { error: `removing fields is not supported (${removed.join(", ")}); set them to null instead` };
  const edits = Object.entries(parsed)
    .filter(([field, value]) => !same(before[field], value))
    .map(([field, value]) => ({ field, value }));
  return { edits };
}

/** `Name: value` lines (blank lines skipped) as header pairs, or the first line that is not one. */
export function parseHeaders(text: string): { headers: [string, string][] } | { error: string } {
  const headers: [string, string][] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const at = line.indexOf(":");
    const name = at > 0 ? line.slice(0, at).trim() : "";
    if (!name || /[\s()<>@,;"/[\]?={}]/.test(name)) return { error: `"${line.trim()}" is not a header line (Name: value)` };
    headers.push([name, line.slice(at + 1).trim()]);
  }
  return { headers };
}

/** `202 · 12.3 ms`, or the fault, with a colour. */
export function answerSummary(answer: Pick<AnswerEntry, "status" | "latency_ms" | "error_code">): { label: string; tone: Tone } {
  const ms = answer.latency_ms < 10 ? answer.latency_ms.toFixed(1) : answer.latency_ms.toFixed(0);
  if (answer.status === null) return { label: `${(answer.error_code ?? "no answer").replace(/_/g, " ")} · ${ms} ms`, tone: "bad" };
  const ok = answer.status >= 200 && answer.status < 300;
  return { label: `${answer.status} · ${ms} ms`, tone: ok ? "ok" : "bad" };
}

/** The request list's line about what happened beyond Earshot: a simulated answer, the upstream's, or nothing. */
export function fateOf(entry: Pick<RequestEntry, "status" | "forward" | "simulated">): { label: string; tone: Tone } | null {
  if (entry.simulated) return { label: `answered ${entry.simulated} (simulated)`, tone: "warn" };
  const f = entry.forward;
  if (!f) return null;
  if (f.status === 0) return { label: `${f.mode} → pending…`, tone: "muted" };
  const a = answerSummary(f);
  return { label: `${f.mode} → ${a.label}`, tone: a.tone };
}
