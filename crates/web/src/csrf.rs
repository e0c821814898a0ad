//! CSRF defence for every form (SECURITY.md S8): a double-submit token and a same-origin check.
//!
//! A GET page that renders a form makes sure the browser holds a random 256-bit token in a
//! `SameSite=Strict`, `HttpOnly` cookie and writes the same value into each form's hidden `csrf`
//! field. A POST is accepted only when the field equals the cookie (compared in constant time)
//! and the request's `Origin` / `Sec-Fetch-Site` say it came from our own pages; otherwise the
//! answer is 403 and nothing is changed.

use std::convert::Infallible;

use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_core::{OsRandom, Random};
use clef_http::{same_origin, session_cookie_value, AppState, HttpConfig};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::{cookies, errors, reply};

/// What the page tells a person whose form failed the check.
pub const REFUSED: &str =
    "This form expired or came from another site. Reload the page and try again.";

/// The CSRF token for the page being rendered, and the cookie to set when the browser had none.
#[derive(Debug, Clone)]
pub struct CsrfToken {
    value: String,
    set_cookie: Option<String>,
}

impl CsrfToken {
    /// A new token, to be set as the cookie on the response.
    pub fn fresh(http: &HttpConfig) -> CsrfToken {
        let value = OsRandom.token().expose().to_owned();
        let set_cookie = Some(cookies::set_csrf(http, &value));
        CsrfToken { value, set_cookie }
    }

    /// The token the browser already holds.
    fn existing(value: String) -> CsrfToken {
        CsrfToken {
            value,
            set_cookie: None,
        }
    }

    /// The value for the forms' hidden `csrf` field.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Adds the cookie to `res` if the browser does not hold it yet.
    pub fn attach(&self, res: Response) -> Response {
        match &self.set_cookie {
            Some(c) => reply::with_cookie(res, c),
            None => res,
        }
    }
}

/// Our tokens are 32 random bytes in unpadded base64url: 43 characters of that alphabet.
fn well_formed(v: &str) -> bool {
    v.len() == 43
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn cookie_token(headers: &HeaderMap, http: &HttpConfig) -> Option<String> {
    session_cookie_value(headers, cookies::csrf_name(http)).filter(|v| well_formed(v))
}

impl FromRequestParts<AppState> for CsrfToken {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(match cookie_token(&parts.headers, &state.http) {
            Some(v) => CsrfToken::existing(v),
            None => CsrfToken::fresh(&state.http),
        })
    }
}

/// A form that carries the hidden `csrf` field.
pub trait HasCsrf {
    fn csrf(&self) -> &str;
}

/// A form with no fields of its own.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Bare {
    pub csrf: String,
}

impl HasCsrf for Bare {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Whether the submitted token matches the cookie's.
fn tokens_match(cookie: &str, submitted: &str) -> bool {
    !cookie.is_empty() && bool::from(cookie.as_bytes().ct_eq(submitted.as_bytes()))
}

/// A posted form that passed the CSRF check, with the token for re-rendering a page.
#[derive(Debug)]
pub struct CsrfForm<T> {
    pub form: T,
    pub csrf: CsrfToken,
}

fn refused() -> Response {
    errors::message_page(StatusCode::FORBIDDEN, "Form refused", REFUSED)
}

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: DeserializeOwned + HasCsrf + Send,
{
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        if !same_origin(req.headers()) {
            tracing::warn!(path = %req.uri().path(), "cross-site form post refused");
            return Err(refused());
        }
        let cookie = cookie_token(req.headers(), &state.http);
        let Form(form) = match Form::<T>::from_request(req, state).await {
            Ok(f) => f,
            Err(rej) => {
                let status = rej.status();
                return Err(errors::message_page(
                    status,
                    "Bad request",
                    "The form could not be read. Reload the page and try again.",
                ));
            }
        };
        match cookie {
            Some(c) if tokens_match(&c, form.csrf()) => Ok(CsrfForm {
                form,
                csrf: CsrfToken::existing(c),
            }),
            _ => {
                tracing::warn!("form post with a missing or wrong CSRF token refused");
                Err(refused())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_tokens_are_well_formed_and_differ() {
        let http = HttpConfig {
            public_url: "http://x".into(),
            trusted_proxies: vec![],
        };
        let (a, b) = (CsrfToken::fresh(&http), CsrfToken::fresh(&http));
        assert!(well_formed(a.value()) && well_formed(b.value()));
        assert_ne!(a.value(), b.value());
        assert!(a
            .set_cookie
            .as_deref()
            .is_some_and(|c| c.contains(a.value())));
    }

    #[test]
    fn tokens_must_match_exactly() {
        let t = "a".repeat(43);
        assert!(tokens_match(&t, &t));
        assert!(!tokens_match(&t, &"a".repeat(42)));
        assert!(!tokens_match(&t, ""));
        assert!(!tokens_match("", ""));
        assert!(!well_formed("short"));
        assert!(!well_formed(&"a;".repeat(22)[..43]));
    }
}
