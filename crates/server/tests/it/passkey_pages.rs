//! Passkeys in real Chromium with the DevTools virtual authenticator (WebDriver's WebAuthn
//! extension: a CTAP2 platform authenticator with resident keys and user verification), on a
//! server named `http://localhost:PORT` (a WebAuthn relying party is a host name, never an IP
//! address): a passkey added on the Account page (password and name, then the browser makes it),
//! listed as never used; signed out, "Sign in with a passkey" signs in with no password and
//! lands in the Library; the passkey is listed with its last use and the security log says so;
//! removed after a confirmation naming it, the same passkey then no longer signs in. And for an
//! account with two-step sign-in, "Use a passkey instead" on the code page answers the challenge.
//! Screenshots at a phone's size (390×844) and a desktop's (1280×800):
//! `test-artifacts/screenshots/passkeys-{account,signin,code}-{phone,desktop}.png`.

use std::panic::AssertUnwindSafe;

use clef_store::{AccountStore, PasskeyStore};
use clef_testkit::{Options, TestServer};
use fantoccini::wd::WebDriverCompatibleCommand;
use futures::FutureExt;
use reqwest::{Method, Url};
use serde_json::{json, Value};

use crate::chromium::{finish, Browser, Driver};
use crate::oauth::PW;
use crate::viewport::{fit, screenshot, set_viewport, DESKTOP, PHONE};

