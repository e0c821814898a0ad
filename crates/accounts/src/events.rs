//! The kinds of entries in a user's security log.

/// What happened, as stored and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    SignedIn,
    NewDevice,
    FailedSignIn,
    SignedOut,
    SignedOutEverywhere,
    PasswordChanged,
    AccountDisabled,
    AccountEnabled,
    DeviceLimitRefused,
    LimitsChanged,
    AdminChanged,
    UserDeleted,
    AppAuthorized,
    AppAccessRemoved,
    RefreshTokenReused,
    DeviceAuthorized,
    AppRegistered,
    AppDeleted,
    AppPasswordCreated,
    ApiKeyCreated,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SignedIn => "signed_in",
            EventKind::NewDevice => "new_device",
            EventKind::FailedSignIn => "failed_sign_in",
            EventKind::SignedOut => "signed_out",
            EventKind::SignedOutEverywhere => "signed_out_everywhere",
            EventKind::PasswordChanged => "password_changed",
            EventKind::AccountDisabled => "account_disabled",
            EventKind::AccountEnabled => "account_enabled",
            EventKind::DeviceLimitRefused => "device_limit_refused",
            EventKind::LimitsChanged => "limits_changed",
            EventKind::AdminChanged => "admin_changed",
            EventKind::UserDeleted => "user_deleted",
            EventKind::AppAuthorized => "app_authorized",
            EventKind::AppAccessRemoved => "app_access_removed",
            EventKind::RefreshTokenReused => "refresh_token_reused",
            EventKind::DeviceAuthorized => "device_authorized",
            EventKind::AppRegistered => "app_registered",
            EventKind::AppDeleted => "app_deleted",
            EventKind::AppPasswordCreated => "app_password_created",
            EventKind::ApiKeyCreated => "api_key_created",
        }
    }

    /// A short description for people.
    pub fn describe(kind: &str) -> &'static str {
        match kind {
            "signed_in" => "Signed in",
            "new_device" => "Signed in from a new device",
            "failed_sign_in" => "Failed sign-in",
            "signed_out" => "Signed out",
            "signed_out_everywhere" => "Signed out everywhere",
            "password_changed" => "Password changed",
            "account_disabled" => "Account disabled",
            "account_enabled" => "Account enabled",
            "device_limit_refused" => "Sign-in refused: device limit reached",
            "limits_changed" => "Limits changed",
            "admin_changed" => "Admin rights changed",
            "user_deleted" => "User deleted",
            "app_authorized" => "App given access",
            "app_access_removed" => "App's access removed",
            "refresh_token_reused" => "App's access ended: a used token was presented again",
            "device_authorized" => "Device signed in by code",
            "app_registered" => "App registered",
            "app_deleted" => "App deleted",
            "app_password_created" => "App password created for a Subsonic app",
            "api_key_created" => "API key created for a Subsonic app",
            _ => "Event",
        }
    }
}
