//! The accounts service's one error type; the API maps each variant to HTTP in one place.

use clef_core::{InputError, Scope};
use clef_store::{Device, SignOutReason, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    /// Wrong user name or password; deliberately says nothing about which.
    #[error("invalid user name or password")]
    InvalidCredentials,
    /// An OpenSubsonic API key Clef does not know.
    #[error("invalid API key")]
    InvalidApiKey,
    /// A Subsonic token login's salt was already used for something else.
    #[error("this token and salt were already used")]
    SaltReused,
    #[error("too many attempts; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    /// The password was right but the account is full.
    #[error("device limit reached")]
    DeviceLimitReached {
        limit: i64,
        devices: Vec<Device>,
        /// For the web flow: a single-use ticket to free a slot without the password again.
        continue_token: Option<String>,
    },
    #[error("the account is disabled")]
    AccountDisabled,
    /// No credential, or one Clef never issued.
    #[error("not signed in")]
    Unauthenticated,
    /// A credential that was valid and has been signed out. `by_device` names the device that
    /// did it, when another device did.
    #[error("signed out: {reason}")]
    SignedOut {
        reason: SignOutReason,
        by_device: Option<String>,
    },
    /// An app's token lacks the scope this needs.
    #[error("this needs the {} scope", .0.as_str())]
    InsufficientScope(Scope),
    /// Account and device management is not reachable with an app's token.
    #[error("an app's token cannot manage the account")]
    AccountOnly,
    /// Every stream slot is taken; these devices are playing.
    #[error("stream limit reached")]
    StreamLimitReached {
        limit: i64,
        streams: Vec<clef_store::Slot>,
    },
    /// This device's playback was stopped (`reason` is `taken_over`), by `by_device`.
    #[error("playback stopped: {reason}")]
    PlaybackStopped {
        reason: SignOutReason,
        by_device: Option<String>,
    },
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    #[error("admin rights are needed")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// Its message names the field ("password: must be at least 8 characters").
    #[error(transparent)]
    Invalid(#[from] InputError),
    /// The password was right; the account wants a code from its authenticator app (or a
    /// recovery code) for this challenge.
    #[error("a code from the authenticator app is needed")]
    SecondFactorRequired { challenge: String, expires_in: i64 },
    /// A wrong, reused or malformed two-step code.
    #[error("that code is not right (or was already used)")]
    InvalidCode,
    /// The challenge expired, was used, or took too many wrong codes: sign in again.
    #[error("this sign-in expired; sign in again")]
    ChallengeInvalid,
    /// A passkey's answer that was not accepted: an unknown or removed passkey, one of another
    /// account, a signature that does not verify, or a ceremony expired or already used.
    #[error("that passkey was not accepted")]
    PasskeyRefused,
    /// Passkeys need the server to be reached by a host name (`public_url`), not an address.
    #[error("passkeys need public_url to name the server by a host name")]
    PasskeysUnavailable,
    /// A mailed link that expired, was used, or was replaced by a newer one.
    #[error("this link has expired, was already used, or a newer one was sent")]
    LinkInvalid,
    /// The account has no e-mail address to send a link to.
    #[error("the account has no e-mail address")]
    NoEmailAddress,
    #[error("the setup link is invalid or was already used")]
    SetupUnavailable,
    /// Refused: it would leave no enabled admin.
    #[error("this is the last enabled admin; make another user an admin first")]
    LastAdmin,
    /// An admin gave this account a temporary password; it must choose its own first.
    #[error("a new password must be chosen first")]
    PasswordChangeRequired,
    /// A request to the authorization server's endpoints that RFC 6749 answers with its codes.
    #[error(transparent)]
    OAuth(#[from] crate::oauth::OAuthError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AccountsResult<T> = Result<T, AccountsError>;
