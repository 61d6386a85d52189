import { describe, expect, it } from "vitest";
import { audioFormat, bytes, duration, shortId, time, verdict } from "./format";

describe("format", () => {
  it("shortens ids and keeps short ones", () => {
    expect(shortId("50989a59-9976-4b3f-9a98-af42adcad69a")).toBe("50989a59");
    expect(shortId("abc")).toBe("abc");
  });
  it("prints sizes, durations and times the way the lists show them", () => {
    expect(bytes(999)).toBe("999 B");
    expect(bytes(20_000)).toBe("20 KB");
    expect(bytes(2_400_000)).toBe("2.4 MB");
    expect(duration(2500)).toBe("2.50 s");
    expect(duration(65_000)).toBe("1:05.0");
    expect(time("2026-11-26T12:00:01.234Z")).toBe("2026-11-26 12:00:01.234");
    expect(audioFormat("mulaw", 8000, "raw")).toBe("μ-law 8 kHz raw");
    expect(audioFormat("pcm16", 22050, "wav")).toBe("PCM16 22.1 kHz WAV");
    expect(audioFormat("pcm16be", 8000, "raw")).toBe("L16 (big-endian) 8 kHz raw");
  });
  it("flags bad and missing tokens only", () => {
    expect(verdict("valid")).toEqual({ label: "verified", bad: false });
    expect(verdict("invalid").bad).toBe(true);
    expect(verdict("missing").bad).toBe(true);
    expect(verdict("off").bad).toBe(false);
  });
});
