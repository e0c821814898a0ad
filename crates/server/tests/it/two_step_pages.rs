//! Two-step sign-in on the web pages, walked as a person in headless Chromium at a phone's size
//! (390×844) and a desktop's (1280×800), with every code computed by an independent
//! implementation (Python's pyotp) at the server's clock:
//! - the Account page turns it on after the password (a wrong one says so, 403), shows the QR
//!   code inline and the key in text (the same key on a reload), refuses a wrong first code
//!   keeping the key, and shows the ten recovery codes once;
//! - signing in then asks for the code after the password: a wrong one says so (401) and keeps
//!   the challenge, the right one signs in; a recovery code works instead, and a sign-in that
//!   an app's page (`/device`) asked for goes back there after the code;
//! - at the device limit after the code, the device-limit page's "Sign out this one and
//!   continue" finishes the sign-in;
//! - the Account page turns it off with the password and a code (a wrong code says so, 401), and
//!   the password alone signs in again;
//! - an admin turns it off for a user who lost their phone, after a confirmation.
//!
//! Screenshots: `test-artifacts/screenshots/two-step-enrol-*.png`,
//! `two-step-recovery-codes-*.png`, `two-step-code-*.png`, `two-step-account-on-*.png` and
//! `admin-two-step-off-*.png`.

use std::panic::AssertUnwindSafe;

use clef_accounts::Actor;
use clef_store::AccountStore;
use clef_testkit::TestServer;
use futures::FutureExt;

use crate::chromium::{click, finish, status, value, Browser, Driver};
use crate::two_step::{enrol, now, pyotp};
use crate::viewport::{at_both_sizes, set_viewport, DESKTOP, PHONE};

const PW: &str = "anna's long password";
const WRONG_CODE: &str = "That code is not right, or was already used.";

/// Fills in and sends the sign-in form on the page shown now (without waiting for where it
/// leads, which for an account with two-step sign-in is the code page).
async fn password_step(b: &Browser, device: &str) {
    b.wait("form[action='/signin']").await;
    b.fill("#username", "anna").await;
    b.fill("#password", PW).await;
    b.fill("#device_name", device).await;
    click(b, "form[action='/signin'] button[type=submit]").await;
    b.wait("#code-title").await;
}

/// A six-digit code that is none of those the server would accept now (its step and the ones
/// either side).
async fn wrong_code(s: &TestServer, secret: &str) -> String {
    let t = now(s);
    let mut near = Vec::new();
    for at in [t - 30, t, t + 30] {
        near.push(pyotp(secret, at).await);
    }
    ["000000", "111111", "222222", "333333"]
        .into_iter()
        .find(|c| !near.iter().any(|n| n == c))
        .unwrap()
        .to_owned()
}

