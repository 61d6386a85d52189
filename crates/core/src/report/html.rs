//! The HTML report: one self-contained page a QA lead can double-click
//! anywhere, offline. Everything is inside the file — inline CSS, pictures
//! as PNG data URIs, each recording as a PCM16 WAV data URI in an `<audio>`
//! player (the bytes of [`export::render`] with [`Format::Pcm16`], so the
//! report plays what an export would hold). There is no script, and a
//! Content-Security-Policy allows nothing but those data URIs and the inline
//! style, so even a hostile id or note cannot make the page load anything.
//!
//! Per call: a summary (recordings, how many reviewed, verdict counts, flags).
//! Per recording: ids, times, duration, the verdict as a badge, tags, note,
//! markers (listed, and drawn across the waveform and spectrogram), levels
//! and flags. Every piece of text from a request or a reviewer is escaped.

use std::collections::BTreeMap;
use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use earshot_audio::{self as audio, Peak};

use super::{RenderError, Report, flag_name, seconds};
use crate::export::{self, Format};
use crate::model::{RecordingSummary, Verdict};

/// Picture width: the desktop player's default view, legible on a laptop and in print.
pub const PICTURE_WIDTH: usize = 600;
/// Waveform height: enough to see level and clipping.
pub const WAVEFORM_HEIGHT: usize = 80;
/// Spectrogram height: 128 rows over 0–4 kHz is ~31 Hz a row, the FFT's own resolution.
pub const SPECTROGRAM_HEIGHT: usize = 128;
/// The waveform's colour; mid-blue reads on both the light and the dark page.
const WAVE_RGB: [u8; 3] = [0x3b, 0x82, 0xf6];

