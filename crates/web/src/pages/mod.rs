//! One module per page (or small group of pages), each with its GET view and its form handlers.

pub mod account;
pub mod account_email;
pub mod admin;
pub mod admin_users;
pub mod app_passwords;
pub mod apps;
pub mod apps_registered;
pub mod confirm;
pub mod consent;
pub mod converted;
pub mod device_code;
pub mod devices;
pub mod export;
pub mod kept;
pub mod library;
pub mod library_admin;
pub mod limit;
pub mod missing;
pub mod new_password;
pub mod passkeys;
pub mod password_reset;
pub mod playlist_add;
pub mod playlists;
pub mod security;
pub mod setup;
pub mod signin;
pub mod signin_code;
pub mod two_step;

use axum::http::StatusCode;
use axum::response::Response;
use clef_accounts::{AccountsError, AuthContext};
use maud::Markup;

use crate::csrf::CsrfToken;
use crate::errors::{self, Problem};
use crate::layout::{self, Chrome, Extras, Flash, PlayerBar, Section};
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

/// A signed-in page with extras (the player bar, a refresh), setting the CSRF cookie when the
/// browser lacks it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn signed_in_page_with(
    ctx: &AuthContext,
    csrf: &CsrfToken,
    section: Section,
    status: StatusCode,
    title: &str,
    flash: Option<Flash>,
    content: Markup,
    extras: &Extras<'_>,
) -> Response {
    let chrome = Chrome {
        user: &ctx.user,
        csrf: csrf.value(),
        section: Some(section),
    };
    csrf.attach(reply::html(
        status,
        layout::signed_in_with(&chrome, title, flash.as_ref(), content, extras),
    ))
}

/// A library page: the Library section with the player bar for this device.
pub(crate) fn library_page(
    ctx: &AuthContext,
    csrf: &CsrfToken,
    status: StatusCode,
    title: &str,
    flash: Option<Flash>,
    content: Markup,
) -> Response {
    let extras = Extras {
        player: Some(PlayerBar {
            device_id: ctx.device.id.as_str(),
        }),
        refresh_secs: None,
        script: None,
    };
    signed_in_page_with(
        ctx,
        csrf,
        Section::Library,
        status,
        title,
        flash,
        content,
        &extras,
    )
}

/// The error page for a problem that is not an accounts error, keeping the navigation.
pub(crate) fn signed_in_problem(
    ctx: &AuthContext,
    csrf: &CsrfToken,
    section: Option<Section>,
    p: &Problem,
) -> Response {
    let chrome = Chrome {
        user: &ctx.user,
        csrf: csrf.value(),
        section,
    };
    csrf.attach(errors::problem_page(p, Some(&chrome)))
}
