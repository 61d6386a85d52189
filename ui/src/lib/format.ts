// Display formatting shared by the views. Pure functions, tested in format.test.ts.

import type { Container, Encoding, TokenCheck } from "../ipc";

/** First 8 characters of an id (UUIDs stay recognisable); the full id goes in a tooltip. */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

/** `1.2 KB`, `240 KB`, `3.4 MB`. */
export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)} KB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}

/** `2.50 s`, `1:05.0`. */
export function duration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = ((ms % 60_000) / 1000).toFixed(1).padStart(4, "0");
  return `${minutes}:${seconds}`;
}

/** `2026-11-26 12:00:01.234` from an RFC 3339 UTC stamp, in UTC (what watsonx sends). */
export function time(stamp: string): string {
  return stamp.replace("T", " ").replace(/Z$/, "").replace(/([+-]\d\d:\d\d)$/, " $1");
}

/** `μ-law 8 kHz raw`, `PCM16 16 kHz WAV`. */
export function audioFormat(encoding: Encoding, rate: number, container: Container): string {
  const name: Record<Encoding, string> = { mulaw: "μ-law", alaw: "A-law", pcm16: "PCM16", pcm16be: "L16 (big-endian)" };
  const khz = rate % 1000 === 0 ? `${rate / 1000}` : (rate / 1000).toFixed(1);
  return `${name[encoding]} ${khz} kHz ${container === "wav" ? "WAV" : "raw"}`;
}

/** Token check label and whether it should be flagged. */
export function verdict(value: TokenCheck): { label: string; bad: boolean } {
  switch (value) {
    case "valid":
      return { label: "verified", bad: false };
    case "invalid":
      return { label: "bad token", bad: true };
    case "missing":
      return { label: "no token", bad: true };
    case "off":
      return { label: "not checked", bad: false };
  }
}

/** Pretty JSON for the detail panes. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
