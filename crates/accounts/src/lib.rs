//! Accounts: users and their passwords, devices (one per sign-in), the device limit, sign-out in
//! every scope, sign-in throttling and the security log. Knows nothing of HTTP.

mod admin;
mod config;
mod devices;
mod email;
mod error;
mod events;
mod notices;
pub mod oauth;
mod passkeys;
mod password;
mod playback;
mod recovery;
mod second_factor;
mod service;
mod setup;
mod signin;
pub mod subsonic;
mod throttle;
pub mod two_step;
mod users;

pub use admin::Actor;
pub use clef_store::SignOutReason;
pub use config::{AccountsConfig, RequestLimits};
pub use error::AccountsError;
pub use events::EventKind;
pub use passkeys::{PasskeyCeremony, PasskeySecondStep, PasskeySignIn, PasskeyView};
pub use password::{HashParams, PasswordHasher};
pub use playback::{OnStop, PlaybackTiming, StreamHandle, StreamStop};
pub use recovery::{EmailChange, RESET_LINK_MINUTES};
pub use second_factor::{Enrolment, SecondStep};
pub use service::{Accounts, AuthContext, DeviceInfo, DeviceView};
pub use signin::{SignIn, SignedIn};
pub use throttle::ThrottlePolicy;
