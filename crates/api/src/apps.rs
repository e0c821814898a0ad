//! Apps under `/api/v1`: the apps a user registered (`/apps`) and the access a user gave apps
//! (`/me/apps`, the Apps page's data).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use clef_accounts::oauth::NewApp;
use clef_store::{App, GrantView};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::dto::DeviceDto;
use crate::{ApiError, ApiJson, Auth};
use clef_http::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAppRequest {
    pub name: String,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub confidential: bool,
}

#[derive(Debug, Serialize)]
pub struct AppDto {
    pub client_id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub confidential: bool,
    pub created_at: String,
}

impl From<&App> for AppDto {
    fn from(a: &App) -> Self {
        AppDto {
            client_id: a.client_id.clone(),
            name: a.name.clone(),
            redirect_uris: a.redirect_uris.clone(),
            confidential: a.confidential(),
            created_at: a.created_at.to_rfc3339(),
        }
    }
}

/// `POST /api/v1/apps`: 201 with the client id, and a confidential app's secret (shown once).
pub async fn register(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    ApiJson(req): ApiJson<NewAppRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let r = st
        .accounts
        .register_app(
            &ctx,
            NewApp {
                name: req.name,
                redirect_uris: req.redirect_uris,
                confidential: req.confidential,
            },
        )
        .await?;
    let mut body = json!(AppDto::from(&r.app));
    if let (Some(obj), Some(secret)) = (body.as_object_mut(), &r.secret) {
        obj.insert(
            "client_secret".into(),
            Value::String(secret.expose().to_owned()),
        );
    }
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /api/v1/apps`: the apps this user registered.
pub async fn list(
    State(st): State<AppState>,
    Auth(ctx): Auth,
) -> Result<Json<Vec<AppDto>>, ApiError> {
    let apps = st.accounts.my_apps(&ctx).await?;
    Ok(Json(apps.iter().map(AppDto::from).collect()))
}

/// `DELETE /api/v1/apps/{client_id}`: every grant to it ends first.
pub async fn delete(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    Path(client_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    st.accounts.delete_app(&ctx, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One app with access, as the Apps page lists it.
pub fn grant_json(g: &GrantView) -> Value {
    let devices: Vec<DeviceDto> = g
        .devices
        .iter()
        .map(|d| DeviceDto::from_device(d, false, false))
        .collect();
    json!({
        "grant_id": g.grant.id,
        "client_id": g.app.client_id,
        "name": g.app.name,
        "registered_by": g.app.owner_name,
        "scopes": g.grant.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "granted_at": g.grant.created_at.to_rfc3339(),
        "last_used": g.last_used.to_rfc3339(),
        "devices": devices,
    })
}

/// `GET /api/v1/me/apps`.
pub async fn grants(
    State(st): State<AppState>,
    Auth(ctx): Auth,
) -> Result<Json<Vec<Value>>, ApiError> {
    let grants = st.accounts.app_grants(&ctx).await?;
    Ok(Json(grants.iter().map(grant_json).collect()))
}

/// `DELETE /api/v1/me/apps/{grant_id}`: Remove access.
pub async fn remove_access(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    Path(grant_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    st.accounts.remove_app_access(&ctx, &grant_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
