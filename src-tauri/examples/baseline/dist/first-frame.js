// The second animation frame runs after the first one was painted (as in ui/src/main.ts).
requestAnimationFrame(() => requestAnimationFrame(() => window.__TAURI_INTERNALS__.invoke("first_frame")));
