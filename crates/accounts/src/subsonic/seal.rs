//! Sealing app passwords: Subsonic token login (`t = md5(password + salt)`) needs the password
//! back, so an app password is kept encrypted (ChaCha20-Poly1305) with a key that lives outside
//! the database, bound to its credential's id so a sealed value moved to another row opens
//! nowhere. The account password is never sealed: it is only ever hashed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use clef_core::Random;

const VERSION: &str = "v1:";
const NONCE_LEN: usize = 12;

/// The 256-bit key app passwords are sealed with. Never printed.
#[derive(Clone)]
pub struct SealKey([u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(<redacted>)")
    }
}

/// Why a key could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the app password key must be 64 hexadecimal characters (32 bytes)")]
pub struct BadSealKey;

impl SealKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SealKey(bytes)
    }

    /// A key as written in its file: 64 hex characters.
    pub fn from_hex(text: &str) -> Result<Self, BadSealKey> {
        let bytes = hex::decode(text.trim()).map_err(|_| BadSealKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| BadSealKey)?;
        Ok(SealKey(bytes))
    }

    pub fn generate(rng: &dyn Random) -> Self {
        let mut b = [0u8; 32];
        rng.fill(&mut b);
        SealKey(b)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.0))
    }

    /// Seals `secret` for the credential `id`.
    pub(crate) fn seal(&self, rng: &dyn Random, id: &str, secret: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: id.as_bytes(),
        };
        // Encryption of a short message in memory cannot fail.
        #[allow(clippy::expect_used)]
        let sealed = self
            .cipher()
            .encrypt(Nonce::from_slice(&nonce), payload)
            .expect("ChaCha20-Poly1305 encryption");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens what `seal` wrote for `id`; `None` if it was made with another key or for another
    /// credential, or altered.
    pub(crate) fn open(&self, id: &str, sealed: &str) -> Option<String> {
        let raw = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(VERSION)?).ok()?;
        if raw.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let payload = Payload {
            msg: body,
            aad: id.as_bytes(),
        };
        let plain = self
            .cipher()
            .decrypt(Nonce::from_slice(nonce), payload)
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clef_core::OsRandom;

    #[test]
    fn sealed_opens_only_with_its_key_and_its_credential() {
        let key = SealKey::generate(&OsRandom);
        let sealed = key.seal(&OsRandom, "cred-1", "abcd-efgh");
        assert!(!sealed.contains("abcd"));
        assert_eq!(key.open("cred-1", &sealed).as_deref(), Some("abcd-efgh"));
        assert_eq!(key.open("cred-2", &sealed), None, "moved to another row");
        let other = SealKey::generate(&OsRandom);
        assert_eq!(other.open("cred-1", &sealed), None, "another key");
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            key.open("cred-1", &String::from_utf8(altered).unwrap()),
            None
        );
        // The same secret seals differently each time (a fresh nonce).
        assert_ne!(sealed, key.seal(&OsRandom, "cred-1", "abcd-efgh"));
        assert_eq!(SealKey::from_hex(&key.to_hex()).unwrap().0, key.0);
        assert!(SealKey::from_hex("abcd").is_err());
        assert_eq!(format!("{key:?}"), "SealKey(<redacted>)");
    }
}
