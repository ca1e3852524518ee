//! Structured logs to stdout: JSON by default (for log collectors), or human-readable with
//! `WASL_LOG_FORMAT=pretty`. Levels come from `RUST_LOG` (e.g. `info`, `wasl=debug`).

use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

use crate::settings::LogFormat;

pub fn init(format: LogFormat) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| {
            Targets::new()
                .with_default(tracing::Level::INFO)
                .with_target("sqlx", tracing::Level::WARN)
        });
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(false),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(tracing_subscriber::fmt::layer()).try_init(),
    };
}
