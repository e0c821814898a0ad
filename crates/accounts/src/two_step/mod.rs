//! The pure building blocks of two-step sign-in. Nothing here does I/O or reads a clock or a
//! random source of its own: the time and a [`clef_core::Random`] are passed in, and what is to be
//! kept is handed back for the caller to store.
//!
//! - [`TotpSecret`] (`totp.rs`): the shared secret of an authenticator app (160 random bits),
//!   shown as base32 for typing (`display_key`) and as an `otpauth://` URI for the QR code, and
//!   [`TotpSecret::verify`], which checks a six-digit RFC 6238 code (HMAC-SHA-1, 30-second steps)
//!   with one step of drift either way and returns the step it matched. The caller stores that
//!   step and passes it back as `last_used_step`: no step at or before it matches again, so a
//!   code cannot be replayed.
//! - [`qr_svg`] (`qr.rs`): the enrolment QR code as an inline, labelled SVG drawn on the server.
//! - Recovery codes (`recovery.rs`): [`generate_recovery_codes`] makes ten single-use codes of
//!   80 bits (`xxxx-xxxx-xxxx-xxxx`, [`RecoveryCode::display`]); [`normalize_recovery_code`] reads
//!   one back however it was typed; [`hash_recovery_code`] is its stored form, an HMAC-SHA-256
//!   keyed by the server's pepper, so stored hashes are useless without the pepper.
//!   The same three are also `recovery::{generate, normalize, hash}`.

mod qr;
pub mod recovery;
mod totp;

pub use qr::{qr_svg, QrTooLong};
pub use recovery::{
    generate as generate_recovery_codes, hash as hash_recovery_code,
    normalize as normalize_recovery_code, RecoveryCode, RECOVERY_CODE_COUNT,
};
pub use totp::{InvalidTotpSecret, TotpSecret};
