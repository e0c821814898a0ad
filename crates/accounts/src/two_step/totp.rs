//! Time-based one-time passwords (RFC 6238) as every authenticator app makes them: HMAC-SHA-1,
//! 6 digits, 30-second steps. The HMAC and the truncation to digits are `totp-rs`'s; what is ours
//! is the secret's life (generation, base32, the `otpauth://` URI), reading what a person typed,
//! the drift window and replay protection.

use clef_core::Random;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use subtle::{Choice, ConstantTimeEq};
use totp_rs::{Algorithm, TOTP};

/// Seconds in one time step.
const STEP_SECS: i64 = 30;
/// Digits in the codes we hand out and accept.
const DIGITS: usize = 6;
/// Steps of clock drift accepted either side of the current one.
const DRIFT_STEPS: i64 = 1;
/// Bytes in a secret we generate: 160 bits, the HMAC-SHA-1 output size RFC 4226 recommends.
const SECRET_LEN: usize = 20;
/// The shortest secret accepted from storage: RFC 4226 requires at least 128 bits.
const MIN_SECRET_LEN: usize = 16;
/// The longest secret accepted from storage; anything longer is not one of ours.
const MAX_SECRET_LEN: usize = 64;

/// Characters kept as they are in the `otpauth://` label and issuer: RFC 3986's unreserved set.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A stored secret of the wrong length: not 16 to 64 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a TOTP secret must be {MIN_SECRET_LEN} to {MAX_SECRET_LEN} bytes, not {0}")]
pub struct InvalidTotpSecret(pub usize);

/// The secret an authenticator app shares with the server. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    /// A new secret of 20 random bytes (160 bits).
    pub fn generate(rng: &dyn Random) -> Self {
        let mut b = vec![0u8; SECRET_LEN];
        rng.fill(&mut b);
        TotpSecret(b)
    }

    /// A secret read back from storage; refused unless 16 to 64 bytes long.
    pub fn from_bytes(b: Vec<u8>) -> Result<Self, InvalidTotpSecret> {
        if (MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&b.len()) {
            Ok(TotpSecret(b))
        } else {
            Err(InvalidTotpSecret(b.len()))
        }
    }

    /// The raw bytes, for storage.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret in RFC 4648 base32 (upper case, no padding), as apps expect it.
    pub fn base32(&self) -> String {
        self.totp(DIGITS).get_secret_base32()
    }

    /// The base32 secret in groups of four separated by spaces, for typing by hand
    /// (`GEZD GNBV GY3T …`). Apps ignore the spaces.
    pub fn display_key(&self) -> String {
        let b32 = self.base32();
        let mut out = String::with_capacity(b32.len() + b32.len() / 4);
        for (i, c) in b32.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }

    /// The key URI an app reads from the enrolment QR code:
    /// `otpauth://totp/Clef:anna?secret=…&issuer=Clef&algorithm=SHA1&digits=6&period=30`.
    /// The issuer and the account are percent-encoded (everything but RFC 3986's unreserved
    /// characters, so a colon, a space or an `&` in either cannot break the label or the query).
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let issuer = utf8_percent_encode(issuer, URI_COMPONENT).to_string();
        let account = utf8_percent_encode(account, URI_COMPONENT);
        format!(
            "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
            self.base32()
        )
    }

    /// Checks a code typed at `now_ms` (milliseconds since the epoch, as
    /// [`clef_core::Timestamp`]), allowing one step of clock drift either way.
    ///
    /// `code` is six digits; spaces anywhere and one dash between digits are allowed
    /// (`123 456`, `123-456`). Returns the time step that matched (unix seconds / 30), or `None`.
    /// Steps at or before `last_used_step` never match: the caller stores the step returned, so
    /// no code is accepted twice, nor one older than the last accepted. Every candidate step is
    /// compared, in constant time, whatever matched before it.
    pub fn verify(&self, code: &str, now_ms: i64, last_used_step: Option<i64>) -> Option<i64> {
        let code = normalize_code(code)?;
        let current = now_ms.div_euclid(1000).div_euclid(STEP_SECS);
        let totp = self.totp(DIGITS);
        let mut matched = None;
        for step in current - DRIFT_STEPS..=current + DRIFT_STEPS {
            let Some(secs) = step_start(step) else {
                continue;
            };
            let usable = Choice::from(u8::from(last_used_step.is_none_or(|last| step > last)));
            let same = totp.generate(secs).as_bytes().ct_eq(code.as_bytes());
            if bool::from(same & usable) {
                // The latest step wins, so a code that happens to repeat burns the most.
                matched = Some(step);
            }
        }
        matched
    }

    /// The code for the step holding `unix_secs` (times before the epoch count as the epoch):
    /// for tests and for the enrolment page's self-check.
    pub fn code_at(&self, unix_secs: i64) -> String {
        self.code_with_digits(unix_secs, DIGITS)
    }

    fn code_with_digits(&self, unix_secs: i64, digits: usize) -> String {
        self.totp(digits)
            .generate(u64::try_from(unix_secs).unwrap_or(0))
    }

    fn totp(&self, digits: usize) -> TOTP {
        // Unchecked: our lengths are checked on the way in, and the RFC's own test secret is
        // 20 bytes. The skew argument is unused, as `verify` walks the steps itself.
        TOTP::new_unchecked(
            Algorithm::SHA1,
            digits,
            0,
            STEP_SECS.unsigned_abs(),
            self.0.clone(),
        )
    }
}

