// Keyboard navigation rules, kept pure so they can be tested without a DOM.

export type Command =
  | { kind: "move"; to: number }
  | { kind: "open" }
  | { kind: "back" }
  | { kind: "search" }
  | { kind: "export" }
  | { kind: "replay" }
  | { kind: "delete" }
  | { kind: "none" };

/** What a key press means for a list of `total` rows with `current` selected (-1 for none). */
export function command(key: string, current: number, total: number, inTextField: boolean): Command {
  if (inTextField) return key === "Escape" ? { kind: "back" } : { kind: "none" };
  const clamp = (i: number) => Math.max(0, Math.min(total - 1, i));
  switch (key) {
    case "ArrowDown":
    case "j":
      return total === 0 ? { kind: "none" } : { kind: "move", to: clamp(current + 1) };
    case "ArrowUp":
    case "k":
      return total === 0 ? { kind: "none" } : { kind: "move", to: clamp(current < 0 ? 0 : current - 1) };
    case "Home":
      return total === 0 ? { kind: "none" } : { kind: "move", to: 0 };
    case "End":
      return total === 0 ? { kind: "none" } : { kind: "move", to: total - 1 };
    case "Enter":
      return current >= 0 ? { kind: "open" } : { kind: "none" };
    case "Escape":
      return { kind: "back" };
    case "/":
      return { kind: "search" };
    case "e":
      return { kind: "export" };
    case "r":
      return current >= 0 ? { kind: "replay" } : { kind: "none" };
    case "Delete":
      return current >= 0 ? { kind: "delete" } : { kind: "none" };
    default:
      return { kind: "none" };
  }
}

/** First row to draw and how many, for a scroll position in a list of fixed-height rows. */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, total: number, overscan = 8) {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const count = Math.min(total - first, Math.ceil(viewport / rowHeight) + overscan * 2);
  return { first, count: Math.max(0, count) };
}
