//! Credentials apart from devices: a device holds one or more credentials (a web session, an API
//! token, an app's access and refresh tokens), each with its kind, hash, scopes, expiry and last
//! use. Kinds and sign-out reasons are enums that refuse stored values this build does not know:
//! a node that meets a newer kind must not take it for a full-power token.

use clef_core::{Access, DeviceId, ScopeSet, Timestamp, TokenHash, UserId};

macro_rules! stored_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s,)+ }
            }

            /// The value for a stored or presented code; `None` for one this build does not know.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($s => Some($name::$v),)+ _ => None }
            }

            pub(crate) fn read(s: &str) -> Result<$name, $crate::StoreError> {
                $name::parse(s).ok_or_else(|| $crate::StoreError::UnknownValue {
                    what: stringify!($name),
                    value: s.chars().take(40).collect(),
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_enum! {
    /// What a credential is.
    CredentialKind {
        /// The web page's cookie.
        WebSession = "web_session",
        /// A bearer token from `POST /api/v1/sessions`.
        ApiToken = "api_token",
        /// An app's OAuth access token (an hour).
        OAuthAccess = "oauth_access",
        /// An app's OAuth refresh token, replaced at each use.
        OAuthRefresh = "oauth_refresh",
        /// A Subsonic client's app password: presented as `p` or through `t`+`s` on `/rest` only,
        /// so it is kept sealed (encrypted) besides its hash.
        AppPassword = "app_password",
        /// An OpenSubsonic API key: presented as `apiKey` on `/rest` only.
        ApiKey = "api_key",
    }
}

impl CredentialKind {
    /// Whether it is presented as a bearer token on requests (refresh tokens only go to the token
    /// endpoint).
    pub fn is_bearer(self) -> bool {
        !matches!(
            self,
            CredentialKind::OAuthRefresh | CredentialKind::AppPassword | CredentialKind::ApiKey
        )
    }

    /// Whether it is presented on `/rest` (and only there).
    pub fn is_subsonic(self) -> bool {
        matches!(self, CredentialKind::AppPassword | CredentialKind::ApiKey)
    }
}

stored_enum! {
    /// How a device came to be.
    DeviceOrigin {
        /// Signed in on the web page.
        WebSession = "web_session",
        /// Signed in through the API with a password.
        ApiToken = "api_token",
        /// A TV, speaker or command-line tool its user approved by typing its code (RFC 8628).
        DeviceCode = "device_code",
        /// The seat of an app authorised by its user (authorization code flow); listed on the Apps
        /// page, not among devices, and not counted against the device limit.
        App = "app",
        /// A Subsonic client given an app password.
        AppPassword = "app_password",
        /// A Subsonic client given an OpenSubsonic API key.
        ApiKey = "api_key",
    }
}

impl DeviceOrigin {
    /// Whether the device is listed on the Devices page and holds one of the account's slots.
    pub fn is_listed(self) -> bool {
        self != DeviceOrigin::App
    }
}

stored_enum! {
    /// Why access ended: the API's `reason` for a signed-out device, credential or stopped stream.
    SignOutReason {
        SignedOutByUser = "signed_out_by_user",
        SignedOutEverywhere = "signed_out_everywhere",
        PasswordChanged = "password_changed",
        PasswordReset = "password_reset",
        Expired = "expired",
        AccountDisabled = "account_disabled",
        Replaced = "replaced_at_device_limit",
        AccountDeleted = "account_deleted",
        /// The user removed an app's access (the Apps page or `DELETE /me/apps/{id}`).
        AccessRemoved = "access_removed",
        /// The app revoked the token itself (RFC 7009).
        TokenRevoked = "token_revoked",
        /// A refresh token was replaced by a newer one at its use.
        Rotated = "rotated",
        /// A refresh token was presented again after its use: the grant is presumed stolen.
        RefreshTokenReused = "refresh_token_reused",
        /// An authorization code was presented twice: what it issued is revoked.
        CodeReplayed = "code_replayed",
        /// Another device took this device's stream slot.
        TakenOver = "taken_over",
        /// The server is stopping.
        ServerStopping = "server_stopping",
    }
}

/// One credential of a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub id: String,
    pub user_id: UserId,
    pub device_id: DeviceId,
    /// The app grant it was issued under, for app tokens.
    pub grant_id: Option<String>,
    /// The refresh token an access token came with (revoking it revokes them).
    pub parent_id: Option<String>,
    pub kind: CredentialKind,
    /// For app tokens, what was approved; empty for sign-in credentials, which have full access.
    pub scopes: ScopeSet,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_used: Timestamp,
    pub revoked: Option<crate::Revocation>,
}

impl Credential {
    pub fn access(&self) -> Access {
        match self.kind {
            CredentialKind::WebSession | CredentialKind::ApiToken => Access::Full,
            CredentialKind::OAuthAccess
            | CredentialKind::OAuthRefresh
            | CredentialKind::AppPassword
            | CredentialKind::ApiKey => Access::Scoped(self.scopes),
        }
    }
}

/// A credential about to be issued.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub id: String,
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub grant_id: Option<String>,
    pub parent_id: Option<String>,
    pub kind: CredentialKind,
    pub token_hash: TokenHash,
    pub scopes: ScopeSet,
    pub now: Timestamp,
    pub expires_at: Timestamp,
    /// An app password sealed with the server's key (Subsonic token login needs it back).
    pub sealed: Option<String>,
}

/// A live app password of a user, still sealed, with what it signs in as once it matches.
#[derive(Debug, Clone)]
pub struct SealedSecret {
    pub presented: Presented,
    pub sealed: String,
}

/// How a Subsonic salt was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaltUse {
    /// Never seen for this user.
    Fresh,
    /// Seen before for the same request target (a player asking for another range of a stream).
    SameTarget,
    /// Seen before for something else: a replay.
    Replayed,
}

/// What one revocation covers. Every sign-out in Clef is one of these, run in one transaction.
#[derive(Debug, Clone, Copy)]
pub enum RevokeScope<'a> {
    /// One device of the user and every credential it holds.
    Device {
        user: &'a UserId,
        device: &'a DeviceId,
    },
    /// Every listed device of the user but `keep`, with their credentials; with `apps`, every
    /// app grant too (and so every app's token).
    Everywhere {
        user: &'a UserId,
        keep: Option<&'a DeviceId>,
        apps: bool,
    },
    /// One credential; a refresh token takes the access tokens issued with it.
    Credential { id: &'a str },
    /// An app grant: every token issued under it and every device authorised through it.
    Grant { user: &'a UserId, grant: &'a str },
    /// Every grant to an app, of every user (the app is being deleted).
    App { client: &'a str },
    /// One grant, whoever's it is (a refresh token's reuse found it).
    GrantOf { grant: &'a str },
}

/// What a revocation ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revoked {
    /// Devices signed out.
    pub devices: Vec<DeviceId>,
    /// Credentials revoked (those of the devices included).
    pub credentials: Vec<String>,
    /// App grants ended.
    pub grants: Vec<String>,
}

impl Revoked {
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty() && self.credentials.is_empty() && self.grants.is_empty()
    }
}

/// A presented token's credential with its device and user, live or not.
#[derive(Debug, Clone)]
pub struct Presented {
    pub credential: Credential,
    pub device: crate::Device,
    pub user: crate::User,
}
