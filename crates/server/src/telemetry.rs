//! Logging: structured tracing to standard error (standard output carries only a command's
//! result), coloured only on a terminal, and a request span that records the path but never the
//! query string (credentials of some clients travel there).

use std::io::IsTerminal;

use axum::http::Request;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// What `clef serve` logs by default: its life and each problem.
pub const SERVER_LOG: &str = "info,sqlx=warn,lofty=error";
/// What the one-shot commands log by default: problems only (not sqlx's slow-statement notes),
/// so their output stands alone.
pub const COMMAND_LOG: &str = "warn,sqlx=error,lofty=error";

/// Installs the global subscriber, writing to standard error. `CLEF_LOG` (or `RUST_LOG`) sets
/// the filter, `default` otherwise. Colours only when standard error is a terminal and
/// `NO_COLOR` is unset or empty.
pub fn init_tracing(default: &str) {
    let filter = std::env::var("CLEF_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| default.into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(colour(&std::io::stderr()))
        .try_init();
}

/// Whether to colour what goes to `stream`: a terminal, and no `NO_COLOR` (no-color.org).
pub fn colour(stream: &impl IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

type MakeSpan = fn(&Request<axum::body::Body>) -> tracing::Span;

fn span(req: &Request<axum::body::Body>) -> tracing::Span {
    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
}

pub fn http_trace_layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, MakeSpan> {
    TraceLayer::new_for_http()
        .make_span_with(span as MakeSpan)
        .on_response(DefaultOnResponse::new().level(Level::DEBUG))
}