/// A WebDriver WebAuthn command (`/session/{id}/webauthn/…`).
#[derive(Debug)]
struct WebAuthn {
    method: Method,
    path: String,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for WebAuthn {
    fn endpoint(
        &self,
        base: &Url,
        session: Option<&str>,
    ) -> Result<Url, <Url as std::str::FromStr>::Err> {
        base.join(&format!(
            "session/{}/webauthn/{}",
            session.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _url: &Url) -> (Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(Value::to_string),
        )
    }
}

async fn webauthn(b: &Browser, method: Method, path: String, body: Option<Value>) -> Value {
    let what = format!("{method} webauthn/{path}");
    b.client
        .issue_cmd(WebAuthn { method, path, body })
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Gives the browser a platform authenticator that keeps discoverable credentials and verifies
/// its user (as a fingerprint would) without asking; returns its id.
async fn virtual_authenticator(b: &Browser) -> String {
    let id = webauthn(
        b,
        Method::POST,
        "authenticator".into(),
        Some(json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
        })),
    )
    .await;
    id.as_str().expect("an authenticator id").to_owned()
}

/// The credentials the virtual authenticator holds.
async fn credentials(b: &Browser, authenticator: &str) -> Vec<Value> {
    let v = webauthn(
        b,
        Method::GET,
        format!("authenticator/{authenticator}/credentials"),
        None,
    )
    .await;
    v.as_array().cloned().unwrap_or_default()
}

/// The page at `path` on the server's public address (`localhost`, not `127.0.0.1`).
fn public(s: &TestServer, path: &str) -> String {
    format!("{}{path}", s.config.public_url())
}

async fn goto(b: &Browser, s: &TestServer, path: &str) {
    b.client.goto(&public(s, path)).await.unwrap();
}

/// Waits until the element is shown (the script unhides what the browser can do).
async fn wait_shown(b: &Browser, css: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let shown = b
            .js(&format!(
                "const e = document.querySelector({css:?}); return !!e && !e.hidden && e.offsetParent !== null;"
            ))
            .await;
        if shown == json!(true) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{css} shown within 20 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn password_sign_in(b: &Browser, s: &TestServer, user: &str) {
    goto(b, s, "/signin").await;
    b.wait("form[action='/signin']").await;
    b.fill("#username", user).await;
    b.fill("#password", PW).await;
    b.find("form[action='/signin'] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
}

async fn sign_out(b: &Browser, s: &TestServer) {
    goto(b, s, "/account").await;
    b.wait("form[action='/signout']").await;
    b.js("document.querySelector(\"form[action='/signout']\").submit();")
        .await;
    b.wait_path("/signin").await;
}

/// The Account page's passkeys: (name, last used) per row.
async fn listed(b: &Browser) -> Vec<(String, String)> {
    let names = b.texts("#passkey-list .passkey-name").await;
    let used = b.texts("#passkey-list .passkey-last-used").await;
    names.into_iter().zip(used).collect()
}

async fn kinds(s: &TestServer, user: &clef_store::User) -> Vec<(String, String)> {
    s.store
        .events(Some(&user.id), 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.detail.unwrap_or_default()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_is_added_signs_in_without_the_password_and_is_removed() {
    let s = TestServer::start_with(Options {
        localhost: true,
        ..Options::default()
    })
    .await;
    let anna = s.create_user("anna", PW, false).await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        let authenticator = virtual_authenticator(&b).await;
        password_sign_in(&b, &s, "anna").await;
        b.wait_path("/library").await;

        // Add: the password again and a name, then the browser makes the passkey.
        goto(&b, &s, "/account").await;
        b.wait("section#passkeys").await;
        assert_eq!(
            b.find("#no-passkeys").await.text().await.unwrap(),
            "No passkeys yet."
        );
        wait_shown(&b, "#add-passkey").await;
        assert!(
            !b.find("#passkey-unsupported")
                .await
                .is_displayed()
                .await
                .unwrap(),
            "the no-script hint is hidden where passkeys work"
        );
        // A wrong password is refused before any passkey is made.
        b.fill("#passkey_name", "Laptop").await;
        b.fill("#passkey_password", "not the password").await;
        b.find("#add-passkey button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        wait_shown(&b, "#add-passkey-error").await;
        assert_eq!(
            b.find("#add-passkey-error").await.text().await.unwrap(),
            "The current password is wrong. Nothing was changed."
        );
        assert!(credentials(&b, &authenticator).await.is_empty());

        b.fill("#passkey_password", PW).await;
        b.find("#add-passkey button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        b.wait_text(
            "notice",
            "Passkey added. It signs you in without your password.",
        )
        .await;
        assert_eq!(b.path().await, "/account");
        assert_eq!(listed(&b).await, [("Laptop".into(), "Never".into())]);
        let held = credentials(&b, &authenticator).await;
        assert_eq!(
            held.len(),
            1,
            "the authenticator holds one passkey: {held:?}"
        );
        assert_eq!(
            held[0]["isResidentCredential"],
            json!(true),
            "discoverable, so it signs in without a user name"
        );
        assert!(kinds(&s, &anna)
            .await
            .contains(&("passkey_added".into(), "“Laptop”".into())));
        let mut problems = Vec::new();
        for v in [PHONE, DESKTOP] {
            set_viewport(&b, v).await;
            b.wait("#passkey-list").await;
            problems.extend(fit(&b, &format!("passkeys account ({})", v.name)).await);
            screenshot(&b, v, &format!("passkeys-account-{}", v.name)).await;
        }

        // Signed out, the passkey signs in with no password.
        sign_out(&b, &s).await;
        wait_shown(&b, "#passkey-signin").await;
        for v in [PHONE, DESKTOP] {
            set_viewport(&b, v).await;
            wait_shown(&b, "#passkey-signin-button").await;
            problems.extend(fit(&b, &format!("passkeys sign-in ({})", v.name)).await);
            screenshot(&b, v, &format!("passkeys-signin-{}", v.name)).await;
        }
        b.fill("#device_name", "Passkey laptop").await;
        b.find("#passkey-signin-button")
            .await
            .click()
            .await
            .unwrap();
        b.wait_path("/library").await;
        b.wait("body.app main h1").await;
        let devices = s
            .store
            .live_devices(
                &anna.id,
                clef_store::Liveness {
                    now: s.accounts.now(),
                    idle_cutoff: s.accounts.now().minus_secs(3600),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            devices.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            ["Passkey laptop"],
            "the device is named as typed on the sign-in page"
        );
        let events = kinds(&s, &anna).await;
        assert!(
            events
                .iter()
                .any(|(k, d)| k == "new_device" && d.ends_with("with the passkey “Laptop”")),
            "the sign-in is logged with its passkey: {events:?}"
        );

        // Listed with its last use.
        goto(&b, &s, "/account").await;
        b.wait("#passkey-list").await;
        let rows = listed(&b).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, "Laptop");
        assert_ne!(rows[0].1, "Never", "its last use is shown");
        let stored = s.store.passkeys(&anna.id).await.unwrap();
        assert!(stored[0].last_used_at.is_some());

        // Remove: a confirmation naming it first.
        b.find("#passkey-list button.remove-passkey")
            .await
            .click()
            .await
            .unwrap();
        let title = b.wait("#confirm-title").await.text().await.unwrap();
        assert_eq!(title, "Remove the passkey “Laptop”?");
        b.find("#confirm-yes").await.click().await.unwrap();
        b.wait_text("notice", "Passkey removed. It no longer signs you in.")
            .await;
        assert_eq!(
            b.find("#no-passkeys").await.text().await.unwrap(),
            "No passkeys yet."
        );
        assert!(kinds(&s, &anna)
            .await
            .contains(&("passkey_removed".into(), "“Laptop”".into())));

        // The browser still holds it, but it no longer signs in.
        sign_out(&b, &s).await;
        wait_shown(&b, "#passkey-signin-button").await;
        b.find("#passkey-signin-button")
            .await
            .click()
            .await
            .unwrap();
        b.wait_path("/signin/passkey").await;
        assert_eq!(
            b.wait("#error").await.text().await.unwrap(),
            "That passkey was not accepted. Try again, or sign in with your password."
        );
        assert!(b.find_all("body.app").await.is_empty(), "not signed in");
        assert!(problems.is_empty(), "{problems:#?}");
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}

/// Adds a passkey named `name` on the Account page of the signed-in browser.
async fn add_passkey(b: &Browser, s: &TestServer, name: &str) {
    goto(b, s, "/account").await;
    wait_shown(b, "#add-passkey").await;
    b.fill("#passkey_name", name).await;
    b.fill("#passkey_password", PW).await;
    b.find("#add-passkey button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text(
        "notice",
        "Passkey added. It signs you in without your password.",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_answers_the_two_step_challenge() {
    let s = TestServer::start_with(Options {
        localhost: true,
        ..Options::default()
    })
    .await;
    let cleo = s.create_user("cleo", PW, false).await;
    let token = s.token("cleo", PW, "setup").await;
    let (_, recovery) = crate::two_step::enrol(&s, &token).await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        virtual_authenticator(&b).await;
        // Without a passkey, the code page offers only the code (and a recovery code).
        password_sign_in(&b, &s, "cleo").await;
        b.wait("#code-form").await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(
            !b.find("#passkey-second-step")
                .await
                .is_displayed()
                .await
                .unwrap(),
            "no passkey yet: no passkey button"
        );
        b.find("#use-recovery summary").await.click().await.unwrap();
        b.fill("#recovery_code", &recovery[0]).await;
        b.find("#recovery-form button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        b.wait_path("/library").await;
        add_passkey(&b, &s, "Phone").await;
        sign_out(&b, &s).await;

        // With one, the password still comes first; the passkey stands in for the code.
        password_sign_in(&b, &s, "cleo").await;
        b.wait("#code-form").await;
        wait_shown(&b, "#passkey-second-step-button").await;
        let mut problems = Vec::new();
        for v in [PHONE, DESKTOP] {
            set_viewport(&b, v).await;
            problems.extend(fit(&b, &format!("passkeys code page ({})", v.name)).await);
            screenshot(&b, v, &format!("passkeys-code-{}", v.name)).await;
        }
        b.find("#passkey-second-step-button")
            .await
            .click()
            .await
            .unwrap();
        b.wait_path("/library").await;
        b.wait("body.app main h1").await;
        let stored = s.store.passkeys(&cleo.id).await.unwrap();
        assert!(stored[0].last_used_at.is_some(), "the use is recorded");
        assert!(problems.is_empty(), "{problems:#?}");
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}

/// The page's CSRF token for form posts by `c`.
async fn csrf_of(s: &TestServer, c: &reqwest::Client, path: &str) -> String {
    let page = c
        .get(s.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    crate::oauth::hidden(&page, "csrf")
}

#[tokio::test]
async fn an_ip_address_offers_no_passkeys_and_says_why() {
    // The default test server is named by its address, http://127.0.0.1:PORT.
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let anon = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let v: Value = anon
        .get(s.url("/signin/passkey/available"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, json!({ "available": false }));
    let csrf = csrf_of(&s, &anon, "/signin").await;
    let r = anon
        .post(s.url("/signin/passkey/options"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NOT_IMPLEMENTED);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("public_url"), "{v}");

    let c = crate::oauth::browser(&s, "anna").await;
    let page = c
        .get(s.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"passkeys-unavailable\""), "{page}");
    assert!(!page.contains("id=\"add-passkey\""));
}

#[tokio::test]
async fn ceremonies_need_the_page_token_and_answers_are_checked() {
    let s = TestServer::start_with(Options {
        localhost: true,
        ..Options::default()
    })
    .await;
    s.create_user("anna", PW, false).await;
    let anon = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let csrf = csrf_of(&s, &anon, "/signin").await;

    // Without the page's token, nothing is started.
    let r = anon
        .post(s.url("/signin/passkey/options"))
        .form(&[("csrf", "x".repeat(43).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);

    // A sign-in ceremony: any account's discoverable passkey, verified by its user.
    let r = anon
        .post(s.url("/signin/passkey/options"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let pk = &v["options"]["publicKey"];
    assert_eq!(pk["rpId"], "localhost", "{v}");
    assert_eq!(pk["userVerification"], "required");
    assert!(pk["allowCredentials"]
        .as_array()
        .is_none_or(|a| a.is_empty()));
    assert!(
        v["options"].get("mediation").is_none(),
        "asked for by a button"
    );
    let ceremony = v["ceremony"].as_str().unwrap().to_owned();

    // An answer that is not a passkey's is refused, and the ceremony is used up by it.
    for _ in 0..2 {
        let r = anon
            .post(s.url("/signin/passkey"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("ceremony", ceremony.as_str()),
                ("credential", "{\"id\":\"x\"}"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
        let page = r.text().await.unwrap();
        assert!(page.contains("That passkey was not accepted."), "{page}");
    }

    // Adding one: the options exclude nothing yet and ask for a discoverable passkey; a wrong
    // password starts nothing.
    let c = crate::oauth::browser(&s, "anna").await;
    let csrf = csrf_of(&s, &c, "/account").await;
    let r = c
        .post(s.url("/account/passkeys/options"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Laptop"),
            ("current_password", "wrong password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);
    let r = c
        .post(s.url("/account/passkeys/options"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "  "),
            ("current_password", PW),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .post(s.url("/account/passkeys/options"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Laptop"),
            ("current_password", PW),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let pk = &v["options"]["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost", "{v}");
    assert_eq!(pk["user"]["name"], "anna");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "preferred");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");

    // Another account's session cannot finish anna's ceremony.
    s.create_user("bob", PW, false).await;
    let bob = crate::oauth::browser(&s, "bob").await;
    let bob_csrf = csrf_of(&s, &bob, "/account").await;
    let r = bob
        .post(s.url("/account/passkeys"))
        .form(&[
            ("csrf", bob_csrf.as_str()),
            ("ceremony", v["ceremony"].as_str().unwrap()),
            ("credential", "{}"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
}
