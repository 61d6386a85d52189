// The UI's only door to the Rust side: every `@tauri-apps/*` import lives here,
// so views call typed functions and tests can swap the transport with mockIPC.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { open, save } from "@tauri-apps/plugin-dialog";
import { revealItemInDir } from "@tauri-apps/plugin-opener";
import type {
  About,
  AuthMode,
  BundleWritten,
  Compaction,
  DeleteTarget,
  Deletion,
  ImportReport,
  Removed,
  RetentionPolicy,
  Selection,
  StoreSize,
  CurlCommand,
  Event as StoreEvent,
  ExportProgress,
  Filter,
  ForwardSettings,
  Format,
  IpcError,
  ListenerStatus,
  Page,
  Peak,
  PlayerAction,
  PlayerUpdate,
  Progress,
  RecordingAnalysis,
  RecordingDetail,
  RecordingSummary,
  ReportFormat,
  ReportProgress,
  ReportSummary,
  Review,
  ReviewChange,
  ReviewFilter,
  Spectrogram,
  TagCount,
  ReplayDraft,
  ReplayEntry,
  ReplayForm,
  ReplayOrigin,
  RequestDetail,
  RequestEntry,
  SelfTestReport,
  SessionSummary,
  SetupInfo,
  Simulation,
  SimulationState,
  TunnelInfo,
  TunnelLogLine,
  TunnelRequest,
} from "./bindings";

export type * from "./bindings";

/** True for the `{code, message}` errors commands reject with. */
export function isIpcError(value: unknown): value is IpcError {
  return typeof value === "object" && value !== null && "code" in value && "message" in value;
}

/** A readable message for anything a command rejected with. */
export function errorMessage(value: unknown): string {
  if (isIpcError(value)) return value.message;
  if (value instanceof Error) return value.message;
  return String(value);
}

export const api = {
  listSessions: (filter: Filter, offset: number, limit: number) =>
    invoke<Page<SessionSummary>>("list_sessions", { filter, offset, limit }),
  listRecordings: (sessionId: string) => invoke<RecordingSummary[]>("list_recordings", { sessionId }),
  recordingDetail: (row: number) => invoke<RecordingDetail>("recording_detail", { row }),
  waveform: (row: number, width: number) => invoke<Peak[]>("waveform", { row, width }),
  listRequests: (filter: Filter, offset: number, limit: number) =>
    invoke<Page<RequestEntry>>("list_requests", { filter, offset, limit }),
  requestDetail: (id: number) => invoke<RequestDetail>("request_detail", { id }),
  exportRecording: (row: number, format: Format, path: string) =>
    invoke<string>("export_recording", { row, format, path }),
  exportFileName: (row: number, format: Format) => invoke<string>("export_file_name", { row, format }),
  exportSession: (sessionId: string, format: Format, dir: string, onProgress: (p: ExportProgress) => void) => {
    const channel = new Channel<ExportProgress>();
    channel.onmessage = onProgress;
    return invoke<string[]>("export_session", { sessionId, format, dir, onProgress: channel });
  },
  getSetup: () => invoke<SetupInfo>("get_setup"),
  setSecret: (secret: string) => invoke<SetupInfo>("set_secret", { secret }),
  setAuthMode: (mode: AuthMode) => invoke<SetupInfo>("set_auth_mode", { mode }),
  setPort: (port: number) => invoke<SetupInfo>("set_port", { port }),
  setStore: (url: string | null, password: string | null) => invoke<SetupInfo>("set_store", { url, password }),
  playerLoad: (row: number, autoplay: boolean) => invoke<void>("player_load", { row, autoplay }),
  playerControl: (action: PlayerAction) => invoke<void>("player_control", { action }),
  getTunnel: () => invoke<TunnelInfo>("get_tunnel"),
  startTunnel: (request: TunnelRequest) => invoke<TunnelInfo>("start_tunnel", { request }),
  stopTunnel: () => invoke<TunnelInfo>("stop_tunnel"),
  tunnelLogs: () => invoke<TunnelLogLine[]>("tunnel_logs"),
  tunnelSelfTest: () => invoke<SelfTestReport>("tunnel_self_test"),
  setForward: (forward: ForwardSettings) => invoke<SetupInfo>("set_forward", { forward }),
  getSimulation: () => invoke<SimulationState | null>("get_simulation"),
  setSimulation: (simulation: Simulation | null) => invoke<SimulationState | null>("set_simulation", { simulation }),
  replayDraft: (origin: ReplayOrigin) => invoke<ReplayDraft>("replay_draft", { origin }),
  replay: (form: ReplayForm) => invoke<ReplayEntry>("replay", { form }),
  listReplays: (origin: ReplayOrigin) => invoke<ReplayEntry[]>("list_replays", { origin }),
  curlCommand: (id: number, to: string | null) => invoke<CurlCommand>("curl_command", { id, to }),
  exportHar: (sessionId: string | null, path: string) => invoke<string>("export_har", { sessionId, path }),
  deletePreview: (target: DeleteTarget) => invoke<Removed>("delete_preview", { target }),
  delete: (target: DeleteTarget) => invoke<Deletion>("delete", { target }),
  undoDelete: (token: number) => invoke<Removed>("undo_delete", { token }),
  keep: (row: number, pinned: boolean) => invoke<void>("keep", { row, pinned }),
  storeSize: () => invoke<StoreSize>("store_size"),
  compact: () => invoke<Compaction>("compact"),
  setRetention: (policy: RetentionPolicy | null) => invoke<RetentionPolicy>("set_retention", { policy }),
  exportBundle: (selection: Selection, path: string) => invoke<BundleWritten>("export_bundle", { selection, path }),
  importBundle: (path: string) => invoke<ImportReport>("import_bundle", { path }),
  review: (row: number, change: Partial<ReviewChange>) =>
    invoke<Review>("review", {
      row,
      change: { verdict: null, note: null, add_tags: [], remove_tags: [], add_markers: [], remove_markers: [], ...change },
    }),
  reviewTags: () => invoke<TagCount[]>("review_tags"),
  analysis: (row: number) => invoke<RecordingAnalysis>("analysis", { row }),
  spectrogram: (row: number, width: number, height: number) =>
    invoke<Spectrogram>("spectrogram", { row, width, height }),
  exportReport: (filter: ReviewFilter, format: ReportFormat, path: string, onProgress: (p: ReportProgress) => void) => {
    const channel = new Channel<ReportProgress>();
    channel.onmessage = onProgress;
    return invoke<ReportSummary>("export_report", { filter, format, path, onProgress: channel });
  },
  about: () => invoke<About>("about"),
  firstFrame: () => invoke<void>("first_frame"),
};

