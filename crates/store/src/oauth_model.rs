//! Apps (OAuth clients), the grants users give them, authorization codes and device codes.

use clef_core::{ScopeSet, Timestamp, TokenHash, UserId};

use crate::{Device, NewCredential, NewDevice, Revocation};

/// An app a user registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub client_id: String,
    pub owner_id: UserId,
    /// The user name of whoever registered it (read, not written).
    pub owner_name: String,
    pub name: String,
    /// Exactly as registered; a redirect must match one of them.
    pub redirect_uris: Vec<String>,
    /// Confidential apps authenticate with a secret; public (native) ones prove the code with
    /// PKCE alone.
    pub secret_hash: Option<TokenHash>,
    pub created_at: Timestamp,
}

impl App {
    pub fn confidential(&self) -> bool {
        self.secret_hash.is_some()
    }
}

/// What a user gave an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub user_id: UserId,
    pub client_id: String,
    pub scopes: ScopeSet,
    pub created_at: Timestamp,
    pub revoked: Option<Revocation>,
}

/// A live grant as its user sees it on the Apps page.
#[derive(Debug, Clone)]
pub struct GrantView {
    pub grant: Grant,
    pub app: App,
    /// The last use of any of its tokens.
    pub last_used: Timestamp,
    /// Live devices authorised through it by code (TVs, speakers).
    pub devices: Vec<Device>,
}

/// A user's approval: the grant to create or widen, and the app's seat (the device its tokens
/// hang on) to create when it has none.
#[derive(Debug, Clone)]
pub struct Approval {
    pub grant_id: String,
    pub user_id: UserId,
    pub client_id: String,
    pub scopes: ScopeSet,
    pub seat: NewDevice,
}

/// The grant and seat an approval landed on (an existing grant is reused and widened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    pub grant_id: String,
    pub seat: clef_core::DeviceId,
    /// The grant's scopes after this approval.
    pub scopes: ScopeSet,
}

/// An authorization code, stored hashed until its single use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    pub code_hash: TokenHash,
    pub client_id: String,
    pub user_id: UserId,
    pub grant_id: String,
    /// The app's seat, which the tokens will hang on.
    pub device_id: clef_core::DeviceId,
    pub redirect_uri: String,
    pub scopes: ScopeSet,
    /// The PKCE S256 challenge.
    pub challenge: String,
    pub expires_at: Timestamp,
}

/// What presenting a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeUse {
    /// First use, in time: the code is now spent.
    Fresh(AuthCode),
    /// Used before: the refresh token it issued, to revoke.
    Replayed { issued: Option<String> },
    /// Unknown or expired.
    Unknown,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// Replaced by the new pair (which carry its scopes); the grant it belongs to.
    Rotated { grant: Grant, scopes: ScopeSet },
    /// It had been replaced already: the grant is revoked (it is presumed stolen).
    Reused { user_id: UserId, grant_id: String },
    /// Unknown, expired, not a refresh token, or revoked for another reason.
    Refused,
}

/// A refresh to make: the presented token's hash and the pair to issue in its place (their
/// user, device, grant and scopes are taken from the presented one).
#[derive(Debug, Clone)]
pub struct Refresh {
    pub presented: TokenHash,
    pub client_id: String,
    pub access: NewCredential,
    pub refresh: NewCredential,
}

/// A device-authorization request (RFC 8628): the device polls with its code while its user
/// types the short user code on another screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    pub device_code_hash: TokenHash,
    /// Normalised: eight letters, without the dash people see.
    pub user_code: String,
    pub client_id: String,
    pub scopes: ScopeSet,
    pub device_name: String,
    pub device_type: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub interval_secs: i64,
}

/// A user's answer to a device code.
#[derive(Debug, Clone)]
pub enum DeviceDecision {
    /// Admit `device` under the account's limit (optionally signing out `replace` first), made
    /// through the user's grant to the app (found and widened, or made with `grant_id`).
    Approve {
        grant_id: String,
        device: Box<NewDevice>,
        limit: i64,
        live: crate::Liveness,
        replace: Option<crate::Replace>,
    },
    Deny,
}

/// What the answer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    Approved {
        grant_id: String,
    },
    Denied,
    /// The account is full; these devices hold the slots.
    LimitReached(Vec<Device>),
    /// The device to replace is not a live device of this user.
    ReplaceNotFound,
    /// No pending code like that (unknown, expired, or already answered).
    NotPending,
}

/// What a device's poll finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    Pending,
    /// Polled sooner than its interval; the interval grows by five seconds.
    SlowDown,
    Denied,
    Expired,
    /// Approved: the tokens go out now, once. The device, its grant and scopes.
    Approved {
        user_id: UserId,
        device_id: clef_core::DeviceId,
        grant_id: String,
        scopes: ScopeSet,
    },
    /// Unknown, another app's, or already used.
    Unknown,
}
