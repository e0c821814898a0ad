//! Server-rendered web pages: sign in, devices, account, security log, admin and first-run setup.
//!
//! Pages are plain HTML forms with no inline script or style (the server's CSP forbids both). Every
//! form carries a double-submit CSRF token and is checked for a same-origin request before
//! anything happens; every successful POST answers 303 See Other.

mod agent;
mod assets;
mod auth;
mod cookies;
mod csrf;
mod errors;
mod format;
mod layout;
mod pages;
mod reply;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use clef_api::{AppState, MAX_BODY_BYTES};

use pages::{account, admin, devices, limit, security, setup, signin};

/// The web pages' routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(signin::home))
        .route(assets::STYLESHEET_PATH, get(assets::stylesheet))
        .route("/signin", get(signin::show).post(signin::submit))
        .route("/signin/continue", post(limit::continue_sign_in))
        .route("/signout", post(devices::sign_out_this))
        .route("/devices", get(devices::show))
        .route("/devices/{id}/signout", post(devices::sign_out))
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route(
            "/account/signout-everywhere",
            post(account::sign_out_everywhere),
        )
        .route("/security", get(security::show))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{name}/limits", post(admin::set_limits))
        .route("/admin/users/{name}/disable", post(admin::disable))
        .route("/admin/users/{name}/enable", post(admin::enable))
        .route("/admin/security", get(admin::security))
        .route("/setup", get(setup::show).post(setup::submit))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
