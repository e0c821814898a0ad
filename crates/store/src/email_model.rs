//! Links mailed to a user's address, and the state of two-step sign-in.

use clef_core::{Timestamp, TokenHash, UserId};

stored_enum! {
    /// What a mailed link does.
    LinkPurpose {
        /// Sets a new password and signs out everything.
        PasswordReset = "password_reset",
        /// Confirms a new address, which then replaces the old one.
        ConfirmEmail = "confirm_email",
    }
}

/// A single-use link sent by e-mail: only the SHA-256 of its token is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailLink {
    pub token_hash: TokenHash,
    pub user_id: UserId,
    pub purpose: LinkPurpose,
    /// The address it was sent to (for a confirmation, the new address it confirms).
    pub email: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A user's authenticator key and what has been accepted with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpState {
    /// The key, sealed by the accounts service (never stored in the clear).
    pub sealed: String,
    /// `None` while enrolment waits for its first code.
    pub enabled_at: Option<Timestamp>,
    /// The last time step a code was accepted for; no code of it or before is accepted again.
    pub last_step: Option<i64>,
}

/// The step between a right password and the second factor: what the sign-in will create once
/// the code is right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInChallenge {
    pub token_hash: TokenHash,
    pub user_id: UserId,
    pub name: String,
    pub device_type: String,
    pub client: String,
    pub ip: String,
    pub expires_at: Timestamp,
    /// Wrong codes given for this challenge so far.
    pub failures: i64,
    /// The second factor was given, but the device limit stopped the sign-in: a repeat that
    /// frees a slot needs no second code.
    pub passed: bool,
}
