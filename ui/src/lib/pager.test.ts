import { describe, expect, it, vi } from "vitest";
import { Pager, type PageOf } from "./pager";

function backend(total: number) {
  const calls: [number, number][] = [];
  const fetch = vi.fn(async (offset: number, limit: number): Promise<PageOf<number>> => {
    calls.push([offset, limit]);
    const items = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => offset + i);
    return { items, total, offset };
  });
  return { fetch, calls };
}

describe("Pager", () => {
  it("fetches only the pages covering the visible rows", async () => {
    const { fetch, calls } = backend(100_000);
    const pager = new Pager(fetch, () => {}, 100);
    await pager.ensure(50_000, 50_030);
    expect(calls).toEqual([[50_000, 100]]);
    expect(pager.total).toBe(100_000);
    expect(pager.get(50_010)).toBe(50_010);
    expect(pager.get(0)).toBeUndefined();
  });
  it("does not fetch the same page twice while it is loading", async () => {
    const { fetch } = backend(1000);
    const pager = new Pager(fetch, () => {}, 100);
    await Promise.all([pager.ensure(0, 10), pager.ensure(5, 20)]);
    expect(fetch).toHaveBeenCalledTimes(1);
  });
  it("refresh refetches and finds a selected row again by identity", async () => {
    let total = 3;
    const pager = new Pager<number>(async (offset) => ({ items: Array.from({ length: total }, (_, i) => 10 * (total - i)), total, offset }), () => {});
    await pager.ensure(0, 3);
    expect(pager.indexWhere((r) => r === 10)).toBe(2);
    total = 4;
    await pager.refresh();
    expect(pager.total).toBe(4);
    expect(pager.indexWhere((r) => r === 10)).toBe(3);
  });
  // A click on a call while the list refreshed (a recording stored, then analysed) used to select nothing.
  it("answers with the rows shown before while a refresh is in flight, then with the new ones", async () => {
    let version = 1;
    let release: () => void = () => {};
    const pager = new Pager<string>(async (offset) => {
      if (version > 1) await new Promise<void>((r) => (release = r));
      return { items: [`call v${version}`], total: 1, offset };
    }, () => {});
    await pager.ensure(0, 1);
    version = 2;
    const refreshing = pager.refresh();
    expect(pager.get(0)).toBe("call v1");
    release();
    await refreshing;
    expect(pager.get(0)).toBe("call v2");
  });
});
