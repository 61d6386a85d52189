import { describe, expect, it } from "vitest";
import { aboutRows } from "./about";

describe("aboutRows", () => {
  it("shows the version, the data dir, the store and its size", () => {
    const rows = aboutRows({
      version: "0.1.0",
      data_dir: "/home/qa/.local/share/earshot",
      store: "/home/qa/.local/share/earshot/earshot.db",
      store_bytes: 12_345_678,
    });
    expect(rows).toEqual([
      ["Version", "0.1.0"],
      ["Data dir", "/home/qa/.local/share/earshot"],
      ["Store", "/home/qa/.local/share/earshot/earshot.db"],
      ["Database size", "12.3 MB"],
    ]);
  });
});
