//! Logging: structured tracing to stderr, and a request span that records the path but never the
//! query string (credentials of some clients travel there).

use axum::http::Request;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// Installs the global subscriber; `CLEF_LOG` (or `RUST_LOG`) sets the filter, default `info`.
pub fn init_tracing() {
    let filter = std::env::var("CLEF_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info,sqlx=warn,lofty=error".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
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
