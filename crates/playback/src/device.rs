//! The only module that touches cpal: listing outputs, and opening an output
//! stream whose callback runs the shared [`Pipeline`] in whatever sample
//! format the device asks for.
//!
//! Streams are created and dropped on the engine thread (cpal streams are not
//! `Send` everywhere); the callback reaches the pipeline through its mutex.

use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{Device, ErrorKind, FromSample, I24, OutputCallbackInfo, SampleFormat, SizedSample, Stream, StreamConfig};

use crate::PlaybackError;
use crate::pipeline::Pipeline;

/// One audio output the machine offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// cpal's stable id (`alsa:default`, …); pass it (or the name) to `Control::ChooseDevice`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Whether this is the host's default output.
    pub is_default: bool,
}

/// Every output device of the default host, the default first.
pub fn list_devices() -> Result<Vec<DeviceInfo>, PlaybackError> {
    let host = cpal::default_host();
    let default_id = host.default_output_device().and_then(|d| d.id().ok()).map(|id| id.to_string());
    let devices = host.output_devices().map_err(|e| PlaybackError::Device(e.to_string()))?;
    let mut list: Vec<DeviceInfo> = devices
        .filter_map(|device| {
            let id = device.id().ok()?.to_string();
            let name = device.description().map(|d| d.name().to_string()).unwrap_or_else(|_| id.clone());
            Some(DeviceInfo { is_default: Some(&id) == default_id.as_ref(), id, name })
        })
        .collect();
    list.sort_by_key(|d| !d.is_default);
    Ok(list)
}

/// The device whose id or name is `wanted` (exact, then case-insensitive), or the default.
fn find(wanted: Option<&str>) -> Result<Device, PlaybackError> {
    let host = cpal::default_host();
    let Some(wanted) = wanted else {
        return host.default_output_device().ok_or(PlaybackError::NoDevice);
    };
    let devices: Vec<Device> = host.output_devices().map_err(|e| PlaybackError::Device(e.to_string()))?.collect();
    let label = |d: &Device| {
        let id = d.id().map(|id| id.to_string()).unwrap_or_default();
        let name = d.description().map(|n| n.name().to_string()).unwrap_or_default();
        (id, name)
    };
    let exact = devices.iter().position(|d| {
        let (id, name) = label(d);
        id == wanted || name == wanted
    });
    let loose = || {
        let wanted = wanted.to_lowercase();
        devices.iter().position(|d| {
            let (id, name) = label(d);
            id.to_lowercase().contains(&wanted) || name.to_lowercase().contains(&wanted)
        })
    };
    match exact.or_else(loose) {
        Some(index) => Ok(devices.into_iter().nth(index).expect("index from the same list")),
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

/// Opens `wanted` (or the default) at its default config and starts it.
/// The callback locks `pipeline` (built for this rate and channel count by the caller via
/// `make_pipeline`); stream errors arrive on `errors` .
pub fn open(
    wanted: Option<&str>,
    make_pipeline: impl FnOnce(u32, u16) -> Arc<Mutex<Pipeline>>,
    errors: Sender<PlaybackError>,
) -> Result<(OpenStream, Arc<Mutex<Pipeline>>), PlaybackError> {
    let (device, supported) = config(wanted)?;
    let format = supported.sample_format();
    let config: StreamConfig = supported.into();
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
    device.build_output_stream::<T, _, _>(*config, data, failed, None).map_err(|e| describe(&e))
}

/// cpal's error as ours: "no device" stays recognisable for the CLI and the app.
fn describe(error: &cpal::Error) -> PlaybackError {
    match error.kind() {
        ErrorKind::DeviceNotAvailable | ErrorKind::HostUnavailable => PlaybackError::NoDevice,
        _ => PlaybackError::Device(error.to_string()),
    }
}
