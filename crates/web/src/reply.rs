//! Building responses: HTML pages, 303 redirects, and cookies added to either.

use axum::http::header::{LOCATION, REFERRER_POLICY, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::Markup;

/// An HTML page with a status.
pub fn html(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// 303 See Other to a path of ours.
pub fn see_other(location: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    match HeaderValue::from_str(location) {
        Ok(v) => {
            res.headers_mut().insert(LOCATION, v);
        }
        Err(_) => {
            tracing::error!(location, "redirect target is not a valid header value");
            res.headers_mut()
                .insert(LOCATION, HeaderValue::from_static("/"));
        }
    }
    res
}

/// Adds a `Set-Cookie` header.
pub fn with_cookie(mut res: Response, cookie: &str) -> Response {
    match HeaderValue::from_str(cookie) {
        Ok(v) => {
            res.headers_mut().append(SET_COOKIE, v);
        }
        Err(_) => tracing::error!("a cookie value was not a valid header value"),
    }
    res
}

/// Sends no referrer: for the pages whose address carries a token (the setup link, mailed
/// links), so the token never leaves in a `Referer`. Their forms are then posted with
/// `Origin: null`, which `same_origin` accepts only with `Sec-Fetch-Site: same-origin`.
pub fn no_referrer(mut res: Response) -> Response {
    res.headers_mut()
        .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}
