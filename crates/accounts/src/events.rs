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
    PasswordResetRequested,
    PasswordReset,
    EmailChanged,
    TwoStepEnabled,
    TwoStepDisabled,
    RecoveryCodeUsed,
    PasskeyAdded,
    PasskeyRemoved,
    PasskeySignIn,
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
            EventKind::PasswordResetRequested => "password_reset_requested",
            EventKind::PasswordReset => "password_reset",
            EventKind::EmailChanged => "email_changed",
            EventKind::TwoStepEnabled => "two_step_enabled",
            EventKind::TwoStepDisabled => "two_step_disabled",
            EventKind::RecoveryCodeUsed => "recovery_code_used",
            EventKind::PasskeyAdded => "passkey_added",
            EventKind::PasskeyRemoved => "passkey_removed",
            EventKind::PasskeySignIn => "passkey_sign_in",
        }
    }

    const ALL: &'static [EventKind] = &[
        EventKind::SignedIn,
        EventKind::NewDevice,
        EventKind::FailedSignIn,
        EventKind::SignedOut,
        EventKind::SignedOutEverywhere,
        EventKind::PasswordChanged,
        EventKind::AccountDisabled,
        EventKind::AccountEnabled,
        EventKind::DeviceLimitRefused,
        EventKind::LimitsChanged,
        EventKind::AdminChanged,
        EventKind::UserDeleted,
        EventKind::AppAuthorized,
        EventKind::AppAccessRemoved,
        EventKind::RefreshTokenReused,
        EventKind::DeviceAuthorized,
        EventKind::AppRegistered,
        EventKind::AppDeleted,
        EventKind::AppPasswordCreated,
        EventKind::ApiKeyCreated,
        EventKind::PasswordResetRequested,
        EventKind::PasswordReset,
        EventKind::EmailChanged,
        EventKind::TwoStepEnabled,
        EventKind::TwoStepDisabled,
        EventKind::RecoveryCodeUsed,
        EventKind::PasskeyAdded,
        EventKind::PasskeyRemoved,
        EventKind::PasskeySignIn,
    ];

    /// The kind stored as `s`.
    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// Whether the user is e-mailed when it happens. The address change is told to the old
    /// address directly, as the event's notice would reach the new one.
    pub fn has_notice(self) -> bool {
        matches!(
            self,
            EventKind::NewDevice
                | EventKind::PasswordChanged
                | EventKind::PasswordReset
                | EventKind::TwoStepEnabled
                | EventKind::TwoStepDisabled
                | EventKind::PasskeyAdded
                | EventKind::PasskeyRemoved
                | EventKind::AppAuthorized
                | EventKind::DeviceAuthorized
                | EventKind::AppPasswordCreated
                | EventKind::ApiKeyCreated
        )
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
            "password_reset_requested" => "Password reset link requested",
            "password_reset" => "Password reset by e-mailed link",
            "email_changed" => "E-mail address changed",
            "two_step_enabled" => "Two-step sign-in turned on",
            "two_step_disabled" => "Two-step sign-in turned off",
            "recovery_code_used" => "Signed in with a recovery code",
            "passkey_added" => "Passkey added",
            "passkey_removed" => "Passkey removed",
            "passkey_sign_in" => "Signed in with a passkey",
            _ => "Event",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn every_kind_reads_back_and_is_described() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(*k));
            assert_ne!(EventKind::describe(k.as_str()), "Event", "{k:?}");
        }
        assert_eq!(EventKind::parse("nothing"), None);
    }
}
