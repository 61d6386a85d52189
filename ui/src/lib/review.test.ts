import { describe, expect, it } from "vitest";
import type { RecordingSummary, Review, Verdict } from "../ipc";
import { NO_FILTER, markerAt, markerSpan, matches, nextUnreviewed, progressText, reviewKey, secondTicks } from "./review";
import { magma, paint } from "./spectrogram";

function rec(row: number, verdict: Verdict = "unreviewed", extra: Partial<Review> = {}, flags: RecordingSummary["analysis"] = null): RecordingSummary {
  return {
    row,
    review: { verdict, note: "", tags: [], markers: [], reviewed_at: null, ...extra },
    analysis: flags,
  } as unknown as RecordingSummary;
}

describe("review keys", () => {
  it("p, f and u mark; m, n and t act; nothing while typing or with a modifier", () => {
    expect(reviewKey("p", false)).toEqual({ kind: "verdict", verdict: "pass" });
    expect(reviewKey("f", false)).toEqual({ kind: "verdict", verdict: "fail" });
    expect(reviewKey("u", false)).toEqual({ kind: "verdict", verdict: "follow-up" });
    expect(reviewKey("m", false).kind).toBe("marker");
    expect(reviewKey("n", false).kind).toBe("note");
    expect(reviewKey("t", false).kind).toBe("tag");
    expect(reviewKey("p", true).kind).toBe("none");
    expect(reviewKey("f", false, true).kind).toBe("none");
    expect(reviewKey("x", false).kind).toBe("none");
  });
});

describe("the review queue", () => {
  const queue = [rec(1, "pass"), rec(2), rec(3, "fail"), rec(4)];

  it("plays the next unreviewed recording after the current one, wrapping round", () => {
    expect(nextUnreviewed(queue, null)).toBe(2);
    expect(nextUnreviewed(queue, 2)).toBe(4);
    expect(nextUnreviewed(queue, 4)).toBe(2);
    expect(nextUnreviewed([rec(1, "pass"), rec(2, "fail")], 1)).toBeNull();
  });

  it("counts what has a verdict", () => {
    expect(progressText(queue)).toBe("2 of 4 reviewed");
  });

  it("filters by verdict, tag in any case, reviewed or not, and flag", () => {
    const tagged = rec(5, "follow-up", { tags: ["Noise"] });
    const clipped = rec(6, "unreviewed", {}, { flags: ["clipped"] } as unknown as RecordingSummary["analysis"]);
    expect(matches(tagged, { ...NO_FILTER, tag: "noise" })).toBe(true);
    expect(matches(tagged, { ...NO_FILTER, verdict: "fail" })).toBe(false);
    expect(matches(tagged, { ...NO_FILTER, reviewed: "yes" })).toBe(true);
    expect(matches(tagged, { ...NO_FILTER, reviewed: "no" })).toBe(false);
    expect(matches(clipped, { ...NO_FILTER, flag: "clipped" })).toBe(true);
    expect(matches(tagged, { ...NO_FILTER, flag: "clipped" })).toBe(false);
  });
});

describe("markers and the time axis", () => {
  it("drops a point at the playhead, or a region over the A–B selection", () => {
    expect(markerAt(1.2345, null)).toEqual({ start_ms: 1235, end_ms: null, text: "" });
    expect(markerAt(3, [1.25, 2.5], "cut off")).toEqual({ start_ms: 1250, end_ms: 2500, text: "cut off" });
    expect(markerSpan({ start_ms: 1250, end_ms: 2500, text: "" })).toBe("1.25–2.50 s");
  });

  it("ticks whole seconds, coarser for long recordings", () => {
    expect(secondTicks(3.2)).toEqual([0, 1, 2, 3]);
    expect(secondTicks(0)).toEqual([]);
    expect(secondTicks(100, 8)).toEqual([0, 15, 30, 45, 60, 75, 90]);
    expect(secondTicks(100, 10)).toHaveLength(11);
  });
});

describe("spectrogram colours", () => {
  it("go from magma's dark end to its pale end, reversed on a light page", () => {
    expect(magma(0)).toEqual([0, 0, 4]);
    expect(magma(1)).toEqual([0xfc, 0xfd, 0xbf]);
    expect(Array.from(paint([255], true))).toEqual([0xfc, 0xfd, 0xbf, 255]);
    expect(Array.from(paint([255], false))).toEqual([0, 0, 4, 255]);
  });
});
