//! DNS rebinding: with `public_url` configured, a request must name Clef by that host. A page on
//! an attacker's site whose name was re-pointed at Clef's address sends its own name in `Host`,
//! and is refused (421). Addresses written as IP literals and `localhost` stay accepted (no one
//! can re-point those, and a local reverse proxy or health check uses them).

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The host name `public_url` names, lowercased, without port or brackets.
pub fn host_of_url(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(host_name(authority).to_ascii_lowercase())
}

/// `example.org:8443` → `example.org`; `[::1]:80` → `::1`.
fn host_name(authority: &str) -> &str {
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    authority.rsplit_once(':').map_or(authority, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            authority
        }
    })
}

/// Whether a request naming `host` (its `Host` header) may be answered by a server reached as
/// `public_host`.
pub fn host_allowed(public_host: &str, host: &str) -> bool {
    let name = host_name(host).trim_end_matches('.').to_ascii_lowercase();
    name == public_host || name == "localhost" || name.parse::<IpAddr>().is_ok()
}

/// Refuses requests naming another host, when a public URL is configured.
pub async fn host_guard(
    State(public_host): State<Option<String>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(public_host) = public_host else {
        return next.run(req).await;
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match host {
        Some(h) if host_allowed(&public_host, &h) => next.run(req).await,
        other => {
            tracing::warn!(host = ?other, "request for another host refused");
            (
                StatusCode::MISDIRECTED_REQUEST,
                format!("This server answers as {public_host} only.\n"),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_public_host_ip_literals_and_localhost_pass() {
        let public = host_of_url("https://Music.Example.org/clef").unwrap();
        assert_eq!(public, "music.example.org");
        for ok in [
            "music.example.org",
            "MUSIC.example.org:443",
            "music.example.org.",
            "127.0.0.1:4533",
            "[::1]:4533",
            "192.168.1.20",
            "localhost:4533",
        ] {
            assert!(host_allowed(&public, ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "music.example.org.evil.example",
            "",
            "localhost.evil",
        ] {
            assert!(!host_allowed(&public, refused), "{refused}");
        }
        assert_eq!(host_of_url("http://[::1]:8080").unwrap(), "::1");
    }
}
