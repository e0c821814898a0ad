//! "Forgot password?" and the account's e-mail address, walked as a person in headless Chromium
//! at a phone's size (390×844) and a desktop's (1280×800), with the mail read from a real SMTP
//! server:
//! - from the sign-in page, "Forgot password?" asks for a link by address and answers the same
//!   whatever was typed; the mailed link's page (sent without a referrer, unchanged by being
//!   looked at) takes the new password twice, refuses a mismatch and a common password keeping
//!   the link, then signs out every device (an app's token hears `password_reset`, the browser's
//!   own session cookie goes) and does not sign anyone in; the new password works, the old one
//!   does not, and the link does not work twice;
//! - the Account page changes the address after the password (a wrong one says so, 403), mails a
//!   confirmation link to the new address, whose page changes nothing until Confirm, and tells
//!   the old address;
//! - an admin e-mails a user a reset link from the user's "Reset password" page.
//!
//! Screenshots: `test-artifacts/screenshots/password-reset-*.png`, `account-email-*.png`,
//! `email-confirm-*.png` and `admin-reset-link-*.png`.

use std::panic::AssertUnwindSafe;

use clef_accounts::Actor;
use clef_testkit::{Mail, Options, TestServer};
use futures::FutureExt;
use reqwest::header::{COOKIE, LOCATION, REFERRER_POLICY, SET_COOKIE};
use reqwest::StatusCode;

use crate::chromium::{click, finish, status, Driver};
use crate::viewport::{at_both_sizes, set_viewport, PHONE};

const PW: &str = "anna's first password";
const NEW_PW: &str = "a brand new passphrase for anna";
const ADDRESS: &str = "anna@example.org";
const NEW_ADDRESS: &str = "anna.new@example.org";
const SENT: &str = "If an account with an e-mail address matches, a link to choose a new password is on its way. It works once, for 30 minutes.";

/// The next mail to `to` with this subject, passing over others to `to` (new-device notices).
async fn mail_titled(s: &TestServer, to: &str, subject: &str) -> Mail {
    let mut seen = Vec::new();
    for _ in 0..10 {
        let m = s.smtp().next_for(to).await;
        if m.subject == subject {
            return m;
        }
        seen.push(m.subject);
    }
    panic!("no {subject:?} to {to}; got {seen:?}");
}

/// The one link in `mail` to `path`.
fn link_to(mail: &Mail, path: &str) -> String {
    let links: Vec<String> = mail
        .links()
        .into_iter()
        .filter(|l| l.contains(&format!("{path}?token=")))
        .collect();
    assert_eq!(links.len(), 1, "one link to {path} in {:?}", mail.text);
    links[0].clone()
}

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