/// The first second of `step`, or `None` before the epoch.
fn step_start(step: i64) -> Option<u64> {
    u64::try_from(step.checked_mul(STEP_SECS)?).ok()
}

/// Six ASCII digits from what a person typed: spaces (and other whitespace) are dropped anywhere,
/// one dash is allowed between digits; anything else is refused.
fn normalize_code(input: &str) -> Option<String> {
    let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = match compact.split_once('-') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => format!("{a}{b}"),
        Some(_) => return None,
        None => compact,
    };
    (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use clef_core::OsRandom;

    /// RFC 6238's SHA-1 secret.
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    #[test]
    fn rfc_6238_sha1_test_vectors() {
        let s = rfc_secret();
        for (t, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(s.code_with_digits(t, 8), code, "at {t}");
            // Six digits are the same number modulo 10^6.
            assert_eq!(s.code_at(t), code[2..], "at {t}");
        }
    }

    #[test]
    fn secrets_are_160_random_bits_and_redacted() {
        let a = TotpSecret::generate(&OsRandom);
        assert_eq!(a.as_bytes().len(), 20);
        assert_ne!(a, TotpSecret::generate(&OsRandom));
        assert_eq!(format!("{a:?}"), "TotpSecret(<redacted>)");
        assert_eq!(
            TotpSecret::from_bytes(vec![0; 15]),
            Err(InvalidTotpSecret(15))
        );
        assert_eq!(
            TotpSecret::from_bytes(vec![0; 65]),
            Err(InvalidTotpSecret(65))
        );
        assert!(TotpSecret::from_bytes(vec![0; 16]).is_ok());
        let back = TotpSecret::from_bytes(a.as_bytes().to_vec()).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn base32_display_key_and_uri() {
        let s = rfc_secret();
        // RFC 4648 base32 of "12345678901234567890", no padding.
        assert_eq!(s.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(s.display_key(), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
        assert_eq!(
            s.otpauth_uri("Clef", "anna"),
            "otpauth://totp/Clef:anna?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Clef&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            s.otpauth_uri("My Clef: home", "anna+x@ex.org"),
            "otpauth://totp/My%20Clef%3A%20home:anna%2Bx%40ex.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=My%20Clef%3A%20home&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            s.otpauth_uri("Clef", "jörg&co"),
            "otpauth://totp/Clef:j%C3%B6rg%26co?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Clef&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn accepts_the_current_step_and_one_either_side() {
        let s = rfc_secret();
        let now_secs = 1_700_000_015; // 15 s into step 56_666_667
        let step = now_secs / 30;
        let now_ms = now_secs * 1000 + 999;
        for d in [-1, 0, 1] {
            let code = s.code_at((step + d) * 30);
            assert_eq!(s.verify(&code, now_ms, None), Some(step + d), "drift {d}");
        }
        for d in [-2, 2] {
            let code = s.code_at((step + d) * 30);
            // A six-digit code could repeat by chance within the window; then it is not a test.
            if (-1..=1).all(|k| s.code_at((step + k) * 30) != code) {
                assert_eq!(s.verify(&code, now_ms, None), None, "drift {d}");
            }
        }
    }

    #[test]
    fn drift_is_measured_in_steps_of_the_clock() {
        let s = rfc_secret();
        // RFC vector at t = 59 (step 1): accepted from step 0 to step 2, that is t in [0, 90).
        let code = s.code_at(59);
        assert_eq!(s.verify(&code, 0, None), Some(1));
        assert_eq!(s.verify(&code, 89_999, None), Some(1));
        assert_eq!(s.verify(&code, 90_000, None), None);
        // Before the epoch there is nothing to match, and no panic.
        assert_eq!(s.verify(&code, -1_000_000, None), None);
    }

    #[test]
    fn a_used_step_and_earlier_ones_are_refused() {
        let s = rfc_secret();
        let now_ms = 1_700_000_015_000;
        let step = now_ms / 1000 / 30;
        let code = s.code_at(step * 30);
        let used = s.verify(&code, now_ms, None).unwrap();
        assert_eq!(used, step);
        // The same code again: replay.
        assert_eq!(s.verify(&code, now_ms, Some(used)), None);
        // The previous step's code, still within drift, after a later one was used.
        let earlier = s.code_at((step - 1) * 30);
        if earlier != code {
            assert_eq!(s.verify(&earlier, now_ms, Some(used)), None);
        }
        // The next step's code is still fine.
        let later = s.code_at((step + 1) * 30);
        assert_eq!(s.verify(&later, now_ms, Some(used)), Some(step + 1));
    }

    #[test]
    fn typing_variants_and_malformed_input() {
        let s = rfc_secret();
        let now_ms = 1_234_567_890_000;
        let code = s.code_at(1_234_567_890); // "005924"
        assert_eq!(code, "005924");
        let step = Some(1_234_567_890 / 30);
        for typed in [
            "005924",
            "005 924",
            " 005924 ",
            "005-924",
            "005 - 924",
            "0 0 5 9 2 4",
        ] {
            assert_eq!(s.verify(typed, now_ms, None), step, "{typed:?}");
        }
        for bad in [
            "12345", "abcdef", "1234567", "", "-005924", "005924-", "00-59-24", "0059２4", "5924",
            "+05924", "0x5924",
        ] {
            assert_eq!(s.verify(bad, now_ms, None), None, "{bad:?}");
        }
    }
}
