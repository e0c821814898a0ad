//! Request and response bodies of the REST API. Requests refuse unknown fields.

use clef_accounts::{DeviceView, EventKind};
use clef_store::{Device, SecurityEvent, User};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub device: DeviceRequest,
    pub replace_device_id: Option<String>,
    /// The second step: the challenge a `second_factor_required` answer gave, with `code` or
    /// `recovery_code`.
    pub challenge: Option<String>,
    pub code: Option<String>,
    pub recovery_code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceRequest {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub device_type: Option<String>,
    pub client: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SignInResponse {
    pub token: String,
    pub device_id: String,
}

#[derive(Debug, Serialize)]
pub struct DeviceDto {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub device_type: String,
    pub client: String,
    pub ip: String,
    pub first_seen: String,
    pub last_seen: String,
    pub current: bool,
    pub playing: bool,
}

impl DeviceDto {
    pub fn from_device(d: &Device, current: bool, playing: bool) -> Self {
        DeviceDto {
            id: d.id.to_string(),
            name: d.name.clone(),
            device_type: d.device_type.clone(),
            client: d.client.clone(),
            ip: d.ip.clone(),
            first_seen: d.first_seen.to_rfc3339(),
            last_seen: d.last_seen.to_rfc3339(),
            current,
            playing,
        }
    }
    pub fn from_view(v: &DeviceView) -> Self {
        DeviceDto::from_device(&v.device, v.current, v.playing)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignOutEverywhereRequest {
    #[serde(default)]
    pub keep_current: bool,
    /// Also remove every app's access (off unless asked).
    #[serde(default)]
    pub remove_apps: bool,
}

#[derive(Debug, Serialize)]
pub struct SignedOutCount {
    pub signed_out: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Serialize)]
pub struct UserDto {
    pub id: String,
    pub username: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub max_devices: i64,
    pub max_streams: i64,
    pub created_at: String,
    /// An admin gave a temporary password: a new one must be chosen before anything else.
    pub must_change_password: bool,
    /// The confirmed address, where reset links and notices go.
    pub email: Option<String>,
    /// Whether a sign-in from a new device is e-mailed.
    pub notify_new_device: bool,
    /// Whether two-step sign-in is on.
    pub two_step: bool,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        UserDto {
            id: u.id.to_string(),
            username: u.username.clone(),
            is_admin: u.is_admin,
            disabled: u.disabled,
            max_devices: u.max_devices,
            max_streams: u.max_streams,
            must_change_password: u.must_change_password,
            email: u.email.clone(),
            notify_new_device: u.notify_new_device,
            two_step: u.totp_enabled_at.is_some(),
            created_at: u.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct MeDto {
    #[serde(flatten)]
    pub user: UserDto,
    pub device_id: String,
}

#[derive(Debug, Serialize)]
pub struct EventDto {
    pub id: String,
    pub user_id: String,
    pub at: String,
    pub kind: String,
    pub description: &'static str,
    pub device_id: Option<String>,
    pub device_name: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

impl From<&SecurityEvent> for EventDto {
    fn from(e: &SecurityEvent) -> Self {
        EventDto {
            id: e.id.clone(),
            user_id: e.user_id.to_string(),
            at: e.at.to_rfc3339(),
            kind: e.kind.clone(),
            description: EventKind::describe(&e.kind),
            device_id: e.device_id.as_ref().map(ToString::to_string),
            device_name: e.device_name.clone(),
            ip: e.ip.clone(),
            detail: e.detail.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub is_admin: bool,
    /// Where reset links and notices go (taken as confirmed).
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub max_devices: Option<i64>,
    pub max_streams: Option<i64>,
    pub disabled: Option<bool>,
    pub is_admin: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The temporary password; the user must choose a new one at the next sign-in. Without
    /// one, the user is e-mailed a reset link.
    #[serde(default)]
    pub password: Option<String>,
}

/// `POST /api/v1/password-resets`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// A user name or an e-mail address.
    pub login: String,
}

/// `POST /api/v1/password-resets/complete`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetComplete {
    pub token: String,
    pub new_password: String,
}

/// `PUT /api/v1/me/email`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeEmailRequest {
    pub current_password: String,
    /// The new address; `null` or empty removes it.
    pub email: Option<String>,
}

/// `POST /api/v1/email-confirmations`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmEmailRequest {
    pub token: String,
}

/// `PUT /api/v1/me/notices`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticesRequest {
    pub new_device: bool,
}

/// `POST /api/v1/me/two-step`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeginTwoStepRequest {
    pub current_password: String,
}

/// `POST /api/v1/me/two-step/confirm`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmTwoStepRequest {
    pub code: String,
}

/// `POST /api/v1/me/two-step/disable`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisableTwoStepRequest {
    pub current_password: String,
    /// A code from the app, or a recovery code.
    pub code: String,
}
