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

export type ForwardMode = "pass" | "tee";

export type AnswerEntry = { 
/**
 * Where the request went.
 */
url: string, 
/**
 * The HTTP status; `null` when the service gave none.
 */
status: number | null, 
/**
 * Time to the whole answer, in milliseconds.
 */
latency_ms: number, 
/**
 * Why there was no answer (`upstream_unreachable`, `upstream_timeout`, `upstream_broken`).
 */
error_code: string | null, 
/**
 * The fault in words.
 */
error: string | null, 
/**
 * `[[name, value], …]`.
 */
headers: Array<[string, string]>, 
/**
 * The start of the body as text (lossy UTF-8, at most `ANSWER_PREVIEW` (16 KiB) bytes).
 */
body: string, 
/**
 * Full length of the body the service sent.
 */
body_size: number, };

export type ForwardEntry = { 
/**
 * `pass` or `tee`.
 */
mode: ForwardMode, 
/**
 * Where the request went.
 */
url: string, 
/**
 * The HTTP status; `null` when the service gave none.
 */
status: number | null, 
/**
 * Time to the whole answer, in milliseconds.
 */
latency_ms: number, 
/**
 * Why there was no answer (`upstream_unreachable`, `upstream_timeout`, `upstream_broken`).
 */
error_code: string | null, 
/**
 * The fault in words.
 */
error: string | null, 
/**
 * `[[name, value], …]`.
 */
headers: Array<[string, string]>, 
/**
 * The start of the body as text (lossy UTF-8, at most `ANSWER_PREVIEW` (16 KiB) bytes).
 */
body: string, 
/**
 * Full length of the body the service sent.
 */
body_size: number, };

export type UpstreamBrief = { 
/**
 * The status; `None` when the service gave no answer.
 */
status: number | null, 
/**
 * Whether it was 2xx.
 */
ok: boolean, };

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
flagged_requests: number, 
/**
 * Forwarded requests of this call whose upstream answer was not 2xx.
 */
upstream_failures: number, 
/**
 * Recordings with a verdict other than unreviewed.
 */
reviewed: number, 
/**
 * Recordings judged `fail`.
 */
failed: number, };

export type Verdict = "unreviewed" | "pass" | "fail" | "follow-up";

export type Marker = { 
/**
 * Where it starts, from the recording's first sample.
 */
start_ms: number, 
/**
 * Where a region ends; `None` for a point.
 */
end_ms: number | null, 
/**
 * "caller cut off here".
 */
text: string, };

export type Review = { 
/**
 * The verdict.
 */
verdict: Verdict, 
/**
 * Free text; empty when there is none.
 */
note: string, 
/**
 * Labels, sorted, each once.
 */
tags: Array<string>, 
/**
 * Points and regions, in time order.
 */
markers: Array<Marker>, 
/**
 * When the review last changed (RFC 3339, UTC); `None` if it never did.
 */
reviewed_at: string | null, };

export type ReviewChange = { 
/**
 * A new verdict.
 */
verdict: Verdict | null, 
/**
 * A new note (replaces the old one; `""` clears it).
 */
note: string | null, 
/**
 * Tags to add.
 */
add_tags: Array<string>, 
/**
 * Tags to remove.
 */
remove_tags: Array<string>, 
/**
 * Markers to add.
 */
add_markers: Array<Marker>, 
/**
 * Markers to remove (matched exactly).
 */
remove_markers: Array<Marker>, };

export type ReviewFilter = { 
/**
 * One call.
 */
session: string | null, 
/**
 * This verdict.
 */
verdict: Verdict | null, 
/**
 * Carrying this tag (any case).
 */
tag: string | null, 
/**
 * Raising this analysis flag.
 */
flag: Flag | null, 
/**
 * Reviewed (any verdict but unreviewed) or not.
 */
reviewed: boolean | null, };

export type TagCount = { 
/**
 * The tag.
 */
tag: string, 
/**
 * Recordings carrying it.
 */
uses: number, };

export type Flag = "silent" | "clipped" | "truncated" | "late_start";

