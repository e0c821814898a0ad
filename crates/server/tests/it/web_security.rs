//! SECURITY.md items on the web pages: S2 (no session fixation), S3 (cookie flags), S8 (CSRF),
//! and the framing ban of O6, checked on raw HTTP so every header is visible.

use clef_testkit::{Options, TestServer};
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Response, StatusCode};

const PW: &str = "web security password";

/// The value of a hidden form field in `html`.
fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no {name} field in page"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    let tag = &html[start..end];
    let v = tag.find("value=\"").unwrap() + 7;
    tag[v..v + tag[v..].find('"').unwrap()].to_owned()
}

fn set_cookies(r: &Response) -> Vec<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn cookie_value(set_cookie: &str) -> (String, String) {
    let pair = set_cookie.split(';').next().unwrap();
    let (k, v) = pair.split_once('=').unwrap();
    (k.to_owned(), v.to_owned())
}

/// A browser-like session: the cookies it holds, sent by hand.
struct Browser {
    jar: Vec<(String, String)>,
}

impl Browser {
    fn new() -> Self {
        Browser { jar: vec![] }
    }
    fn header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
    fn take(&mut self, r: &Response) {
        for c in set_cookies(r) {
            let (k, v) = cookie_value(&c);
            self.jar.retain(|(n, _)| *n != k);
            if !c.contains("Max-Age=0") {
                self.jar.push((k, v));
            }
        }
    }
    fn get(&self, name: &str) -> Option<String> {
        self.jar
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
    async fn get_raw(&mut self, s: &TestServer, path: &str) -> Response {
        let r = s
            .client()
            .get(s.url(path))
            .header(COOKIE, self.header())
            .send()
            .await
            .unwrap();
        self.take(&r);
        r
    }
    async fn page(&mut self, s: &TestServer, path: &str) -> (StatusCode, String) {
        let r = self.get_raw(s, path).await;
        let st = r.status();
        (st, r.text().await.unwrap())
    }
    async fn post(
        &mut self,
        s: &TestServer,
        path: &str,
        form: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> Response {
        let mut req = s
            .client()
            .post(s.url(path))
            .header(COOKIE, self.header())
            .form(form);
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        self.take(&r);
        r
    }
    /// Signs in through the form; returns the sign-in response.
    async fn sign_in(&mut self, s: &TestServer, user: &str) -> Response {
        let (_, html) = self.page(s, "/signin").await;
        let csrf = hidden(&html, "csrf");
        self.post(
            s,
            "/signin",
            &[("username", user), ("password", PW), ("csrf", &csrf)],
            &[],
        )
        .await
    }
}

fn session_cookie(cookies: &[String], name: &str) -> String {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"))
        .clone()
}

#[tokio::test]
async fn s3_cookies_are_httponly_samesite_without_domain_and_host_prefixed_behind_tls() {
    for https in [false, true] {
        let s = TestServer::start_with(Options {
            https,
            ..Options::default()
        })
        .await;
        s.create_user("anna", PW, false).await;
        let mut b = Browser::new();
        let r = b.sign_in(&s, "anna").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let cookies = set_cookies(&r);
        let name = if https {
            "__Host-clef_session"
        } else {
            "clef_session"
        };
        let c = session_cookie(&cookies, name);
        for flag in ["HttpOnly", "Path=/"] {
            assert!(c.contains(flag), "{flag} missing: {c}");
        }
        assert!(
            c.contains("SameSite=Lax") || c.contains("SameSite=Strict"),
            "{c}"
        );
        assert!(!c.to_ascii_lowercase().contains("domain="), "{c}");
        assert_eq!(
            c.contains("Secure"),
            https,
            "Secure exactly when behind TLS: {c}"
        );
        let csrf_name = if https {
            "__Host-clef_csrf"
        } else {
            "clef_csrf"
        };
        let r = Browser::new().get_raw(&s, "/signin").await;
        let csrf = session_cookie(&set_cookies(&r), csrf_name);
        assert!(
            csrf.contains("HttpOnly")
                && csrf.contains("SameSite=Strict")
                && !csrf.to_ascii_lowercase().contains("domain="),
            "{csrf}"
        );
    }
}

#[tokio::test]
async fn s2_a_planted_session_id_never_becomes_authenticated() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let mut b = Browser::new();
    b.jar
        .push(("clef_session".into(), "planted-by-an-attacker".into()));
    let (st, _) = b.page(&s, "/devices").await;
    assert_eq!(st, StatusCode::SEE_OTHER, "a planted id is not a session");
    b.jar
        .push(("clef_session".into(), "planted-by-an-attacker".into()));
    let r = b.sign_in(&s, "anna").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let issued = b.get("clef_session").unwrap();
    assert_ne!(issued, "planted-by-an-attacker", "sign-in issued a new id");
    assert_eq!(
        s.get("planted-by-an-attacker", "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(s.get(&issued, "/api/v1/me").await.0, StatusCode::OK);
    // A second sign-in from the same browser (its form token still in hand) gets yet another id.
    let csrf = b.get("clef_csrf").unwrap();
    let r = b
        .post(
            &s,
            "/signin",
            &[("username", "anna"), ("password", PW), ("csrf", &csrf)],
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_ne!(b.get("clef_session").unwrap(), issued);
}

#[tokio::test]
async fn s8_state_changes_need_the_form_token_and_our_origin() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let other = s.token("anna", PW, "other device").await;
    let mut b = Browser::new();
    b.sign_in(&s, "anna").await;
    let (st, html) = b.page(&s, "/account").await;
    assert_eq!(st, StatusCode::OK);
    let csrf = hidden(&html, "csrf");
    let origin = format!("http://{}", s.addr);
    type Pairs<'a> = Vec<(&'a str, &'a str)>;
    let attempts: Vec<(Pairs, Pairs)> = vec![
        (
            vec![("csrf", csrf.as_str())],
            vec![("Origin", "https://evil.test")],
        ),
        (
            vec![("csrf", csrf.as_str())],
            vec![("Sec-Fetch-Site", "cross-site")],
        ),
        (vec![], vec![("Origin", origin.as_str())]),
        (
            vec![("csrf", "forged-token")],
            vec![("Origin", origin.as_str())],
        ),
    ];
    for (form, headers) in &attempts {
        let r = b
            .post(&s, "/account/signout-everywhere", form, headers)
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{form:?} {headers:?}");
        assert_eq!(
            s.get(&other, "/api/v1/me").await.0,
            StatusCode::OK,
            "nothing changed after {form:?} {headers:?}"
        );
    }
    // No state change on GET.
    let (st, _) = b.page(&s, "/account/signout-everywhere").await;
    assert!(
        st == StatusCode::METHOD_NOT_ALLOWED || st == StatusCode::NOT_FOUND,
        "{st}"
    );
    assert_eq!(s.get(&other, "/api/v1/me").await.0, StatusCode::OK);
    // The API refuses a cookie-borne change from another origin, but not a bearer token.
    let (_, me) = s.get(&other, "/api/v1/me").await;
    let other_id = me["device_id"].as_str().unwrap().to_owned();
    let r = s
        .client()
        .delete(s.url(&format!("/api/v1/devices/{other_id}")))
        .header(COOKIE, b.header())
        .header("Origin", "https://evil.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(s.get(&other, "/api/v1/me").await.0, StatusCode::OK);
    // The real form from our own page asks first, then works.
    let r = b
        .post(
            &s,
            "/account/signout-everywhere",
            &[("csrf", &csrf), ("keep_current", "on")],
            &[("Origin", &origin)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "the confirmation page");
    assert_eq!(
        s.get(&other, "/api/v1/me").await.0,
        StatusCode::OK,
        "nothing yet"
    );
    let r = b
        .post(
            &s,
            "/account/signout-everywhere",
            &[("csrf", &csrf), ("keep_current", "on"), ("confirm", "yes")],
            &[("Origin", &origin)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (st, v) = s.get(&other, "/api/v1/me").await;
    assert_eq!(
        (st, v["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("signed_out_everywhere"))
    );
}

#[tokio::test]
async fn signed_out_browser_is_sent_to_sign_in_with_the_reason_and_pages_forbid_framing() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let mut b = Browser::new();
    b.sign_in(&s, "anna").await;
    let session = b.get("clef_session").unwrap();
    let (_, me) = s.get(&session, "/api/v1/me").await;
    let admin_token = s.token("anna", PW, "phone").await;
    s.call(
        reqwest::Method::DELETE,
        &admin_token,
        &format!("/api/v1/devices/{}", me["device_id"].as_str().unwrap()),
        None,
    )
    .await;
    let r = s
        .client()
        .get(s.url("/devices"))
        .header(COOKIE, b.header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/signin?reason=signed_out_by_user");
    let (st, html) = b.page(&s, "/signin?reason=signed_out_by_user").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("signed-out-reason") && html.contains("This device was signed out."));
    let r = s.client().get(s.url("/signin")).send().await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
}
