//! Bad input gets a clear 4xx answer and changes nothing.

use clef_testkit::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const PW: &str = "bad input password";

async fn device_count(s: &TestServer, token: &str) -> usize {
    s.get(token, "/api/v1/devices")
        .await
        .1
        .as_array()
        .unwrap()
        .len()
}

async fn raw_post(
    s: &TestServer,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut req = s
        .client()
        .post(s.url(path))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn malformed_oversize_and_unknown_fields_are_refused_without_effect() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let t = s.token("anna", PW, "laptop").await;
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("application/json", b"{\"username\": \"anna\", \"password\": ".to_vec(), StatusCode::BAD_REQUEST, "invalid_json"),
        ("application/json", b"[1,2,3]".to_vec(), StatusCode::BAD_REQUEST, "invalid_json"),
        ("application/json", json!({ "username": "anna", "password": PW, "admin": true }).to_string().into_bytes(), StatusCode::BAD_REQUEST, "invalid_json"),
        ("application/json", json!({ "username": "anna", "password": PW, "device": { "name": "x", "colour": "red" } }).to_string().into_bytes(), StatusCode::BAD_REQUEST, "invalid_json"),
        ("application/json", json!({ "username": "anna", "password": PW, "device": { "type": "toaster" } }).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
        ("text/plain", json!({ "username": "anna", "password": PW }).to_string().into_bytes(), StatusCode::BAD_REQUEST, "invalid_json"),
        ("application/json", json!({ "username": "anna", "password": "" }).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
        ("application/json", json!({ "username": "anna", "password": "p".repeat(10 * 1024 * 1024) }).to_string().into_bytes(), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        ("application/json", json!({ "username": "anna", "password": "p".repeat(2000) }).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
    ];
    for (i, (ct, body, want, code)) in cases.into_iter().enumerate() {
        let (st, v) = raw_post(&s, "/api/v1/sessions", None, ct, body).await;
        assert_eq!(
            (st, v["error"].as_str()),
            (want, Some(code)),
            "case {i}: {v}"
        );
        assert!(
            !v["message"].as_str().unwrap_or_default().is_empty(),
            "case {i} explains itself"
        );
    }
    let (st, v) = raw_post(
        &s,
        "/api/v1/sessions",
        None,
        "application/json",
        json!({ "username": "anna", "password": PW, "admin": true })
            .to_string()
            .into_bytes(),
    )
    .await;
    assert!(
        v["message"].as_str().unwrap().contains("admin"),
        "{st}: names the unknown field: {v}"
    );
    assert_eq!(
        device_count(&s, &t).await,
        1,
        "no device was created by bad input"
    );
    // Bad bodies on authenticated endpoints change nothing either.
    let (st, _) = raw_post(
        &s,
        "/api/v1/devices/sign-out-everywhere",
        Some(&t),
        "application/json",
        b"{\"keep_current\": yes}".to_vec(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(device_count(&s, &t).await, 1);
    let (st, v) = s
        .call(
            Method::PUT,
            &t,
            "/api/v1/me/password",
            Some(json!({ "current_password": PW, "new_password": "", "extra": 1 })),
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_json"))
    );
    assert_eq!(
        s.sign_in(&s.client(), "anna", PW, "still").await.status(),
        StatusCode::CREATED,
        "password unchanged"
    );
}

#[tokio::test]
async fn unicode_device_names_round_trip_and_control_characters_are_refused() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    for name in [
        "Аннин телефон",
        "アンナのiPhone",
        "🎧 Kopfhörer",
        "جهاز آنا",
    ] {
        let t = s.token("anna", PW, name).await;
        let (_, devices) = s.get(&t, "/api/v1/devices").await;
        let me = devices
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["current"] == true)
            .unwrap()
            .clone();
        assert_eq!(me["name"], name);
    }
    for bad in [
        "bell\u{7}",
        "tab\tname",
        "rtl\u{202E}gnp.exe",
        "",
        "   ",
        &"n".repeat(65),
    ] {
        let r = s.sign_in(&s.client(), "anna", PW, bad).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["field"], "device.name");
    }
    let t = s.token("anna", PW, "counter").await;
    assert_eq!(device_count(&s, &t).await, 5);
}

#[tokio::test]
async fn unknown_malformed_and_foreign_device_ids_are_not_found() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    s.create_user("bob", PW, false).await;
    let anna = s.token("anna", PW, "anna's laptop").await;
    let bob = s.token("bob", PW, "bob's phone").await;
    let (_, me) = s.get(&bob, "/api/v1/me").await;
    let bobs_device = me["device_id"].as_str().unwrap().to_owned();
    for id in [
        bobs_device.as_str(),
        "0123456789abcdef0123456789abcdef",
        "nope",
        "..%2F..%2Fetc%2Fpasswd",
        "0123456789ABCDEF0123456789ABCDEF",
    ] {
        let (st, v) = s
            .call(
                Method::DELETE,
                &anna,
                &format!("/api/v1/devices/{id}"),
                None,
            )
            .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found")),
            "{id}"
        );
    }
    assert_eq!(
        s.get(&bob, "/api/v1/me").await.0,
        StatusCode::OK,
        "bob's device was not touched"
    );
    let (st, v) = s.get(&anna, "/api/v1/no-such-endpoint").await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn admin_endpoints_refuse_non_admins_and_bad_limits() {
    let s = TestServer::start().await;
    s.create_user("root", "root password here", true).await;
    s.create_user("anna", PW, false).await;
    let admin = s.token("root", "root password here", "admin").await;
    let anna = s.token("anna", PW, "phone").await;
    assert_eq!(
        s.get(&anna, "/api/v1/admin/users").await.0,
        StatusCode::FORBIDDEN
    );
    let (st, _) = s
        .call(
            Method::PATCH,
            &anna,
            "/api/v1/admin/users/anna",
            Some(json!({ "max_devices": 100 })),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    for bad in [
        json!({ "max_devices": 0 }),
        json!({ "max_devices": -3 }),
        json!({ "max_streams": 1001 }),
    ] {
        let (st, v) = s
            .call(
                Method::PATCH,
                &admin,
                "/api/v1/admin/users/anna",
                Some(bad.clone()),
            )
            .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_input")),
            "{bad}"
        );
    }
    let (st, _) = s
        .call(
            Method::PATCH,
            &admin,
            "/api/v1/admin/users/anna",
            Some(json!({ "max_devices": "six" })),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = s
        .call(
            Method::PATCH,
            &admin,
            "/api/v1/admin/users/nobody",
            Some(json!({ "max_devices": 2 })),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = s
        .call(
            Method::POST,
            &admin,
            "/api/v1/admin/users",
            Some(json!({ "username": "anna", "password": "another password" })),
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    let (st, v) = s
        .call(
            Method::POST,
            &admin,
            "/api/v1/admin/users",
            Some(json!({ "username": "../etc", "password": "another password" })),
        )
        .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("username"))
    );
    let (_, users) = s.get(&admin, "/api/v1/admin/users").await;
    let anna_row = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "anna")
        .unwrap()
        .clone();
    assert_eq!(
        anna_row["max_devices"], 6,
        "unchanged by the refused requests"
    );
    assert_eq!(users.as_array().unwrap().len(), 2);
}

/// A query parameter that does not parse gets the JSON error body, like every API error.
#[tokio::test]
async fn bad_query_parameters_get_a_json_error() {
    let s = TestServer::start().await;
    s.create_user("root", PW, true).await;
    let token = s.token("root", PW, "laptop").await;
    for path in [
        "/api/v1/security-events?limit=abc",
        "/api/v1/admin/security-events?limit=abc",
        "/api/v1/security-events?unknown=1",
    ] {
        let r = s.fetch(&token, path).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
        let v: Value = r.json().await.unwrap();
        assert!(
            v["error"].is_string() && v["message"].is_string(),
            "{path}: {v}"
        );
    }
}
