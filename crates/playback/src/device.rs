//! The only module that touches cpal: listing outputs, and opening an output
//! stream whose callback runs the shared [`Pipeline`] in whatever sample
//! format the device asks for.
//!
//! Hosts are tried in cpal's order: its native PulseAudio client first (it
//! also serves PipeWire's pulse server), then ALSA. cpal's PulseAudio client
//! reads the server's cookie only from `$PULSE_COOKIE` or
//! `~/.config/pulse/cookie`; when it cannot connect, everything goes through
//! ALSA as before (whose `pulse` plugin reaches the same server).
//!
//! Streams are created and dropped on the engine thread (cpal streams are not
//! `Send` everywhere); the callback reaches the pipeline through its mutex.

use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{
    BufferSize, Device, ErrorKind, FromSample, Host, HostId, I24, OutputCallbackInfo, SampleFormat, SizedSample,
    Stream, StreamConfig, SupportedBufferSize,
};

use crate::PlaybackError;
use crate::pipeline::Pipeline;

/// Callback period asked of PulseAudio. Its default buffer is 2 s, so a `Play` on a stream
/// already running (opened at `Load`) would queue behind 2 s of silence. cpal double-buffers a
/// fixed period: 20 ms between the pipeline and the sink, as on the ALSA path (two 512-frame
/// periods at 48 kHz). Measured on a running null sink, Play → heard: 16 ms here, 30 ms on ALSA.
const PULSE_PERIOD: Duration = Duration::from_millis(10);
/// A sound server that does not answer stream creation within this is treated as absent.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// One audio output the machine offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// cpal's stable id (`pulseaudio:nullsink`, `alsa:default`, …); pass it (or the name) to
    /// `Control::ChooseDevice`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Whether this is the system's default output (the preferred host's default).
    pub is_default: bool,
}

/// Every host cpal can reach, the preferred first (PulseAudio when its server answers).
fn hosts() -> Vec<Host> {
    cpal::available_hosts().into_iter().filter_map(|id| cpal::host_from_id(id).ok()).collect()
}

/// The id and the name of a device, as listed and matched.
fn label(device: &Device) -> (String, String) {
    let id = device.id().map(|id| id.to_string()).unwrap_or_default();
    let name = device.description().map(|d| d.name().to_string()).unwrap_or_else(|_| id.clone());
    (id, name)
}

/// Every output of every reachable host: the default first, then the preferred host's others,
/// then the other hosts' (so `alsa:default` stays choosable under PulseAudio).
pub fn list_devices() -> Result<Vec<DeviceInfo>, PlaybackError> {
    let hosts = hosts();
    let default_id = hosts.first().and_then(HostTrait::default_output_device).map(|d| label(&d).0);
    let mut list = Vec::new();
    for (index, host) in hosts.iter().enumerate() {
        let devices = match host.output_devices() {
            Ok(devices) => devices,
            // The preferred host's failure is the answer; a fallback host's only hides its devices.
            Err(e) if index == 0 => return Err(PlaybackError::Device(e.to_string())),
            Err(_) => continue,
        };
        list.extend(devices.map(|device| {
            let (id, name) = label(&device);
            DeviceInfo { is_default: Some(&id) == default_id.as_ref(), id, name }
        }));
    }
    list.sort_by_key(|d| !d.is_default);
    Ok(list)
}

/// The device whose id or name is `wanted` (exact, then a case-insensitive part of either),
/// or the first reachable host's default.
fn find(wanted: Option<&str>) -> Result<Device, PlaybackError> {
    let hosts = hosts();
    let Some(wanted) = wanted else {
        return hosts.iter().find_map(HostTrait::default_output_device).ok_or(PlaybackError::NoDevice);
    };
    let mut devices: Vec<(Device, String, String)> = hosts
        .iter()
        .filter_map(|host| host.output_devices().ok())
        .flatten()
        .map(|device| {
            let (id, name) = label(&device);
            (device, id, name)
        })
        .collect();
    let lower = wanted.to_lowercase();
    let exact = devices.iter().position(|(_, id, name)| id == wanted || name == wanted);
    let loose = || {
        devices
            .iter()
            .position(|(_, id, name)| id.to_lowercase().contains(&lower) || name.to_lowercase().contains(&lower))
    };
    match exact.or_else(loose) {
        Some(index) => Ok(devices.swap_remove(index).0),
        None => Err(PlaybackError::UnknownDevice(wanted.to_string())),
    }
}

/// An open, running output stream and what it was opened with.
pub struct OpenStream {
    /// Dropping it closes the device.
    pub stream: Stream,
    /// Rate the device runs at.
    pub rate: u32,
    /// Interleaved channels the device wants.
    pub channels: u16,
    /// The device's format, e.g. `f32` or `i16`.
    pub format: SampleFormat,
    /// The device's id.
    pub device: String,
}

