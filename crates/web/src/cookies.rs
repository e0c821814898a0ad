//! The `Set-Cookie` values the pages send: the session cookie and the CSRF cookie.
//!
//! Host-only (never a `Domain` attribute), `Path=/`, `HttpOnly`, and `Secure` whenever Clef is
//! reached over TLS (SECURITY.md S3).

use clef_http::HttpConfig;

fn secure_suffix(http: &HttpConfig) -> &'static str {
    if http.secure_cookies() {
        "; Secure"
    } else {
        ""
    }
}

/// The session cookie carrying a new sign-in's token, lasting as long as the sign-in may.
pub fn set_session(http: &HttpConfig, token: &str, max_age_secs: i64) -> String {
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        http.session_cookie_name(),
        secure_suffix(http)
    )
}

/// Removes the session cookie.
pub fn clear_session(http: &HttpConfig) -> String {
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        http.session_cookie_name(),
        secure_suffix(http)
    )
}

/// The CSRF cookie's name: `__Host-` prefixed when cookies are `Secure`.
pub fn csrf_name(http: &HttpConfig) -> &'static str {
    if http.secure_cookies() {
        "__Host-clef_csrf"
    } else {
        "clef_csrf"
    }
}

/// The CSRF cookie: lives for the browser session, never sent cross-site.
pub fn set_csrf(http: &HttpConfig, value: &str) -> String {
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict{}",
        csrf_name(http),
        secure_suffix(http)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(url: &str) -> HttpConfig {
        HttpConfig {
            public_url: url.into(),
            trusted_proxies: vec![],
        }
    }

    #[test]
    fn plain_http_cookies_have_every_flag_but_secure() {
        let h = http("http://127.0.0.1:4533");
        assert_eq!(
            set_session(&h, "tok", 60),
            "clef_session=tok; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        assert_eq!(
            clear_session(&h),
            "clef_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
        assert_eq!(
            set_csrf(&h, "c"),
            "clef_csrf=c; Path=/; HttpOnly; SameSite=Strict"
        );
    }

    #[test]
    fn tls_cookies_are_host_prefixed_and_secure() {
        let h = http("https://music.example.org");
        let s = set_session(&h, "tok", 60);
        assert!(
            s.starts_with("__Host-clef_session=tok;") && s.ends_with("; Secure"),
            "{s}"
        );
        assert!(clear_session(&h).ends_with("Max-Age=0; Secure"));
        let c = set_csrf(&h, "c");
        assert!(
            c.starts_with("__Host-clef_csrf=c;") && c.ends_with("; Secure"),
            "{c}"
        );
        for v in [s, c] {
            assert!(!v.to_ascii_lowercase().contains("domain"));
        }
    }
}
