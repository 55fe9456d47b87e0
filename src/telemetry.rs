//! Logging set-up, once per process.
//!
//! Under systemd (`JOURNAL_STREAM` set) events go to the journal with their fields as journal
//! fields (`journalctl -u frameio-sync F_WF_PROJECT=…`); otherwise to stderr, as text or as one
//! JSON object per line (`log_format = "json"`). `RUST_LOG` overrides the command's default level.

use std::io::IsTerminal;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// How log lines are written to stderr when not under systemd's journal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

pub fn init(default_level: &str, format: LogFormat) {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        match tracing_journald::layer() {
            Ok(journald) => {
                let _ = tracing_subscriber::registry()
                    .with(filter())
                    .with(journald.with_syslog_identifier("frameio-sync".to_owned()))
                    .try_init();
                return;
            }
            Err(err) => {
                eprintln!("frameio-sync: cannot write to the journal ({err}); logging to stderr")
            }
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        // Colour codes only help a person at a terminal; in files they are noise.
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}
