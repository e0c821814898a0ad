//! Two-step sign-in through the API, with codes computed by an independent implementation
//! (Python's pyotp): enrolment, sign-in with a code, replay refused, wrong codes throttled, a
//! recovery code used once, the device limit after the second step, turning it off (password and
//! code), an admin turning it off, and app passwords that are never asked for a code.

use clef_store::AccountStore;
use clef_testkit::{Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::oauth::PW;

/// The code an authenticator app shows for `secret` (base32) at `unix` seconds, from pyotp.
pub(crate) async fn pyotp(secret: &str, unix: i64) -> String {
    let out = tokio::process::Command::new("python3")
        .args([
            "-c",
            "import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))",
            secret,
            &unix.to_string(),
        ])
        .output()
        .await
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The server's clock in unix seconds.
pub(crate) fn now(s: &TestServer) -> i64 {
    s.accounts.now().millis() / 1000
}

/// Turns two-step sign-in on for the holder of `token`; returns the base32 key and the recovery
/// codes.
pub(crate) async fn enrol(s: &TestServer, token: &str) -> (String, Vec<String>) {
    let (status, e) = s
        .call(
            Method::POST,
            token,
            "/api/v1/me/two-step",
            Some(json!({ "current_password": PW })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    let uri = e["otpauth_uri"].as_str().unwrap();
    let secret = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(e["key"].as_str().unwrap().replace(' ', ""), secret);
    assert!(e["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let code = pyotp(&secret, now(s)).await;
    let (status, done) = s
        .call(
            Method::POST,
            token,
            "/api/v1/me/two-step/confirm",
            Some(json!({ "code": code })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let codes: Vec<String> = done["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

async fn sign_in(s: &TestServer, body: Value) -> (StatusCode, Value) {
    let r = s.sign_in_body(&s.client(), body).await;
    let status = r.status();
    (status, r.json().await.unwrap())
}

fn password(device: &str) -> Value {
    json!({ "username": "anna", "password": PW, "device": { "name": device, "type": "phone" } })
}

/// The challenge of a password sign-in on an account with two-step sign-in.
async fn challenge(s: &TestServer, device: &str) -> String {
    let (status, body) = sign_in(s, password(device)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "second_factor_required", "{body}");
    assert!(body.get("token").is_none());
    body["challenge"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_from_an_authenticator_app_are_the_second_step_and_count_once() {
    let s = TestServer::start_with(Options {
        smtp: true,
        ..Options::default()
    })
    .await;
    let anna = s.create_user("anna", PW, false).await;
    s.set_email(&anna, "anna@example.org").await;
    let laptop = s.token("anna", PW, "laptop").await;
    let dsub = crate::subsonic::app_password(&s, &laptop, "DSub", "app_password").await;

    // Enrolment asks for the password first.
    let (status, body) = s
        .call(
            Method::POST,
            &laptop,
            "/api/v1/me/two-step",
            Some(json!({ "current_password": "not it at all" })),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("wrong_current_password"))
    );
    let (secret, recovery) = enrol(&s, &laptop).await;
    assert_eq!(recovery.len(), 10);
    let (_, me) = s.get(&laptop, "/api/v1/me").await;
    assert_eq!(me["two_step"], true);
    let mut subjects = Vec::new();
    while subjects.len() < 3 {
        subjects.push(s.smtp().next_for("anna@example.org").await.subject);
    }
    assert!(
        subjects.contains(&"Two-step sign-in was turned on".to_owned()),
        "{subjects:?}"
    );

    // The password alone is not enough; the code the enrolment used is spent.
    let c = challenge(&s, "phone").await;
    let spent = pyotp(&secret, now(&s)).await;
    let (status, body) = sign_in(&s, json!({ "challenge": c, "code": spent })).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_code"))
    );
    s.clock.advance_secs(30);
    let fresh = pyotp(&secret, now(&s)).await;
    let (status, body) = sign_in(&s, json!({ "challenge": c, "code": fresh })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let phone = body["token"].as_str().unwrap().to_owned();
    assert_eq!(s.get(&phone, "/api/v1/me").await.0, StatusCode::OK);
    // Neither the challenge nor the code works twice.
    let (status, body) = sign_in(&s, json!({ "challenge": c, "code": fresh })).await;
    assert_eq!(body["error"], "challenge_invalid", "{status} {body}");
    let c2 = challenge(&s, "tablet").await;
    let (_, body) = sign_in(&s, json!({ "challenge": c2, "code": fresh })).await;
    assert_eq!(body["error"], "invalid_code", "a replayed code");

    // A recovery code works once, typed in any case and with spaces.
    let typed = recovery[0].to_uppercase().replace('-', " ");
    let (status, body) = sign_in(&s, json!({ "challenge": c2, "recovery_code": typed })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let c3 = challenge(&s, "tv").await;
    let (_, body) = sign_in(&s, json!({ "challenge": c3, "recovery_code": recovery[0] })).await;
    assert_eq!(body["error"], "invalid_code");

    // App passwords are device credentials: never asked for a code.
    let ping: Value = s
        .client()
        .get(s.url(&format!(
            "/rest/ping?u=anna&p={dsub}&v=1.16.1&c=DSub&f=json"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ping["subsonic-response"]["status"], "ok", "{ping}");

    // New recovery codes replace the old ones, used or not. (A quarter of an hour first: the
    // wrong codes above count in the sign-in throttle, as they should.)
    s.clock.advance_secs(15 * 60);
    let (status, _) = s
        .call(
            Method::POST,
            &laptop,
            "/api/v1/me/two-step/recovery-codes",
            Some(json!({ "current_password": "nope nope" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, fresh_codes) = s
        .call(
            Method::POST,
            &laptop,
            "/api/v1/me/two-step/recovery-codes",
            Some(json!({ "current_password": PW })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let fresh_codes = fresh_codes["recovery_codes"].as_array().unwrap().clone();
    assert_eq!(fresh_codes.len(), 10);
    let c4 = challenge(&s, "tv").await;
    let (_, body) = sign_in(&s, json!({ "challenge": c4, "recovery_code": recovery[1] })).await;
    assert_eq!(body["error"], "invalid_code", "an old code");
    let (status, _) = sign_in(
        &s,
        json!({ "challenge": c4, "recovery_code": fresh_codes[0] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // Turning it off needs the password and a code.
    let off = |pw: &str, code: &str| json!({ "current_password": pw, "code": code });
    s.clock.advance_secs(30);
    let code = pyotp(&secret, now(&s)).await;
    let (status, _) = s
        .call(
            Method::POST,
            &laptop,
            "/api/v1/me/two-step/disable",
            Some(off("wrong password", &code)),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = s
        .call(
            Method::POST,
            &laptop,
            "/api/v1/me/two-step/disable",
            Some(off(PW, "000000")),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_code"))
    );
    let (status, _) = s
        .call(
            Method::POST,
            &laptop,
            "/api/v1/me/two-step/disable",
            Some(off(PW, &code)),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = sign_in(&s, password("car")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, events) = s.get(&laptop, "/api/v1/security-events").await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "two_step_enabled",
        "two_step_disabled",
        "recovery_code_used",
    ] {
        assert!(kinds.contains(&kind), "{kind}: {kinds:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_are_throttled_and_end_the_challenge() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let laptop = s.token("anna", PW, "laptop").await;
    let (secret, _) = enrol(&s, &laptop).await;
    s.clock.advance_secs(30);
    let c = challenge(&s, "phone").await;
    let mut answers = Vec::new();
    for wrong in ["111111", "222222", "333333", "444444", "555555"] {
        let (status, body) = sign_in(&s, json!({ "challenge": c, "code": wrong })).await;
        answers.push((status, body["error"].as_str().unwrap_or("").to_owned()));
    }
    assert!(
        answers
            .iter()
            .all(|(st, e)| *st == StatusCode::UNAUTHORIZED && e == "invalid_code"),
        "{answers:?}"
    );
    // Five wrong codes end the challenge: even the right code does not finish it.
    let right = pyotp(&secret, now(&s)).await;
    let (status, body) = sign_in(&s, json!({ "challenge": c, "code": right })).await;
    assert_ne!(status, StatusCode::CREATED, "{body}");
    // And the account is throttled for a while: a new challenge's right code waits too.
    let (status, body) = sign_in(&s, password("phone")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    s.clock.advance_secs(15 * 60);
    let c = challenge(&s, "phone").await;
    let right = pyotp(&secret, now(&s)).await;
    let (status, body) = sign_in(&s, json!({ "challenge": c, "code": right })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_limit_still_offers_a_slot_after_the_code_and_an_admin_can_turn_it_off() {
    let s = TestServer::start().await;
    s.create_user("root", PW, true).await;
    let anna = s.create_user("anna", PW, false).await;
    let admin = s.token("root", PW, "admin laptop").await;
    let laptop = s.token("anna", PW, "laptop").await;
    let (secret, _) = enrol(&s, &laptop).await;
    s.store.set_limits(&anna.id, Some(1), None).await.unwrap();
    s.clock.advance_secs(30);
    let c = challenge(&s, "phone").await;
    let code = pyotp(&secret, now(&s)).await;
    let (status, body) = sign_in(&s, json!({ "challenge": c, "code": code })).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("device_limit_reached"))
    );
    let holder = body["devices"][0]["id"].as_str().unwrap().to_owned();
    // The repeat that frees the slot needs no second code.
    let (status, body) = sign_in(&s, json!({ "challenge": c, "replace_device_id": holder })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        s.get(&laptop, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    let phone = body["token"].as_str().unwrap().to_owned();

    // Lost phone: the admin turns two-step sign-in off, and the password alone works again.
    let (status, _) = s
        .call(
            Method::DELETE,
            &admin,
            "/api/v1/admin/users/anna/two-step",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s
        .call(
            Method::DELETE,
            &phone,
            "/api/v1/admin/users/anna/two-step",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only an admin");
    s.store.set_limits(&anna.id, Some(6), None).await.unwrap();
    let (status, body) = sign_in(&s, password("tablet")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, events) = s.get(&phone, "/api/v1/security-events").await;
    let off = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "two_step_disabled")
        .expect("logged");
    assert!(
        off["detail"].as_str().unwrap().contains("admin root"),
        "{off}"
    );
}
