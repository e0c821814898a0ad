//! One module per page (or small group of pages), each with its GET view and its form handlers.

pub mod account;
pub mod admin;
pub mod devices;
pub mod limit;
pub mod security;
pub mod setup;
pub mod signin;

use axum::http::StatusCode;
use axum::response::Response;
use clef_accounts::{AccountsError, AuthContext};
use maud::Markup;

use crate::csrf::CsrfToken;
use crate::errors;
use crate::layout::{self, Chrome, Flash, Section};
use crate::reply;

/// A signed-in page with its status, setting the CSRF cookie when the browser lacks it.
pub(crate) fn signed_in_page(
    ctx: &AuthContext,
    csrf: &CsrfToken,
    section: Section,
    status: StatusCode,
    title: &str,
    flash: Option<Flash>,
    content: Markup,
) -> Response {
    let chrome = Chrome {
        user: &ctx.user,
        csrf: csrf.value(),
        section: Some(section),
    };
    csrf.attach(reply::html(
        status,
        layout::signed_in(&chrome, title, flash.as_ref(), content),
    ))
}

/// The error page for a signed-in person, keeping the navigation.
pub(crate) fn signed_in_error(
    ctx: &AuthContext,
    csrf: &CsrfToken,
    section: Option<Section>,
    e: &AccountsError,
) -> Response {
    let chrome = Chrome {
        user: &ctx.user,
        csrf: csrf.value(),
        section,
    };
    csrf.attach(errors::page(e, Some(&chrome)))
}
