//! TV and speaker sign-in by code (RFC 8628): the device polls, a signed-in phone approves at
//! `/device`, and the device becomes a device like any other — listed, limited, signed out.

use clef_store::AccountStore;
use clef_testkit::TestServer;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

use crate::oauth::{browser, hidden, register, NATIVE_CB, PW};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A TV asks to sign in through `client_id`; returns the device authorization response.
pub(crate) async fn start(s: &TestServer, client_id: &str, name: &str) -> Value {
    let r = s
        .client()
        .post(s.url("/oauth/device_authorization"))
        .form(&[
            ("client_id", client_id),
            ("scope", "library:read stream"),
            ("device_name", name),
            ("device_type", "tv"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// The TV polls once; returns the status and body.
pub(crate) async fn poll(
    s: &TestServer,
    client_id: &str,
    device_code: &str,
) -> (StatusCode, Value) {
    let r = s
        .client()
        .post(s.url("/oauth/token"))
        .form(&[
            ("grant_type", GRANT),
            ("device_code", device_code),
            ("client_id", client_id),
        ])
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// Opens the approval page for `user_code` and answers it; returns status and page.
pub(crate) async fn answer(
    s: &TestServer,
    b: &Client,
    user_code: &str,
    decision: &str,
    replace: Option<&str>,
) -> (StatusCode, String) {
    let page = b
        .get(s.url(&format!("/device?code={user_code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut form = vec![
        ("code".to_owned(), hidden(&page, "code")),
        ("csrf".to_owned(), hidden(&page, "csrf")),
        ("decision".to_owned(), decision.to_owned()),
    ];
    if let Some(r) = replace {
        form.push(("replace_device_id".to_owned(), r.to_owned()));
    }
    let r = b.post(s.url("/device")).form(&form).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn setup() -> (TestServer, String, String, Client) {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let t = s.token("anna", PW, "anna's laptop").await;
    let (app, _) = register(&s, &t, "Clef TV", &[NATIVE_CB], false).await;
    let b = browser(&s, "anna").await;
    (s, t, app, b)
}

#[tokio::test]
async fn a_device_authorised_by_code_is_listed_and_signed_out_like_any_other() {
    let (s, t, app, b) = setup().await;
    let started = start(&s, &app, "Living room TV").await;
    let code = started["user_code"].as_str().unwrap();
    let (status, page) = answer(&s, &b, code, "approve", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (status, tokens) = poll(&s, &app, started["device_code"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let tv = tokens["access_token"].as_str().unwrap();
    assert_eq!(s.fetch(tv, "/api/v1/albums").await.status(), StatusCode::OK);
    let (_, devices) = s.get(&t, "/api/v1/devices").await;
    let listed = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Living room TV")
        .unwrap_or_else(|| panic!("the TV is not listed: {devices}"));
    assert_eq!(listed["type"], "tv");
    assert_eq!(
        listed["ip"], "127.0.0.1",
        "the TV's own address, from its poll"
    );
    // The Apps page lists it under its app.
    let (_, apps) = s.get(&t, "/api/v1/me/apps").await;
    assert_eq!(apps[0]["devices"][0]["name"], "Living room TV", "{apps}");
    let (_, events) = s.get(&t, "/api/v1/security-events").await;
    assert!(events.to_string().contains("device_authorized"), "{events}");
    // Sign out everywhere (keeping this device) signs the TV out, and its refresh token with it.
    let (status, _) = s
        .call(
            Method::POST,
            &t,
            "/api/v1/devices/sign-out-everywhere",
            Some(serde_json::json!({ "keep_current": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = s.get(tv, "/api/v1/albums").await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("signed_out_everywhere"))
    );
    let r = crate::oauth::refresh(&s, &app, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn polling_says_pending_slow_down_denied_and_expired() {
    let (s, _t, app, b) = setup().await;
    let one = start(&s, &app, "Kitchen speaker").await;
    let dc = one["device_code"].as_str().unwrap();
    assert_eq!(poll(&s, &app, dc).await.1["error"], "authorization_pending");
    assert_eq!(poll(&s, &app, dc).await.1["error"], "slow_down");
    s.clock.advance_secs(11);
    assert_eq!(poll(&s, &app, dc).await.1["error"], "authorization_pending");
    let (status, _) = answer(&s, &b, one["user_code"].as_str().unwrap(), "deny", None).await;
    assert_eq!(status, StatusCode::OK);
    s.clock.advance_secs(15);
    assert_eq!(poll(&s, &app, dc).await.1["error"], "access_denied");
    let two = start(&s, &app, "Kitchen speaker").await;
    s.clock.advance_secs(601);
    let (status, body) = poll(&s, &app, two["device_code"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("expired_token"))
    );
    // An expired or unknown code on the page says so, and keeps nothing.
    let r = b
        .get(s.url(&format!(
            "/device?code={}",
            two["user_code"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Another app cannot collect a device code.
    let (status, _) = poll(&s, "someone-else", dc).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn at_the_device_limit_approval_offers_to_sign_one_out() {
    let (s, t, app, b) = setup().await;
    let anna = s.store.user_by_name("anna").await.unwrap().unwrap();
    s.store.set_limits(&anna.id, Some(2), None).await.unwrap();
    let started = start(&s, &app, "Bedroom TV").await;
    let code = started["user_code"].as_str().unwrap();
    let (status, page) = answer(&s, &b, code, "approve", None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("Device limit reached"), "{page}");
    assert!(
        page.contains("anna&#39;s laptop") || page.contains("anna's laptop"),
        "{page}"
    );
    let laptop = crate::player::device_id(&s, &t, "anna's laptop").await;
    let (status, page) = answer(&s, &b, code, "approve", Some(&laptop)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (status, body) = s.get(&t, "/api/v1/albums").await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("replaced_at_device_limit"))
    );
    let (status, _) = poll(&s, &app, started["device_code"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
}

/// Fifty approvals racing for the account's last slot admit exactly one device.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_approvals_racing_for_the_last_slot_admit_one() {
    let (s, t, app, b) = setup().await;
    let anna = s.store.user_by_name("anna").await.unwrap().unwrap();
    // The laptop and the approving browser hold two slots; one is left.
    s.store.set_limits(&anna.id, Some(3), None).await.unwrap();
    let mut codes = Vec::new();
    for i in 0..50 {
        codes.push(
            start(&s, &app, &format!("Speaker {i}")).await["user_code"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let page = b
        .get(s.url(&format!("/device?code={}", codes[0])))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(codes.len()));
    let tasks = codes.into_iter().map(|code| {
        let (b, url, csrf, barrier) = (b.clone(), s.url("/device"), csrf.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            b.post(url)
                .form(&[
                    ("code", code.as_str()),
                    ("csrf", &csrf),
                    ("decision", "approve"),
                ])
                .send()
                .await
                .unwrap()
                .status()
        })
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let admitted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((admitted, refused), (1, 49), "{statuses:?}");
    let (_, devices) = s.get(&t, "/api/v1/devices").await;
    assert_eq!(devices.as_array().unwrap().len(), 3);
}
