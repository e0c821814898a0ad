//! Server-rendered web pages: sign in, the library with its player, playlists, export ("download
//! to keep") with its Converted history, devices, account, security log, admin and first-run setup.
//!
//! Pages are plain HTML forms with no inline script or style (the server's CSP forbids both). Every
//! form carries a double-submit CSRF token and is checked for a same-origin request before
//! anything happens; every successful POST answers 303 See Other, but for the two whose page
//! names an e-mail address (a confirmation link sent, an address confirmed), which is never put
//! in a URL, and for the two-step sign-in's recovery codes, shown once. Pages whose address
//! carries a mailed token (setup, password reset, address confirmation) send no referrer.

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
use clef_http::{AppState, MAX_BODY_BYTES};

use pages::{
    account, account_email, admin, admin_users, app_passwords, apps, apps_registered, consent,
    converted, device_code, devices, export, kept, library, library_admin, limit, missing,
    new_password, passkeys, password_reset, playlist_add, playlists, security, setup, signin,
};

/// The web pages' routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(signin::home))
        .route(assets::STYLESHEET_PATH, get(assets::stylesheet))
        .route(assets::PLAYER_SCRIPT_PATH, get(assets::player_script))
        .route(assets::EXPORT_SCRIPT_PATH, get(assets::export_script))
        .route(assets::MENU_SCRIPT_PATH, get(assets::menu_script))
        .route(assets::PASSKEYS_SCRIPT_PATH, get(assets::passkeys_script))
        .route("/signin", get(signin::show).post(signin::submit))
        .route(
            pages::signin_code::PATH,
            get(pages::signin_code::show).post(pages::signin_code::submit),
        )
        .route(
            password_reset::PATH,
            get(password_reset::show).post(password_reset::request),
        )
        .route("/password-reset/new", post(password_reset::choose))
        .route("/oauth/authorize", get(consent::show).post(consent::answer))
        .route("/device", get(device_code::show).post(device_code::answer))
        .route("/signin/continue", post(limit::continue_sign_in))
        .route("/signout", post(devices::sign_out_this))
        .route("/devices", get(devices::show))
        .route("/devices/{id}/signout", post(devices::sign_out))
        .route("/devices/app-passwords", post(app_passwords::create))
        .route("/apps", get(apps::show))
        .route("/apps/{grant_id}/remove", post(apps::remove))
        .route("/apps/registered", post(apps_registered::register))
        .route("/apps/registered/{client_id}", get(apps_registered::show))
        .route(
            "/apps/registered/{client_id}/delete",
            post(apps_registered::delete),
        )
        .route("/account", get(account::show))
        .route(passkeys::ADD_OPTIONS_PATH, post(passkeys::add_options))
        .route(passkeys::ADD_PATH, post(passkeys::add))
        .route("/account/passkeys/{id}/remove", post(passkeys::remove))
        .route(passkeys::AVAILABLE_PATH, get(passkeys::available))
        .route(
            passkeys::SIGNIN_OPTIONS_PATH,
            post(passkeys::signin_options),
        )
        .route(passkeys::SIGNIN_PATH, post(passkeys::signin))
        .route(
            passkeys::SECOND_STEP_AVAILABLE_PATH,
            post(passkeys::second_step_available),
        )
        .route(
            passkeys::SECOND_STEP_OPTIONS_PATH,
            post(passkeys::second_step_options),
        )
        .route(passkeys::SECOND_STEP_PATH, post(passkeys::second_step))
        .route("/account/password", post(account::change_password))
        .route(
            pages::two_step::ENROL_PATH,
            get(pages::two_step::show).post(pages::two_step::begin),
        )
        .route(
            pages::two_step::CONFIRM_PATH,
            post(pages::two_step::confirm),
        )
        .route(
            pages::two_step::DISABLE_PATH,
            post(pages::two_step::disable),
        )
        .route(
            pages::two_step::CODES_PATH,
            post(pages::two_step::new_codes),
        )
        .route("/account/email", post(account_email::change))
        .route("/account/notices", post(account_email::set_notices))
        .route(
            account_email::CONFIRM_PATH,
            get(account_email::show_confirm).post(account_email::confirm),
        )
        .route(
            auth::NEW_PASSWORD_PATH,
            get(new_password::show).post(new_password::submit),
        )
        .route(
            "/account/signout-everywhere",
            post(account::sign_out_everywhere),
        )
        .route("/security", get(security::show))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{name}/limits", post(admin::set_limits))
        .route("/admin/users/{name}/disable", post(admin::disable))
        .route("/admin/users/{name}/enable", post(admin::enable))
        .route("/admin/users/{name}/admin", post(admin_users::set_admin))
        .route(
            "/admin/users/{name}/password",
            post(admin_users::reset_password),
        )
        .route(
            "/admin/users/{name}/reset-link",
            post(admin_users::send_reset_link),
        )
        .route("/admin/users/{name}/delete", post(admin_users::delete))
        .route(
            "/admin/users/{name}/two-step",
            post(pages::two_step::admin_turn_off),
        )
        .route("/admin/security", get(admin::security))
        .route("/admin/library", get(library_admin::show))
        .route("/admin/library/scan", post(library_admin::scan))
        .route("/library", get(library::albums))
        .route("/library/artists", get(library::artists))
        .route("/library/artists/{id}", get(library::artist))
        .route("/library/albums/{id}", get(library::album))
        .route("/library/albums/{id}/star", post(kept::star_album))
        .route("/library/albums/{id}/rating", post(kept::rate_album))
        .route("/library/search", get(library::search))
        .route(
            "/library/playlists",
            get(playlists::list).post(playlists::create),
        )
        .route("/library/playlists/import", post(playlists::import))
        .route("/library/playlists/add", post(playlist_add::add))
        .route("/library/playlists/{id}", get(playlists::show))
        .route("/library/playlists/{id}/rename", post(playlists::rename))
        .route("/library/playlists/{id}/remove", post(playlists::remove))
        .route("/library/playlists/{id}/move", post(playlists::move_track))
        .route("/library/playlists/{id}/delete", post(playlists::delete))
        .route("/export", get(export::show).post(export::start))
        .route("/export/history", get(converted::history))
        .route("/export/{id}", get(converted::show))
        .route("/export/{id}/cancel", post(converted::cancel))
        .route("/export/{id}/remove", post(converted::remove))
        .route("/setup", get(setup::show).post(setup::submit))
        .fallback(missing::fallback)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
