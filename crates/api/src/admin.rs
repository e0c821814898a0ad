//! Admin endpoints: users, their limits, and everyone's security log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use clef_accounts::Actor;

use crate::dto::*;
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::ApiError;
use clef_http::AppState;

pub async fn list_users(
    State(st): State<AppState>,
    Auth(ctx): Auth,
) -> Result<Json<Vec<UserDto>>, ApiError> {
    let users = st.accounts.list_users(Actor::Admin(&ctx)).await?;
    Ok(Json(users.iter().map(UserDto::from).collect()))
}

pub async fn create_user(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<UserDto>), ApiError> {
    let user = st
        .accounts
        .create_user_with_email(
            Actor::Admin(&ctx),
            &req.username,
            req.password,
            req.is_admin,
            req.email.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(UserDto::from(&user))))
}

pub async fn update_user(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    Path(username): Path<String>,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> Result<Json<UserDto>, ApiError> {
    let actor = Actor::Admin(&ctx);
    let mut user = st.accounts.user(actor, &username).await?;
    if req.max_devices.is_some() || req.max_streams.is_some() {
        user = st
            .accounts
            .set_limits(actor, &username, req.max_devices, req.max_streams)
            .await?;
    }
    if let Some(disabled) = req.disabled {
        user = st.accounts.set_disabled(actor, &username, disabled).await?;
    }
    if let Some(is_admin) = req.is_admin {
        user = st.accounts.set_admin(actor, &username, is_admin).await?;
    }
    Ok(Json(UserDto::from(&user)))
}

/// `DELETE /api/v1/admin/users/{username}`: the user, their devices, playlists and export
/// history; their exported files stay.
pub async fn delete_user(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    st.accounts
        .delete_user(Actor::Admin(&ctx), &username)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/admin/users/{username}/password-reset`: with a temporary password, every
/// device signed out and a new password to choose at the next sign-in; without one, the user is
/// e-mailed the same reset link "Forgot password" sends (409 `no_email_address` without one).
pub async fn reset_password(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    Path(username): Path<String>,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = Actor::Admin(&ctx);
    let Some(password) = req.password else {
        let to = st
            .accounts
            .send_reset_link_by_admin(actor, &username)
            .await?;
        return Ok(Json(serde_json::json!({ "link_sent_to": to })));
    };
    let n = st
        .accounts
        .reset_password_by_admin(actor, &username, password)
        .await?;
    Ok(Json(serde_json::json!({ "devices_signed_out": n })))
}

/// `DELETE /api/v1/admin/users/{username}/two-step`: for a user who lost their phone.
pub async fn disable_two_step(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    st.accounts
        .disable_two_step_by_admin(Actor::Admin(&ctx), &username)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn security_events(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<Vec<EventDto>>, ApiError> {
    let limit = q.limit.unwrap_or(200);
    let events = st.accounts.all_security_events(&ctx, limit).await?;
    Ok(Json(events.iter().map(EventDto::from).collect()))
}

/// Scan progress and the last scan's numbers.
pub async fn scan_status(
    State(st): State<AppState>,
    Auth(ctx): Auth,
) -> Result<Json<serde_json::Value>, ApiError> {
    ctx.require_admin()?;
    let catalog = st.library.catalog();
    Ok(Json(serde_json::json!({
        "progress": st.library.progress(),
        "tracks": catalog.track_count(),
        "albums": catalog.album_count(),
    })))
}

/// Starts a scan; 409 `scan_running` when one is already going.
pub async fn start_scan(
    State(st): State<AppState>,
    Auth(ctx): Auth,
) -> Result<StatusCode, ApiError> {
    ctx.require_admin()?;
    st.library.start_scan()?;
    Ok(StatusCode::ACCEPTED)
}

/// Files the scanner could not read, with why.
pub async fn scan_problems(
    State(st): State<AppState>,
    Auth(ctx): Auth,
) -> Result<Json<serde_json::Value>, ApiError> {
    ctx.require_admin()?;
    let problems: Vec<serde_json::Value> = st
        .library
        .problems()
        .await?
        .into_iter()
        .map(|p| serde_json::json!({ "path": p.path, "reason": p.reason, "at": p.at.to_rfc3339() }))
        .collect();
    Ok(Json(serde_json::json!({ "problems": problems })))
}