/** Calls `handler` with how far the analyser's catch-up has come (a database from before analysis). */
export function onAnalysisProgress(handler: (progress: Progress) => void): Promise<UnlistenFn> {
  return listen<Progress>("earshot://analysis", (e) => handler(e.payload));
}

/** Native open dialog for a call bundle; null when cancelled. */
export async function chooseBundleToImport(): Promise<string | null> {
  const picked = await open({ multiple: false, title: "Import a call bundle", filters: [{ name: "Earshot bundle", extensions: ["earshot"] }] });
  return typeof picked === "string" ? picked : null;
}

/** Native save dialog for a call bundle; null when cancelled. */
export function chooseBundleFile(defaultPath: string): Promise<string | null> {
  return save({ defaultPath, filters: [{ name: "Earshot bundle", extensions: ["earshot"] }] });
}

/** Calls `handler` with the paths of files dropped on the window (Tauri's drag-drop event). */
export function onFileDrop(handler: (paths: string[]) => void): Promise<UnlistenFn> {
  return getCurrentWebview().onDragDropEvent((event) => {
    if (event.payload.type === "drop") handler(event.payload.paths);
  });
}

/** Streams the native player's state and position (25 per second while playing) to `handler`. */
export function onPlayerUpdate(handler: (update: PlayerUpdate) => void): Promise<void> {
  const channel = new Channel<PlayerUpdate>();
  channel.onmessage = handler;
  return invoke<void>("player_subscribe", { onEvent: channel });
}

/** Calls `handler` whenever the store changes (a request logged, a recording stored, a fault). */
export function onStoreChange(handler: (event: StoreEvent) => void): Promise<UnlistenFn> {
  return listen<StoreEvent>("earshot://changed", (e) => handler(e.payload));
}

/** Calls `handler` whenever the listener starts, stops or fails. */
export function onListenerChange(handler: (status: ListenerStatus) => void): Promise<UnlistenFn> {
  return listen<ListenerStatus>("earshot://listener", (e) => handler(e.payload));
}

/** Calls `handler` with the tunnel card's contents whenever the tunnel's status changes. */
export function onTunnelChange(handler: (info: TunnelInfo) => void): Promise<UnlistenFn> {
  return listen<TunnelInfo>("earshot://tunnel", (e) => handler(e.payload));
}

/** Calls `handler` with the simulated answer in force (or null) whenever it changes, the core's countdown included. */
export function onSimulationChange(handler: (state: SimulationState | null) => void): Promise<UnlistenFn> {
  return listen<SimulationState | null>("earshot://simulation", (e) => handler(e.payload));
}

const EXTENSIONS: Record<Format, string[]> = { pcm16: ["wav"], mulaw: ["wav"], original: ["wav", "ul", "al", "raw"] };

/** Native save dialog for one recording; null when cancelled. */
export function chooseExportFile(defaultPath: string, format: Format): Promise<string | null> {
  return save({ defaultPath, filters: [{ name: format === "original" ? "Audio as received" : "WAV", extensions: EXTENSIONS[format] }] });
}

/** Native folder picker for a whole call; null when cancelled. */
export async function chooseExportFolder(): Promise<string | null> {
  const picked = await open({ directory: true, multiple: false, title: "Export the call into…" });
  return typeof picked === "string" ? picked : null;
}

/** Shows an exported file in the system file manager. */
export function reveal(path: string): Promise<void> {
  return revealItemInDir(path);
}

/** Native open dialog for replacement audio (WAV in any common format, or raw μ-law); null when cancelled. */
export async function chooseAudioFile(): Promise<string | null> {
  const picked = await open({ multiple: false, title: "Audio to send instead", filters: [{ name: "Audio", extensions: ["wav", "ul", "ulaw", "raw"] }] });
  return typeof picked === "string" ? picked : null;
}

/** Native save dialog for a review report (.html or .csv); null when cancelled. */
export function chooseReportFile(defaultPath: string): Promise<string | null> {
  return save({ defaultPath, filters: [{ name: "Report", extensions: ["html", "csv"] }] });
}

/** The report format a chosen file name asks for: CSV for `.csv`, else HTML. */
export function reportFormat(path: string): ReportFormat {
  return path.toLowerCase().endsWith(".csv") ? "csv" : "html";
}

/** Native save dialog for a HAR file; null when cancelled. */
export function chooseHarFile(defaultPath: string): Promise<string | null> {
  return save({ defaultPath, filters: [{ name: "HAR", extensions: ["har", "json"] }] });
}
