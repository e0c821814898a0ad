//! The account's address through the API (SECURITY.md S7: the password again, 403 without it),
//! confirmed by a link to the new address with the old one told; and the notices: the new-device
//! one can be turned off, the security ones cannot.

use clef_testkit::{Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::oauth::PW;

async fn server() -> (TestServer, String) {
    let s = TestServer::start_with(Options {
        smtp: true,
        ..Options::default()
    })
    .await;
    let anna = s.create_user("anna", PW, false).await;
    s.set_email(&anna, "anna@example.org").await;
    let laptop = s.token("anna", PW, "laptop").await;
    let first = s.smtp().next_for("anna@example.org").await;
    assert_eq!(first.subject, "New sign-in to your Clef account");
    assert!(first.text.contains("laptop"), "{}", first.text);
    assert!(first.text.contains("127.0.0.1"), "{}", first.text);
    assert!(first.text.contains("If this was not you"), "{}", first.text);
    (s, laptop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_address_is_confirmed_by_a_link_and_the_old_one_is_told() {
    let (s, laptop) = server().await;
    let change = |pw: &str, email: &str| json!({ "current_password": pw, "email": email });
    let (status, body) = s
        .call(
            Method::PUT,
            &laptop,
            "/api/v1/me/email",
            Some(change("wrong password", "new@example.org")),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("wrong_current_password"))
    );
    let (status, body) = s
        .call(
            Method::PUT,
            &laptop,
            "/api/v1/me/email",
            Some(change(PW, "not an address")),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = s
        .call(
            Method::PUT,
            &laptop,
            "/api/v1/me/email",
            Some(change(PW, "New@Example.org")),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::ACCEPTED, Some("confirmation_sent"))
    );
    // Nothing changes until the link is used.
    let (_, me) = s.get(&laptop, "/api/v1/me").await;
    assert_eq!(me["email"], "anna@example.org");

    let mail = s.smtp().next_for("New@Example.org").await;
    assert_eq!(mail.subject, "Confirm your e-mail address for Clef");
    let link = mail
        .links()
        .into_iter()
        .find(|l| l.contains("/account/email/confirm?token="))
        .unwrap();
    let token = link.split("token=").nth(1).unwrap();
    let confirm = |token: &str| {
        s.client()
            .post(s.url("/api/v1/email-confirmations"))
            .json(&json!({ "token": token }))
            .send()
    };
    let r = confirm(token).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["email"],
        "New@Example.org"
    );
    assert_eq!(
        confirm(token).await.unwrap().status(),
        StatusCode::GONE,
        "once"
    );
    let (_, me) = s.get(&laptop, "/api/v1/me").await;
    assert_eq!(me["email"], "New@Example.org");

    let told = s.smtp().next_for("anna@example.org").await;
    assert_eq!(told.subject, "Your Clef e-mail address was changed");
    assert!(told.text.contains("N•••@Example.org"), "{}", told.text);
    // Reset links now go to the new address.
    let r = s
        .client()
        .post(s.url("/api/v1/password-resets"))
        .json(&json!({ "login": "new@example.org" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(
        s.smtp().next_for("New@Example.org").await.subject,
        "Reset your Clef password"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_device_notice_can_be_turned_off_but_not_the_security_ones() {
    let (s, laptop) = server().await;
    let (status, _) = s
        .call(
            Method::PUT,
            &laptop,
            "/api/v1/me/notices",
            Some(json!({ "new_device": false })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, me) = s.get(&laptop, "/api/v1/me").await;
    assert_eq!(me["notify_new_device"], false);
    s.token("anna", PW, "phone").await;
    // The next mail is the password change, not the phone's sign-in.
    let (status, _) = s
        .call(
            Method::PUT,
            &laptop,
            "/api/v1/me/password",
            Some(json!({ "current_password": PW, "new_password": "another fine passphrase" })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mail = s.smtp().next_for("anna@example.org").await;
    assert_eq!(mail.subject, "Your Clef password was changed");
    assert!(
        mail.text.contains("1 other device signed out"),
        "{}",
        mail.text
    );
    assert!(mail.html.contains("If this was not you"), "{}", mail.html);
    assert_eq!(
        s.smtp().received().len(),
        2,
        "the laptop's sign-in and the password change only"
    );
}
