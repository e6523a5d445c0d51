//! Logging to a file (never to a terminal the TUI owns): `run --log FILE`, or standard error.

use std::path::Path;

/// Starts the subscriber; keep the guard alive for the process. Level from `IMPORTDESK_LOG`.
pub fn init(file: Option<&Path>) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("IMPORTDESK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = match file {
        Some(path) => {
            let f = std::fs::OpenOptions::new().create(true).append(true).open(path).ok()?;
            tracing_appender::non_blocking(f)
        }
        None => tracing_appender::non_blocking(std::io::stderr()),
    };
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init().ok()?;
    Some(guard)
}
