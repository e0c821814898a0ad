//! App passwords and API keys for Subsonic apps: `POST /api/v1/app-passwords`. Each is a new
//! device of the caller's account, created under its device limit; the secret is in this answer
//! only.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use clef_accounts::subsonic::SubsonicKind;
use clef_accounts::AccountsError;
use clef_core::{DeviceId, InputError};
use clef_http::{AppState, ClientIp};
use serde::{Deserialize, Serialize};

use crate::dto::DeviceRequest;
use crate::extract::{ApiJson, Auth};
use crate::sessions::device_info;
use crate::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppPasswordRequest {
    /// The device's name, such as "Anna's phone".
    pub name: String,
    #[serde(rename = "type")]
    pub device_type: Option<String>,
    /// `app_password` (default) or `api_key`.
    pub kind: Option<String>,
    /// At the device limit: sign this device out to make room.
    pub replace_device_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AppPasswordResponse {
    pub username: String,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    pub device_id: String,
}

pub async fn create(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<AppPasswordRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let kind = match req.kind.as_deref().unwrap_or("app_password") {
        "app_password" => SubsonicKind::AppPassword,
        "api_key" => SubsonicKind::ApiKey,
        _ => {
            return Err(ApiError::Accounts(AccountsError::Invalid(InputError {
                field: "kind",
                message: "must be app_password or api_key".to_owned(),
            })))
        }
    };
    let device = DeviceRequest {
        name: Some(req.name),
        device_type: Some(req.device_type.unwrap_or_else(|| "phone".to_owned())),
        client: Some("Subsonic app".to_owned()),
    };
    let info = device_info(&device, &headers)?;
    let replace = match &req.replace_device_id {
        Some(id) => {
            Some(DeviceId::parse(id).ok_or(ApiError::Accounts(AccountsError::NotFound("device")))?)
        }
        None => None,
    };
    let made = st
        .accounts
        .create_subsonic_credential(&ctx, info, kind, replace, &ip)
        .await?;
    let secret = made.secret.expose().to_owned();
    let (kind, password, api_key) = match made.kind {
        SubsonicKind::AppPassword => ("app_password", Some(secret), None),
        SubsonicKind::ApiKey => ("api_key", None, Some(secret)),
    };
    Ok((
        StatusCode::CREATED,
        Json(AppPasswordResponse {
            username: made.username,
            kind,
            password,
            api_key,
            device_id: made.device_id.to_string(),
        }),
    ))
}
