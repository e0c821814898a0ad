//! Plain records moved in and out of the store.

use clef_core::{DeviceId, Timestamp, TokenHash, UserId};

use crate::{DeviceOrigin, SignOutReason};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: String,
    /// The PHC string of the password hash.
    pub password_hash: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub max_devices: i64,
    pub max_streams: i64,
    pub created_at: Timestamp,
    /// Set when an admin gave a temporary password: the user chooses a new one before anything
    /// else.
    pub must_change_password: bool,
    /// The confirmed e-mail address, where reset links and notices go.
    pub email: Option<String>,
    /// Whether a sign-in from a new device is e-mailed (the security notices always are).
    pub notify_new_device: bool,
    /// When two-step sign-in with an authenticator app was turned on; `None` when it is off.
    pub totp_enabled_at: Option<Timestamp>,
}

/// A change to a user that could leave Clef without an enabled admin, made only when it does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardedChange {
    SetAdmin(bool),
    SetDisabled(bool),
    Delete,
}

/// What became of a guarded change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardOutcome {
    Done,
    /// Refused: the user is the last enabled admin.
    LastAdmin,
    NotFound,
}

/// A signed-in device: one slot, one or more credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    pub user_id: UserId,
    pub name: String,
    pub device_type: String,
    pub client: String,
    pub origin: DeviceOrigin,
    /// The app grant it was authorised through (device-code and app devices).
    pub grant_id: Option<String>,
    pub ip: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// The absolute end of this sign-in, whatever its use.
    pub expires_at: Timestamp,
    pub revoked: Option<Revocation>,
}

/// Why and when a device was signed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub at: Timestamp,
    pub reason: SignOutReason,
    /// The device that did it, if a device did.
    pub by_device: Option<DeviceId>,
}

/// A device about to be created.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id: DeviceId,
    pub user_id: UserId,
    pub name: String,
    pub device_type: String,
    pub client: String,
    pub origin: DeviceOrigin,
    pub grant_id: Option<String>,
    pub ip: String,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

/// What counts as a live device at this moment: not revoked, before its absolute end, and used
/// since `idle_cutoff`. Expired devices hold no slot.
#[derive(Debug, Clone, Copy)]
pub struct Liveness {
    pub now: Timestamp,
    pub idle_cutoff: Timestamp,
}

/// The answer to "admit this device if the account has room".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    /// The account is full; these live devices hold the slots.
    LimitReached(Vec<Device>),
    /// The device to replace is not a live device of this user.
    ReplaceNotFound,
}

/// A device to sign out in the same step as admitting a new one.
#[derive(Debug, Clone)]
pub struct Replace {
    pub device_id: DeviceId,
    pub reason: SignOutReason,
}

/// One entry of a user's security log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEvent {
    pub id: String,
    pub user_id: UserId,
    pub at: Timestamp,
    pub kind: String,
    pub device_id: Option<DeviceId>,
    pub device_name: Option<String>,
    pub ip: Option<String>,
    /// Free text for people, such as which device signed this one out.
    pub detail: Option<String>,
}

/// A sign-in that proved the password but was refused at the device limit; it lets the same
/// person free a slot and finish without typing the password again.
#[derive(Debug, Clone)]
pub struct PendingSignIn {
    pub token_hash: TokenHash,
    pub user_id: UserId,
    pub name: String,
    pub device_type: String,
    pub client: String,
    pub ip: String,
    pub expires_at: Timestamp,
}

/// Sign-in attempts counted under one key (an account or a source address), kept in the store so
/// that throttling holds across a restart and across nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    /// Wrong passwords since the count last started.
    pub failures: i64,
    pub last_failure: Timestamp,
    /// Attempts allowed to check a password whose answer is not known yet.
    pub pending: i64,
    pub pending_since: Timestamp,
}

impl AttemptCount {
    pub const ZERO: AttemptCount = AttemptCount {
        failures: 0,
        last_failure: Timestamp(0),
        pending: 0,
        pending_since: Timestamp(0),
    };

    pub fn is_zero(&self) -> bool {
        self.failures == 0 && self.pending == 0
    }
}

/// What `update_attempts` runs on the counts it read.
pub type AttemptUpdate<'a> = dyn FnMut(&mut [AttemptCount]) + Send + 'a;
