// Owning the captures, as the window words it: what a delete will take, what
// it took, what an import did, and the Undo toast's 10 s. Pure, tested in
// lifecycle.test.ts.

import type { ImportReport, Removed, RetentionPolicy } from "../ipc";
import { bytes } from "./format";

/** How long the Undo toast stays (the adapter keeps the rows a little longer). */
export const UNDO_MS = 10_000;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `1 call, 2 recordings (40.0 KB of audio) and 3 requests`; only the parts that are not zero. */
export function removedText(r: Removed): string {
  const parts: string[] = [];
  if (r.calls > 0) parts.push(plural(r.calls, "call"));
  if (r.recordings > 0) parts.push(`${plural(r.recordings, "recording")} (${bytes(r.bytes)} of audio)`);
  if (r.requests > 0) parts.push(plural(r.requests, "request-log entry", "request-log entries"));
  const last = parts.pop();
  if (last === undefined) return "nothing";
  return parts.length === 0 ? last : `${parts.join(", ")} and ${last}`;
}

/** The confirmation's question: exactly what goes, and that it goes for real. */
export function confirmText(what: string, r: Removed, note: string | null = null): string {
  const base = `Delete ${what}? This removes ${removedText(r)} from the database for real.`;
  return note ? `${base} ${note}` : base;
}

/** The toast after a delete, from the writer's own count. */
export function deletedText(what: string, r: Removed): string {
  return `Deleted ${what}: ${removedText(r)}`;
}

/** What an import did, in one line. */
export function importText(file: string, report: ImportReport): string {
  const parts = [`${report.added} added`, `${report.skipped} already here (skipped)`, `${report.conflicts} conflicts`];
  return `Imported ${file} (${plural(report.calls, "call")}): ${parts.join(", ")}; ${plural(report.requests, "request-log entry", "request-log entries")} added.`;
}

/** The file name at the end of a path (either separator). */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

/** Whether a dropped path is a bundle. */
export function isBundle(path: string): boolean {
  return path.toLowerCase().endsWith(".earshot");
}

/**
 * One toast at a time that hides itself after `ms`: showing another replaces
 * it (and its timer), so an old timer never hides a newer toast.
 */
export class Expiring<T> {
  current: T | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly onchange: (value: T | null) => void,
    private readonly ms = UNDO_MS,
  ) {}

  show(value: T): void {
    clearTimeout(this.timer);
    this.current = value;
    this.onchange(value);
    this.timer = setTimeout(() => this.clear(), this.ms);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.current = null;
    this.onchange(null);
  }
}

/**
 * The retention form's two fields as a policy: empty means no limit, both
 * empty means off (`null`). A value that is not a positive number is an error
 * message instead, and nothing is saved.
 */
export function retentionFrom(days: string, gb: string): RetentionPolicy | null | { error: string } {
  const d = days.trim();
  const g = gb.trim();
  let parsedDays: number | null = null;
  let parsedGb: number | null = null;
  if (d) {
    const n = Number(d);
    if (!Number.isInteger(n) || n < 1) return { error: `${d} is not a number of days (a whole number, 1 or more)` };
    parsedDays = n;
  }
  if (g) {
    const n = Number(g);
    if (!Number.isFinite(n) || n <= 0) return { error: `${g} is not a size in GB (a number above 0)` };
    parsedGb = n;
  }
  if (parsedDays === null && parsedGb === null) return null;
  return { days: parsedDays, max_gb: parsedGb };
}

/** `keep 30 days, at most 2 GB`, or `off`. */
export function retentionText(policy: RetentionPolicy): string {
  const parts: string[] = [];
  if (policy.days !== null) parts.push(`keep ${plural(policy.days, "day")}`);
  if (policy.max_gb !== null) parts.push(`at most ${policy.max_gb} GB`);
  return parts.length ? parts.join(", ") : "off";
}
