//! Input parsed into validated types at the edge, so services never see raw strings.

use serde::{Deserialize, Serialize};

/// Why a piece of input was refused; shown to the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub field: &'static str,
    pub message: String,
}

impl std::error::Error for InputError {}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

fn err(field: &'static str, message: impl Into<String>) -> InputError {
    InputError {
        field,
        message: message.into(),
    }
}

/// A user name: 1–64 characters of letters, digits, `.`, `_`, `-`, `@`; compared case-insensitively
/// by storing it lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, InputError> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > 64 {
            return Err(err("username", "must be 1 to 64 characters"));
        }
        if !s
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        {
            return Err(err(
                "username",
                "may contain letters, digits and . _ - @ only",
            ));
        }
        Ok(Username(s.to_lowercase()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed. Never printed.
#[derive(Clone)]
pub struct Password(String);

/// Shortest and longest passwords accepted when setting one (NIST SP 800-63B; SECURITY.md P2).
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// A few of the most common passwords; enough to refuse the ones attackers try first.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password123",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "qwerty123",
    "iloveyou",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "welcome1",
    "letmein1",
    "11111111",
    "00000000",
    "abc12345",
    "passw0rd",
    "trustno1",
    "superman",
    "starwars",
    "dragon12",
    "monkey12",
    "master12",
    "whatever",
    "1q2w3e4r",
    "zaq12wsx",
    "qwertyui",
    "asdfghjk",
    "changeme",
    "administrator",
    "clefclef",
    "musicmusic",
    "p@ssw0rd",
    "welcome123",
    "admin123",
    "letmein123",
];

impl Password {
    /// Wraps a password presented at sign-in: any length is accepted here (a too-long one simply
    /// never matches), so sign-in answers the same for every wrong password.
    pub fn presented(s: String) -> Self {
        Password(s)
    }
    /// Validates a new password: 8–128 characters, not a common one. No composition rules.
    pub fn new_password(s: String) -> Result<Self, InputError> {
        let n = s.chars().count();
        if n < PASSWORD_MIN_CHARS {
            return Err(err(
                "password",
                format!("must be at least {PASSWORD_MIN_CHARS} characters"),
            ));
        }
        if n > PASSWORD_MAX_CHARS {
            return Err(err(
                "password",
                format!("must be at most {PASSWORD_MAX_CHARS} characters"),
            ));
        }
        if COMMON.contains(&s.to_lowercase().as_str()) {
            return Err(err(
                "password",
                "is one of the most common passwords; choose another",
            ));
        }
        Ok(Password(s))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A device name such as "Anna's iPhone": 1–64 characters, any script, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceName(String);

impl DeviceName {
    pub fn parse(s: &str) -> Result<Self, InputError> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > 64 {
            return Err(err("device.name", "must be 1 to 64 characters"));
        }
        if s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
            return Err(err("device.name", "must not contain control characters"));
        }
        Ok(DeviceName(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// What kind of device signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceType {
    Computer,
    Phone,
    Tablet,
    Speaker,
    Tv,
    Car,
    Web,
    App,
}

impl DeviceType {
    pub const ALL: [DeviceType; 8] = [
        DeviceType::Computer,
        DeviceType::Phone,
        DeviceType::Tablet,
        DeviceType::Speaker,
        DeviceType::Tv,
        DeviceType::Car,
        DeviceType::Web,
        DeviceType::App,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceType::Computer => "computer",
            DeviceType::Phone => "phone",
            DeviceType::Tablet => "tablet",
            DeviceType::Speaker => "speaker",
            DeviceType::Tv => "tv",
            DeviceType::Car => "car",
            DeviceType::Web => "web",
            DeviceType::App => "app",
        }
    }
    /// The type in a sentence's first words: "A TV", "An app".
    pub fn with_article(self) -> &'static str {
        match self {
            DeviceType::Computer => "A computer",
            DeviceType::Phone => "A phone",
            DeviceType::Tablet => "A tablet",
            DeviceType::Speaker => "A speaker",
            DeviceType::Tv => "A TV",
            DeviceType::Car => "A car",
            DeviceType::Web => "A web browser",
            DeviceType::App => "An app",
        }
    }
    pub fn parse(s: &str) -> Result<Self, InputError> {
        DeviceType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                err(
                    "device.type",
                    "must be one of computer, phone, tablet, speaker, tv, car, web, app",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_follow_length_and_blocklist_only() {
        assert!(Password::new_password("short".into()).is_err());
        assert!(Password::new_password("a".repeat(129)).is_err());
        assert!(Password::new_password("a".repeat(128)).is_ok());
        assert!(Password::new_password("Password123".into()).is_err());
        assert!(Password::new_password("all lowercase words".into()).is_ok());
        assert!(Password::new_password("ñandú pájaro".into()).is_ok());
    }

    #[test]
    fn device_names_allow_any_script_but_no_controls() {
        assert!(DeviceName::parse("Аннин телефон 🎵").is_ok());
        assert!(DeviceName::parse("bad\u{0007}name").is_err());
        assert!(DeviceName::parse("evil\u{202E}txt.exe").is_err());
        assert!(DeviceName::parse("   ").is_err());
        assert!(DeviceName::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn usernames_are_lowercased() {
        assert_eq!(Username::parse(" Anna ").unwrap().as_str(), "anna");
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse("../x").is_err());
    }
}
