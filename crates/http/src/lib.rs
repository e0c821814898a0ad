//! What every Clef front-end (the REST API, the web pages, the OAuth endpoints, and the Subsonic
//! API to come) shares over HTTP, so that no front-end depends on another: the state handlers
//! reach, the client's address and credential, same-origin checks, security headers, the `Host`
//! guard, the connection a stream can reset, the stream body that can be cut, playing a track
//! (Range or transcoded, under the stream slot), work limits, and the messages a signed-out
//! device is told.

mod client;
mod connection;
mod cut;
mod headers;
mod host;
pub mod limits;
mod messages;
pub mod play;
pub mod transcode;

pub use clef_formats::range::{parse_range, ByteRange, RangeRequest};
pub use client::{bearer_or_cookie, same_origin, session_cookie_value, ClientIp};
pub use connection::ConnectionAbort;
pub use cut::{reset_when_stopped, stopped_body};
pub use headers::{media, security_headers, MEDIA_POLICY};
pub use host::{host_guard, host_of_url};
pub use messages::{signed_out_message, signed_out_message_by};
pub use play::cover_response;

use std::net::IpAddr;

use clef_accounts::Accounts;

/// Settings the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Where people reach Clef, such as `https://music.example.org`; links are built from it.
    pub public_url: String,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
}

impl HttpConfig {
    /// Cookies are `Secure` and `__Host-` prefixed when Clef is reached over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies() {
            "__Host-clef_session"
        } else {
            "clef_session"
        }
    }
}

/// Everything a handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub accounts: Accounts,
    pub library: clef_library::Library,
    pub exports: clef_export::Exports,
    pub http: std::sync::Arc<HttpConfig>,
    pub limits: limits::WorkLimits,
}

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

impl AppState {
    /// Where this server's OAuth endpoints are, as its metadata and redirects name it.
    pub fn issuer(&self) -> String {
        self.http.public_url.trim_end_matches('/').to_owned()
    }
}

/// A JSON error body as the API writes them: `{"error": code, "message": message}`.
pub fn json_error(
    status: axum::http::StatusCode,
    code: &str,
    message: &str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        status,
        axum::Json(serde_json::json!({ "error": code, "message": message })),
    )
        .into_response()
}
