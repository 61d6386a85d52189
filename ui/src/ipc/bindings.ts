// Generated from the Rust types by `ts-rs` (src-tauri/src/bindings.rs). Do not edit.
// Regenerate: EARSHOT_WRITE_BINDINGS=1 cargo test -p earshot-desktop bindings

export type JsonValue = number | string | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type Container = "raw" | "wav";

export type Encoding = "mulaw" | "alaw" | "pcm16" | "pcm16be";

export type AuthMode = "enforce" | "observe" | "off";

export type TokenCheck = "valid" | "invalid" | "missing" | "off";

export type Outcome = "stored" | "duplicate" | "conflict" | "rejected" | "failed" | "info";

export type Format = "pcm16" | "mulaw" | "original";

export type AuthSummary = { 
/**
 * What the token check found.
 */
verdict: TokenCheck, 
/**
 * Why, when not valid.
 */
reason: string | null, };

export type SessionSummary = { 
/**
 * watsonx session id.
 */
session_id: string, 
/**
 * Distinct recordings stored (versions counted).
 */
recording_count: number, 
/**
 * First arrival.
 */
first_received_at: string, 
/**
 * Latest arrival.
 */
last_received_at: string, 
/**
 * The assistant.
 */
assistant_id: string, 
/**
 * The environment.
 */
environment_id: string, 
/**
 * Requests of this call that were rejected or failed verification.
 */
flagged_requests: number, };

export type RecordingSummary = { 
/**
 * Database row.
 */
row: number, 
/**
 * watsonx recording id.
 */
recording_id: string, 
/**
 * 1, or higher for conflicting resends.
 */
version: number, 
/**
 * True for versions after the first.
 */
conflict: boolean, 
/**
 * The call.
 */
session_id: string, 
/**
 * The assistant.
 */
assistant_id: string, 
/**
 * The environment.
 */
environment_id: string, 
/**
 * As sent.
 */
start_timestamp: string, 
/**
 * As sent.
 */
stop_timestamp: string, 
/**
 * When Earshot received it.
 */
received_at: string, 
/**
 * Audio length.
 */
duration_ms: number, 
/**
 * `raw` or `wav`.
 */
container: Container, 
/**
 * `mulaw`, `alaw` or `pcm16`.
 */
encoding: Encoding, 
/**
 * Frames per second.
 */
sample_rate: number, 
/**
 * Channels.
 */
channels: number, 
/**
 * Frames.
 */
sample_count: number, 
/**
 * Size of the original bytes.
 */
size_bytes: number, 
/**
 * SHA-256 of the original bytes, hex.
 */
sha256: string, 
/**
 * Verification.
 */
auth: AuthSummary, 
/**
 * Path posted to.
 */
path: string, 
/**
 * Part filename as sent.
 */
filename: string | null, 
/**
 * Part content type as sent.
 */
part_content_type: string | null, };

export type RequestEntry = { 
/**
 * Row id.
 */
id: number, 
/**
 * Arrival time.
 */
received_at: string, 
/**
 * HTTP method.
 */
method: string, 
/**
 * Path.
 */
path: string, 
/**
 * Query string.
 */
query: string | null, 
/**
 * Peer address.
 */
remote_addr: string | null, 
/**
 * `[[name, value], …]`, signatures removed.
 */
headers: JsonValue, 
/**
 * Status returned.
 */
status: number, 
/**
 * Time from arrival to the log write, in milliseconds.
 */
latency_ms: number, 
/**
 * What became of it.
 */
outcome: Outcome, 
/**
 * Error code, when rejected.
 */
error: string | null, 
/**
 * Reason, when rejected.
 */
reason: string | null, 
/**
 * The call, if known.
 */
session_id: string | null, 
/**
 * The recording, if known.
 */
recording_id: string | null, 
/**
 * Verification.
 */
auth: AuthSummary, 
/**
 * Decoded token header.
 */
jwt_header: JsonValue | null, 
/**
 * Decoded token claims.
 */
jwt_claims: JsonValue | null, 
/**
 * Multipart parts seen.
 */
parts: JsonValue | null, 
/**
 * Body size received.
 */
body_size: number, 
/**
 * Bytes of body kept in the log.
 */
body_stored: number, };

