//! Passkeys (WebAuthn credentials) and the ceremonies between a server's challenge and the
//! browser's answer.

use clef_core::{Timestamp, TokenHash, UserId};

/// A user's passkey. The store keeps the credential as the accounts service hands it over (the
/// WebAuthn library's serde JSON: public key, signature counter, flags) without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    pub id: String,
    pub user_id: UserId,
    /// What the user called it ("Laptop", "Phone").
    pub name: String,
    /// The credential's id as the browser presents it (base64url); one account's alone.
    pub credential_id: String,
    /// The credential, as JSON.
    pub passkey: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

stored_enum! {
    /// What a WebAuthn ceremony is for.
    CeremonyKind {
        /// Adding a passkey to a signed-in account.
        Register = "register",
        /// Signing in with a passkey instead of a password (any account's).
        SignIn = "sign_in",
        /// Answering a sign-in's two-step challenge with one of that user's passkeys.
        SecondStep = "second_step",
    }
}

/// A ceremony under way: the server's side of a challenge sent to a browser, kept until the
/// answer comes back (once) or it expires. Only the SHA-256 of the token the browser holds is
/// kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebauthnCeremony {
    pub token_hash: TokenHash,
    /// Whose ceremony it is; `None` for a sign-in that does not know yet.
    pub user_id: Option<UserId>,
    pub kind: CeremonyKind,
    /// The accounts service's state of the ceremony, as JSON.
    pub state: String,
    pub expires_at: Timestamp,
}
