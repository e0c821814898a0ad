//! What a signed-out device is told, for every reason, in one place for every front-end.

use clef_accounts::SignOutReason;

/// What a signed-out device is told, naming the device that did it when there is one.
pub fn signed_out_message_by(reason: SignOutReason, by_device: Option<&str>) -> String {
    match (reason, by_device) {
        (SignOutReason::SignedOutByUser, Some(name)) => {
            format!("This device was signed out from {name}.")
        }
        (SignOutReason::SignedOutEverywhere, Some(name)) => {
            format!("You were signed out everywhere from {name}.")
        }
        (SignOutReason::PasswordChanged, Some(name)) => {
            format!("The password was changed on {name}, so this device was signed out.")
        }
        (SignOutReason::AccessRemoved, Some(name)) => {
            format!("This app's access was removed from {name}.")
        }
        _ => signed_out_message(reason).to_owned(),
    }
}

/// What a signed-out device is told, by reason.
pub fn signed_out_message(reason: SignOutReason) -> &'static str {
    match reason {
        SignOutReason::SignedOutByUser => "This device was signed out.",
        SignOutReason::SignedOutEverywhere => "You were signed out everywhere from another device.",
        SignOutReason::PasswordChanged => {
            "The password was changed on another device, so this one was signed out."
        }
        SignOutReason::PasswordReset => "The password was reset, so every device was signed out.",
        SignOutReason::Expired => "This sign-in expired.",
        SignOutReason::AccountDisabled => "The account was disabled by an administrator.",
        SignOutReason::AccessRemoved => "This app's access was removed.",
        SignOutReason::Replaced => "This device was signed out to make room for another one.",
        SignOutReason::AccountDeleted => "The account was deleted by an administrator.",
        SignOutReason::TokenRevoked => "This token was revoked by the app.",
        SignOutReason::Rotated => "This refresh token was already used; use the newer one.",
        SignOutReason::RefreshTokenReused => {
            "A used refresh token was presented again, so this app's access was ended."
        }
        SignOutReason::CodeReplayed => {
            "An authorization code was used twice, so what it gave was revoked."
        }
        SignOutReason::TakenOver => "Playback moved to another device.",
        SignOutReason::ServerStopping => "The server is stopping.",
    }
}
