//! The one tracing set-up for every Earshot binary: `EARSHOT_LOG` filters
//! (default `info`), lines go to stderr, coloured only on a terminal so
//! logs captured to a file stay plain text.

/// Installs the subscriber; call once, first thing in `main`.
pub fn init() {
    // cpal's PulseAudio client logs every connection, and an error on every
    // normal disconnect; nothing in it is for the user.
    let filter = tracing_subscriber::EnvFilter::try_from_env("EARSHOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
        .add_directive("pulseaudio=off".parse().expect("a valid directive"));
    // A second call (tests that build the app twice) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
