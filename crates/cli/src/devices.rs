//! `earshot devices`: the audio outputs `earshot play --device` can use.

use earshot_playback::list_devices;

use crate::CliError;

/// Prints one output a line: id, name, and `(default)` for the default.
pub fn run() -> Result<(), CliError> {
    let devices = list_devices().map_err(|e| CliError::Message(e.to_string()))?;
    if devices.is_empty() {
        return Err(CliError::Message("no audio output device is available (is a sound server running?)".into()));
    }
    for device in devices {
        let default = if device.is_default { "  (default)" } else { "" };
        println!("{}\t{}{default}", device.id, device.name);
    }
    Ok(())
}