export type VerdictFilter = "flagged" | "valid" | "invalid" | "missing" | "off";

export type Filter = { 
/**
 * Prefix of a session id or of any of its recording ids.
 */
id_prefix: string | null, 
/**
 * Received at or after (RFC 3339, or a date `YYYY-MM-DD`).
 */
from: string | null, 
/**
 * Received before the end of (RFC 3339, or a date).
 */
to: string | null, 
/**
 * Verification outcome.
 */
verdict: VerdictFilter | null, };

export type Page<T> = { 
/**
 * The items of this page.
 */
items: Array<T>, 
/**
 * How many items match in all.
 */
total: number, 
/**
 * Index of the first item.
 */
offset: number, };

export type RecordingDetail = { 
/**
 * The list entry.
 */
recording: RecordingSummary, 
/**
 * The metadata object as received, unknown fields included.
 */
metadata: JsonValue, 
/**
 * Decoded JWT header.
 */
jwt_header: JsonValue | null, 
/**
 * Decoded JWT claims.
 */
jwt_claims: JsonValue | null, 
/**
 * Headers of the request that delivered it, signatures removed.
 */
headers: JsonValue, 
/**
 * That request's log id.
 */
request_id: number | null, };

export type RequestDetail = { 
/**
 * The log entry.
 */
request: RequestEntry, 
/**
 * Hex dump of the first bytes (16 per line, offset, hex, ASCII).
 */
hex: string, 
/**
 * The first bytes as text, non-UTF-8 replaced.
 */
text: string, 
/**
 * True when the stored body is longer than the preview.
 */
truncated: boolean, };

export type Peak = { 
/**
 * Lowest sample, −32768..=32767.
 */
min: number, 
/**
 * Highest sample.
 */
max: number, };

export type ListenFault = "port_in_use" | "permission_denied" | "bind_failed" | "settings" | "store";

export type ListenerStatus = { "state": "stopped" } | { "state": "running", 
/**
 * The bound address, e.g. `127.0.0.1:8787`.
 */
address: string, 
/**
 * `http://ADDRESS/audio-webhook`.
 */
webhook_url: string, } | { "state": "failed", 
/**
 * The address it tried.
 */
address: string, 
/**
 * Why, for the UI to branch on.
 */
code: ListenFault, 
/**
 * What went wrong, phrased for the user.
 */
message: string, };

export type Event = { "type": "request_logged", 
/**
 * Row id in the request log.
 */
request_id: number, 
/**
 * HTTP status returned.
 */
status: number, 
/**
 * What became of it.
 */
outcome: Outcome, 
/**
 * The call, when the metadata could be read.
 */
session_id: string | null, } | { "type": "recording_stored", 
/**
 * Row id of the stored version.
 */
row: number, 
/**
 * The watsonx recording id.
 */
recording_id: string, 
/**
 * The call it belongs to.
 */
session_id: string, 
/**
 * 1 for the first audio under this id, higher for conflicting resends.
 */
version: number, } | { "type": "store_fault", 
/**
 * What SQLite reported.
 */
message: string, };

export type ExportProgress = { 
/**
 * Files written so far.
 */
done: number, 
/**
 * Files in all.
 */
total: number, };

export type SetupInfo = { 
/**
 * The listener's state and local webhook URL.
 */
status: ListenerStatus, 
/**
 * Configured listen address.
 */
listen: string, 
/**
 * Configured port.
 */
port: number, 
/**
 * Auth mode in force (`off` when misconfigured).
 */
auth_mode: AuthMode, 
/**
 * Whether a secret is saved.
 */
secret_set: boolean, 
/**
 * The data dir.
 */
data_dir: string, };

export type IpcError = { 
/**
 * Stable machine-readable code (`not_found`, `store`, `export`, `settings`, …).
 */
code: string, 
/**
 * What went wrong, phrased for the user.
 */
message: string, };

export type PlayerAction = { "action": "play" } | { "action": "pause" } | { "action": "stop" } | { "action": "seek", 
/**
 * Seconds from the start.
 */
seconds: number, } | { "action": "speed", 
/**
 * The factor.
 */
factor: number, } | { "action": "loop", 
/**
 * `[from, to]` in seconds, or null.
 */
range: [number, number] | null, } | { "action": "volume", 
/**
 * The level.
 */
level: number, } | { "action": "normalise", 
/**
 * On or off.
 */
on: boolean, };

