//! Sessions, devices, the caller's account and security log.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use clef_accounts::{AccountsError, DeviceInfo, SecondStep, SignIn, SignedIn};
use clef_core::{DeviceId, DeviceName, DeviceType, InputError, Password};
use clef_store::CredentialKind;

use crate::dto::*;
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::ApiError;
use clef_http::AppState;
use clef_http::ClientIp;

/// The longest password sign-in will even look at; longer ones are bad input, not a guess.
const MAX_PRESENTED_PASSWORD: usize = 1024;

fn invalid(field: &'static str, message: &str) -> ApiError {
    ApiError::Accounts(AccountsError::Invalid(InputError {
        field,
        message: message.to_owned(),
    }))
}

/// The client as its User-Agent names it, shortened.
pub(crate) fn user_agent(headers: &HeaderMap) -> String {
    let ua = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown client");
    ua.chars().filter(|c| !c.is_control()).take(120).collect()
}

pub(crate) fn device_info(
    req: &DeviceRequest,
    headers: &HeaderMap,
) -> Result<DeviceInfo, ApiError> {
    let client = match &req.client {
        Some(c) => c.chars().filter(|c| !c.is_control()).take(120).collect(),
        None => user_agent(headers),
    };
    let name = req
        .name
        .clone()
        .unwrap_or_else(|| client.chars().take(64).collect());
    Ok(DeviceInfo {
        name: DeviceName::parse(&name).map_err(AccountsError::from)?,
        device_type: DeviceType::parse(req.device_type.as_deref().unwrap_or("app"))
            .map_err(AccountsError::from)?,
        client,
    })
}

pub async fn sign_in(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SignInRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let replace = match &req.replace_device_id {
        Some(id) => {
            Some(DeviceId::parse(id).ok_or(ApiError::Accounts(AccountsError::NotFound("device")))?)
        }
        None => None,
    };
    let done = match req.challenge {
        Some(challenge) => {
            let step = SecondStep {
                challenge,
                code: req.code,
                recovery_code: req.recovery_code,
                credential: CredentialKind::ApiToken,
                ip,
                replace,
            };
            st.accounts.sign_in_second_step(step).await?
        }
        None => first_step(&st, ip, &headers, req, replace).await?,
    };
    Ok((
        StatusCode::CREATED,
        Json(SignInResponse {
            token: done.token.expose().to_owned(),
            device_id: done.device_id.to_string(),
        }),
    ))
}

/// The password step; an account with two-step sign-in answers `second_factor_required`.
async fn first_step(
    st: &AppState,
    ip: String,
    headers: &HeaderMap,
    req: SignInRequest,
    replace: Option<DeviceId>,
) -> Result<SignedIn, ApiError> {
    if req.code.is_some() || req.recovery_code.is_some() {
        return Err(invalid(
            "challenge",
            "a code goes with the challenge it answers",
        ));
    }
    if req.password.is_empty() {
        return Err(invalid("password", "must not be empty"));
    }
    if req.password.len() > MAX_PRESENTED_PASSWORD {
        return Err(invalid("password", "is too long"));
    }
    let attempt = SignIn {
        username: req.username,
        password: Password::presented(req.password),
        device: device_info(&req.device, headers)?,
        credential: CredentialKind::ApiToken,
        ip,
        replace,
    };
    Ok(st.accounts.sign_in(attempt).await?)
}

pub async fn sign_out_current(
    State(st): State<AppState>,
    Auth(ctx): Auth,
) -> Result<StatusCode, ApiError> {
    st.accounts.sign_out_current(&ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_devices(
    State(st): State<AppState>,
    Auth(ctx): Auth,
) -> Result<Json<Vec<DeviceDto>>, ApiError> {
    let devices = st.accounts.devices(&ctx).await?;
    Ok(Json(devices.iter().map(DeviceDto::from_view).collect()))
}

pub async fn sign_out_device(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = DeviceId::parse(&id).ok_or(ApiError::Accounts(AccountsError::NotFound("device")))?;
    st.accounts.sign_out_device(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn sign_out_everywhere(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    body: axum::body::Bytes,
) -> Result<Json<SignedOutCount>, ApiError> {
    // The body is optional: none means "sign out every device, this one included".
    let req = if body.iter().all(u8::is_ascii_whitespace) {
        SignOutEverywhereRequest::default()
    } else {
        serde_json::from_slice::<SignOutEverywhereRequest>(&body).map_err(|e| {
            ApiError::BadRequest {
                code: "invalid_json",
                message: e.to_string(),
            }
        })?
    };
    let n = st
        .accounts
        .sign_out_everywhere(&ctx, req.keep_current, req.remove_apps)
        .await?;
    Ok(Json(SignedOutCount { signed_out: n }))
}

pub async fn me(Auth(ctx): Auth) -> Json<MeDto> {
    Json(MeDto {
        user: UserDto::from(&ctx.user),
        device_id: ctx.device.id.to_string(),
    })
}

pub async fn change_password(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    if req.current_password.len() > MAX_PRESENTED_PASSWORD {
        return Err(invalid("current_password", "is too long"));
    }
    st.accounts
        .change_password(
            &ctx,
            Password::presented(req.current_password),
            req.new_password,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn security_events(
    State(st): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<Vec<EventDto>>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    let events = st.accounts.security_events(&ctx, limit).await?;
    Ok(Json(events.iter().map(EventDto::from).collect()))
}
