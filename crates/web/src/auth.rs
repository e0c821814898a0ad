//! Who is signed in on a page request: the session cookie, checked against the store every time.
//!
//! Pages accept only the cookie, never a bearer token. A signed-out device is sent to the sign-in
//! page with the reason, so it can tell its person why; its cookie is cleared on the way.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::Response;
use clef_accounts::{AccountsError, AuthContext, SignOutReason};
use clef_core::SecretToken;
use clef_http::{session_cookie_value, AppState, ClientIp};

use crate::{cookies, errors, reply};

/// The reason named by `code`, if Clef knows it: anything else is not echoed into a URL.
pub fn known_reason(code: &str) -> Option<SignOutReason> {
    SignOutReason::parse(code)
}

/// The sign-in page, telling why this device was signed out.
pub fn signin_url(reason: SignOutReason) -> String {
    format!("/signin?reason={}", reason.as_str())
}

/// 303 to `location`, clearing the session cookie.
pub fn signed_out_redirect(state: &AppState, location: &str) -> Response {
    reply::with_cookie(
        reply::see_other(location),
        &cookies::clear_session(&state.http),
    )
}

/// Whether the request carries a session cookie at all.
pub fn has_session_cookie(state: &AppState, headers: &HeaderMap) -> bool {
    session_cookie_value(headers, state.http.session_cookie_name()).is_some()
}

/// Where an account given a temporary password chooses its own.
pub const NEW_PASSWORD_PATH: &str = "/account/new-password";

/// The signed-in device, or the response that sends the browser to sign in. An account an
/// admin gave a temporary password is sent to choose a new one first, from every page.
pub async fn require(
    state: &AppState,
    headers: &HeaderMap,
    ip: &str,
) -> Result<AuthContext, Response> {
    let ctx = signed_in(state, headers, ip).await?;
    if ctx.user.must_change_password {
        return Err(reply::see_other(NEW_PASSWORD_PATH));
    }
    Ok(ctx)
}

/// The signed-in device, even one whose account must choose a new password (for that page and
/// for signing out).
pub async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    ip: &str,
) -> Result<AuthContext, Response> {
    let Some(value) = session_cookie_value(headers, state.http.session_cookie_name()) else {
        return Err(reply::see_other("/signin"));
    };
    match state
        .accounts
        .authenticate(&SecretToken::from_presented(&value), ip)
        .await
    {
        // Pages are the account owner's: an app's token is no session, even in a cookie.
        Ok(ctx) if ctx.access().is_full() => Ok(ctx),
        Ok(_) => Err(signed_out_redirect(state, "/signin")),
        Err(AccountsError::SignedOut { reason, .. }) => {
            Err(signed_out_redirect(state, &signin_url(reason)))
        }
        Err(AccountsError::Unauthenticated) => Err(signed_out_redirect(state, "/signin")),
        Err(e) => Err(errors::page(&e, None)),
    }
}

/// Extracts the signed-in device for a page; redirects to sign-in otherwise.
#[derive(Debug, Clone)]
pub struct WebAuth(pub AuthContext);

impl FromRequestParts<AppState> for WebAuth {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ip = ClientIp::from_parts(parts, state);
        require(state, &parts.headers, &ip.0).await.map(WebAuth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_reasons_reach_the_url() {
        assert_eq!(
            signin_url(SignOutReason::SignedOutEverywhere),
            "/signin?reason=signed_out_everywhere"
        );
        assert_eq!(known_reason("x&evil=1"), None);
        for r in SignOutReason::ALL {
            assert_eq!(known_reason(r.as_str()), Some(*r));
            assert_ne!(clef_http::signed_out_message(*r), "", "{r}");
        }
    }
}