/// The device's default config, without opening a stream.
pub fn config(wanted: Option<&str>) -> Result<(Device, cpal::SupportedStreamConfig), PlaybackError> {
    let device = find(wanted)?;
    let config = device.default_output_config().map_err(|e| describe(&e))?;
    Ok((device, config))
}

/// Opens `wanted` (or the default) at its default config (a short fixed period on PulseAudio)
/// and starts it.
/// The callback locks `pipeline` (built for this rate and channel count by the caller via
/// `make_pipeline`); stream errors arrive on `errors`.
pub fn open(
    wanted: Option<&str>,
    make_pipeline: impl FnOnce(u32, u16) -> Arc<Mutex<Pipeline>>,
    errors: Sender<PlaybackError>,
) -> Result<(OpenStream, Arc<Mutex<Pipeline>>), PlaybackError> {
    let (device, supported) = config(wanted)?;
    let format = supported.sample_format();
    let config = stream_config(&device, &supported);
    let pipeline = make_pipeline(config.sample_rate, config.channels);
    let shared = Arc::clone(&pipeline);
    let stream = match format {
        SampleFormat::I8 => build::<i8>(&device, &config, shared, errors),
        SampleFormat::I16 => build::<i16>(&device, &config, shared, errors),
        SampleFormat::I24 => build::<I24>(&device, &config, shared, errors),
        SampleFormat::I32 => build::<i32>(&device, &config, shared, errors),
        SampleFormat::I64 => build::<i64>(&device, &config, shared, errors),
        SampleFormat::U8 => build::<u8>(&device, &config, shared, errors),
        SampleFormat::U16 => build::<u16>(&device, &config, shared, errors),
        SampleFormat::U32 => build::<u32>(&device, &config, shared, errors),
        SampleFormat::U64 => build::<u64>(&device, &config, shared, errors),
        SampleFormat::F32 => build::<f32>(&device, &config, shared, errors),
        SampleFormat::F64 => build::<f64>(&device, &config, shared, errors),
        other => Err(PlaybackError::Device(format!("the device wants {other} samples, which Earshot cannot produce"))),
    }?;
    stream.play().map_err(|e| describe(&e))?;
    let id = device.id().map(|id| id.to_string()).unwrap_or_else(|_| "unknown".into());
    Ok((OpenStream { stream, rate: config.sample_rate, channels: config.channels, format, device: id }, pipeline))
}

/// The device's default config, with a short fixed period on PulseAudio (see [`PULSE_PERIOD`]).
/// ALSA keeps cpal's default (the device's own period, two of them buffered).
fn stream_config(device: &Device, supported: &cpal::SupportedStreamConfig) -> StreamConfig {
    let mut config = supported.config();
    let on_pulse = device.id().is_ok_and(|id| id.host() == HostId::PulseAudio);
    let period = (f64::from(config.sample_rate) * PULSE_PERIOD.as_secs_f64()).round() as u32;
    if on_pulse && let SupportedBufferSize::Range { min, max } = *supported.buffer_size() {
        config.buffer_size = BufferSize::Fixed(period.clamp(min, max));
    }
    config
}

fn build<T>(
    device: &Device,
    config: &StreamConfig,
    pipeline: Arc<Mutex<Pipeline>>,
    errors: Sender<PlaybackError>,
) -> Result<Stream, PlaybackError>
where
    T: SizedSample + FromSample<f32>,
{
    let mut scratch: Vec<f32> = Vec::new();
    let data = move |out: &mut [T], _: &OutputCallbackInfo| {
        scratch.resize(out.len(), 0.0);
        match pipeline.lock() {
            Ok(mut pipeline) => pipeline.fill(&mut scratch),
            Err(_) => scratch.fill(0.0),
        }
        for (slot, &value) in out.iter_mut().zip(&scratch) {
            *slot = T::from_sample(value);
        }
    };
    let failed = move |error: cpal::Error| {
        // Only these end cpal's stream. Others (under-runs, reroutes, and the transient EIO
        // the ALSA→PulseAudio plugin reports from `snd_pcm_avail_delay` while starting) leave it
        // running; if callbacks really stop, the engine's stall watchdog reports it.
        if matches!(
            error.kind(),
            ErrorKind::DeviceNotAvailable
                | ErrorKind::StreamInvalidated
                | ErrorKind::HostUnavailable
                | ErrorKind::PermissionDenied
        ) {
            let _ = errors.send(describe(&error));
        }
    };
    device.build_output_stream::<T, _, _>(*config, data, failed, Some(OPEN_TIMEOUT)).map_err(|e| describe(&e))
}

/// cpal's error as ours: "no device" stays recognisable for the CLI and the app.
fn describe(error: &cpal::Error) -> PlaybackError {
    match error.kind() {
        ErrorKind::DeviceNotAvailable | ErrorKind::HostUnavailable => PlaybackError::NoDevice,
        _ => PlaybackError::Device(error.to_string()),
    }
}
