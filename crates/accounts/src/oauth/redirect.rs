//! Redirect URIs: what may be registered, and the exact match a redirect must make (RFC 9700
//! §2.1, §4.1.3; RFC 8252 §7.3 for native apps on loopback).

/// Why a redirect URI cannot be registered.
pub(crate) fn check_registrable(uri: &str) -> Result<(), String> {
    if uri.len() > 512 {
        return Err("is longer than 512 characters".into());
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains spaces or control characters".into());
    }
    if uri.contains('#') {
        return Err("has a fragment (#…), which a redirect URI may not have".into());
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err("is not an absolute URI".into());
    };
    match scheme {
        "https" => {
            let host = authority(rest).ok_or("has no host")?;
            if host.contains('@') {
                return Err("has user information (user@host)".into());
            }
            Ok(())
        }
        "http" => match loopback_parts(uri) {
            Some(_) => Ok(()),
            None => Err(
                "uses http on a host that is not 127.0.0.1, [::1] or localhost; use https".into(),
            ),
        },
        s if s.contains('.')
            && s.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '+')
            }) =>
        {
            // A native app's private-use scheme, such as com.example.player:/callback.
            Ok(())
        }
        _ => Err(
            "must use https, http on loopback, or an app's own scheme such as com.example.app"
                .into(),
        ),
    }
}

fn authority(rest: &str) -> Option<&str> {
    let rest = rest.strip_prefix("//")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let a = &rest[..end];
    (!a.is_empty()).then_some(a)
}

/// For `http://<loopback>[:port]<rest>`: the URI without its port, so that ports can differ.
fn loopback_parts(uri: &str) -> Option<String> {
    for host in ["127.0.0.1", "[::1]", "localhost"] {
        let prefix = format!("http://{host}");
        let Some(after) = uri.strip_prefix(&prefix) else {
            continue;
        };
        let after = match after.strip_prefix(':') {
            Some(p) => {
                let digits = p.bytes().take_while(u8::is_ascii_digit).count();
                if digits == 0 || digits > 5 {
                    return None;
                }
                &p[digits..]
            }
            None => after,
        };
        if !(after.is_empty() || after.starts_with('/') || after.starts_with('?')) {
            return None;
        }
        return Some(format!("{prefix}{after}"));
    }
    None
}

/// Whether `presented` is one of `registered`: the same string exactly, or, for a public
/// (native) app's loopback URI, the same string but for its port.
pub(crate) fn matches(registered: &[String], presented: &str, native: bool) -> bool {
    if registered.iter().any(|r| r == presented) {
        return true;
    }
    if !native {
        return false;
    }
    let Some(bare) = loopback_parts(presented) else {
        return false;
    };
    registered
        .iter()
        .filter_map(|r| loopback_parts(r))
        .any(|r| r == bare)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_uris_register() {
        for ok in [
            "https://app.example/cb",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
            "http://localhost:9/cb?x=1",
            "com.example.player:/oauth",
        ] {
            assert!(check_registrable(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#frag",
            "https://user@app.example/cb",
            "javascript:alert(1)",
            "data:text/html,hi",
            "/relative",
            "http://127.0.0.1.evil.example/cb",
            "https://",
        ] {
            assert!(check_registrable(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirects_match_exactly_but_for_a_native_apps_loopback_port() {
        let reg = vec![
            "https://app.example/cb".to_owned(),
            "http://127.0.0.1/cb".to_owned(),
        ];
        assert!(matches(&reg, "https://app.example/cb", false));
        for bad in [
            "https://app.example/cb/",
            "https://APP.example/cb",
            "https://app.example/cb/extra",
            "https://app.example/cb?x=1",
            "https://app.example/cb#f",
            "https://user@app.example/cb",
            "https://app.example/%63b",
            "https://app.example:444/cb",
            "http://app.example/cb",
        ] {
            assert!(!matches(&reg, bad, true), "{bad}");
        }
        assert!(matches(&reg, "http://127.0.0.1:53122/cb", true));
        assert!(!matches(&reg, "http://127.0.0.1:53122/cb", false));
        assert!(!matches(&reg, "http://127.0.0.1:53122/cb2", true));
        assert!(!matches(&reg, "http://127.0.0.1:53122@evil/cb", true));
    }
}
