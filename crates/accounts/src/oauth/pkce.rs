//! PKCE with S256 only (RFC 7636): the challenge is BASE64URL(SHA-256(verifier)).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

fn unreserved(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether a challenge is shaped like an S256 one: 43 base64url characters.
pub(crate) fn valid_challenge(c: &str) -> bool {
    c.len() == 43 && unreserved(c) && !c.contains(['.', '~'])
}

/// Whether `verifier` (43–128 unreserved characters) answers `challenge`.
pub(crate) fn verify(verifier: &str, challenge: &str) -> bool {
    if !(43..=128).contains(&verifier.len()) || !unreserved(verifier) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(valid_challenge(challenge));
        assert!(verify(verifier, challenge));
        assert!(!verify(challenge, challenge));
        assert!(!verify("short", challenge));
        assert!(!valid_challenge(verifier.trim_end_matches('k')));
    }
}