async fn has_session(b: &Browser) -> bool {
    b.client.get_named_cookie("clef_session").await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_sign_in_turned_on_used_and_turned_off_on_the_pages() {
    let s = TestServer::start().await;
    let anna = s.create_user("anna", PW, false).await;
    let driver = Driver::start().await;
    // `a`: the laptop that turns it on. `b`: a phone signing in at the device limit.
    let (a, b) = (driver.browser().await, driver.browser().await);
    let outcome = AssertUnwindSafe(async {
        let mut problems = Vec::new();
        a.sign_in(&s, "anna", PW, "Laptop").await;

        // Account → Turn on: the password first.
        a.goto(&s, "/account").await;
        a.wait("#two-step-on").await;
        assert_eq!(
            a.find("#two-step-state").await.text().await.unwrap(),
            "Off. Your password alone signs you in."
        );
        a.fill("#two_step_password", "not the password at all").await;
        click(&a, "#two-step-on button[type=submit]").await;
        a.wait_text(
            "error",
            "The current password is wrong. Nothing was changed.",
        )
        .await;
        assert_eq!(status(&a).await, 403);
        a.fill("#two_step_password", PW).await;
        click(&a, "#two-step-on button[type=submit]").await;
        a.wait_path("/account/two-step").await;

        // The enrolment page: the QR code inline, scaled to its column, and the key in text.
        let key = a.wait("#two-step-key").await.text().await.unwrap();
        let secret = key.replace(' ', "");
        assert_eq!(secret.len(), 32, "{key}");
        let href = a.find("#two-step-open").await.attr("href").await.unwrap();
        assert!(
            href.as_deref()
                .is_some_and(|h| h.starts_with(&format!("otpauth://totp/Clef:anna?secret={secret}"))),
            "{href:?}"
        );
        for v in [PHONE, DESKTOP] {
            set_viewport(&a, v).await;
            let qr = a
                .js("const s = document.querySelector('#two-step-qr svg'); const r = s.getBoundingClientRect(); \
                     const col = s.closest('li').getBoundingClientRect(); \
                     return [s.getAttribute('role'), r.width, r.height, col.left, col.right, r.left, r.right];")
                .await;
            assert_eq!(qr[0], "img", "{qr}");
            let f = |i: usize| qr[i].as_f64().unwrap();
            assert!(f(1) >= 150.0 && (f(1) - f(2)).abs() < 1.0, "{} square: {qr}", v.name);
            assert!(f(5) >= f(3) - 0.5 && f(6) <= f(4) + 0.5, "{} in its column: {qr}", v.name);
        }
        at_both_sizes(&a, "two-step-enrol", &mut problems).await;
        // Reloaded while waiting for the first code: the same key.
        a.goto(&s, "/account/two-step").await;
        assert_eq!(a.wait("#two-step-key").await.text().await.unwrap(), key);
        // The Account page says it waits, and leads back to it.
        a.goto(&s, "/account").await;
        click(&a, "#two-step-pending a").await;
        a.wait_path("/account/two-step").await;
        assert_eq!(a.wait("#two-step-key").await.text().await.unwrap(), key);

        // A wrong first code: said, the same key kept.
        let wrong = wrong_code(&s, &secret).await;
        a.fill("#enrol_code", &wrong).await;
        click(&a, "#two-step-confirm button[type=submit]").await;
        a.wait_text("error", WRONG_CODE).await;
        assert_eq!(status(&a).await, 401);
        assert_eq!(a.find("#two-step-key").await.text().await.unwrap(), key);

        // The right one: the recovery codes, once.
        let code = pyotp(&secret, now(&s)).await;
        a.fill("#enrol_code", &code).await;
        click(&a, "#two-step-confirm button[type=submit]").await;
        a.wait("#recovery-codes").await;
        assert_eq!(
            a.find("#recovery-keep").await.text().await.unwrap(),
            "Keep these somewhere safe; each works once."
        );
        let codes = a.texts("#recovery-codes li").await;
        assert_eq!(codes.len(), 10, "{codes:?}");
        for c in &codes {
            let groups: Vec<&str> = c.split('-').collect();
            assert!(
                groups.len() == 4
                    && groups
                        .iter()
                        .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_alphanumeric())),
                "{c}"
            );
        }
        let font = a
            .js("return getComputedStyle(document.querySelector('#recovery-codes li')).fontFamily;")
            .await;
        assert!(font.as_str().unwrap().contains("monospace"), "{font}");
        at_both_sizes(&a, "two-step-recovery-codes", &mut problems).await;
        click(&a, "#recovery-done").await;
        a.wait_path("/account").await;
        a.wait("#two-step-off").await;
        assert!(a
            .find("#two-step-state")
            .await
            .text()
            .await
            .unwrap()
            .starts_with("On since "));
        assert_eq!(
            a.find("#recovery-codes-left").await.text().await.unwrap(),
            "10 recovery codes left."
        );
        at_both_sizes(&a, "two-step-account-on", &mut problems).await;
        let user = s.accounts.user(Actor::Console, "anna").await.unwrap();
        assert!(user.totp_enabled_at.is_some());

        // Signed out, the password alone is not enough: the code page.
        click(&a, "#sign-out").await;
        a.wait_path("/signin").await;
        password_step(&a, "Laptop").await;
        assert!(!has_session(&a).await, "no session before the code");
        let field = a.find("#code").await;
        assert_eq!(
            field.attr("autocomplete").await.unwrap().as_deref(),
            Some("one-time-code")
        );
        assert_eq!(
            field.attr("inputmode").await.unwrap().as_deref(),
            Some("numeric")
        );
        assert_eq!(field.attr("name").await.unwrap().as_deref(), Some("code"));
        assert_eq!(
            a.find("#code-form label[for=code]").await.text().await.unwrap(),
            "Code from your authenticator app"
        );
        let challenge = value(&a, "#code-form input[name=challenge]").await;
        assert!(!challenge.is_empty());
        assert!(
            !a.find("#recovery_code").await.is_displayed().await.unwrap(),
            "the recovery code waits behind its disclosure"
        );
        at_both_sizes(&a, "two-step-code", &mut problems).await;

        // A wrong code: said, the challenge kept.
        let wrong = wrong_code(&s, &secret).await;
        a.fill("#code", &wrong).await;
        click(&a, "#code-form button[type=submit]").await;
        a.wait_text("error", WRONG_CODE).await;
        assert_eq!(status(&a).await, 401);
        assert_eq!(value(&a, "#code-form input[name=challenge]").await, challenge);
        assert!(!has_session(&a).await);
        // Half a minute on, the app's next code signs in.
        s.clock.advance_secs(30);
        let code = pyotp(&secret, now(&s)).await;
        a.fill("#code", &code).await;
        click(&a, "#code-form button[type=submit]").await;
        a.wait_path("/library").await;
        a.wait("body.app main h1").await;
        assert!(has_session(&a).await);

        // A recovery code instead, for a sign-in an app's page asked for: back there after it.
        click(&a, "#sign-out").await;
        a.wait_path("/signin").await;
        a.goto(&s, "/device").await;
        a.wait_path("/signin").await;
        a.wait("#signin-for-app").await;
        password_step(&a, "Laptop").await;
        assert_eq!(value(&a, "#recovery-form input[name=next]").await, "/device");
        click(&a, "#use-recovery summary").await;
        a.fill("#recovery_code", &codes[0]).await;
        click(&a, "#recovery-form button[type=submit]").await;
        a.wait_path("/device").await;
        a.wait("#device-title").await;
        a.goto(&s, "/account").await;
        assert_eq!(
            a.wait("#recovery-codes-left").await.text().await.unwrap(),
            "9 recovery codes left."
        );
        // New codes replace them all: ten again, shown once.
        a.fill("#recovery_new_password", PW).await;
        click(&a, "#recovery-new button[type=submit]").await;
        a.wait("#recovery-codes").await;
        let fresh = a.find_all("#recovery-codes code").await;
        assert_eq!(fresh.len(), 10);
        a.goto(&s, "/account").await;
        assert_eq!(
            a.wait("#recovery-codes-left").await.text().await.unwrap(),
            "10 recovery codes left."
        );

        // At the device limit after the code: sign the laptop out and continue.
        s.store.set_limits(&anna.id, Some(1), None).await.unwrap();
        set_viewport(&b, DESKTOP).await;
        b.goto(&s, "/signin").await;
        password_step(&b, "Phone").await;
        s.clock.advance_secs(30);
        let code = pyotp(&secret, now(&s)).await;
        b.fill("#code", &code).await;
        click(&b, "#code-form button[type=submit]").await;
        b.wait("#device-limit").await;
        assert_eq!(status(&b).await, 409);
        let replace = b.find_all("button.replace").await;
        assert_eq!(replace.len(), 1, "the laptop holds the one slot");
        replace[0].click().await.unwrap();
        b.wait_path("/library").await;
        assert!(has_session(&b).await);
        a.goto(&s, "/account").await;
        a.wait_path("/signin").await;

        // Account → Turn off: the password and a code.
        b.goto(&s, "/account").await;
        b.wait("#two-step-off").await;
        s.clock.advance_secs(30);
        let wrong = wrong_code(&s, &secret).await;
        b.fill("#two_step_off_password", PW).await;
        b.fill("#two_step_off_code", &wrong).await;
        click(&b, "#two-step-off button[type=submit]").await;
        b.wait_text("error", WRONG_CODE).await;
        assert_eq!(status(&b).await, 401);
        let code = pyotp(&secret, now(&s)).await;
        b.fill("#two_step_off_password", "not the password at all")
            .await;
        b.fill("#two_step_off_code", &code).await;
        click(&b, "#two-step-off button[type=submit]").await;
        b.wait_text(
            "error",
            "The current password is wrong. Nothing was changed.",
        )
        .await;
        assert_eq!(status(&b).await, 403);
        b.fill("#two_step_off_password", PW).await;
        b.fill("#two_step_off_code", &code).await;
        click(&b, "#two-step-off button[type=submit]").await;
        b.wait_text(
            "notice",
            "Two-step sign-in is off. Your password alone signs you in.",
        )
        .await;
        b.wait("#two-step-on").await;
        let user = s.accounts.user(Actor::Console, "anna").await.unwrap();
        assert!(user.totp_enabled_at.is_none());

        // The password alone signs in again.
        click(&b, "#sign-out").await;
        b.wait_path("/signin").await;
        b.sign_in(&s, "anna", PW, "Phone").await;
        assert!(problems.is_empty(), "{problems:#?}");
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![a, b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_turns_two_step_sign_in_off_for_a_lost_phone() {
    let s = TestServer::start().await;
    s.create_user("root", PW, true).await;
    // `enrol` types the password of the API tests.
    s.create_user("anna", crate::oauth::PW, false).await;
    let laptop = s.token("anna", crate::oauth::PW, "laptop").await;
    enrol(&s, &laptop).await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        let mut problems = Vec::new();
        b.sign_in(&s, "root", PW, "Admin laptop").await;
        b.goto(&s, "/admin/users").await;
        b.wait("#create-user").await;
        assert_eq!(
            b.texts("tr[data-username='anna'] .two-step").await,
            ["Two-step sign-in on"]
        );
        assert!(b
            .find_all("tr[data-username='root'] button.turn-off-two-step")
            .await
            .is_empty());

        // Asked first: nothing changes without the confirmation.
        click(&b, "tr[data-username='anna'] button.turn-off-two-step").await;
        let title = b.wait("#confirm-title").await.text().await.unwrap();
        assert_eq!(title, "Turn off two-step sign-in for anna?");
        let user = s.accounts.user(Actor::Console, "anna").await.unwrap();
        assert!(user.totp_enabled_at.is_some(), "only asked so far");
        at_both_sizes(&b, "admin-two-step-off", &mut problems).await;
        click(&b, "#confirm-yes").await;
        b.wait_text(
            "notice",
            "Two-step sign-in turned off. They sign in with their password alone until they turn it on again.",
        )
        .await;
        assert!(b
            .find_all("tr[data-username='anna'] button.turn-off-two-step")
            .await
            .is_empty());
        let user = s.accounts.user(Actor::Console, "anna").await.unwrap();
        assert!(user.totp_enabled_at.is_none());
        // The password alone works again.
        s.token("anna", crate::oauth::PW, "phone").await;
        assert!(problems.is_empty(), "{problems:#?}");
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}
