//! Logging: structured tracing to standard error (standard output carries only a command's
//! result), coloured only on a terminal, a request span that records the path but never the
//! query string (credentials of some clients travel there), and panics logged the same way with
//! their secrets taken out.

use std::any::Any;
use std::io::IsTerminal;
use std::panic::Location;

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

/// Replaces the default panic hook, which prints the raw message to standard error, with one
/// that logs through `tracing` where the panic happened and its message with query strings and
/// credentials taken out (see [`redact`]): a panic message can quote a request's URL or a value
/// that held a secret. Tests keep the default hook (libtest shows their panics as they are).
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let (location, message) = panic_report(info.payload(), info.location());
        let thread = std::thread::current();
        let thread = thread.name().unwrap_or("unnamed");
        // Captured only when RUST_BACKTRACE asks, as the default hook does. Frames name
        // functions and files, never values.
        let backtrace = std::backtrace::Backtrace::capture();
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            tracing::error!(%location, thread, %backtrace, "panicked: {message}");
        } else {
            tracing::error!(%location, thread, "panicked: {message}");
        }
    }));
}

/// What the panic hook logs: where (`file:line:column`) and the message, redacted.
fn panic_report(payload: &(dyn Any + Send), location: Option<&Location<'_>>) -> (String, String) {
    let location = location.map_or_else(
        || "unknown".to_owned(),
        |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
    );
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        redact(s)
    } else if let Some(s) = payload.downcast_ref::<String>() {
        redact(s)
    } else {
        "(a panic whose payload is not text)".to_owned()
    };
    (location, message)
}

/// What replaces a secret.
const REDACTED: &str = "[redacted]";

/// Whether a `name=value` or `name: value` pair holds a secret: Subsonic's token, salt and
/// password (`t`, `s`, `p`, `salt`), API keys, and anything called a password, token or secret.
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "t" | "s" | "p" | "salt" | "apikey" | "api_key" | "api-key"
    ) || n.ends_with("password")
        || n.ends_with("token")
        || n.ends_with("secret")
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Ends a value or a query string that is not quoted.
fn ends_value(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '&' | ',' | ';' | ')' | '}' | ']' | '"' | '\'' | '<' | '>' | '`'
        )
}

/// `text` with every query string removed (a `?` inside a word, followed by query text, up to
/// the end of the word) and the values of secret `name=value` and `name: value` pairs (quoted or
/// not, as in URLs, forms, JSON and `Debug` output) replaced, so that a message can be logged.
pub fn redact(text: &str) -> String {
    strip_secret_values(&strip_queries(text))
}

