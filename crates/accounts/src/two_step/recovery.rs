//! Recovery codes: ten single-use codes shown once at enrolment, for when the authenticator is
//! lost. Each is 16 characters from a 32-character alphabet (80 bits), shown as
//! `xxxx-xxxx-xxxx-xxxx`, and kept only as an HMAC keyed by the server's pepper.
//!
//! The alphabet is the lower-case letters and digits less the look-alikes `i`, `l`, `1` and `o`:
//! `abcdefghjkmnpqrstuvwxyz` (23) and `023456789` (9). `0` stays because, with `o` gone, it has
//! nothing to be mistaken for, and [`normalize`] reads an `o` typed for it as `0`.

use clef_core::Random;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How many codes one enrolment hands out.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// Characters in one code, without the dashes.
const LEN: usize = 16;
/// Characters between dashes in the displayed form.
const GROUP: usize = 4;
/// 32 characters, so each one is five unbiased random bits (256 is a multiple of 32).
const ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz023456789";
/// Keeps these HMACs apart from anything else the pepper may ever key.
const DOMAIN: &[u8] = b"clef recovery code v1\0";

/// One recovery code, in its normalized form (16 characters of the alphabet). Its `Debug` never
/// shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

impl RecoveryCode {
    /// As shown to the person: `xxxx-xxxx-xxxx-xxxx`.
    pub fn display(&self) -> String {
        let mut out = String::with_capacity(LEN + LEN / GROUP);
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % GROUP == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }

    /// The normalized form: what [`normalize`] gives back for any way of typing it.
    pub fn normalized(&self) -> &str {
        &self.0
    }

    /// [`hash`] of this code: what to store.
    pub fn hash(&self, pepper: &[u8]) -> String {
        hash(&self.0, pepper)
    }
}

/// Ten new codes. With 80 bits each, two alike would take a broken random source.
pub fn generate(rng: &dyn Random) -> Vec<RecoveryCode> {
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let mut b = [0u8; LEN];
            rng.fill(&mut b);
            RecoveryCode(
                b.iter()
                    .map(|&x| char::from(ALPHABET[usize::from(x & 31)]))
                    .collect(),
            )
        })
        .collect()
}

/// What a person typed, as the normalized code, or `None` if it cannot be one: upper case is
/// lowered, spaces and dashes anywhere are dropped, `o` is read as `0`; then it must be exactly
/// 16 characters of the alphabet.
pub fn normalize(input: &str) -> Option<String> {
    let mut out = String::with_capacity(LEN);
    for c in input.chars() {
        if c.is_whitespace() || c == '-' {
            continue;
        }
        let c = match c.to_ascii_lowercase() {
            'o' => '0',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) || out.len() == LEN {
            return None;
        }
        out.push(c);
    }
    (out.len() == LEN).then_some(out)
}

/// The stored form of a normalized code: HMAC-SHA-256 keyed by the server's pepper, hex encoded,
/// so a copy of the database alone is no use for guessing codes. Give it [`normalize`]'s output.
pub fn hash(normalized: &str, pepper: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(pepper).expect("HMAC accepts a key of any length");
    mac.update(DOMAIN);
    mac.update(normalized.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use clef_core::OsRandom;
    use std::collections::HashSet;

    #[test]
    fn the_alphabet_has_32_distinct_unconfusable_characters() {
        let set: HashSet<u8> = ALPHABET.iter().copied().collect();
        assert_eq!(set.len(), 32);
        for c in *b"ilo1" {
            assert!(!set.contains(&c), "{}", char::from(c));
        }
        assert!(ALPHABET
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    }

    #[test]
    fn ten_distinct_codes_that_normalize_back() {
        let codes = generate(&OsRandom);
        assert_eq!(codes.len(), 10);
        let distinct: HashSet<&str> = codes.iter().map(|c| c.normalized()).collect();
        assert_eq!(distinct.len(), 10);
        for c in &codes {
            let shown = c.display();
            assert_eq!(shown.len(), 19);
            assert_eq!(shown.matches('-').count(), 3);
            assert!(shown.split('-').all(|g| g.len() == 4));
            assert_eq!(normalize(&shown).as_deref(), Some(c.normalized()));
            assert_eq!(normalize(c.normalized()).as_deref(), Some(c.normalized()));
            assert_eq!(format!("{c:?}"), "RecoveryCode(<redacted>)");
        }
    }

    #[test]
    fn every_character_is_drawn() {
        // 10 codes × 16 characters from a source that counts up: every value 0..=255 masks to
        // each of the 32 characters.
        struct Counting(std::sync::atomic::AtomicU8);
        impl Random for Counting {
            fn fill(&self, buf: &mut [u8]) {
                for b in buf {
                    *b = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            }
        }
        let codes = generate(&Counting(Default::default()));
        let seen: HashSet<char> = codes.iter().flat_map(|c| c.0.chars()).collect();
        assert_eq!(seen.len(), 32);
        assert_eq!(codes[0].display(), "abcd-efgh-jkmn-pqrs");
        assert_eq!(codes[1].display(), "tuvw-xyz0-2345-6789");
    }

    #[test]
    fn typing_variants_normalize_the_same() {
        let want = Some("abcdefgh2345679z".to_owned());
        for typed in [
            "abcd-efgh-2345-679z",
            "ABCD EFGH-2345 679Z",
            "  abcdefgh2345679z ",
            "ab-cd-ef-gh-23-45-67-9z",
            "Abcd\tefgh\n2345-679z",
        ] {
            assert_eq!(normalize(typed), want, "{typed:?}");
        }
        // An o typed for the zero.
        assert_eq!(
            normalize("abcd-efgh-2345-67o0").as_deref(),
            Some("abcdefgh23456700")
        );
    }

    #[test]
    fn bad_input_is_refused() {
        for bad in [
            "",
            "abcd-efgh-2345-679",    // 15
            "abcd-efgh-2345-679zz",  // 17
            "abcd-efgh-2345-679z-a", // 17
            "abcd-efgh-2345-6791",   // 1 is not in the alphabet
            "abcd-efgh-2345-679l",   // nor l
            "abcd-efgh-2345-679i",
            "abcd_efgh_2345_679z",
            "abcd-efgh-2345-679é",
            "abcd-efgh-2345-67ｚz",
        ] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hashes_depend_on_the_code_and_the_pepper() {
        let a = hash("abcdefgh2345679z", b"pepper one");
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, hash("abcdefgh2345679z", b"pepper one"));
        assert_ne!(a, hash("abcdefgh2345679z", b"pepper two"));
        assert_ne!(a, hash("abcdefgh2345679y", b"pepper one"));
        let code = &generate(&OsRandom)[0];
        assert_eq!(code.hash(b"p"), hash(code.normalized(), b"p"));
        // Keyed, not a plain digest of the code.
        use sha2::Digest;
        assert_ne!(a, hex::encode(Sha256::digest(b"abcdefgh2345679z")));
    }

    #[test]
    fn hash_is_hmac_sha256_of_the_domain_and_code() {
        // Independently: HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)) for a short key.
        use sha2::Digest;
        let key = b"pepper";
        let mut k = [0u8; 64];
        k[..key.len()].copy_from_slice(key);
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let inner = Sha256::new()
            .chain_update(&ipad)
            .chain_update(DOMAIN)
            .chain_update(b"abcdefgh2345679z")
            .finalize();
        let outer = Sha256::new()
            .chain_update(&opad)
            .chain_update(inner)
            .finalize();
        assert_eq!(hash("abcdefgh2345679z", key), hex::encode(outer));
    }
}
