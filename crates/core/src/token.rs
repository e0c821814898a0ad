//! Secret tokens: 256 random bits handed out once, kept only as SHA-256 hashes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A source of randomness; injected so tests can count and inspect what was drawn.
pub trait Random: Send + Sync + 'static {
    fn fill(&self, buf: &mut [u8]);

    /// A new 128-bit id, as 32 hex characters.
    fn id(&self) -> String {
        let mut b = [0u8; 16];
        self.fill(&mut b);
        hex::encode(b)
    }

    /// A new 256-bit secret token.
    fn token(&self) -> SecretToken {
        let mut b = [0u8; 32];
        self.fill(&mut b);
        SecretToken(URL_SAFE_NO_PAD.encode(b))
    }
}

/// The operating system's CSPRNG.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // getrandom fails only when the OS has no entropy source at all; running without one
        // would be worse than stopping.
        #[allow(clippy::expect_used)]
        getrandom::fill(buf).expect("the operating system's random source failed");
    }
}

/// A raw secret token as given to a client. It is never logged or stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    /// Wraps a token presented by a client.
    pub fn from_presented(s: &str) -> Self {
        SecretToken(s.to_owned())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn hash(&self) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }
}

impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretToken(<redacted>)")
    }
}

/// The SHA-256 of a token, hex encoded: what the store keeps and looks up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(pub String);

impl TokenHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Constant-time equality, for checks after a lookup.
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_hash_stably() {
        let t = OsRandom.token();
        let raw = URL_SAFE_NO_PAD.decode(t.expose()).unwrap();
        assert_eq!(raw.len(), 32);
        assert_eq!(t.hash(), SecretToken::from_presented(t.expose()).hash());
        assert!(t.hash().ct_eq(&t.hash()));
        assert!(!t.hash().ct_eq(&OsRandom.token().hash()));
        assert_eq!(format!("{t:?}"), "SecretToken(<redacted>)");
    }
}