/// Asks for a reset link for `login` over raw HTTP, as a fresh browser would: the form's page
/// (for the CSRF cookie), then the post. Returns the post's status, `Location` and cookies set.
async fn ask_over_http(s: &TestServer, login: &str) -> (StatusCode, String, Vec<String>) {
    let page = s
        .client()
        .get(s.url("/password-reset"))
        .send()
        .await
        .unwrap();
    let cookie = page
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    let r = s
        .client()
        .post(s.url("/password-reset"))
        .header(COOKIE, cookie)
        .form(&[("login", login), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    let location = r
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let cookies = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    (r.status(), location, cookies)
}

/// GETs a mailed link the way a mail client's preview would: it must say no referrer, and (as
/// the browser then uses it) change nothing.
async fn peek(s: &TestServer, link: &str) -> String {
    let r = s.client().get(link).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{link}");
    assert_eq!(
        r.headers().get(REFERRER_POLICY).unwrap(),
        "no-referrer",
        "a page whose address carries a token sends no referrer"
    );
    r.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgotten_password_reset_by_mailed_link_then_address_changed_on_the_account_page() {
    let s = TestServer::start_with(Options {
        smtp: true,
        ..Options::default()
    })
    .await;
    let anna = s.create_user("anna", PW, false).await;
    s.set_email(&anna, ADDRESS).await;
    // Another device, signed in before the reset: an app on a phone.
    let phone = s.token("anna", PW, "anna's phone").await;

    let driver = Driver::start().await;
    // `b`: a browser not signed in, which asks for the link. `a`: a laptop signed in before the
    // reset, where the mailed link is opened.
    let (a, b) = (driver.browser().await, driver.browser().await);
    let outcome = AssertUnwindSafe(async {
        let mut problems = Vec::new();
        a.sign_in(&s, "anna", PW, "Laptop").await;
        assert!(a.client.get_named_cookie("clef_session").await.is_ok());

        // Sign-in page → "Forgot password?" → the request form.
        set_viewport(&b, PHONE).await;
        b.goto(&s, "/signin").await;
        b.wait("#forgot-password").await;
        at_both_sizes(&b, "password-reset-signin", &mut problems).await;
        click(&b, "#forgot-password").await;
        b.wait_path("/password-reset").await;
        b.wait("#reset-title").await;
        at_both_sizes(&b, "password-reset-ask", &mut problems).await;
        b.fill("#login", ADDRESS).await;
        click(&b, "form[action='/password-reset'] button[type=submit]").await;
        b.wait_text("reset-sent", SENT).await;
        at_both_sizes(&b, "password-reset-sent", &mut problems).await;

        let mail = mail_titled(&s, ADDRESS, "Reset your Clef password").await;
        let link = link_to(&mail, "/password-reset");
        assert!(link.starts_with(&s.url("/password-reset?token=")), "{link}");
        // Looking at the link (a mail client's preview) uses nothing up.
        let html = peek(&s, &link).await;
        assert!(html.contains("Choose a new password"), "{html}");
        let token = hidden(&html, "token");

        // The link, opened in the laptop's browser.
        set_viewport(&a, PHONE).await;
        a.client.goto(&link).await.unwrap();
        a.wait("#reset-form-title").await;
        at_both_sizes(&a, "password-reset-form", &mut problems).await;

        // A repeat that differs: said, and the link kept.
        a.fill("#new_password", NEW_PW).await;
        a.fill("#confirm_password", "something else entirely").await;
        click(&a, "form[action='/password-reset/new'] button[type=submit]").await;
        a.wait_text(
            "error",
            "The new passwords do not match. Nothing was changed.",
        )
        .await;
        assert_eq!(status(&a).await, 422);
        let kept = a.find("input[name=token]").await.attr("value").await.unwrap();
        assert_eq!(kept.as_deref(), Some(token.as_str()), "the link is kept");
        // A common password: refused, the link still kept.
        a.fill("#new_password", "password").await;
        a.fill("#confirm_password", "password").await;
        click(&a, "form[action='/password-reset/new'] button[type=submit]").await;
        a.wait_text(
            "error",
            "The new password is one of the most common passwords; choose another.",
        )
        .await;
        at_both_sizes(&a, "password-reset-form-refused", &mut problems).await;
        let kept = a.find("input[name=token]").await.attr("value").await.unwrap();
        assert_eq!(kept.as_deref(), Some(token.as_str()));

        // The new password: everything signed out, nobody signed in.
        a.fill("#new_password", NEW_PW).await;
        a.fill("#confirm_password", NEW_PW).await;
        click(&a, "form[action='/password-reset/new'] button[type=submit]").await;
        let done = a.wait("#reset-done").await.text().await.unwrap();
        assert_eq!(
            done,
            "Your password was changed. Every device, app and player was signed out. Sign in with your new password."
        );
        assert!(a.find("#reset-sign-in").await.is_displayed().await.unwrap());
        at_both_sizes(&a, "password-reset-done", &mut problems).await;
        assert!(
            a.client.get_named_cookie("clef_session").await.is_err(),
            "the revoked session cookie is dropped"
        );
        let (st, body) = s.get(&phone, "/api/v1/devices").await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["reason"], "password_reset", "{body}");
        let notice = mail_titled(&s, ADDRESS, "Your Clef password was reset").await;
        assert!(notice.text.contains("Every device, app and player was signed out"));

        // The old password no longer works; the new one does.
        b.goto(&s, "/signin").await;
        b.wait("form[action='/signin']").await;
        b.fill("#username", "anna").await;
        b.fill("#password", PW).await;
        click(&b, "form[action='/signin'] button[type=submit]").await;
        b.wait_text("error", "Wrong user name or password.").await;
        click(&a, "#reset-sign-in").await;
        a.wait_path("/signin").await;
        a.sign_in(&s, "anna", NEW_PW, "Laptop").await;

        // The link does not work twice.
        a.client.goto(&link).await.unwrap();
        let why = a.wait("#link-invalid-why").await.text().await.unwrap();
        assert_eq!(
            why,
            "This link has expired, was already used, or a newer one was sent."
        );
        assert_eq!(status(&a).await, 410);
        assert_eq!(
            a.find("#ask-again").await.attr("href").await.unwrap().as_deref(),
            Some("/password-reset")
        );
        at_both_sizes(&a, "password-reset-link-invalid", &mut problems).await;

        // The Account page: the address, and changing it.
        a.goto(&s, "/account").await;
        a.wait("#account-email").await;
        assert_eq!(a.find("#email-address").await.text().await.unwrap(), ADDRESS);
        assert!(a.find("#notify_new_device").await.is_selected().await.unwrap());
        a.fill("#new_email", NEW_ADDRESS).await;
        a.fill("#email_password", PW).await;
        click(&a, "#change-email button[type=submit]").await;
        a.wait_text(
            "error",
            "The current password is wrong. Nothing was changed.",
        )
        .await;
        assert_eq!(status(&a).await, 403);
        let typed = a.find("#new_email").await.prop("value").await.unwrap();
        assert_eq!(typed.as_deref(), Some(NEW_ADDRESS), "the address typed stays");
        at_both_sizes(&a, "account-email-wrong-password", &mut problems).await;
        a.fill("#email_password", NEW_PW).await;
        click(&a, "#change-email button[type=submit]").await;
        a.wait_text(
            "notice",
            &format!(
                "We sent a confirmation link to {NEW_ADDRESS}; your address changes when you follow it."
            ),
        )
        .await;
        assert_eq!(
            a.find("#email-address").await.text().await.unwrap(),
            ADDRESS,
            "unchanged until the link is followed"
        );
        at_both_sizes(&a, "account-email", &mut problems).await;

        let mail = mail_titled(&s, NEW_ADDRESS, "Confirm your e-mail address for Clef").await;
        let link = link_to(&mail, "/account/email/confirm");
        peek(&s, &link).await;
        let user = s.accounts.user(Actor::Console, "anna").await.unwrap();
        assert_eq!(user.email.as_deref(), Some(ADDRESS), "looking changes nothing");
        a.client.goto(&link).await.unwrap();
        let title = a.wait("#confirm-email-title").await.text().await.unwrap();
        assert_eq!(
            title,
            format!("Use {NEW_ADDRESS} as the e-mail address of your Clef account?")
        );
        at_both_sizes(&a, "email-confirm", &mut problems).await;
        click(&a, "#confirm-email").await;
        a.wait_text("email-confirmed", &format!("Your address is now {NEW_ADDRESS}."))
            .await;
        at_both_sizes(&a, "email-confirmed", &mut problems).await;
        let told = mail_titled(&s, ADDRESS, "Your Clef e-mail address was changed").await;
        assert!(
            told.text.contains("was changed to a•••@example.org"),
            "{}",
            told.text
        );
        a.goto(&s, "/account").await;
        a.wait("#account-email").await;
        assert_eq!(
            a.find("#email-address").await.text().await.unwrap(),
            NEW_ADDRESS
        );

        // The new-device notice, turned off.
        click(&a, "#notify_new_device").await;
        click(&a, "#email-notices button[type=submit]").await;
        a.wait_text(
            "notice",
            "You will not be e-mailed when a new device signs in. Security notices are still sent.",
        )
        .await;
        assert!(!a.find("#notify_new_device").await.is_selected().await.unwrap());
        let user = s.accounts.user(Actor::Console, "anna").await.unwrap();
        assert_eq!(user.email.as_deref(), Some(NEW_ADDRESS));
        assert!(!user.notify_new_device);

        // The security log tells it all in words.
        a.goto(&s, "/security").await;
        a.wait("table#events").await;
        let what = a.texts("table#events td.what").await;
        for kind in [
            "Password reset link requested",
            "Password reset by e-mailed link",
            "E-mail address changed",
        ] {
            assert!(what.iter().any(|w| w == kind), "{kind} in {what:?}");
        }
        assert!(!what.iter().any(|w| w == "Event"), "{what:?}");
        at_both_sizes(&a, "password-reset-security-log", &mut problems).await;
        assert!(problems.is_empty(), "{problems:#?}");
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![a, b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_a_link_answers_alike_and_the_links_form_refuses_other_sites() {
    let s = TestServer::start_with(Options {
        smtp: true,
        ..Options::default()
    })
    .await;
    let ben = s.create_user("ben", PW, false).await;
    s.set_email(&ben, "ben@example.org").await;
    s.create_user("cleo", PW, false).await; // no address

    let mut answers = Vec::new();
    for login in [
        "ben@example.org",
        "ben",
        "nobody@example.org",
        "nobody",
        "cleo",
    ] {
        let (st, location, cookies) = ask_over_http(&s, login).await;
        assert!(cookies.is_empty(), "{login}: no cookie set: {cookies:?}");
        answers.push((st, location));
    }
    assert!(
        answers
            .iter()
            .all(|a| *a == (StatusCode::SEE_OTHER, "/password-reset?sent=1".to_owned())),
        "{answers:?}"
    );
    let sent = s
        .client()
        .get(s.url("/password-reset?sent=1"))
        .send()
        .await
        .unwrap();
    assert!(sent.headers().get(SET_COOKIE).is_none());
    assert!(sent.text().await.unwrap().contains(SENT));
    // Ben, asked for twice, has two links; the newer supersedes the older (the two requests
    // are mailed in the background, so either may be stored last).
    let mut links = Vec::new();
    for _ in 0..2 {
        let m = mail_titled(&s, "ben@example.org", "Reset your Clef password").await;
        links.push(link_to(&m, "/password-reset"));
    }
    let mut live = Vec::new();
    for link in links {
        let r = s.client().get(&link).send().await.unwrap();
        assert_eq!(r.headers().get(REFERRER_POLICY).unwrap(), "no-referrer");
        match r.status() {
            StatusCode::OK => live.push(link),
            st => assert_eq!(st, StatusCode::GONE, "the superseded link"),
        }
    }
    assert_eq!(live.len(), 1, "one link works: {live:?}");
    let second = live.remove(0);

    // The link's form, posted from another site (or from a page that hides its origin without
    // `Sec-Fetch-Site: same-origin`), is refused and the link stays usable.
    let page = s.client().get(&second).send().await.unwrap();
    let cookie = page
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    let (csrf, token) = (hidden(&html, "csrf"), hidden(&html, "token"));
    let form = [
        ("token", token.as_str()),
        ("new_password", NEW_PW),
        ("confirm_password", NEW_PW),
        ("csrf", csrf.as_str()),
    ];
    for headers in [
        vec![
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
        vec![("origin", "null")],
        vec![("origin", "null"), ("sec-fetch-site", "cross-site")],
    ] {
        let mut req = s
            .client()
            .post(s.url("/password-reset/new"))
            .header(COOKIE, &cookie)
            .form(&form);
        for (k, v) in &headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{headers:?}");
    }
    let again = s.client().get(&second).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK, "the link still works");
    // As Chromium posts it from the page: `Origin: null` and `Sec-Fetch-Site: same-origin`.
    let r = s
        .client()
        .post(s.url("/password-reset/new"))
        .header(COOKIE, &cookie)
        .header("origin", "null")
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers().get(LOCATION).unwrap(),
        "/password-reset?changed=1"
    );
    assert!(
        r.headers().get(SET_COOKIE).is_none(),
        "no session to clear, none signed in"
    );
    let token = s.token("ben", NEW_PW, "check").await;
    let (st, _) = s.get(&token, "/api/v1/devices").await;
    assert_eq!(st, StatusCode::OK, "the new password works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_mails_a_reset_link_or_gives_a_temporary_password() {
    let s = TestServer::start_with(Options {
        smtp: true,
        ..Options::default()
    })
    .await;
    s.create_user("root", PW, true).await;
    s.create_user("nomail", PW, false).await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        let mut problems = Vec::new();
        b.sign_in(&s, "root", PW, "Admin laptop").await;
        b.goto(&s, "/admin/users").await;
        b.wait("#create-user").await;
        b.fill("#new-username", "erin").await;
        b.fill("#new-password", "erin's first password").await;
        b.fill("#new-email", "erin@example.org").await;
        click(&b, "#create-user button[type=submit]").await;
        b.wait_text("notice", "User created.").await;
        assert_eq!(
            b.texts("tr[data-username='erin'] td.username .email").await,
            ["erin@example.org"],
            "the address shows under the name"
        );
        assert!(b
            .find_all("tr[data-username='nomail'] td.username .email")
            .await
            .is_empty());
        at_both_sizes(&b, "admin-reset-link-users", &mut problems).await;

        // Without an address: only the temporary password.
        click(&b, "tr[data-username='nomail'] button.reset-password").await;
        let title = b.wait("#confirm-title").await.text().await.unwrap();
        assert_eq!(title, "Give nomail a temporary password?");
        assert!(b.find_all("#send-reset-link").await.is_empty());
        click(&b, "#confirm-cancel").await;

        // With one: the link first, the temporary password below it.
        b.wait("#create-user").await;
        click(&b, "tr[data-username='erin'] button.reset-password").await;
        let title = b.wait("#confirm-title").await.text().await.unwrap();
        assert_eq!(title, "Reset the password of erin?");
        assert!(b
            .find("#temporary-password")
            .await
            .is_displayed()
            .await
            .unwrap());
        at_both_sizes(&b, "admin-reset-link-choice", &mut problems).await;
        click(&b, "#send-reset-link").await;
        b.wait_text("notice", "A reset link was sent to e•••@example.org.")
            .await;
        let mail = mail_titled(&s, "erin@example.org", "Reset your Clef password").await;
        link_to(&mail, "/password-reset");
        let erin = s.accounts.user(Actor::Console, "erin").await.unwrap();
        assert!(
            !erin.must_change_password,
            "nothing changes until erin uses it"
        );
        assert!(problems.is_empty(), "{problems:#?}");
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}