export type PlayState = "stopped" | "playing" | "paused" | "ended" | "error";

export type PlayerUpdate = { "kind": "loaded", 
/**
 * Its length in seconds.
 */
duration: number, } | { "kind": "state", 
/**
 * `stopped`, `playing`, `paused`, `ended` or `error`.
 */
state: PlayState, } | { "kind": "position", 
/**
 * Seconds from the start.
 */
position: number, 
/**
 * Track length in seconds.
 */
duration: number, } | { "kind": "error", 
/**
 * What went wrong.
 */
message: string, };

export type TunnelStatus = { "state": "stopped" } | { "state": "starting" } | { "state": "online", 
/**
 * `https://host` without a trailing slash.
 */
url: string, } | { "state": "error", 
/**
 * Phrased for the user.
 */
message: string, };

export type TunnelChoice = "cloudflared" | "ngrok" | "custom";

export type TunnelInfo = { 
/**
 * Grows with every status change: of two infos, the one with the larger number is newer.
 */
revision: number, 
/**
 * The provider last chosen (cloudflared until the user picks another).
 */
choice: TunnelChoice, 
/**
 * The provider running now, if any.
 */
running: TunnelChoice | null, 
/**
 * What the tunnel is doing.
 */
status: TunnelStatus, 
/**
 * The URL to paste into watsonx (public base plus path), once online.
 */
webhook_url: string | null, 
/**
 * The saved custom public base URL.
 */
custom_url: string | null, 
/**
 * The saved ngrok domain.
 */
ngrok_domain: string | null, 
/**
 * Whether an ngrok authtoken is saved (or given in `NGROK_AUTHTOKEN`).
 */
ngrok_token_set: boolean, 
/**
 * Where `cloudflared` was found on `PATH`; `None` when it is not installed.
 */
cloudflared: string | null, 
/**
 * The provider's process id (cloudflared), for the log and for checking it is gone.
 */
pid: number | null, };

export type TunnelRequest = { 
/**
 * Which provider.
 */
provider: TunnelChoice, 
/**
 * The public base URL, for `custom`; empty keeps the saved one.
 */
url?: string, 
/**
 * A new ngrok authtoken; empty keeps the saved one.
 */
ngrok_token?: string, 
/**
 * The ngrok domain; empty lets ngrok assign one.
 */
ngrok_domain?: string, };

export type TunnelLogSource = "stderr" | "stdout" | "supervisor";

export type TunnelLogLine = { 
/**
 * Increases by one per line over the tunnel's life, so a UI can ask for what is new.
 */
seq: number, 
/**
 * When Earshot saw the line, RFC 3339 UTC with milliseconds.
 */
at: string, 
/**
 * Who wrote it.
 */
source: TunnelLogSource, 
/**
 * The line without its newline.
 */
text: string, };

export type Hop = "dns" | "connect" | "tunnel" | "auth" | "parse" | "store";

export type HopOutcome = "passed" | "failed" | "unconfirmed" | "not_reached";

export type HopResult = { 
/**
 * Which hop.
 */
hop: Hop, 
/**
 * What happened.
 */
outcome: HopOutcome, 
/**
 * Phrased for the user: what was seen, and what to do when it failed.
 */
detail: string, };

export type SelfTestReport = { 
/**
 * The webhook URL tested.
 */
url: string, 
/**
 * True when every hop passed or could not be confirmed, none failed.
 */
ok: boolean, 
/**
 * The hop that stopped the request.
 */
failed_hop: Hop | null, 
/**
 * One line: what worked, or where and why it broke.
 */
summary: string, 
/**
 * Round trip of the POST in milliseconds, when an answer came back.
 */
latency_ms: number | null, 
/**
 * The HTTP status of the answer.
 */
http_status: number | null, 
/**
 * The recording id sent (look for it in `earshot recordings`).
 */
recording_id: string, 
/**
 * The session id sent.
 */
session_id: string, 
/**
 * Every hop in order.
 */
hops: Array<HopResult>, };
