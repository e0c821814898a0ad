//! Typed ids, so a device id can never be passed where a user id is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($name:ident) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// Parses an id from outside: 32 lowercase hex characters, nothing else.
            pub fn parse(s: &str) -> Option<Self> {
                let ok = s.len() == 32
                    && s.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                ok.then(|| $name(s.to_owned()))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(UserId);
id_type!(DeviceId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_only_our_id_shape() {
        assert!(DeviceId::parse("0123456789abcdef0123456789abcdef").is_some());
        assert!(DeviceId::parse("../etc/passwd").is_none());
        assert!(DeviceId::parse("0123456789ABCDEF0123456789abcdef").is_none());
        assert!(DeviceId::parse("").is_none());
    }
}