const STYLE: &str = "
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--card:#f6f8fa;
--pass:#1a7f37;--fail:#cf222e;--follow:#9a6700;--none:#6e7781;--mark:rgba(207,34,46,.25);--markline:#cf222e}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;--card:#161b22;
--pass:#3fb950;--fail:#f85149;--follow:#d29922;--none:#8d96a0;--mark:rgba(248,81,73,.3);--markline:#f85149}}
body{margin:0 auto;max-width:960px;padding:24px;background:var(--bg);color:var(--fg);
font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif}
h1{margin:0 0 4px}h2{margin:32px 0 4px;font-size:20px}h3{margin:0;font-size:16px;word-break:break-all}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.muted{color:var(--muted)}
.call{border-top:2px solid var(--line);padding-top:8px}
.recording{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px;margin:16px 0}
.head{display:flex;gap:12px;align-items:center;flex-wrap:wrap}
.badge{display:inline-block;padding:1px 10px;border-radius:999px;color:#fff;font-weight:600;font-size:13px}
.pass{background:var(--pass)}.fail{background:var(--fail)}.follow-up{background:var(--follow)}
.unreviewed{background:var(--none)}
.flag{display:inline-block;padding:0 8px;border:1px solid var(--fail);color:var(--fail);border-radius:4px;
font-size:12px;margin-right:4px}
.tag{display:inline-block;padding:0 8px;border:1px solid var(--line);border-radius:4px;font-size:13px;margin-right:4px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:12px 0}dt{color:var(--muted)}dd{margin:0}
.note{white-space:pre-wrap;border-left:3px solid var(--line);padding-left:10px}
.timeline{position:relative;max-width:600px;margin:12px 0 22px;line-height:0}
.timeline img{display:block;width:100%;height:auto}
.timeline .wave{border-bottom:1px solid var(--line)}
.mark{position:absolute;top:0;bottom:0;background:var(--mark);border-left:2px solid var(--markline)}
.mark.point{width:0;background:none}
.mark span{position:absolute;top:0;left:2px;font:bold 11px/1.2 system-ui,sans-serif;color:var(--markline)}
.tick{position:absolute;bottom:-18px;font:11px/1 system-ui,sans-serif;color:var(--muted);transform:translateX(-50%)}
audio{width:100%;max-width:600px}
ol.markers{margin:4px 0;padding-left:24px}
";

/// Writes the page to `out`.
pub(super) fn render(report: &Report<'_>, out: &mut dyn Write, progress: &dyn Fn(u64, u64)) -> Result<(), RenderError> {
    let count = report.entries.len();
    let mut calls: Vec<(&str, Vec<&RecordingSummary>)> = Vec::new();
    for recording in &report.entries {
        match calls.iter_mut().find(|(id, _)| *id == recording.session_id) {
            Some((_, entries)) => entries.push(recording),
            None => calls.push((&recording.session_id, vec![recording])),
        }
    }
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; \
         media-src data:; style-src 'unsafe-inline'\">\
         <title>Earshot review report: {selection}</title><style>{STYLE}</style></head><body>\n\
         <h1>Review report</h1><p class=\"muted\">Made {made} by Earshot · selection: {selection} · \
         {count} recording{s} in {calls} call{cs}</p>\n",
        selection = esc(&report.selection),
        made = esc(&report.made_at),
        s = plural(count),
        calls = calls.len(),
        cs = plural(calls.len()),
    )?;
    let mut done = 0;
    for (session, entries) in &calls {
        let in_call = report.calls.iter().filter(|r| r.session_id == *session).count();
        call_summary(out, session, entries, in_call)?;
        for entry in entries {
            let original = report.store.audio(entry.row)?;
            recording(out, entry, &original)?;
            done += 1;
            progress(done, count as u64);
        }
        writeln!(out, "</section>")?;
    }
    writeln!(out, "</body></html>")?;
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The call's heading and "3 recordings · 2 of 3 reviewed · 1 pass · 1 fail · flags: clipped ×1".
fn call_summary(
    out: &mut dyn Write,
    session: &str,
    entries: &[&RecordingSummary],
    in_call: usize,
) -> std::io::Result<()> {
    let first = entries[0];
    let reviewed = entries.iter().filter(|e| e.review.verdict != Verdict::Unreviewed).count();
    let verdicts = [Verdict::Pass, Verdict::Fail, Verdict::FollowUp]
        .map(|v| (v, entries.iter().filter(|e| e.review.verdict == v).count()));
    let mut flags: BTreeMap<String, usize> = BTreeMap::new();
    for flag in entries.iter().filter_map(|e| e.analysis.as_ref()).flat_map(|a| &a.flags) {
        *flags.entry(flag_name(*flag)).or_default() += 1;
    }
    let selected = if in_call > entries.len() {
        format!("{} of the call's {in_call} recordings", entries.len())
    } else {
        format!("{} recording{}", entries.len(), plural(entries.len()))
    };
    write!(
        out,
        "<section class=\"call\"><h2>Call <code>{}</code></h2><p>{selected} · {reviewed} of {} reviewed",
        esc(session),
        entries.len()
    )?;
    for (verdict, n) in verdicts {
        write!(out, " · <span class=\"badge {v}\">{n} {v}</span>", v = verdict.as_str())?;
    }
    let flags: Vec<String> = flags.iter().map(|(f, n)| format!("<span class=\"flag\">{f} ×{n}</span>")).collect();
    writeln!(
        out,
        " · flags: {}</p><p class=\"muted\">assistant <code>{}</code> · environment <code>{}</code></p>",
        if flags.is_empty() { "none".to_string() } else { flags.join("") },
        esc(&first.assistant_id),
        esc(&first.environment_id)
    )
}

/// One recording's card.
fn recording(out: &mut dyn Write, r: &RecordingSummary, original: &[u8]) -> std::io::Result<()> {
    let review = &r.review;
    write!(
        out,
        "<article class=\"recording\"><div class=\"head\"><h3><code>{id}</code> v{version}</h3>\
         <span class=\"badge {verdict}\">{verdict}</span>",
        id = esc(&r.recording_id),
        version = r.version,
        verdict = review.verdict.as_str(),
    )?;
    for tag in &review.tags {
        write!(out, "<span class=\"tag\">{}</span>", esc(tag))?;
    }
    write!(out, "</div><dl>")?;
    let expected = r
        .analysis
        .as_ref()
        .and_then(|a| a.expected_duration_ms)
        .map(|ms| format!(" (metadata promises {} s)", seconds(ms)))
        .unwrap_or_default();
    let rows = [
        ("Start", esc(&r.start_timestamp)),
        ("Stop", esc(&r.stop_timestamp)),
        ("Received", esc(&r.received_at)),
        ("Duration", format!("{} s{expected}", seconds(r.duration_ms))),
        (
            "Format",
            format!("{} {}, {} Hz, {} ch", r.container.as_str(), r.encoding.as_str(), r.sample_rate, r.channels),
        ),
        ("SHA-256", format!("<code>{}</code>", esc(&r.sha256))),
        ("Reviewed", review.reviewed_at.as_deref().map(esc).unwrap_or_else(|| "never".into())),
    ];
    for (label, value) in rows {
        write!(out, "<dt>{label}</dt><dd>{value}</dd>")?;
    }
    levels(out, r)?;
    writeln!(out, "</dl>")?;
    if !review.note.is_empty() {
        writeln!(out, "<p class=\"note\">{}</p>", esc(&review.note))?;
    }
    pictures(out, r, original)?;
    let wav = export::render(r, original, Format::Pcm16);
    writeln!(
        out,
        "<audio controls preload=\"metadata\" src=\"data:audio/wav;base64,{}\"></audio>",
        STANDARD.encode(wav)
    )?;
    if !review.markers.is_empty() {
        write!(out, "<ol class=\"markers\">")?;
        for marker in &review.markers {
            let at = match marker.end_ms {
                Some(end) => format!("{}–{} s", seconds(marker.start_ms), seconds(end)),
                None => format!("{} s", seconds(marker.start_ms)),
            };
            write!(out, "<li>{at}: {}</li>", esc(&marker.text))?;
        }
        writeln!(out, "</ol>")?;
    }
    writeln!(out, "</article>")
}

/// The analysis rows of the recording's list.
fn levels(out: &mut dyn Write, r: &RecordingSummary) -> std::io::Result<()> {
    let Some(analysis) = &r.analysis else {
        return write!(out, "<dt>Levels</dt><dd class=\"muted\">not analysed</dd>");
    };
    let m = &analysis.measures;
    let db = |v: Option<f64>, unit: &str| v.map_or("−∞".to_string(), |v| format!("{v:.1} {unit}"));
    write!(
        out,
        "<dt>Levels</dt><dd>peak {} · RMS {} · loudness {}</dd>\
         <dt>Clipping</dt><dd>{} clipped samples</dd>\
         <dt>Speech</dt><dd>{:.0} % · {} s silence before · {} s after</dd><dt>Flags</dt><dd>",
        db(m.peak_dbfs, "dBFS"),
        db(m.rms_dbfs, "dBFS"),
        db(m.lufs, "LUFS"),
        m.clipped_samples,
        m.speech_ratio * 100.0,
        seconds(m.leading_silence_ms),
        seconds(m.trailing_silence_ms),
    )?;
    if analysis.flags.is_empty() {
        write!(out, "none")?;
    }
    for flag in &analysis.flags {
        write!(out, "<span class=\"flag\">{}</span>", flag_name(*flag))?;
    }
    write!(out, "</dd>")
}

/// The waveform over the spectrogram, markers drawn across both, second ticks under them.
fn pictures(out: &mut dyn Write, r: &RecordingSummary, original: &[u8]) -> std::io::Result<()> {
    let samples = audio::decode_pcm16(original, &r.audio);
    let wave = waveform_png(&audio::peaks(&samples, r.audio.channels, PICTURE_WIDTH), PICTURE_WIDTH, WAVEFORM_HEIGHT);
    let spectrum = spectrogram_png(&audio::spectrogram(original, &r.audio, PICTURE_WIDTH, SPECTROGRAM_HEIGHT));
    write!(
        out,
        "<div class=\"timeline\"><img class=\"wave\" alt=\"waveform\" width=\"{PICTURE_WIDTH}\" \
         height=\"{WAVEFORM_HEIGHT}\" src=\"data:image/png;base64,{}\">\
         <img class=\"spectrogram\" alt=\"spectrogram, 0–{} Hz\" width=\"{PICTURE_WIDTH}\" \
         height=\"{SPECTROGRAM_HEIGHT}\" src=\"data:image/png;base64,{}\">",
        STANDARD.encode(wave),
        r.audio.sample_rate / 2,
        STANDARD.encode(spectrum),
    )?;
    let length = r.duration_ms.max(1) as f64;
    let percent = |ms: u64| (ms as f64 / length * 100.0).min(100.0);
    for (n, marker) in r.review.markers.iter().enumerate() {
        let left = percent(marker.start_ms);
        let (class, width) = match marker.end_ms {
            Some(end) => ("mark", format!(";width:{:.2}%", percent(end) - left)),
            None => ("mark point", String::new()),
        };
        write!(
            out,
            "<div class=\"{class}\" style=\"left:{left:.2}%{width}\" title=\"{}\"><span>{}</span></div>",
            esc(&marker.text),
            n + 1
        )?;
    }
    // A tick a second; a tick every 5 or 10 s on long recordings so the labels do not collide.
    let step = match r.duration_ms {
        0..=20_000 => 1000,
        20_001..=90_000 => 5000,
        _ => 10_000,
    };
    for at in (0..=r.duration_ms).step_by(step) {
        write!(out, "<span class=\"tick\" style=\"left:{:.2}%\">{} s</span>", percent(at), at / 1000)?;
    }
    writeln!(out, "</div>")
}

/// A `width` × `height` RGBA picture of the waveform: one min–max bar per column on a
/// transparent background, with a faint centre line.
fn waveform_png(peaks: &[Peak], width: usize, height: usize) -> Vec<u8> {
    let mut rgba = vec![0u8; width * height * 4];
    let mid = height / 2;
    let row_of = |sample: i16| {
        let y = (1.0 - (f64::from(sample) + 32768.0) / 65535.0) * (height - 1) as f64;
        (y.round() as usize).min(height - 1)
    };
    let mut paint = |x: usize, y: usize, alpha: u8| {
        let i = (y * width + x) * 4;
        rgba[i..i + 4].copy_from_slice(&[WAVE_RGB[0], WAVE_RGB[1], WAVE_RGB[2], alpha]);
    };
    for x in 0..width {
        paint(x, mid, 90);
        // Fewer columns than pixels (a very short recording): each column is drawn wider.
        let Some(peak) = peaks.get(x * peaks.len() / width) else { continue };
        for y in row_of(peak.max)..=row_of(peak.min) {
            paint(x, y, 255);
        }
    }
    png(&rgba, width as u32, height as u32)
}

/// The spectrogram's light-theme picture ([`audio::Spectrogram::to_rgba`]`(false)`'s pixels) as
/// an indexed PNG: its 256 levels are exactly a 256-colour palette, so each pixel is its level
/// byte. That is a third the size of the RGBA file (about 50 KB instead of 150 KB at 600 × 128).
fn spectrogram_png(spectrum: &audio::Spectrogram) -> Vec<u8> {
    let ramp = audio::Spectrogram { width: 256, height: 1, levels: (0..=255).collect(), ..spectrum.clone() };
    let palette: Vec<u8> = ramp.to_rgba(false).chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    encode(&spectrum.levels, spectrum.width, spectrum.height, ::png::ColorType::Indexed, Some(palette))
}

/// RGBA pixels as a PNG file.
fn png(rgba: &[u8], width: u32, height: u32) -> Vec<u8> {
    encode(rgba, width, height, ::png::ColorType::Rgba, None)
}

fn encode(data: &[u8], width: u32, height: u32, color: ::png::ColorType, palette: Option<Vec<u8>>) -> Vec<u8> {
    let mut file = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut file, width, height);
    encoder.set_color(color);
    encoder.set_depth(::png::BitDepth::Eight);
    if let Some(palette) = palette {
        encoder.set_palette(palette);
    }
    // Writing to memory cannot fail, and the callers' buffers hold exactly width × height pixels.
    if let Ok(mut writer) = encoder.write_header() {
        let _ = writer.write_image_data(data);
    }
    file
}

