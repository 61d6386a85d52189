// The About footer's rows, from the `about` command. Pure, tested in about.test.ts.

import type { About } from "../ipc";
import { bytes } from "./format";

/** Label and value for each fact the footer shows, in order. */
export function aboutRows(about: About): [string, string][] {
  return [
    ["Version", about.version],
    ["Data dir", about.data_dir],
    ["Store", about.store],
    ["Database size", bytes(about.store_bytes)],
  ];
}
