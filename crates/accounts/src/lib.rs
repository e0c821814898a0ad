//! Accounts: users and their passwords, devices (one per sign-in), the device limit, sign-out in
//! every scope, sign-in throttling and the security log. Knows nothing of HTTP.

mod admin;
mod config;
mod devices;
mod error;
mod events;
mod password;
mod playback;
mod service;
mod setup;
mod signin;
mod throttle;
mod users;

pub use admin::Actor;
pub use config::AccountsConfig;
pub use error::AccountsError;
pub use events::EventKind;
pub use password::{HashParams, PasswordHasher};
pub use playback::{OnStop, PlaybackTiming, StreamHandle, StreamStop, SERVER_STOPPING, TAKEN_OVER};
pub use service::{Accounts, AuthContext, DeviceInfo, DeviceView};
pub use signin::{SignIn, SignedIn};
pub use throttle::ThrottlePolicy;

/// Reason codes given to a device that was signed out (the API's `reason`).
pub mod reason {
    pub const SIGNED_OUT_BY_USER: &str = "signed_out_by_user";
    pub const SIGNED_OUT_EVERYWHERE: &str = "signed_out_everywhere";
    pub const PASSWORD_CHANGED: &str = "password_changed";
    pub const PASSWORD_RESET: &str = "password_reset";
    pub const EXPIRED: &str = "expired";
    pub const ACCOUNT_DISABLED: &str = "account_disabled";
    pub const REPLACED: &str = "replaced_at_device_limit";
    pub const ACCOUNT_DELETED: &str = "account_deleted";
}
