//! The pages a person walks when an app or a TV asks for access, in headless Chromium at a
//! phone's size (390×844) and a desktop's (1280×800):
//! - the consent page, reached from a browser that is not signed in: the app's link leads to
//!   sign-in, which says why and comes back to the question (past a mistyped password and the
//!   device limit too); Allow sends the browser to the
//!   app's address with a code the app exchanges for tokens, Deny with `access_denied`;
//! - `/device`: the code typed as people type it (lower case, no dash) finds the TV's request;
//!   Allow signs the TV in; at the device limit the page names the devices holding the slots and
//!   "Sign out this one and continue" frees one on the spot.
//!
//! Screenshots: `test-artifacts/screenshots/consent-*.png` and `device-*.png`.

use std::panic::AssertUnwindSafe;

use clef_core::Scope;
use clef_store::AccountStore;
use clef_testkit::TestServer;
use futures::FutureExt;
use reqwest::StatusCode;
use serde_json::Value;

use crate::chromium::{finish, Browser, Driver};
use crate::device_grant;
use crate::oauth::{self, authorize_path, param, pkce, register, token_request, PW};
use crate::viewport::{at_both_sizes, set_viewport, PHONE};

/// Where the app waits for the browser: a loopback address (any port may stand in for the
/// registered one), here our own server, whose "not found" page the browser lands on.
const CALLBACK_PATH: &str = "/oauth-callback-test";

