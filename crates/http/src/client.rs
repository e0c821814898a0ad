//! Who is asking: the client's address (believing `X-Forwarded-For` only from trusted proxies),
//! the credential a request carries, and whether a browser request comes from our own pages.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use clef_core::SecretToken;

use crate::AppState;

/// The client's address: the peer, or, when the peer is a trusted proxy, the nearest address in
/// `X-Forwarded-For` that is not itself a trusted proxy.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl ClientIp {
    pub fn from_parts(parts: &Parts, state: &AppState) -> ClientIp {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let Some(peer) = peer else {
            return ClientIp("unknown".into());
        };
        let trusted = &state.http.trusted_proxies;
        if !trusted.contains(&peer) {
            return ClientIp(peer.to_string());
        }
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        let client = forwarded
            .into_iter()
            .rev()
            .find(|ip| !trusted.contains(ip))
            .unwrap_or(peer);
        ClientIp(client.to_string())
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp::from_parts(parts, state))
    }
}

/// The value of the named cookie, if sent.
pub fn session_cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The credential sent: a bearer token, else the session cookie. The flag says it was the cookie.
pub fn bearer_or_cookie(headers: &HeaderMap, cookie_name: &str) -> Option<(SecretToken, bool)> {
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let token = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))?;
        return Some((SecretToken::from_presented(token.trim()), false));
    }
    session_cookie_value(headers, cookie_name).map(|v| (SecretToken::from_presented(&v), true))
}

/// Whether a browser request comes from our own pages: `Sec-Fetch-Site` if sent, and `Origin`
/// if sent must name the host the request was sent to. Clients that send neither are not browsers.
///
/// A page sent with `Referrer-Policy: no-referrer` (the setup and reset links, whose tokens must
/// not leak) makes the browser post its forms with `Origin: null`; such a post is ours only when
/// the browser also says `Sec-Fetch-Site: same-origin`, a header no page can forge.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if let Some(site) = site {
        if !matches!(site, "same-origin" | "none") {
            return false;
        }
    }
    match headers.get(ORIGIN).map(|v| v.to_str()) {
        None => true,
        Some(Ok("null")) => site == Some("same-origin"),
        Some(Ok(origin)) => {
            let host = headers
                .get(HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let authority = origin.split_once("://").map(|(_, a)| a).unwrap_or_default();
            !host.is_empty() && authority.eq_ignore_ascii_case(host)
        }
        Some(Err(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn a_post_from_our_own_page_is_same_origin() {
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:4533"),
            ("origin", "http://127.0.0.1:4533"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(same_origin(&headers(&[("host", "127.0.0.1:4533")])));
    }

    #[test]
    fn a_null_origin_counts_only_when_the_browser_says_same_origin() {
        // Chromium posting a form from a page sent with `Referrer-Policy: no-referrer`.
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:4533"),
            ("origin", "null"),
            ("sec-fetch-site", "same-origin"),
        ])));
        // A sandboxed frame or a data: page elsewhere.
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:4533"),
            ("origin", "null"),
            ("sec-fetch-site", "cross-site"),
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:4533"),
            ("origin", "null"),
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:4533"),
            ("origin", "null"),
            ("sec-fetch-site", "none"),
        ])));
    }

    #[test]
    fn another_origin_is_refused() {
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:4533"),
            ("origin", "http://evil.example"),
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:4533"),
            ("sec-fetch-site", "same-site"),
        ])));
    }
}
