//! The Apps page in headless Chromium, at a phone's size (390×844) and a desktop's (1280×800):
//! an app given access through the code flow (and a TV authorised through it by code) is listed
//! with who registered it, what it may do in plain words and its device; Remove access, confirmed,
//! says which app lost access and its token is refused at once with `access_removed`. An app
//! registered through the page's form shows its client secret once; bad input comes back with
//! the error and what was typed. Screenshots: `test-artifacts/screenshots/apps-*.png`.

use std::panic::AssertUnwindSafe;

use clef_core::Scope;
use clef_testkit::TestServer;
use futures::FutureExt;
use reqwest::{Client, StatusCode};
use serde_json::Value;

use crate::chromium::{finish, Browser, Driver};
use crate::device_grant;
use crate::oauth::{self, NATIVE_CB, PW};
use crate::viewport::{fit, screenshot, set_viewport, Viewport, DESKTOP, PHONE};

/// A TV signs in by code through `client_id`, approved by the signed-in browser `b`.
async fn tv_by_code(s: &TestServer, b: &Client, client_id: &str, name: &str) -> Value {
    let start = device_grant::start(s, client_id, name).await;
    let user_code = start["user_code"].as_str().unwrap();
    let (status, page) = device_grant::answer(s, b, user_code, "approve", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let device_code = start["device_code"].as_str().unwrap();
    let (status, tokens) = device_grant::poll(s, client_id, device_code).await;
    assert_eq!(status, StatusCode::OK, "the TV gets its tokens: {tokens}");
    tokens
}

/// The visible text of the first element matching `css`.
async fn visible_text(b: &Browser, css: &str) -> String {
    let e = b.find(css).await;
    assert!(e.is_displayed().await.unwrap(), "{css} is visible");
    e.text().await.unwrap()
}

/// Checks the Apps page listing the app, at `v`, and saves its screenshot.
async fn check_listing(b: &Browser, s: &TestServer, v: Viewport, problems: &mut Vec<String>) {
    set_viewport(b, v).await;
    b.goto(s, "/apps").await;
    b.wait("table#app-access").await;
    let row = "table#app-access tbody tr";
    assert_eq!(b.find_all(row).await.len(), 1, "one app with access");
    assert_eq!(
        visible_text(b, &format!("{row} .app-name")).await,
        "Party queue"
    );
    assert_eq!(
        visible_text(b, &format!("{row} .app-owner")).await,
        "registered by anna"
    );
    assert_eq!(
        b.texts(&format!("{row} .scope")).await,
        vec![
            Scope::LibraryRead.describe().to_owned(),
            Scope::Stream.describe().to_owned()
        ],
        "each scope in plain words"
    );
    for scope in b.find_all(&format!("{row} .scope")).await {
        assert!(scope.is_displayed().await.unwrap());
    }
    assert!(
        visible_text(b, &format!("{row} .app-devices"))
            .await
            .contains("Living room TV"),
        "the TV authorised through the app is listed"
    );
    assert!(b
        .find(&format!("{row} button.remove-access"))
        .await
        .is_displayed()
        .await
        .unwrap());
    problems.extend(fit(b, &format!("apps ({})", v.name)).await);
    screenshot(b, v, &format!("apps-{}", v.name)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apps_page_lists_removes_and_registers_apps() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let token = s.token("anna", PW, "anna's laptop").await;
    let (client_id, _) = oauth::register(&s, &token, "Party queue", &[NATIVE_CB], false).await;
    let consent = oauth::browser(&s, "anna").await;
    let tokens = oauth::tokens_for(&s, &consent, &client_id, "library:read stream").await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let tv = tv_by_code(&s, &consent, &client_id, "Living room TV").await;
    let tv_access = tv["access_token"].as_str().unwrap().to_owned();
    for t in [&access, &tv_access] {
        assert_eq!(s.fetch(t, "/api/v1/albums").await.status(), StatusCode::OK);
    }

    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        b.sign_in(&s, "anna", PW, "Chromium").await;
        let mut problems = Vec::new();
        for v in [PHONE, DESKTOP] {
            check_listing(&b, &s, v, &mut problems).await;
        }
        assert_eq!(
            b.texts("header.site nav a[aria-current=page]").await,
            vec!["Apps"],
            "the navigation marks Apps"
        );

        // Remove access: the confirmation names the app and the TV; confirmed, the notice names
        // the app and the empty state shows.
        b.find("table#app-access button.remove-access")
            .await
            .click()
            .await
            .unwrap();
        let title = b.wait("#confirm-title").await.text().await.unwrap();
        assert_eq!(title, "Remove the access of Party queue?");
        let consequence = b.find("#confirm-consequence").await.text().await.unwrap();
        assert!(consequence.contains("Living room TV"), "{consequence}");
        set_viewport(&b, PHONE).await;
        problems.extend(fit(&b, "apps remove confirmation (phone)").await);
        screenshot(&b, PHONE, "apps-remove-confirm-phone").await;
        b.find("#confirm-yes").await.click().await.unwrap();
        b.wait_path("/apps").await;
        let notice = b.wait("#notice").await.text().await.unwrap();
        assert!(
            notice.contains("Removed the access of “Party queue”"),
            "{notice}"
        );
        assert!(b.find("#no-apps").await.is_displayed().await.unwrap());
        assert!(b.find_all("table#app-access").await.is_empty());
        problems.extend(fit(&b, "apps after removing (phone)").await);
        screenshot(&b, PHONE, "apps-removed-phone").await;

        // The app's tokens are refused at once, saying why.
        for t in [&access, &tv_access] {
            let r = s.fetch(t, "/api/v1/albums").await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["reason"], "access_removed", "{body}");
        }

        // Register an app through the form: bad input comes back with the error and what was
        // typed; good input leads to the app's page, with its secret once.
        set_viewport(&b, DESKTOP).await;
        b.fill("#app-name", "Scrobbler").await;
        b.fill("#app-redirect-uris", "http://scrobbler.example/callback")
            .await;
        b.find("#app-confidential").await.click().await.unwrap();
        b.find("#register-app-button").await.click().await.unwrap();
        let error = b.wait("#register-app #error").await.text().await.unwrap();
        assert!(
            error.starts_with("The redirect URI http://scrobbler.example/callback uses http"),
            "{error}"
        );
        assert_eq!(
            b.find("#app-name")
                .await
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some("Scrobbler")
        );
        assert_eq!(
            b.find("#app-redirect-uris")
                .await
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some("http://scrobbler.example/callback")
        );
        assert!(b
            .find("#app-confidential")
            .await
            .is_selected()
            .await
            .unwrap());
        set_viewport(&b, PHONE).await;
        problems.extend(fit(&b, "apps register error (phone)").await);
        screenshot(&b, PHONE, "apps-register-error-phone").await;

        b.fill("#app-redirect-uris", "https://scrobbler.example/callback")
            .await;
        b.find("#register-app-button").await.click().await.unwrap();
        let secret = b.wait("#client-secret").await.text().await.unwrap();
        let new_id = b.find("#client-id").await.text().await.unwrap();
        assert_eq!(secret.len(), 43, "a 256-bit secret: {secret}");
        assert!(b
            .find("#secret-once")
            .await
            .text()
            .await
            .unwrap()
            .contains("will not be shown again"));
        assert_eq!(b.path().await, format!("/apps/registered/{new_id}"));
        for v in [PHONE, DESKTOP] {
            set_viewport(&b, v).await;
            problems.extend(fit(&b, &format!("apps new secret ({})", v.name)).await);
            screenshot(&b, v, &format!("apps-secret-{}", v.name)).await;
        }
        // It is the app's secret: the token endpoint accepts it (and refuses the bogus grant).
        let r = oauth::token_request(
            &s,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "bogus"),
                ("client_id", &new_id),
                ("client_secret", &secret),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_grant", "{body}");

        // Reloaded, the page no longer shows it; nor does the Apps page.
        b.client.refresh().await.unwrap();
        b.wait("#secret-gone").await;
        assert!(b.find_all("#client-secret").await.is_empty());
        assert!(!b.client.source().await.unwrap().contains(&secret));
        b.goto(&s, "/apps").await;
        let row = format!("table#registered tr[data-client-id='{new_id}']");
        assert!(b
            .wait(&row)
            .await
            .text()
            .await
            .unwrap()
            .contains("Scrobbler"));
        assert!(!b.client.source().await.unwrap().contains(&secret));
        for v in [PHONE, DESKTOP] {
            set_viewport(&b, v).await;
            problems.extend(fit(&b, &format!("apps with a registered app ({})", v.name)).await);
            screenshot(&b, v, &format!("apps-registered-{}", v.name)).await;
        }

        // Deleting it, confirmed, says so.
        b.find(&format!("{row} button.delete-app"))
            .await
            .click()
            .await
            .unwrap();
        assert_eq!(
            b.wait("#confirm-title").await.text().await.unwrap(),
            "Delete Scrobbler?"
        );
        b.find("#confirm-yes").await.click().await.unwrap();
        b.wait_path("/apps").await;
        let notice = b.wait("#notice").await.text().await.unwrap();
        assert!(notice.contains("Deleted “Scrobbler”"), "{notice}");
        assert!(b.find_all(&row).await.is_empty(), "Scrobbler is gone");
        assert_eq!(
            b.texts("table#registered .app-name").await,
            vec!["Party queue"],
            "the app registered through the API stays"
        );
        assert!(problems.is_empty(), "{problems:#?}");
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}
