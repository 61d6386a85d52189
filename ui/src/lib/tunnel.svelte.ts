// The tunnel as the window sees it: one subscription shared by the header,
// the first-run guide and the setup panel's tunnel card, plus the small
// decisions those views make (what to call a status, what Start sends).
import {
  api,
  errorMessage,
  onTunnelChange,
  type Hop,
  type HopOutcome,
  type SelfTestReport,
  type TunnelChoice,
  type TunnelInfo,
  type TunnelLogLine,
  type TunnelRequest,
  type TunnelStatus,
} from "../ipc";

export type Tone = "ok" | "warn" | "bad" | "muted";

/** What the card's fields hold. */
export interface TunnelForm {
  choice: TunnelChoice;
  url: string;
  token: string;
  domain: string;
}

export const PROVIDER_NAMES: Record<TunnelChoice, string> = {
  cloudflared: "cloudflared quick tunnel (no account)",
  ngrok: "ngrok (your authtoken)",
  custom: "My own public URL",
};

export const NGROK_TOKEN_PAGE = "https://dashboard.ngrok.com/get-started/your-authtoken";

/** A badge for the status: its words and colour. */
export function statusBadge(status: TunnelStatus): { label: string; tone: Tone } {
  switch (status.state) {
    case "stopped":
      return { label: "off", tone: "muted" };
    case "starting":
      return { label: "starting…", tone: "warn" };
    case "online":
      return { label: "online", tone: "ok" };
    case "error":
      return { label: "error", tone: "bad" };
  }
}

/** The public webhook URL to paste into watsonx, or "" while there is none. */
export function publicWebhookUrl(info: TunnelInfo | null): string {
  return info?.status.state === "online" ? (info.webhook_url ?? "") : "";
}

/** The fields as the card opens: the saved choice, URL and domain; the token is never sent back. */
export function initialForm(info: TunnelInfo): TunnelForm {
  return { choice: info.choice, url: info.custom_url ?? "", token: "", domain: info.ngrok_domain ?? "" };
}

/** What Start sends, or why it cannot be sent yet. */
export function buildRequest(form: TunnelForm, info: TunnelInfo | null): { request: TunnelRequest } | { problem: string } {
  switch (form.choice) {
    case "cloudflared":
      if (info && !info.cloudflared) return { problem: "cloudflared is not installed: install it (see above), then start again." };
      return { request: { provider: "cloudflared" } };
    case "ngrok": {
      const token = form.token.trim();
      if (!token && !info?.ngrok_token_set) return { problem: `Paste your ngrok authtoken (from ${NGROK_TOKEN_PAGE}).` };
      const request: TunnelRequest = { provider: "ngrok", ngrok_domain: form.domain.trim() };
      if (token) request.ngrok_token = token;
      return { request };
    }
    case "custom": {
      const url = form.url.trim();
      if (!/^https?:\/\/[^/\s]+/i.test(url)) return { problem: "Enter the public base URL, starting with https:// (e.g. https://hooks.example.com)." };
      return { request: { provider: "custom", url } };
    }
  }
}

export const HOP_NAMES: Record<Hop, string> = {
  dns: "Name lookup",
  connect: "Connection",
  tunnel: "Tunnel to Earshot",
  auth: "Token verified",
  parse: "Body accepted",
  store: "Stored",
};

/** A mark for a hop's outcome. */
export function outcomeMark(outcome: HopOutcome): { mark: string; tone: Tone } {
  switch (outcome) {
    case "passed":
      return { mark: "✓", tone: "ok" };
    case "failed":
      return { mark: "✗", tone: "bad" };
    case "unconfirmed":
      return { mark: "?", tone: "warn" };
    case "not_reached":
      return { mark: "–", tone: "muted" };
  }
}

/** Round trip for people: "84 ms", "1.3 s". */
export function formatLatency(ms: number | null): string {
  if (ms === null) return "no answer";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Log lines as the card shows them: time of day, who wrote it, the text. */
export function formatLog(lines: TunnelLogLine[]): string {
  return lines.map((l) => `${l.at.slice(11, 23)} ${l.source === "supervisor" ? "earshot" : l.source} ${l.text}`).join("\n");
}

export class TunnelState {
  info = $state<TunnelInfo | null>(null);
  error = $state("");
  busy = $state(false);
  testing = $state(false);
  report = $state<SelfTestReport | null>(null);
  private subscribed = false;

  /** Keeps `info` unless what is shown is newer: a command's answer can arrive after a later status event. */
  accept(info: TunnelInfo) {
    if (!this.info || info.revision >= this.info.revision) this.info = info;
  }

  /** Fetches the card's contents and follows every change. */
  async init() {
    if (!this.subscribed) {
      this.subscribed = true;
      await onTunnelChange((info) => this.accept(info));
    }
    try {
      this.accept(await api.getTunnel());
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  /** Runs one action with `flag` raised, clearing the last error and report first. */
  private async attempt(flag: "busy" | "testing", work: () => Promise<void>) {
    this[flag] = true;
    this.error = "";
    this.report = null;
    try {
      await work();
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this[flag] = false;
    }
  }

  /** Starts (or restarts) the tunnel the form describes. */
  start(form: TunnelForm) {
    const built = buildRequest(form, this.info);
    if ("problem" in built) {
      this.error = built.problem;
      return Promise.resolve();
    }
    return this.attempt("busy", async () => this.accept(await api.startTunnel(built.request)));
  }

  stop() {
    return this.attempt("busy", async () => this.accept(await api.stopTunnel()));
  }

  /** Sends a signed test call through the public URL and keeps the hop-by-hop report. */
  selfTest() {
    return this.attempt("testing", async () => {
      this.report = await api.tunnelSelfTest();
    });
  }
}

export const tunnel = new TunnelState();
