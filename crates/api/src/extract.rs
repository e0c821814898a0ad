//! The API's extractors: the signed-in device (with its scope checked), and JSON and query
//! bodies with clear errors.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use clef_accounts::{AccountsError, AuthContext};
use serde::de::DeserializeOwned;

use crate::ApiError;
use clef_http::{bearer_or_cookie, same_origin, AppState, ClientIp};

/// The signed-in device making an API request. A cookie-borne credential on a state-changing
/// request must come from our own origin.
#[derive(Debug, Clone)]
pub struct Auth(pub AuthContext);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = ClientIp::from_parts(parts, state);
        let (token, via_cookie) =
            bearer_or_cookie(&parts.headers, state.http.session_cookie_name())
                .ok_or(ApiError::Accounts(AccountsError::Unauthenticated))?;
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via_cookie && unsafe_method && !same_origin(&parts.headers) {
            return Err(ApiError::CrossSite);
        }
        let ctx = state.accounts.authenticate(&token, &ip.0).await?;
        if !ctx.access().is_full() {
            let route = parts
                .extensions
                .get::<axum::extract::MatchedPath>()
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default();
            match crate::scopes::need(&parts.method, &route) {
                crate::scopes::Need::Scope(scope) => ctx.require(scope)?,
                crate::scopes::Need::Account => ctx.require_account()?,
            }
        }
        if ctx.user.must_change_password
            && !allowed_before_new_password(&parts.method, parts.uri.path())
        {
            return Err(ApiError::Accounts(AccountsError::PasswordChangeRequired));
        }
        Ok(Auth(ctx))
    }
}

/// What a device may do while its account must choose a new password: see who it is, choose
/// the password, or sign out.
fn allowed_before_new_password(method: &Method, path: &str) -> bool {
    matches!(
        (method.as_str(), path),
        ("GET", "/api/v1/me")
            | ("PUT", "/api/v1/me/password")
            | ("DELETE", "/api/v1/sessions/current")
    )
}

/// A JSON body whose errors are ours: 400 `invalid_json` with the parser's explanation, 413 when
/// too large. Unknown fields are refused by the DTOs themselves.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) if rej.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::PayloadTooLarge)
            }
            Err(rej) => Err(ApiError::BadRequest {
                code: "invalid_json",
                message: rej.body_text(),
            }),
        }
    }
}

/// Query parameters whose errors are ours: 400 `invalid_query` naming the problem.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(rej) => Err(ApiError::BadRequest {
                code: "invalid_query",
                message: rej.body_text(),
            }),
        }
    }
}
