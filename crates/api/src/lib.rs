//! The REST API under `/api/v1` and the authorization server's endpoints: thin handlers, the
//! API's extractors (`Auth` with its scope check, JSON and query bodies with clear errors), and
//! the one mapping from service errors to HTTP. What every front-end shares is `clef-http`.

mod admin;
mod app_passwords;
mod apps;
mod dto;
mod error;
mod exports;
mod extract;
mod library;
pub mod oauth;
mod openapi;
mod openapi_apps;
mod openapi_exports;
mod openapi_library;
mod playlists;
mod recovery;
pub mod scopes;
mod sessions;
mod stream;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post, put};
use axum::Router;
use clef_http::{AppState, MAX_BODY_BYTES};

pub use error::ApiError;
pub use extract::{ApiJson, ApiQuery, Auth};
pub use stream::content_type;

/// The `/api/v1` routes and `/healthz`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/sessions", post(sessions::sign_in))
        .route(
            "/api/v1/sessions/current",
            delete(sessions::sign_out_current),
        )
        .route("/api/v1/devices", get(sessions::list_devices))
        .route(
            "/api/v1/devices/sign-out-everywhere",
            post(sessions::sign_out_everywhere),
        )
        .route("/api/v1/devices/{id}", delete(sessions::sign_out_device))
        .route("/api/v1/me", get(sessions::me))
        .route("/api/v1/me/password", put(sessions::change_password))
        .route("/api/v1/me/email", put(recovery::change_email))
        .route("/api/v1/me/notices", put(recovery::notices))
        .route("/api/v1/me/two-step", post(recovery::begin_two_step))
        .route(
            "/api/v1/me/two-step/confirm",
            post(recovery::confirm_two_step),
        )
        .route(
            "/api/v1/me/two-step/disable",
            post(recovery::disable_two_step),
        )
        .route(
            "/api/v1/me/two-step/recovery-codes",
            post(recovery::new_recovery_codes),
        )
        .route("/api/v1/email-confirmations", post(recovery::confirm_email))
        .route("/api/v1/password-resets", post(recovery::request))
        .route("/api/v1/password-resets/complete", post(recovery::complete))
        .route("/api/v1/security-events", get(sessions::security_events))
        .route("/api/v1/apps", get(apps::list).post(apps::register))
        .route("/api/v1/apps/{client_id}", delete(apps::delete))
        .route("/api/v1/me/apps", get(apps::grants))
        .route("/api/v1/app-passwords", post(app_passwords::create))
        .route("/api/v1/me/apps/{grant_id}", delete(apps::remove_access))
        .route(
            "/.well-known/oauth-authorization-server",
            get(oauth::metadata),
        )
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/oauth/introspect", post(oauth::introspect))
        .route(
            "/oauth/device_authorization",
            post(oauth::device_authorization),
        )
        .route(
            "/api/v1/admin/users",
            get(admin::list_users).post(admin::create_user),
        )
        .route(
            "/api/v1/admin/users/{username}",
            patch(admin::update_user).delete(admin::delete_user),
        )
        .route(
            "/api/v1/admin/users/{username}/password-reset",
            post(admin::reset_password),
        )
        .route(
            "/api/v1/admin/users/{username}/two-step",
            delete(admin::disable_two_step),
        )
        .route("/api/v1/admin/security-events", get(admin::security_events))
        .route(
            "/api/v1/admin/scan",
            get(admin::scan_status).post(admin::start_scan),
        )
        .route("/api/v1/admin/scan/problems", get(admin::scan_problems))
        .route("/api/v1/artists", get(library::artists))
        .route("/api/v1/artists/{id}", get(library::artist))
        .route("/api/v1/albums", get(library::albums))
        .route("/api/v1/albums/{id}", get(library::album))
        .route("/api/v1/albums/{id}/cover", get(library::album_cover))
        .route("/api/v1/tracks/{id}", get(library::track))
        .route("/api/v1/tracks/{id}/cover", get(library::track_cover))
        .route("/api/v1/tracks/{id}/stream", get(stream::stream))
        .route("/api/v1/genres", get(library::genres))
        .route("/api/v1/search", get(library::search))
        .route(
            "/api/v1/playback",
            get(stream::now_playing).put(stream::report),
        )
        .route(
            "/api/v1/playlists",
            get(playlists::list).post(playlists::create),
        )
        .route("/api/v1/playlists/import", post(playlists::import))
        .route(
            "/api/v1/playlists/{id}",
            get(playlists::get_one)
                .patch(playlists::rename)
                .delete(playlists::delete),
        )
        .route(
            "/api/v1/playlists/{id}/tracks",
            post(playlists::add).put(playlists::replace),
        )
        .route(
            "/api/v1/playlists/{id}/tracks/remove",
            post(playlists::remove),
        )
        .route(
            "/api/v1/playlists/{id}/tracks/move",
            post(playlists::move_track),
        )
        .route("/api/v1/playlists/{id}/m3u8", get(playlists::export))
        .route("/api/v1/exports", get(exports::list).post(exports::create))
        .route(
            "/api/v1/exports/{id}",
            get(exports::get_one).delete(exports::delete),
        )
        .route("/api/v1/exports/{id}/events", get(exports::events))
        .route("/api/v1/exports/{id}/zip", get(exports::zip))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
