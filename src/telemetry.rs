//! Logging set-up, once per process. `RUST_LOG` overrides the command's default level.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

pub fn init(default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only help a person at a terminal; in files and the journal they are noise.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
