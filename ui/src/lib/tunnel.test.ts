import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { SelfTestReport, TunnelInfo } from "../ipc";
import { buildRequest, formatLatency, formatLog, initialForm, outcomeMark, publicWebhookUrl, statusBadge, TunnelState } from "./tunnel.svelte";

afterEach(() => clearMocks());

const stopped: TunnelInfo = {
  revision: 0,
  choice: "cloudflared",
  running: null,
  status: { state: "stopped" },
  webhook_url: null,
  custom_url: null,
  ngrok_domain: null,
  ngrok_token_set: false,
  cloudflared: "/usr/local/bin/cloudflared",
  pid: null,
};

const online: TunnelInfo = {
  ...stopped,
  revision: 2,
  running: "cloudflared",
  status: { state: "online", url: "https://quick-brown-fox.trycloudflare.com" },
  webhook_url: "https://quick-brown-fox.trycloudflare.com/audio-webhook",
  pid: 4242,
};

const form = (choice: "cloudflared" | "ngrok" | "custom", fields: Partial<{ url: string; token: string; domain: string }> = {}) => ({
  choice,
  url: "",
  token: "",
  domain: "",
  ...fields,
});

describe("tunnel status", () => {
  it("names each state and gives the public URL only when online", () => {
    expect(statusBadge({ state: "stopped" })).toEqual({ label: "off", tone: "muted" });
    expect(statusBadge({ state: "starting" }).tone).toBe("warn");
    expect(statusBadge({ state: "online", url: "https://x" })).toEqual({ label: "online", tone: "ok" });
    expect(statusBadge({ state: "error", message: "died; restarting in 1.0 s" }).tone).toBe("bad");
    expect(publicWebhookUrl(online)).toBe("https://quick-brown-fox.trycloudflare.com/audio-webhook");
    expect(publicWebhookUrl({ ...online, status: { state: "starting" } })).toBe("");
    expect(publicWebhookUrl(null)).toBe("");
  });

  it("fills the form from what was saved, never with a token", () => {
    const saved = { ...stopped, choice: "ngrok" as const, ngrok_token_set: true, ngrok_domain: "ears.ngrok.app", custom_url: "https://h.example.com" };
    expect(initialForm(saved)).toEqual({ choice: "ngrok", url: "https://h.example.com", token: "", domain: "ears.ngrok.app" });
  });

  it("formats latency and the log", () => {
    expect(formatLatency(83.6)).toBe("84 ms");
    expect(formatLatency(1340)).toBe("1.3 s");
    expect(formatLatency(null)).toBe("no answer");
    const log = formatLog([
      { seq: 0, at: "2026-11-27T10:11:12.345Z", source: "supervisor", text: "starting cloudflared" },
      { seq: 1, at: "2026-11-27T10:11:13.000Z", source: "stderr", text: "INF Registered tunnel connection" },
    ]);
    expect(log).toBe("10:11:12.345 earshot starting cloudflared\n10:11:13.000 stderr INF Registered tunnel connection");
    expect(outcomeMark("failed")).toEqual({ mark: "✗", tone: "bad" });
    expect(outcomeMark("not_reached").mark).toBe("–");
  });
});

describe("what Start sends", () => {
  it("refuses what cannot work before asking the backend", () => {
    expect(buildRequest(form("cloudflared"), { ...stopped, cloudflared: null })).toEqual({
      problem: expect.stringContaining("not installed"),
    });
    expect(buildRequest(form("ngrok"), stopped)).toEqual({ problem: expect.stringContaining("dashboard.ngrok.com") });
    expect(buildRequest(form("custom", { url: "hooks.example.com" }), stopped)).toEqual({ problem: expect.stringContaining("https://") });
  });

  it("sends a new token only when one was typed, and trims", () => {
    expect(buildRequest(form("cloudflared"), stopped)).toEqual({ request: { provider: "cloudflared" } });
    const saved = { ...stopped, ngrok_token_set: true };
    expect(buildRequest(form("ngrok", { domain: " ears.ngrok.app " }), saved)).toEqual({
      request: { provider: "ngrok", ngrok_domain: "ears.ngrok.app" },
    });
    expect(buildRequest(form("ngrok", { token: " 2abc " }), stopped)).toEqual({
      request: { provider: "ngrok", ngrok_domain: "", ngrok_token: "2abc" },
    });
    expect(buildRequest(form("custom", { url: " https://hooks.example.com/ " }), stopped)).toEqual({
      request: { provider: "custom", url: "https://hooks.example.com/" },
    });
  });
});

describe("tunnel state", () => {
  it("starts, follows status events, tests and stops through the commands", async () => {
    const calls: [string, unknown][] = [];
    const report: SelfTestReport = {
      url: online.webhook_url!,
      ok: false,
      failed_hop: "auth",
      summary: "failed at auth: Earshot refused the token",
      latency_ms: 120,
      http_status: 401,
      recording_id: "r",
      session_id: "selftest-1",
      hops: [],
    };
    mockIPC(
      (cmd, args) => {
        calls.push([cmd, args]);
        if (cmd === "get_tunnel") return stopped;
        if (cmd === "stop_tunnel") return { ...stopped, revision: 3 };
        if (cmd === "start_tunnel") return { ...stopped, revision: 1, running: "cloudflared", status: { state: "starting" } };
        if (cmd === "tunnel_self_test") return report;
        return null;
      },
      { shouldMockEvents: true },
    );
    const tunnel = new TunnelState();
    await tunnel.init();
    expect(tunnel.info?.status.state).toBe("stopped");

    await tunnel.start(form("cloudflared"));
    expect(calls.find(([c]) => c === "start_tunnel")?.[1]).toEqual({ request: { provider: "cloudflared" } });
    expect(tunnel.info?.status.state).toBe("starting");

    await emit("earshot://tunnel", online);
    expect(publicWebhookUrl(tunnel.info)).toBe(online.webhook_url);

    await tunnel.selfTest();
    expect(tunnel.report?.failed_hop).toBe("auth");
    await tunnel.stop();
    expect([tunnel.info?.status.state, tunnel.report]).toEqual(["stopped", null]);
  });

  it("keeps a newer status event over a command's late answer", async () => {
    let answer: (info: TunnelInfo) => void = () => {};
    mockIPC(
      (cmd) => {
        if (cmd === "start_tunnel") return new Promise<TunnelInfo>((resolve) => (answer = resolve));
        return { ...stopped, revision: 5 };
      },
      { shouldMockEvents: true },
    );
    const tunnel = new TunnelState();
    await tunnel.init();
    const starting = tunnel.start(form("cloudflared"));
    await emit("earshot://tunnel", { ...online, revision: 7 });
    answer({ ...stopped, revision: 6, running: "cloudflared", status: { state: "starting" } });
    await starting;
    expect(tunnel.info?.status.state).toBe("online");
  });

  it("shows the backend's message when a start is refused, and skips the call when the form is incomplete", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "start_tunnel") throw { code: "listener_down", message: "the listener is not running" };
      return stopped;
    });
    const tunnel = new TunnelState();
    await tunnel.start(form("custom", { url: "https://hooks.example.com" }));
    expect(tunnel.error).toBe("the listener is not running");
    await tunnel.start(form("custom"));
    expect(tunnel.error).toContain("public base URL");
    expect(calls.filter((c) => c === "start_tunnel")).toHaveLength(1);
  });
});
