//! A request's parameters: the query string and, for a POST (OpenSubsonic `formPost`), the
//! `application/x-www-form-urlencoded` body. Names may repeat (`id=1&id=2`) and keep their order.

use std::fmt;
use std::str::FromStr;

use crate::error::SubsonicError;

/// Parameters whose values are secrets: never shown by `Debug`.
const SECRET: &[&str] = &["p", "t", "s", "apiKey", "password", "token"];

/// The parameters of one request, in the order given: query first, then the form body.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (name, value) in &self.pairs {
            if SECRET.contains(&name.as_str()) {
                list.entry(&format_args!("{name}=<redacted>"));
            } else {
                list.entry(&format_args!("{name}={value:?}"));
            }
        }
        list.finish()
    }
}

impl Params {
    /// Reads the query string (without the `?`) and, for a POST with a form, its body.
    pub fn from_request(query: Option<&str>, form: Option<&[u8]>) -> Result<Params, SubsonicError> {
        let unreadable = |_| SubsonicError::generic("The request's parameters could not be read");
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query.unwrap_or("")).map_err(unreadable)?;
        if let Some(body) = form {
            let more: Vec<(String, String)> =
                serde_urlencoded::from_bytes(body).map_err(unreadable)?;
            pairs.extend(more);
        }
        Ok(Params { pairs })
    }

    /// Parameters given directly, for tests and internal calls.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Params {
        Params {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// Whether the parameter is given at all (even empty).
    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    /// The first value of the parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated parameter, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The parameter, or error 10 naming it.
    pub fn require(&self, name: &str) -> Result<&str, SubsonicError> {
        self.get(name)
            .ok_or_else(|| SubsonicError::missing_parameter(name))
    }

    /// A required list such as `songIdToAdd`: error 10 when not given even once.
    pub fn require_all(&self, name: &str) -> Result<Vec<&str>, SubsonicError> {
        let all = self.all(name);
        if all.is_empty() {
            return Err(SubsonicError::missing_parameter(name));
        }
        Ok(all)
    }

    /// An optional whole number within `min..=max`; anything else is error 0 saying what was
    /// expected.
    pub fn int_in<T>(&self, name: &str, min: T, max: T) -> Result<Option<T>, SubsonicError>
    where
        T: FromStr + PartialOrd + Copy + fmt::Display,
    {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        match raw.trim().parse::<T>() {
            Ok(v) if v >= min && v <= max => Ok(Some(v)),
            _ => Err(SubsonicError::generic(format!(
                "Parameter {name} must be a whole number from {min} to {max}, not {raw:?}"
            ))),
        }
    }

    /// A required whole number within `min..=max` (error 10 when missing).
    pub fn require_int<T>(&self, name: &str, min: T, max: T) -> Result<T, SubsonicError>
    where
        T: FromStr + PartialOrd + Copy + fmt::Display,
    {
        self.int_in(name, min, max)?
            .ok_or_else(|| SubsonicError::missing_parameter(name))
    }

    /// A count such as `size`: `default` when absent, at most `max` (a larger ask gets `max`, as
    /// clients ask for more than servers give), an error when negative or not a number.
    pub fn count(&self, name: &str, default: usize, max: usize) -> Result<usize, SubsonicError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        let digits = raw.trim();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SubsonicError::generic(format!(
                "Parameter {name} must be a whole number from 0 to {max}, not {raw:?}"
            )));
        }
        // Only digits: a parse can fail only by being too large, which is capped like any ask.
        let v = digits.parse::<usize>().unwrap_or(usize::MAX);
        Ok(v.min(max))
    }

    /// An offset: 0 when absent, an error when negative or not a number.
    pub fn offset(&self, name: &str) -> Result<usize, SubsonicError> {
        self.count(name, 0, usize::MAX)
    }

    /// `true` or `false` (`1` and `0` too); `default` when absent.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, SubsonicError> {
        // Case aside: Python clients send `True` and `False`.
        match self
            .get(name)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None => Ok(default),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(other) => Err(SubsonicError::generic(format!(
                "Parameter {name} must be true or false, not {other:?}"
            ))),
        }
    }
}

/// The method a `/rest/<segment>` path names: `getAlbum` and `getAlbum.view` are the same.
pub fn method_name(segment: &str) -> &str {
    segment.strip_suffix(".view").unwrap_or(segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_form_body_keep_repeats_in_order() {
        let p = Params::from_request(
            Some("id=1&u=joe&id=2&name=a%20b+c"),
            Some(b"songIdToAdd=x&id=3&songIdToAdd=y%26z"),
        )
        .unwrap();
        assert_eq!(p.all("id"), ["1", "2", "3"]);
        assert_eq!(p.get("id"), Some("1"));
        assert_eq!(p.get("name"), Some("a b c"));
        assert_eq!(p.require_all("songIdToAdd").unwrap(), ["x", "y&z"]);
        assert!(p.has("u") && !p.has("p"));
        assert_eq!(p.require_all("nope").unwrap_err().code, 10);
    }

    #[test]
    fn empty_and_missing_requests() {
        let p = Params::from_request(None, None).unwrap();
        assert_eq!(p.get("id"), None);
        let e = p.require("id").unwrap_err();
        assert_eq!(e.code, 10);
        assert!(e.message.contains("id"));
        let p = Params::from_request(Some("query="), None).unwrap();
        assert_eq!(p.require("query").unwrap(), "");
    }

    #[test]
    fn numbers_are_checked_and_counts_capped() {
        let p = Params::from_pairs([
            ("size", "900"),
            ("offset", "-1"),
            ("year", "1999"),
            ("bad", "ten"),
            ("big", "99999999999999999999999"),
        ]);
        assert_eq!(p.count("size", 10, 500).unwrap(), 500);
        assert_eq!(p.count("absent", 10, 500).unwrap(), 10);
        assert_eq!(p.count("big", 10, 500).unwrap(), 500);
        let e = p.offset("offset").unwrap_err();
        assert_eq!(e.code, 0);
        assert!(e.message.contains("offset"), "{}", e.message);
        assert_eq!(p.int_in("year", 0, 9999).unwrap(), Some(1999));
        assert_eq!(p.int_in::<i64>("absent", 0, 9999).unwrap(), None);
        assert_eq!(p.int_in("year", 0, 1000).unwrap_err().code, 0);
        assert!(p.int_in("bad", 0, 9).unwrap_err().message.contains("bad"));
        assert_eq!(p.require_int::<i64>("absent", 0, 9).unwrap_err().code, 10);
    }

    #[test]
    fn booleans() {
        let p = Params::from_pairs([("a", "true"), ("b", "0"), ("c", "yes"), ("d", "False")]);
        assert!(p.bool("a", false).unwrap());
        assert!(!p.bool("d", true).unwrap(), "as Python clients send it");
        assert!(!p.bool("b", true).unwrap());
        assert!(p.bool("absent", true).unwrap());
        assert_eq!(p.bool("c", false).unwrap_err().code, 0);
    }

    #[test]
    fn debug_hides_credentials() {
        let p = Params::from_pairs([
            ("u", "joe"),
            ("p", "sesame"),
            ("t", "26719a"),
            ("s", "c19b2d"),
            ("apiKey", "k3y"),
        ]);
        let shown = format!("{p:?}");
        assert!(shown.contains("joe"));
        for secret in ["sesame", "26719a", "c19b2d", "k3y"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn method_names_with_and_without_view() {
        assert_eq!(method_name("getAlbum.view"), "getAlbum");
        assert_eq!(method_name("getAlbum"), "getAlbum");
        assert_eq!(method_name("ping.view"), "ping");
    }
}