export type Analysis = { 
/**
 * Highest absolute sample in dB relative to full scale; `None` for digital silence (−∞).
 */
peak_dbfs: number | null, 
/**
 * RMS level over every sample of every channel, dBFS; `None` for digital silence.
 */
rms_dbfs: number | null, 
/**
 * Integrated loudness (EBU R128 / ITU-R BS.1770), LUFS; `None` when everything is gated
 * out (silence, or shorter than one 400 ms block).
 */
lufs: number | null, 
/**
 * Samples in runs of at least 3 consecutive full-scale samples of one channel (Audacity's
 * Find Clipping). Full scale is the encoding's: ±32124 for μ-law, ±32256 for A-law,
 * 32767 / −32768 for PCM16.
 */
clipped_samples: number, 
/**
 * From the start to the first speech (the whole length when there is none).
 */
leading_silence_ms: number, 
/**
 * From the end of the last speech to the end (the whole length when there is none).
 */
trailing_silence_ms: number, 
/**
 * Share of 30 ms frames that hold speech, 0–1.
 */
speech_ratio: number, 
/**
 * Length of the audio.
 */
duration_ms: number, };

export type RecordingAnalysis = { 
/**
 * `stop_timestamp − start_timestamp`, when both parse.
 */
expected_duration_ms: number | null, 
/**
 * `silent`, `clipped`, `truncated`, `late_start`.
 */
flags: Array<Flag>, 
/**
 * Highest absolute sample in dB relative to full scale; `None` for digital silence (−∞).
 */
peak_dbfs: number | null, 
/**
 * RMS level over every sample of every channel, dBFS; `None` for digital silence.
 */
rms_dbfs: number | null, 
/**
 * Integrated loudness (EBU R128 / ITU-R BS.1770), LUFS; `None` when everything is gated
 * out (silence, or shorter than one 400 ms block).
 */
lufs: number | null, 
/**
 * Samples in runs of at least 3 consecutive full-scale samples of one channel (Audacity's
 * Find Clipping). Full scale is the encoding's: ±32124 for μ-law, ±32256 for A-law,
 * 32767 / −32768 for PCM16.
 */
clipped_samples: number, 
/**
 * From the start to the first speech (the whole length when there is none).
 */
leading_silence_ms: number, 
/**
 * From the end of the last speech to the end (the whole length when there is none).
 */
trailing_silence_ms: number, 
/**
 * Share of 30 ms frames that hold speech, 0–1.
 */
speech_ratio: number, 
/**
 * Length of the audio.
 */
duration_ms: number, };

export type Spectrogram = { 
/**
 * Columns (time, left to right).
 */
width: number, 
/**
 * Rows (frequency).
 */
height: number, 
/**
 * The frequency at the top edge (the recording's Nyquist frequency, 4000 for 8 kHz).
 */
max_hz: number, 
/**
 * dB between level 0 and level 255.
 */
range_db: number, 
/**
 * `height` rows of `width` levels, row-major; row 0 is the highest frequency (drawn
 * top-down). 255 is the loudest bin, 0 is `range_db` or more below it.
 */
levels: Array<number>, };

export type Progress = { 
/**
 * Recordings analysed so far in this run.
 */
done: number, 
/**
 * Recordings that needed it when the run started.
 */
total: number, };

export type ReportFormat = "csv" | "html";

export type ReportSummary = { 
/**
 * Recording versions in it.
 */
recordings: number, 
/**
 * Calls they belong to.
 */
calls: number, 
/**
 * Size of the file written.
 */
bytes: number, };

export type ReportProgress = { 
/**
 * Written so far.
 */
done: number, 
/**
 * Selected.
 */
total: number, };

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
part_content_type: string | null, 
/**
 * The user's service's answer to the request that delivered it, when forwarded.
 */
upstream: UpstreamBrief | null, 
/**
 * Kept: retention never removes its call.
 */
pinned: boolean, 
/**
 * The bundle it was imported from, if it was.
 */
imported_from: string | null, 
/**
 * The QA review (the default when nobody has reviewed it).
 */
review: Review, 
/**
 * Levels, silence, speech and flags; `None` until it has been analysed.
 */
analysis: RecordingAnalysis | null, };

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
 * Bytes of body kept in the log (an accepted request's body is rebuilt whole from it and the recording).
 */
body_stored: number, 
/**
 * What the user's service answered, when forwarding was on.
 */
forward: ForwardEntry | null, 
/**
 * What Earshot answered instead, when an answer was simulated (`503`, `delay 25 s`, `drop`).
 */
simulated: string | null, };

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

export type Removed = { 
/**
 * Calls that no longer have any recording.
 */
calls: number, 
/**
 * Recording versions removed.
 */
recordings: number, 
/**
 * Request-log entries removed.
 */
requests: number, 
/**
 * Audio bytes removed.
 */
bytes: number, };

