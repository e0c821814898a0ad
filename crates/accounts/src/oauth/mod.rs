//! Apps and the OAuth 2.0 authorization server's logic (RFC 6749 as RFC 9700 advises): the apps
//! registry, authorization codes with PKCE, refresh-token rotation with reuse detection,
//! revocation (RFC 7009), introspection (RFC 7662) and the Apps page's grants. HTTP lives in the
//! front-ends.

mod apps;
mod authorize;
mod device;
mod pkce;
mod redirect;
mod token;

pub use apps::{NewApp, RegisteredApp};
pub use authorize::{AuthorizeParams, AuthorizeRequest, Rejection};
pub use device::{display_user_code, normalise_user_code, DeviceAuthorization, DeviceRequest};
pub use token::{ClientAuth, Introspection, TokenGrant, Tokens};

/// An access token lasts an hour.
pub const ACCESS_TOKEN_SECS: i64 = 3600;
/// A refresh token lasts 90 days from its issue; each use replaces it.
pub const REFRESH_TOKEN_SECS: i64 = 90 * 24 * 3600;
/// An authorization code lasts 10 minutes.
pub const CODE_SECS: i64 = 600;

/// The errors of RFC 6749 §5.2 (and RFC 8628 §3.5), each with a description for developers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    /// Client authentication failed (401).
    #[error("client authentication failed")]
    InvalidClient,
    #[error("{0}")]
    InvalidGrant(String),
    #[error("this app may not use this grant type")]
    UnauthorizedClient,
    #[error("grant type not supported: {0}")]
    UnsupportedGrantType(String),
    #[error("{0}")]
    InvalidScope(String),
    /// RFC 8628 §3.5: the user has not answered yet.
    #[error("the user has not answered yet")]
    AuthorizationPending,
    #[error("polling too often; wait longer between polls")]
    SlowDown,
    #[error("the user said no")]
    AccessDenied,
    #[error("the device code expired; start again")]
    ExpiredToken,
}

impl OAuthError {
    /// The `error` code of the response.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient => "unauthorized_client",
            OAuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::AuthorizationPending => "authorization_pending",
            OAuthError::SlowDown => "slow_down",
            OAuthError::AccessDenied => "access_denied",
            OAuthError::ExpiredToken => "expired_token",
        }
    }
}
