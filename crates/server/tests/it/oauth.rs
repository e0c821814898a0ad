//! The authorization server (SECURITY.md O1–O7) driven over HTTP: a real OAuth client library
//! (authlib) from the metadata alone, and each rule with its own test.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clef_testkit::TestServer;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub(crate) const PW: &str = "oauth test password";
pub(crate) const NATIVE_CB: &str = "http://127.0.0.1/callback";
pub(crate) const WEB_CB: &str = "https://app.example/callback";

/// Registers an app as `token`'s user; returns its client id and secret.
pub(crate) async fn register(
    s: &TestServer,
    token: &str,
    name: &str,
    uris: &[&str],
    confidential: bool,
) -> (String, Option<String>) {
    let (status, body) = s
        .call(
            reqwest::Method::POST,
            token,
            "/api/v1/apps",
            Some(json!({ "name": name, "redirect_uris": uris, "confidential": confidential })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["client_id"].as_str().unwrap().to_owned(),
        body["client_secret"].as_str().map(str::to_owned),
    )
}

/// A browser without script, signed in through the sign-in form.
pub(crate) async fn browser(s: &TestServer, user: &str) -> Client {
    let b = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = b
        .get(s.url("/signin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = b
        .post(s.url("/signin"))
        .form(&[
            ("username", user),
            ("password", PW),
            ("device_name", "consent browser"),
            ("csrf", &hidden(&page, "csrf")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    b
}

/// The value of a hidden field of `page`.
pub(crate) fn hidden(page: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let at = page
        .find(&needle)
        .unwrap_or_else(|| panic!("no {name} in {page}"));
    let rest = &page[at + needle.len()..];
    rest[..rest.find('"').unwrap()]
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// A PKCE verifier and its S256 challenge.
pub(crate) fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(rand_bytes());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn rand_bytes() -> [u8; 32] {
    let mut b = [0u8; 32];
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        .to_le_bytes();
    let h = Sha256::digest([&t[..], &std::process::id().to_le_bytes()].concat());
    b.copy_from_slice(&h);
    b
}

pub(crate) fn authorize_path(
    client_id: &str,
    redirect: &str,
    scope: &str,
    challenge: &str,
) -> String {
    let q = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect),
        ("scope", scope),
        ("state", "xyz"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    format!("/oauth/authorize?{}", serde_urlencode(&q))
}

pub(crate) fn serde_urlencode(pairs: &[(&str, &str)]) -> String {
    reqwest::Url::parse_with_params("http://x/", pairs)
        .unwrap()
        .query()
        .unwrap_or_default()
        .to_owned()
}

fn query_of(location: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(crate) fn param(location: &str, name: &str) -> Option<String> {
    query_of(location)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Opens the consent page for `path` and answers it; returns where the app is sent.
pub(crate) async fn consent(s: &TestServer, b: &Client, path: &str, decision: &str) -> String {
    let r = b.get(s.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "consent page for {path}");
    let page = r.text().await.unwrap();
    let mut form: Vec<(String, String)> = [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "csrf",
    ]
    .iter()
    .map(|f| (f.to_string(), hidden(&page, f)))
    .collect();
    form.push(("decision".into(), decision.into()));
    let r = b
        .post(s.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// A code for `client_id`, approved by `user` in the browser `b`.
pub(crate) async fn code(
    s: &TestServer,
    b: &Client,
    client_id: &str,
    redirect: &str,
    scope: &str,
    challenge: &str,
) -> String {
    let back = consent(
        s,
        b,
        &authorize_path(client_id, redirect, scope, challenge),
        "approve",
    )
    .await;
    param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"))
}

pub(crate) async fn token_request(s: &TestServer, form: &[(&str, &str)]) -> Response {
    s.client()
        .post(s.url("/oauth/token"))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Runs the code flow for a public app and returns its token response.
pub(crate) async fn tokens_for(s: &TestServer, b: &Client, client_id: &str, scope: &str) -> Value {
    let (verifier, challenge) = pkce();
    let code = code(s, b, client_id, NATIVE_CB, scope, &challenge).await;
    let r = token_request(
        s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", NATIVE_CB),
            ("client_id", client_id),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    r.json().await.unwrap()
}

pub(crate) async fn refresh(s: &TestServer, client_id: &str, rt: &str) -> Response {
    token_request(
        s,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", client_id),
        ],
    )
    .await
}

async fn setup() -> (TestServer, String) {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let t = s.token("anna", PW, "anna's laptop").await;
    (s, t)
}

#[tokio::test]
async fn authlib_drives_clef_from_its_metadata() {
    let (s, t) = setup().await;
    let (public, _) = register(&s, &t, "Party queue", &[NATIVE_CB], false).await;
    let (conf, secret) = register(&s, &t, "Scrobbler", &[WEB_CB], true).await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/oauth_authlib.py"
    );
    // The server answers on this runtime, so the client runs without blocking it.
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .env("CLEF_URL", s.url("").trim_end_matches('/'))
        .env("CLEF_USER", "anna")
        .env("CLEF_PASSWORD", PW)
        .env("PUBLIC_CLIENT_ID", &public)
        .env("CONF_CLIENT_ID", &conf)
        .env("CONF_CLIENT_SECRET", secret.unwrap())
        .output()
        .await
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("ok"),
        "authlib run failed (python3 needs authlib and requests; .ci/run installs them):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// O1: only the registered string redirects; every variant gets our error page, no Location.
#[tokio::test]
async fn o1_redirect_uri_variants_never_redirect() {
    let (s, t) = setup().await;
    let (web, _) = register(&s, &t, "Web app", &[WEB_CB], true).await;
    let (native, _) = register(&s, &t, "Native app", &[NATIVE_CB], false).await;
    let b = browser(&s, "anna").await;
    let (_, challenge) = pkce();
    let variants = [
        "https://app.example/callback/",
        "https://APP.example/callback",
        "https://app.example/Callback",
        "https://app.example/callback/more",
        "https://app.example/callback?x=1",
        "https://app.example/callback#frag",
        "https://evil@app.example/callback",
        "https://app.example@evil.example/callback",
        "https://app.example/%63allback",
        "https://app.example:8443/callback",
        "http://app.example/callback",
        "https://evil.example/callback",
        "",
    ];
    for v in variants {
        let r = b
            .get(s.url(&authorize_path(&web, v, "profile", &challenge)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{v:?}");
        assert!(r.headers().get("location").is_none(), "{v:?} redirected");
    }
    // A native app's loopback URI may use any port, but nothing else may change.
    let ok = b
        .get(s.url(&authorize_path(
            &native,
            "http://127.0.0.1:49152/callback",
            "profile",
            &challenge,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    for v in [
        "http://127.0.0.1:49152/callback/x",
        "http://localhost:49152/callback",
        "https://127.0.0.1:49152/callback",
    ] {
        let r = b
            .get(s.url(&authorize_path(&native, v, "profile", &challenge)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{v}");
        assert!(r.headers().get("location").is_none(), "{v}");
    }
    // An unknown app: our page, no Location either.
    let r = b
        .get(s.url(&authorize_path(
            "no-such-app",
            WEB_CB,
            "profile",
            &challenge,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());
    // Registering an unsafe URI is refused.
    for bad in [
        "http://app.example/cb",
        "https://app.example/cb#x",
        "javascript:alert(1)",
    ] {
        let (status, body) = s
            .call(
                reqwest::Method::POST,
                &t,
                "/api/v1/apps",
                Some(json!({ "name": "x", "redirect_uris": [bad] })),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
}

/// O2: PKCE S256 is required; `plain`, no challenge, or a wrong verifier are refused.
#[tokio::test]
async fn o2_pkce_is_required_and_s256_only() {
    let (s, t) = setup().await;
    let (app, _) = register(&s, &t, "Player", &[NATIVE_CB], false).await;
    let b = browser(&s, "anna").await;
    let (verifier, challenge) = pkce();
    for (method, ch) in [
        (None, None),
        (Some("plain"), Some(verifier.as_str())),
        (None, Some(challenge.as_str())),
    ] {
        let mut q = vec![
            ("response_type", "code"),
            ("client_id", app.as_str()),
            ("redirect_uri", NATIVE_CB),
            ("scope", "profile"),
            ("state", "s1"),
        ];
        if let Some(c) = ch {
            q.push(("code_challenge", c));
        }
        if let Some(m) = method {
            q.push(("code_challenge_method", m));
        }
        let r = b
            .get(s.url(&format!("/oauth/authorize?{}", serde_urlencode(&q))))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{method:?} {ch:?}");
        let loc = r.headers()["location"].to_str().unwrap();
        assert_eq!(
            param(loc, "error").as_deref(),
            Some("invalid_request"),
            "{loc}"
        );
        assert_eq!(param(loc, "state").as_deref(), Some("s1"));
        assert!(param(loc, "code").is_none());
    }
    // A code whose exchange lacks or mismatches the verifier yields nothing.
    let code1 = code(&s, &b, &app, NATIVE_CB, "profile", &challenge).await;
    let (other, _) = pkce();
    for v in [None, Some(other.as_str()), Some(challenge.as_str())] {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code1.as_str()),
            ("redirect_uri", NATIVE_CB),
            ("client_id", app.as_str()),
        ];
        if let Some(v) = v {
            form.push(("code_verifier", v));
        }
        let r = token_request(&s, &form).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let body: Value = r.json().await.unwrap();
        assert!(
            matches!(
                body["error"].as_str(),
                Some("invalid_grant" | "invalid_request")
            ),
            "{body}"
        );
    }
}

/// O3: a code works once; presented again it is refused and what it issued is revoked.
#[tokio::test]
async fn o3_a_replayed_code_revokes_what_it_issued() {
    let (s, t) = setup().await;
    let (app, _) = register(&s, &t, "Player", &[NATIVE_CB], false).await;
    let b = browser(&s, "anna").await;
    let (verifier, challenge) = pkce();
    let code = code(&s, &b, &app, NATIVE_CB, "library:read", &challenge).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", NATIVE_CB),
        ("client_id", app.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let first: Value = token_request(&s, &form).await.json().await.unwrap();
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(
        s.fetch(access, "/api/v1/albums").await.status(),
        StatusCode::OK
    );
    let again = token_request(&s, &form).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let (status, body) = s.get(access, "/api/v1/albums").await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("code_replayed"))
    );
    let r = refresh(&s, &app, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "the refresh token died with it"
    );
}

/// O4: rotation with reuse detection; two concurrent uses of one refresh token admit one.
#[tokio::test]
async fn o4_refresh_rotates_and_concurrent_uses_admit_one() {
    let (s, t) = setup().await;
    let (app, _) = register(&s, &t, "Player", &[NATIVE_CB], false).await;
    let b = browser(&s, "anna").await;
    let first = tokens_for(&s, &b, &app, "library:read").await;
    let rt1 = first["refresh_token"].as_str().unwrap().to_owned();
    let second: Value = refresh(&s, &app, &rt1).await.json().await.unwrap();
    let rt2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2);
    // Many uses of rt2 at once: at most one gets tokens (and the reuse then ends the grant).
    let tries = futures::future::join_all((0..8).map(|_| refresh(&s, &app, &rt2))).await;
    let ok: Vec<&Response> = tries
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .collect();
    assert!(ok.len() <= 1, "{} concurrent refreshes succeeded", ok.len());
    // rt1 replayed: refused, and everything of the grant is dead.
    assert_eq!(
        refresh(&s, &app, &rt1).await.status(),
        StatusCode::BAD_REQUEST
    );
    let (status, body) = s
        .get(second["access_token"].as_str().unwrap(), "/api/v1/albums")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["reason"], "refresh_token_reused");
    let (_, events) = s.get(&t, "/api/v1/security-events").await;
    assert!(
        events.to_string().contains("refresh_token_reused"),
        "{events}"
    );
}

/// O5: RFC 7009 — unknown tokens get 200; another app's token is untouched; a refresh token
/// takes its access tokens.
#[tokio::test]
async fn o5_revocation_of_unknown_foreign_and_refresh_tokens() {
    let (s, t) = setup().await;
    let (a, _) = register(&s, &t, "App A", &[NATIVE_CB], false).await;
    let (other, _) = register(&s, &t, "App B", &[NATIVE_CB], false).await;
    let b = browser(&s, "anna").await;
    let ta = tokens_for(&s, &b, &a, "library:read").await;
    let revoke = |client: String, token: String| {
        let s = &s;
        async move {
            s.client()
                .post(s.url("/oauth/revoke"))
                .form(&[("token", token.as_str()), ("client_id", client.as_str())])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let access = ta["access_token"].as_str().unwrap().to_owned();
    assert_eq!(revoke(a.clone(), "unknown".into()).await, StatusCode::OK);
    assert_eq!(revoke(other.clone(), access.clone()).await, StatusCode::OK);
    assert_eq!(
        s.fetch(&access, "/api/v1/albums").await.status(),
        StatusCode::OK,
        "B cannot revoke A's token"
    );
    // A sign-in token is no app's to revoke.
    assert_eq!(revoke(a.clone(), t.clone()).await, StatusCode::OK);
    assert_eq!(s.fetch(&t, "/api/v1/albums").await.status(), StatusCode::OK);
    assert_eq!(
        revoke(a.clone(), ta["refresh_token"].as_str().unwrap().into()).await,
        StatusCode::OK
    );
    let (status, body) = s.get(&access, "/api/v1/albums").await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_revoked"))
    );
}

/// O6: no implicit or password grant; the consent and sign-in pages cannot be framed.
#[tokio::test]
async fn o6_no_implicit_or_password_grant_and_no_framing() {
    let (s, t) = setup().await;
    let (app, _) = register(&s, &t, "Player", &[NATIVE_CB], false).await;
    let b = browser(&s, "anna").await;
    let (_, challenge) = pkce();
    let path = authorize_path(&app, NATIVE_CB, "profile", &challenge)
        .replace("response_type=code", "response_type=token");
    let r = b.get(s.url(&path)).send().await.unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        param(&loc, "error").as_deref(),
        Some("unsupported_response_type")
    );
    assert!(!loc.contains("access_token"));
    let r = token_request(
        &s,
        &[
            ("grant_type", "password"),
            ("username", "anna"),
            ("password", PW),
            ("client_id", &app),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_grant_type");
    for page in [
        authorize_path(&app, NATIVE_CB, "profile library:read", &challenge),
        "/signin".into(),
    ] {
        let r = b.get(s.url(&page)).send().await.unwrap();
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("frame-ancestors 'none'"), "{page}: {csp}");
        if page.starts_with("/oauth") {
            let html = r.text().await.unwrap();
            assert!(html.contains("Registered by") && html.contains("anna"));
            assert!(
                html.contains("See your user name")
                    && html.contains("Browse and search your music library")
            );
        }
    }
}

/// O7: Remove access ends the grant and every token at once, with the reason.
#[tokio::test]
async fn o7_remove_access_ends_every_token_at_once() {
    let (s, t) = setup().await;
    let (app, _) = register(&s, &t, "Player", &[NATIVE_CB], false).await;
    let b = browser(&s, "anna").await;
    let one = tokens_for(&s, &b, &app, "library:read").await;
    let two = tokens_for(&s, &b, &app, "stream").await;
    let (_, apps) = s.get(&t, "/api/v1/me/apps").await;
    let list = apps.as_array().unwrap();
    assert_eq!(list.len(), 1, "one grant per app: {apps}");
    assert_eq!(list[0]["name"], "Player");
    assert_eq!(list[0]["registered_by"], "anna");
    assert_eq!(list[0]["scopes"], json!(["library:read", "stream"]));
    let grant = list[0]["grant_id"].as_str().unwrap();
    let (status, _) = s
        .call(
            reqwest::Method::DELETE,
            &t,
            &format!("/api/v1/me/apps/{grant}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for tok in [&one, &two] {
        let r = s
            .fetch(tok["access_token"].as_str().unwrap(), "/api/v1/albums")
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.headers()["www-authenticate"],
            "Bearer error=\"invalid_token\""
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            (body["error"].as_str(), body["reason"].as_str()),
            (Some("signed_out"), Some("access_removed"))
        );
        assert_eq!(
            refresh(&s, &app, tok["refresh_token"].as_str().unwrap())
                .await
                .status(),
            StatusCode::BAD_REQUEST
        );
    }
    let (_, apps) = s.get(&t, "/api/v1/me/apps").await;
    assert_eq!(apps, json!([]));
    let (_, events) = s.get(&t, "/api/v1/security-events").await;
    let kinds = events.to_string();
    assert!(
        kinds.contains("app_authorized") && kinds.contains("app_access_removed"),
        "{kinds}"
    );
}

/// Scopes: each route refuses a token without its scope (403 `insufficient_scope`, naming it),
/// and account management refuses every app token.
#[tokio::test]
async fn every_route_needs_its_scope_and_account_routes_refuse_apps() {
    let (s, t) = setup().await;
    let (app, _) = register(&s, &t, "Player", &[NATIVE_CB], false).await;
    let b = browser(&s, "anna").await;
    let routes: &[(&str, &str, &str)] = &[
        ("GET", "/api/v1/me", "profile"),
        ("GET", "/api/v1/albums", "library:read"),
        ("GET", "/api/v1/artists", "library:read"),
        ("GET", "/api/v1/genres", "library:read"),
        ("GET", "/api/v1/search?q=a", "library:read"),
        ("GET", "/api/v1/playback", "stream"),
        ("GET", "/api/v1/tracks/x/stream", "stream"),
        ("GET", "/api/v1/playlists", "playlists:read"),
        ("POST", "/api/v1/playlists", "playlists:write"),
        ("DELETE", "/api/v1/playlists/x", "playlists:write"),
        ("GET", "/api/v1/exports", "export"),
    ];
    let all = "profile library:read playlists:read playlists:write stream export";
    for (method, path, scope) in routes {
        let others: Vec<&str> = all.split(' ').filter(|x| x != scope).collect();
        let tok = tokens_for(&s, &b, &app, &others.join(" ")).await;
        let r = s
            .client()
            .request(method.parse().unwrap(), s.url(path))
            .bearer_auth(tok["access_token"].as_str().unwrap())
            .json(&json!({ "name": "x" }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{method} {path} without {scope}"
        );
        let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert_eq!(
            challenge,
            format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\"")
        );
    }
    let full = tokens_for(&s, &b, &app, all).await;
    let ft = full["access_token"].as_str().unwrap();
    assert_eq!(s.fetch(ft, "/api/v1/albums").await.status(), StatusCode::OK);
    for (method, path) in [
        ("GET", "/api/v1/devices"),
        ("POST", "/api/v1/devices/sign-out-everywhere"),
        ("DELETE", "/api/v1/sessions/current"),
        ("PUT", "/api/v1/me/password"),
        ("GET", "/api/v1/security-events"),
        ("GET", "/api/v1/apps"),
        ("POST", "/api/v1/apps"),
        ("GET", "/api/v1/me/apps"),
        ("GET", "/api/v1/admin/users"),
    ] {
        let r = s
            .client()
            .request(method.parse().unwrap(), s.url(path))
            .bearer_auth(ft)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{method} {path}");
    }
    // And pages are not an app's either, even with its token in the cookie.
    let r = s
        .client()
        .get(s.url("/devices"))
        .header("cookie", format!("clef_session={ft}"))
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), StatusCode::OK);
}

/// The API's document says, for every `/api/v1` operation, the scope an app needs or that apps
/// may never call it; and the apps routes are described.
#[tokio::test]
async fn the_openapi_document_states_each_routes_scope() {
    let s = TestServer::start().await;
    let doc: Value = s
        .client()
        .get(s.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/apps",
        "/api/v1/me/apps",
        "/api/v1/me/apps/{grant_id}",
    ] {
        assert!(paths.contains_key(p), "{p} undocumented");
    }
    let mut checked = 0;
    for (path, item) in paths.iter().filter(|(p, _)| p.starts_with("/api/v1/")) {
        for (method, op) in item.as_object().unwrap() {
            if op.get("security") == Some(&json!([])) {
                continue;
            }
            let scoped = op["security"].to_string().contains("oauth");
            assert!(
                scoped || op.get("x-apps").is_some(),
                "{method} {path} states no scope"
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
    assert_eq!(
        doc["paths"]["/api/v1/albums"]["get"]["security"][2]["oauth"],
        json!(["library:read"])
    );
    assert!(doc["paths"]["/api/v1/devices"]["get"]
        .get("x-apps")
        .is_some());
}

/// Failed client authentication is throttled like sign-in: after the free failures, even the
/// right secret waits, and the answer says for how long.
#[tokio::test]
async fn wrong_client_secrets_are_throttled_like_passwords() {
    let (s, t) = setup().await;
    let (app, secret) = register(&s, &t, "Scrobbler", &[WEB_CB], true).await;
    let introspect = |secret: String| {
        let (s, app) = (&s, app.clone());
        async move {
            s.client()
                .post(s.url("/oauth/introspect"))
                .basic_auth(app, Some(secret))
                .form(&[("token", "x")])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        introspect(secret.clone().unwrap()).await.status(),
        StatusCode::OK
    );
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(introspect("wrong secret".into()).await.status());
    }
    assert!(
        statuses[..5].iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(statuses[7], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    let r = introspect(secret.unwrap()).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
}