/// Fills the sign-in form shown now as anna on "Chromium" with `password`, and sends it.
async fn sign_in_form(b: &Browser, password: &str) {
    b.wait("form[action='/signin']").await;
    b.fill("#username", "anna").await;
    b.fill("#password", password).await;
    b.fill("#device_name", "Chromium").await;
    b.find("form[action='/signin'] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
}

/// The query of the page the browser is at, once it has reached `CALLBACK_PATH`.
async fn arrived_at_app(b: &Browser) -> reqwest::Url {
    b.wait_path(CALLBACK_PATH).await;
    let url = b.client.current_url().await.unwrap();
    reqwest::Url::parse(url.as_str()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_from_a_browser_not_signed_in_then_allow_and_deny() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let token = s.token("anna", PW, "anna's laptop").await;
    let registered = format!("http://127.0.0.1{CALLBACK_PATH}");
    let (client_id, _) = register(&s, &token, "Party queue", &[&registered], false).await;
    let callback = s.url(CALLBACK_PATH);
    assert!(callback.starts_with("http://127.0.0.1:"), "{callback}");
    let scope = "library:read stream";

    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        let mut problems = Vec::new();
        let (verifier, challenge) = pkce();
        let ask = authorize_path(&client_id, &callback, scope, &challenge);

        // Not signed in: the app's link leads to sign-in, which says why.
        set_viewport(&b, PHONE).await;
        b.goto(&s, &ask).await;
        b.wait_path("/signin").await;
        let why = b.wait("#signin-for-app").await.text().await.unwrap();
        assert!(why.contains("request for access"), "{why}");
        at_both_sizes(&b, "consent-signin", &mut problems).await;

        // A mistyped password says so, and still leads back to the question.
        sign_in_form(&b, "not the password").await;
        let error = b.wait("#error").await.text().await.unwrap();
        assert_eq!(error, "Wrong user name or password.");
        assert!(b
            .find("#signin-for-app")
            .await
            .is_displayed()
            .await
            .unwrap());

        // At the device limit (one, held by the laptop), freeing the slot still leads back.
        let anna = s.store.user_by_name("anna").await.unwrap().unwrap();
        s.store.set_limits(&anna.id, Some(1), None).await.unwrap();
        sign_in_form(&b, PW).await;
        b.wait("#device-limit").await;
        assert_eq!(
            b.texts("tr[data-device-id] td.name").await,
            vec!["anna's laptop"]
        );
        b.find("button.replace").await.click().await.unwrap();

        // Signed in, the browser is back at the question.
        b.wait_path("/oauth/authorize").await;
        let title = b.wait("#consent-title").await.text().await.unwrap();
        assert_eq!(title, "Allow Party queue to use your music?");
        let who = b.find("#consent-who").await.text().await.unwrap();
        assert!(who.contains("Registered by anna"), "{who}");
        assert!(who.contains("signed in as anna"), "{who}");
        assert_eq!(
            b.texts("#consent-scopes li").await,
            vec![
                Scope::LibraryRead.describe().to_owned(),
                Scope::Stream.describe().to_owned()
            ],
            "each scope in plain words"
        );
        at_both_sizes(&b, "consent", &mut problems).await;

        // Allow: the browser goes to the app with a code, the state and the issuer.
        b.find("#approve").await.click().await.unwrap();
        let back = arrived_at_app(&b).await;
        let back = back.as_str();
        assert_eq!(param(back, "state").as_deref(), Some("xyz"));
        let metadata: Value = s
            .client()
            .get(s.url("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(param(back, "iss").as_deref(), metadata["issuer"].as_str());
        let code = param(back, "code").unwrap_or_else(|| panic!("no code in {back}"));
        let r = token_request(
            &s,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &callback),
                ("client_id", &client_id),
                ("code_verifier", &verifier),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let tokens: Value = r.json().await.unwrap();
        let access = tokens["access_token"].as_str().unwrap();
        assert_eq!(
            s.fetch(access, "/api/v1/albums").await.status(),
            StatusCode::OK,
            "the app reads the library"
        );
        assert_eq!(
            s.fetch(access, "/api/v1/devices").await.status(),
            StatusCode::FORBIDDEN,
            "but cannot see the devices it was not given"
        );

        // Asked again and denied: the app hears `access_denied`, and gets no code.
        let (_, challenge) = pkce();
        b.goto(
            &s,
            &authorize_path(&client_id, &callback, scope, &challenge),
        )
        .await;
        b.wait("#deny").await.click().await.unwrap();
        let back = arrived_at_app(&b).await;
        let back = back.as_str();
        assert_eq!(param(back, "error").as_deref(), Some("access_denied"));
        assert_eq!(param(back, "state").as_deref(), Some("xyz"));
        assert_eq!(param(back, "code"), None);
        assert!(problems.is_empty(), "{problems:#?}");
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}

/// Types `user_code` as a person might (lower case, no dash) on `/device` and continues.
async fn type_code(b: &Browser, s: &TestServer, user_code: &str) {
    b.goto(s, "/device").await;
    b.wait("#code").await;
    b.fill("#code", &user_code.replace('-', "").to_lowercase())
        .await;
    b.find("form[action='/device'] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.wait("#approve").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tv_is_signed_in_by_code_and_at_the_limit_one_slot_is_freed_on_the_spot() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let token = s.token("anna", PW, "anna's laptop").await;
    let (app, _) = register(&s, &token, "Clef TV", &[oauth::NATIVE_CB], false).await;

    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        let mut problems = Vec::new();
        b.sign_in(&s, "anna", PW, "Chromium").await;
        b.goto(&s, "/device").await;
        b.wait("#code").await;
        at_both_sizes(&b, "device-entry", &mut problems).await;

        // A wrong code says so and keeps what was typed.
        b.fill("#code", "bcdfghjk").await;
        b.find("form[action='/device'] button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        let error = b.wait("#error").await.text().await.unwrap();
        assert!(error.contains("That code is not right"), "{error}");
        assert_eq!(
            b.find("#code")
                .await
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some("bcdfghjk")
        );

        // The TV's code, typed lower case without its dash, finds the TV's request.
        let tv = device_grant::start(&s, &app, "Living room TV").await;
        let user_code = tv["user_code"].as_str().unwrap();
        type_code(&b, &s, user_code).await;
        let title = b.find("#device-title").await.text().await.unwrap();
        assert_eq!(title, "Sign in Living room TV?");
        assert_eq!(
            b.find("#device-code").await.text().await.unwrap(),
            user_code,
            "the page shows the code to compare with the TV's screen"
        );
        assert_eq!(
            b.texts("#consent-scopes li").await,
            vec![
                Scope::LibraryRead.describe().to_owned(),
                Scope::Stream.describe().to_owned()
            ]
        );
        let who = b.find("#device-who").await.text().await.unwrap();
        assert!(
            who.starts_with("A TV using Clef TV (registered by anna)"),
            "{who}"
        );
        at_both_sizes(&b, "device-request", &mut problems).await;
        b.find("#approve").await.click().await.unwrap();
        b.wait_text("device-done", "Done").await;
        let (status, tokens) =
            device_grant::poll(&s, &app, tv["device_code"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let tv_access = tokens["access_token"].as_str().unwrap().to_owned();
        assert_eq!(
            s.fetch(&tv_access, "/api/v1/albums").await.status(),
            StatusCode::OK
        );

        // Denied, a speaker hears `access_denied`.
        let speaker = device_grant::start(&s, &app, "Kitchen speaker").await;
        type_code(&b, &s, speaker["user_code"].as_str().unwrap()).await;
        b.find("#deny").await.click().await.unwrap();
        b.wait_text("device-done", "Refused").await;
        s.clock.advance_secs(10);
        let (status, body) =
            device_grant::poll(&s, &app, speaker["device_code"].as_str().unwrap()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("access_denied"))
        );

        // At the limit (laptop, this browser, the TV), the page names the three devices and
        // frees the TV's slot on the spot.
        let anna = s.store.user_by_name("anna").await.unwrap().unwrap();
        s.store.set_limits(&anna.id, Some(3), None).await.unwrap();
        let bedroom = device_grant::start(&s, &app, "Bedroom TV").await;
        type_code(&b, &s, bedroom["user_code"].as_str().unwrap()).await;
        b.find("#approve").await.click().await.unwrap();
        let heading = b.wait("#device-limit").await.text().await.unwrap();
        assert_eq!(heading, "Device limit reached");
        let mut names = b.texts("tr[data-device-id] td.name").await;
        names.sort();
        assert_eq!(names, vec!["Chromium", "Living room TV", "anna's laptop"]);
        at_both_sizes(&b, "device-limit", &mut problems).await;
        let living_room = crate::player::device_id(&s, &token, "Living room TV").await;
        b.find(&format!(".replace[data-device-id='{living_room}']"))
            .await
            .click()
            .await
            .unwrap();
        b.wait_text("device-done", "Done").await;
        let (status, body) = s.get(&tv_access, "/api/v1/albums").await;
        assert_eq!(
            (status, body["reason"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("replaced_at_device_limit")),
            "the TV whose slot was freed is told why"
        );
        let (status, tokens) =
            device_grant::poll(&s, &app, bedroom["device_code"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let (_, devices) = s.get(&token, "/api/v1/devices").await;
        assert_eq!(devices.as_array().unwrap().len(), 3, "{devices}");
        assert!(problems.is_empty(), "{problems:#?}");
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}