export type DeleteTarget = { "kind": "version", 
/**
 * The row.
 */
row: number, } | { "kind": "recording", 
/**
 * The watsonx recording id.
 */
recording_id: string, } | { "kind": "session", 
/**
 * The call's session id.
 */
session_id: string, } | { "kind": "requests", 
/**
 * Their ids.
 */
ids: Array<number>, } | { "kind": "before", 
/**
 * The time.
 */
before: string, };

export type Deletion = { 
/**
 * What went (the writer's own count).
 */
removed: Removed, 
/**
 * Pass to `undo_delete` within 10 s to put it all back.
 */
undo: number, };

export type StoreSize = { 
/**
 * Bytes of the database file (and its WAL).
 */
bytes: number, 
/**
 * Bytes in free pages that compaction would give back.
 */
free_bytes: number, };

export type Compaction = { 
/**
 * The file before.
 */
before: StoreSize, 
/**
 * The file after.
 */
after: StoreSize, };

export type RetentionPolicy = { 
/**
 * Remove calls whose last recording arrived more than this many days ago.
 */
days: number | null, 
/**
 * Remove the oldest calls while the stored audio is over this many gigabytes (10⁹ bytes).
 */
max_gb: number | null, };

export type Selection = { 
/**
 * These calls; every call when `None`.
 */
sessions: Array<string> | null, 
/**
 * Recordings received at or after this time (RFC 3339 or `YYYY-MM-DD`).
 */
after: string | null, 
/**
 * Recordings received before this time (RFC 3339 or `YYYY-MM-DD`).
 */
before: string | null, };

export type BundleCall = { 
/**
 * The call's session id.
 */
session_id: string, 
/**
 * Recording versions.
 */
recordings: number, 
/**
 * Request-log entries.
 */
requests: number, };

export type BundleWritten = { 
/**
 * The file written.
 */
path: string, 
/**
 * The calls inside.
 */
calls: Array<BundleCall>, };

export type ImportReport = { 
/**
 * Calls the bundle held.
 */
calls: number, 
/**
 * Recordings added.
 */
added: number, 
/**
 * Recordings already present with the same id and sha256, skipped.
 */
skipped: number, 
/**
 * Recordings whose id was present with other audio, added as the next version.
 */
conflicts: number, 
/**
 * Request-log entries added.
 */
requests: number, 
/**
 * The recording ids skipped.
 */
skipped_ids: Array<string>, 
/**
 * The recording ids added as new versions.
 */
conflict_ids: Array<string>, };

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
version: number, } | { "type": "forward_answered", 
/**
 * The request log entry forwarded.
 */
request_id: number, 
/**
 * The upstream's status; `None` when it gave no answer.
 */
upstream_status: number | null, 
/**
 * The call, when known.
 */
session_id: string | null, } | { "type": "replayed", 
/**
 * The replay's row id.
 */
replay_id: number, 
/**
 * The request log entry it came from.
 */
replay_of: number | null, 
/**
 * The recording it came from.
 */
recording_row: number | null, } | { "type": "removed", 
/**
 * What went.
 */
removed: Removed, } | { "type": "imported", 
/**
 * Recordings added.
 */
added: number, 
/**
 * Calls the bundle held.
 */
calls: number, } | { "type": "restored", 
/**
 * What came back.
 */
restored: Removed, } | { "type": "pinned", 
/**
 * The recording row.
 */
row: number, 
/**
 * Kept or not.
 */
pinned: boolean, } | { "type": "reviewed", 
/**
 * The recording row.
 */
row: number, 
/**
 * Its verdict now.
 */
verdict: Verdict, } | { "type": "analysed", 
/**
 * The recording row.
 */
row: number, 
/**
 * The flags it raised.
 */
flags: Array<Flag>, } | { "type": "store_fault", 
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
data_dir: string, 
/**
 * Forwarding to the user's service.
 */
forward: ForwardInfo, 
/**
 * The retention policy in force (both limits `null`: off).
 */
retention: RetentionPolicy, 
/**
 * The store in use and the one saved for the next start.
 */
store: StoreInfo, };

