// QA review rules kept pure so Vitest checks them without a DOM: the review
// keys, which recording review mode plays next, its filters and progress,
// markers from the playhead or the A–B selection, and the time axis.
import type { Flag, Marker, RecordingSummary, Verdict } from "../ipc";

export type ReviewKey =
  | { kind: "verdict"; verdict: Verdict }
  | { kind: "marker" }
  | { kind: "note" }
  | { kind: "tag" }
  | { kind: "none" };

/** What a key means in the review panel: p / f / u mark, m drops a marker, n the note, t a tag. */
export function reviewKey(key: string, inTextField: boolean, modifiers = false): ReviewKey {
  if (inTextField || modifiers) return { kind: "none" };
  switch (key) {
    case "p":
      return { kind: "verdict", verdict: "pass" };
    case "f":
      return { kind: "verdict", verdict: "fail" };
    case "u":
      return { kind: "verdict", verdict: "follow-up" };
    case "m":
      return { kind: "marker" };
    case "n":
      return { kind: "note" };
    case "t":
      return { kind: "tag" };
    default:
      return { kind: "none" };
  }
}

/** Review mode's narrowing; every field optional. */
export interface QueueFilter {
  verdict: Verdict | "";
  tag: string;
  reviewed: "" | "yes" | "no";
  flag: Flag | "";
}

export const NO_FILTER: QueueFilter = { verdict: "", tag: "", reviewed: "", flag: "" };

/** True when `r` passes `filter` (the same rules as the core's ReviewFilter). */
export function matches(r: RecordingSummary, filter: QueueFilter): boolean {
  const review = r.review;
  if (filter.verdict && review.verdict !== filter.verdict) return false;
  if (filter.tag && !review.tags.some((t) => t.toLowerCase() === filter.tag.toLowerCase())) return false;
  if (filter.reviewed === "yes" && review.verdict === "unreviewed") return false;
  if (filter.reviewed === "no" && review.verdict !== "unreviewed") return false;
  if (filter.flag && !(r.analysis?.flags ?? []).includes(filter.flag)) return false;
  return true;
}

/** "14 of 40 reviewed" over the recordings in the queue. */
export function progressText(queue: RecordingSummary[]): string {
  const done = queue.filter((r) => r.review.verdict !== "unreviewed").length;
  return `${done} of ${queue.length} reviewed`;
}

/**
 * The row review mode plays next: the first unreviewed one after `current` in
 * time order, wrapping round; `null` when every recording in the queue has a verdict.
 */
export function nextUnreviewed(queue: RecordingSummary[], current: number | null): number | null {
  const at = current === null ? -1 : queue.findIndex((r) => r.row === current);
  for (let step = 1; step <= queue.length; step++) {
    const r = queue[(at + step + queue.length) % queue.length];
    if (r && r.review.verdict === "unreviewed" && r.row !== current) return r.row;
  }
  return null;
}

/** A marker at the playhead, or over the A–B selection when there is one (seconds in, milliseconds out). */
export function markerAt(position: number, loop: [number, number] | null, text = ""): Marker {
  if (loop) return { start_ms: Math.round(loop[0] * 1000), end_ms: Math.round(loop[1] * 1000), text };
  return { start_ms: Math.round(position * 1000), end_ms: null, text };
}

/** `1.25 s` or `1.25–2.50 s`. */
export function markerSpan(m: Marker): string {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  return m.end_ms === null ? `${s(m.start_ms)} s` : `${s(m.start_ms)}–${s(m.end_ms)} s`;
}

/** Whole seconds to tick on a time axis of `duration` seconds, at most `max` of them (every 1, 2, 5, 10… s). */
export function secondTicks(duration: number, max = 30): number[] {
  if (!(duration > 0)) return [];
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300];
  const step = steps.find((s) => duration / s <= max) ?? 600;
  const ticks: number[] = [];
  for (let t = 0; t <= duration + 1e-9; t += step) ticks.push(t);
  return ticks;
}

/** How each analysis flag reads in a badge, and why. */
export const FLAGS: Record<Flag, { label: string; title: string }> = {
  silent: { label: "silent", title: "no speech detected" },
  clipped: { label: "clipped", title: "runs of 3 or more full-scale samples" },
  truncated: { label: "truncated", title: "shorter than the metadata's start–stop span by over 250 ms and 10 %" },
  late_start: { label: "late start", title: "over 2 s of silence before the speech" },
};

/** A verdict's label and badge class. */
export const VERDICTS: Record<Verdict, { label: string; tone: "" | "ok" | "bad" | "warn" }> = {
  unreviewed: { label: "unreviewed", tone: "" },
  pass: { label: "pass", tone: "ok" },
  fail: { label: "fail", tone: "bad" },
  "follow-up": { label: "follow-up", tone: "warn" },
};

/** dB for people: `-12.3 dBFS`, `−∞` for digital silence. */
export function level(value: number | null, unit: string): string {
  return value === null ? "−∞" : `${value.toFixed(1)} ${unit}`;
}
