//! An e-mail address as people type it, checked enough to be worth sending to.

use crate::input::InputError;

/// An address: `local@domain`, at most 254 characters, no spaces or characters that would let it
/// become a second header or a second recipient. Kept as typed (trimmed); compared by the store
/// letter case aside.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, InputError> {
        let bad = |message: &str| InputError {
            field: "email",
            message: message.to_owned(),
        };
        let s = s.trim();
        if s.is_empty() {
            return Err(bad("is empty"));
        }
        if s.len() > 254 {
            return Err(bad("must be at most 254 characters"));
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(bad("must look like name@example.org"));
        };
        if local.is_empty() || local.len() > 64 || domain.is_empty() {
            return Err(bad("must look like name@example.org"));
        }
        let forbidden = |c: char| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '<' | '>' | ',' | ';' | '"' | '(' | ')' | '[' | ']' | '\\'
                )
        };
        if s.chars().any(forbidden) || local.contains('@') {
            return Err(bad(
                "may not contain spaces, quotes, brackets, commas or a second @",
            ));
        }
        let labels_ok = domain
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if !labels_ok {
            return Err(bad("has a domain that cannot receive mail"));
        }
        Ok(EmailAddress(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address with most of its name hidden, for logs and for telling someone where a link
    /// went without repeating the whole address: `a•••@example.org`.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// `a•••@example.org` for any stored address string.
pub fn mask(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_pass_and_stay_as_typed() {
        for ok in [
            "anna@example.org",
            " Anna.B+music@Mail.Example.ORG ",
            "x@localhost",
        ] {
            let a = EmailAddress::parse(ok).unwrap();
            assert_eq!(a.as_str(), ok.trim());
        }
    }

    #[test]
    fn what_could_not_be_one_recipient_is_refused() {
        for bad in [
            "",
            "anna",
            "@example.org",
            "anna@",
            "anna@@example.org",
            "anna@example..org",
            "anna@-example.org",
            "an na@example.org",
            "anna@example.org\r\nBcc: eve@evil.test",
            "anna@example.org, eve@evil.test",
            "Anna <anna@example.org>",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        assert!(EmailAddress::parse(&format!("{}@example.org", "a".repeat(65))).is_err());
    }

    #[test]
    fn a_masked_address_keeps_the_first_letter_and_the_domain() {
        let a = EmailAddress::parse("anna@example.org").unwrap();
        assert_eq!(a.masked(), "a•••@example.org");
    }
}