/// Text as HTML that shows it and runs nothing (element content and quoted attributes).
fn esc(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::{Peak, audio, esc, spectrogram_png, waveform_png};

    #[test]
    fn markup_in_text_is_shown_not_run() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn the_indexed_spectrogram_shows_exactly_the_light_pixels() {
        let spectrum = audio::spectrogram(&[0x10, 0x90, 0x20, 0xff].repeat(2000), &info(), 60, 16);
        let mut decoder = ::png::Decoder::new(std::io::Cursor::new(spectrogram_png(&spectrum)));
        decoder.set_transformations(::png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut pixels).unwrap();
        let rgb: Vec<u8> = spectrum.to_rgba(false).chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
        assert!(pixels == rgb);
    }

    fn info() -> audio::AudioInfo {
        audio::describe(&[0u8; 8000], Some("audio/mulaw;rate=8000")).unwrap()
    }

    #[test]
    fn a_full_scale_column_fills_the_waveform_top_to_bottom() {
        let picture = waveform_png(&[Peak { min: -32768, max: 32767 }, Peak { min: 0, max: 0 }], 4, 8);
        let decoder = ::png::Decoder::new(std::io::Cursor::new(picture));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut pixels).unwrap();
        let alpha = |x: usize, y: usize| pixels[(y * 4 + x) * 4 + 3];
        assert!((0..8).all(|y| alpha(0, y) == 255), "column 0 spans the height");
        assert_eq!((alpha(2, 0), alpha(2, 7)), (0, 0), "a silent column is only the centre line");
    }
}