export type StoreInfo = { 
/**
 * The store open now: the database file, or `postgres://user@host:port/db`.
 */
running: string, 
/**
 * Whether that is the shared PostgreSQL store.
 */
shared: boolean, 
/**
 * The shared store saved in settings (`null`: this computer's), described.
 */
saved: string | null, 
/**
 * Whether the saved choice differs from the running one (it takes effect at the next start).
 */
restart_needed: boolean, };

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
factor: number, } | { "action": "tape", 
/**
 * On or off.
 */
on: boolean, } | { "action": "loop", 
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

export type ForwardSettings = { 
/**
 * Whether the listener forwards.
 */
enabled: boolean, 
/**
 * The user's service.
 */
url: string, 
/**
 * `pass` or `tee`.
 */
mode: ForwardMode, 
/**
 * Seconds to wait for the whole answer (1 to 30; 25 by default).
 */
timeout_secs: number, };

export type ForwardInfo = { 
/**
 * As saved (the defaults when never saved): the card's fields.
 */
saved: ForwardSettings, 
/**
 * Where requests go now (saved, or `EARSHOT_FORWARD`); `null` while forwarding is off.
 */
active_url: string | null, 
/**
 * The mode in force, when forwarding.
 */
active_mode: ForwardMode | null, };

export type SimScope = { "scope": "all" } | { "scope": "next", 
/**
 * How many.
 */
count: number, } | { "scope": "session", 
/**
 * The call's `session_id`.
 */
session_id: string, };

export type Simulation = { 
/**
 * The status to answer with (ignored when `drop`).
 */
status: number, 
/**
 * How long to wait before answering (or dropping), in milliseconds.
 */
delay_ms: number, 
/**
 * Close the connection without an answer.
 */
drop: boolean, 
/**
 * Which requests.
 */
scope: SimScope, };

export type SimulationState = { 
/**
 * What is simulated.
 */
simulation: Simulation, 
/**
 * What the badge says.
 */
label: string, };

export type TokenChoice = "resign" | "keep" | "none" | "bad";

export type ReplayOrigin = { "kind": "request", 
/**
 * Its id.
 */
id: number, } | { "kind": "recording", 
/**
 * Its row.
 */
row: number, };

export type ReplayDraft = { 
/**
 * The suggested target: the forward URL in force, else "".
 */
to: string, 
/**
 * The request's method.
 */
method: string, 
/**
 * The `metadata` part as JSON, when the body has one that parses.
 */
metadata: JsonValue | null, 
/**
 * The headers a replay sends (before the token and the extra headers).
 */
headers: Array<[string, string]>, 
/**
 * The body's length as it would be sent unchanged.
 */
body_size: number, 
/**
 * Whether a secret is known (re-signing and keeping the token need it).
 */
secret_set: boolean, };

export type FieldEdit = { 
/**
 * The field.
 */
field: string, 
/**
 * Its new value.
 */
value: JsonValue, };

export type ReplayForm = { 
/**
 * What to send again.
 */
origin: ReplayOrigin, 
/**
 * Where to.
 */
to: string, 
/**
 * What to do with the token.
 */
token: TokenChoice, 
/**
 * Metadata fields to set.
 */
set: Array<FieldEdit>, 
/**
 * A WAV or raw μ-law file to send instead of the audio.
 */
audio_path: string | null, 
/**
 * Headers to add or replace.
 */
headers: Array<[string, string]>, };

export type ReplayEntry = { 
/**
 * Row id (`replay_id`).
 */
id: number, 
/**
 * When it was sent.
 */
sent_at: string, 
/**
 * The request log entry it came from.
 */
replay_of: number | null, 
/**
 * The recording it came from.
 */
recording_row: number | null, 
/**
 * Byte for byte the body received.
 */
identical: boolean, 
/**
 * What was changed.
 */
changes: JsonValue, 
/**
 * Headers sent.
 */
headers: JsonValue, 
/**
 * Length of the body sent.
 */
body_size: number, 
/**
 * SHA-256 of the body sent.
 */
body_sha256: string, 
/**
 * The answer.
 */
answer: AnswerEntry, };

export type CurlCommand = { 
/**
 * The command text.
 */
command: string, 
/**
 * Where the body was written.
 */
body_file: string, };

export type About = { 
/**
 * The release, e.g. `0.1.0`.
 */
version: string, 
/**
 * The data dir (database, `settings.json`).
 */
data_dir: string, 
/**
 * The store in use, as [`crate::Backend::describe`] puts it (the SQLite file's path today).
 */
store: string, 
/**
 * Bytes the store takes (the database and its WAL), as [`crate::Backend::size`] counts them.
 */
store_bytes: number, };
