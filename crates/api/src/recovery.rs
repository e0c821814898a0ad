//! Forgot password, the account's e-mail address and its notices.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use clef_accounts::EmailChange;
use clef_core::Password;
use clef_http::{AppState, ClientIp};
use serde_json::{json, Value};

use crate::dto::*;
use crate::extract::{ApiJson, Auth};
use crate::ApiError;

/// What `POST /api/v1/password-resets` always says.
pub const RESET_ANSWER: &str = "If an account with an e-mail address matches, a link to choose a \
     new password is on its way. It works once, for 30 minutes.";

/// `POST /api/v1/password-resets`: the same 202 and body whether or not an account matches.
pub async fn request(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<ResetRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    st.accounts.request_password_reset(&req.login, &ip).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "message": RESET_ANSWER })),
    ))
}

/// `POST /api/v1/password-resets/complete`: sets the new password with the mailed link's token;
/// every device, app and player is signed out, this client included (it signs in afresh).
pub async fn complete(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<ResetComplete>,
) -> Result<StatusCode, ApiError> {
    st.accounts
        .reset_password_with_link(&req.token, req.new_password, &ip)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/me/email`: needs the current password (403 without it).
pub async fn change_email(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    ApiJson(req): ApiJson<ChangeEmailRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let change = st
        .accounts
        .change_email(
            &ctx,
            Password::presented(req.current_password),
            req.email.as_deref(),
        )
        .await?;
    Ok(match change {
        EmailChange::Pending(to) => (
            StatusCode::ACCEPTED,
            Json(json!({ "status": "confirmation_sent", "email": to })),
        ),
        EmailChange::Removed => (StatusCode::OK, Json(json!({ "status": "removed" }))),
        EmailChange::Unchanged => (StatusCode::OK, Json(json!({ "status": "unchanged" }))),
    })
}

/// `POST /api/v1/email-confirmations`: uses the link mailed to a new address.
pub async fn confirm_email(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<ConfirmEmailRequest>,
) -> Result<Json<Value>, ApiError> {
    let email = st.accounts.confirm_email(&req.token, &ip).await?;
    Ok(Json(json!({ "email": email })))
}

/// `PUT /api/v1/me/notices`.
pub async fn notices(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    ApiJson(req): ApiJson<NoticesRequest>,
) -> Result<StatusCode, ApiError> {
    st.accounts
        .set_new_device_notices(&ctx, req.new_device)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/me/two-step`: a new authenticator key (needs the password).
pub async fn begin_two_step(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    ApiJson(req): ApiJson<BeginTwoStepRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let e = st
        .accounts
        .begin_two_step(&ctx, Password::presented(req.current_password))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "key": e.key, "otpauth_uri": e.otpauth_uri, "qr_svg": e.qr_svg })),
    ))
}

/// `POST /api/v1/me/two-step/confirm`: the first code turns it on; the recovery codes are
/// in this answer only.
pub async fn confirm_two_step(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    ApiJson(req): ApiJson<ConfirmTwoStepRequest>,
) -> Result<Json<Value>, ApiError> {
    let codes = st.accounts.confirm_two_step(&ctx, &req.code).await?;
    Ok(Json(json!({ "recovery_codes": codes })))
}

/// `POST /api/v1/me/two-step/disable`: needs the password and a code.
pub async fn disable_two_step(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    ApiJson(req): ApiJson<DisableTwoStepRequest>,
) -> Result<StatusCode, ApiError> {
    st.accounts
        .disable_two_step(&ctx, Password::presented(req.current_password), &req.code)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/me/two-step/recovery-codes`: ten new codes in place of the old (needs the
/// password); in this answer only.
pub async fn new_recovery_codes(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    ApiJson(req): ApiJson<BeginTwoStepRequest>,
) -> Result<Json<Value>, ApiError> {
    let codes = st
        .accounts
        .new_recovery_codes(&ctx, Password::presented(req.current_password))
        .await?;
    Ok(Json(json!({ "recovery_codes": codes })))
}