fn strip_queries(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let in_word = i > 0 && !ends_value(chars[i - 1]);
        let query_follows = chars.get(i + 1).is_some_and(|n| {
            n.is_alphanumeric() || matches!(n, '%' | '_' | '-' | '.' | '=' | '&' | '~' | '+')
        });
        if c == '?' && in_word && query_follows {
            out.push('?');
            out.push_str(REDACTED);
            i += 1;
            // A query string runs on over `&`, to the end of the word.
            while i < chars.len() && (chars[i] == '&' || !ends_value(chars[i])) {
                i += 1;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn strip_secret_values(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_name = name_char(chars[i]) && (i == 0 || !name_char(chars[i - 1]));
        if !starts_name {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && name_char(chars[i]) {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        out.push_str(&name);
        if !secret_name(&name) {
            continue;
        }
        // A JSON key's closing quote, then `=` or `:` with spaces around it.
        let mut j = i;
        if matches!(chars.get(j), Some('"' | '\'')) {
            j += 1;
        }
        while chars.get(j).is_some_and(|c| *c == ' ') {
            j += 1;
        }
        if !matches!(chars.get(j), Some('=' | ':')) {
            continue;
        }
        j += 1;
        while chars.get(j).is_some_and(|c| *c == ' ') {
            j += 1;
        }
        out.extend(&chars[i..j]);
        match chars.get(j) {
            Some(&q @ ('"' | '\'')) => {
                // A quoted value, up to its closing quote (escaped quotes are part of it).
                let mut k = j + 1;
                while k < chars.len() && chars[k] != q {
                    k += if chars[k] == '\\' { 2 } else { 1 };
                }
                out.push(q);
                out.push_str(REDACTED);
                if k < chars.len() {
                    out.push(q);
                }
                i = (k + 1).min(chars.len()).max(j + 1);
            }
            Some(c) if !ends_value(*c) => {
                let mut k = j;
                while k < chars.len() && !ends_value(chars[k]) {
                    k += 1;
                }
                out.push_str(REDACTED);
                i = k;
            }
            _ => i = j,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_query_strings() {
        assert_eq!(
            redact("GET /rest/stream.view?u=anna&t=26719a1196d2a940705a59634eb18eab&s=c19b2d&id=7 failed"),
            "GET /rest/stream.view?[redacted] failed"
        );
        assert_eq!(
            redact("fetching \"https://music.example.org/rest/ping?apiKey=k3y\": timed out"),
            "fetching \"https://music.example.org/rest/ping?[redacted]\": timed out"
        );
        assert_eq!(redact("(/a?b=1&c=2)"), "(/a?[redacted])");
        // Questions stay questions.
        assert_eq!(redact("what? no. why ?x"), "what? no. why ?x");
    }

    #[test]
    fn secret_pairs_lose_their_values() {
        assert_eq!(
            redact("u=anna&p=enc:736573616d65&c=dsub"),
            "u=anna&p=[redacted]&c=dsub"
        );
        assert_eq!(
            redact("t=abc s=salt1 v=1.16.1"),
            "t=[redacted] s=[redacted] v=1.16.1"
        );
        assert_eq!(redact("apiKey=abc; ok"), "apiKey=[redacted]; ok");
        assert_eq!(
            redact(r#"Token { username: "anna", token: "26719a", salt: "c19b2d" }"#),
            r#"Token { username: "anna", token: "[redacted]", salt: "[redacted]" }"#
        );
        assert_eq!(
            redact(r#"{"password": "hunter2 \" x", "refresh_token":"r1", "name":"n"}"#),
            r#"{"password": "[redacted]", "refresh_token":"[redacted]", "name":"n"}"#
        );
        assert_eq!(
            redact("access_token = abc123, PASSWORD: sesame"),
            "access_token = [redacted], PASSWORD: [redacted]"
        );
        // Words that merely contain or resemble the names, and names without values, stay.
        assert_eq!(
            redact("status=500 tokens=3 the token expired; s3=ok, p"),
            "status=500 tokens=3 the token expired; s3=ok, p"
        );
        assert_eq!(
            redact("index out of bounds: the len is 3"),
            "index out of bounds: the len is 3"
        );
    }

    #[test]
    fn the_hook_reports_where_and_what_without_secrets() {
        let here = Location::caller();
        let payload: Box<dyn Any + Send> = Box::new(String::from(
            "bad request /rest/getUser?u=anna&p=sesame with password=sesame",
        ));
        let (location, message) = panic_report(payload.as_ref(), Some(here));
        assert_eq!(
            location,
            format!("{}:{}:{}", file!(), here.line(), here.column())
        );
        assert_eq!(
            message,
            "bad request /rest/getUser?[redacted] with password=[redacted]"
        );
        assert!(!message.contains("sesame"));
        let payload: Box<dyn Any + Send> = Box::new("token=abc");
        assert_eq!(
            panic_report(payload.as_ref(), None),
            ("unknown".into(), "token=[redacted]".into())
        );
        let payload: Box<dyn Any + Send> = Box::new(42u32);
        assert_eq!(
            panic_report(payload.as_ref(), None).1,
            "(a panic whose payload is not text)"
        );
    }
}
