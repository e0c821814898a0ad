//! The revocation matrix (SECURITY.md S4, for what exists now): each way of signing out kills
//! exactly the credentials in its scope on their very next request, with the right reason, and
//! leaves every other credential working.

use clef_testkit::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

const PW: &str = "matrix password one";
const ADMIN_PW: &str = "matrix admin password";

struct World {
    s: TestServer,
    /// anna's devices A, B, C.
    a: String,
    b: String,
    c: String,
    /// bob's device, in another account.
    x: String,
    admin: String,
}

async fn world() -> World {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    s.create_user("bob", PW, false).await;
    s.create_user("root", ADMIN_PW, true).await;
    let a = s.token("anna", PW, "A laptop").await;
    let b = s.token("anna", PW, "B phone").await;
    let c = s.token("anna", PW, "C speaker").await;
    let x = s.token("bob", PW, "bob's phone").await;
    let admin = s.token("root", ADMIN_PW, "admin").await;
    World {
        s,
        a,
        b,
        c,
        x,
        admin,
    }
}

impl World {
    async fn device_id(&self, token: &str) -> String {
        let (_, me) = self.s.get(token, "/api/v1/me").await;
        me["device_id"].as_str().unwrap().to_owned()
    }
    async fn assert_works(&self, token: &str, what: &str) {
        assert_eq!(
            self.s.get(token, "/api/v1/devices").await.0,
            StatusCode::OK,
            "{what} should still work"
        );
    }
    async fn assert_signed_out(&self, token: &str, reason: &str, what: &str) {
        for path in ["/api/v1/devices", "/api/v1/me", "/api/v1/security-events"] {
            let (st, v) = self.s.get(token, path).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{what} on {path}");
            assert_eq!(v["error"], "signed_out", "{what}");
            assert_eq!(v["reason"], reason, "{what}");
            assert!(!v["message"].as_str().unwrap().is_empty());
        }
    }
}

#[tokio::test]
async fn sign_out_one_device() {
    let w = world().await;
    let b_id = w.device_id(&w.b).await;
    assert_eq!(
        w.s.call(
            Method::DELETE,
            &w.a,
            &format!("/api/v1/devices/{b_id}"),
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    w.assert_signed_out(&w.b, "signed_out_by_user", "B").await;
    let (_, v) = w.s.get(&w.b, "/api/v1/me").await;
    assert_eq!(
        v["by_device"], "A laptop",
        "the signed-out device is told which device did it"
    );
    assert_eq!(v["message"], "This device was signed out from A laptop.");
    w.assert_works(&w.a, "A").await;
    w.assert_works(&w.c, "C").await;
    w.assert_works(&w.x, "bob's device").await;
    // Signing it out again: it is no longer a live device.
    assert_eq!(
        w.s.call(
            Method::DELETE,
            &w.a,
            &format!("/api/v1/devices/{b_id}"),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn sign_out_this_device() {
    let w = world().await;
    assert_eq!(
        w.s.call(Method::DELETE, &w.c, "/api/v1/sessions/current", None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    w.assert_signed_out(&w.c, "signed_out_by_user", "C").await;
    w.assert_works(&w.a, "A").await;
    w.assert_works(&w.b, "B").await;
}

#[tokio::test]
async fn sign_out_everywhere_keeping_this_device() {
    let w = world().await;
    let (st, v) =
        w.s.call(
            Method::POST,
            &w.a,
            "/api/v1/devices/sign-out-everywhere",
            Some(json!({ "keep_current": true })),
        )
        .await;
    assert_eq!((st, v["signed_out"].as_i64()), (StatusCode::OK, Some(2)));
    w.assert_signed_out(&w.b, "signed_out_everywhere", "B")
        .await;
    w.assert_signed_out(&w.c, "signed_out_everywhere", "C")
        .await;
    let (_, v) = w.s.get(&w.c, "/api/v1/me").await;
    assert_eq!(
        v["message"],
        "You were signed out everywhere from A laptop."
    );
    w.assert_works(&w.a, "A").await;
    w.assert_works(&w.x, "bob's device").await;
    let (_, devices) = w.s.get(&w.a, "/api/v1/devices").await;
    assert_eq!(devices.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn sign_out_everywhere_including_this_device() {
    let w = world().await;
    let (st, v) =
        w.s.call(
            Method::POST,
            &w.a,
            "/api/v1/devices/sign-out-everywhere",
            None,
        )
        .await;
    assert_eq!((st, v["signed_out"].as_i64()), (StatusCode::OK, Some(3)));
    for (t, n) in [(&w.a, "A"), (&w.b, "B"), (&w.c, "C")] {
        w.assert_signed_out(t, "signed_out_everywhere", n).await;
    }
    w.assert_works(&w.x, "bob's device").await;
    w.assert_works(&w.admin, "admin").await;
}

#[tokio::test]
async fn password_change_signs_out_the_other_devices() {
    let w = world().await;
    let body = json!({ "current_password": PW, "new_password": "a brand new passphrase" });
    assert_eq!(
        w.s.call(Method::PUT, &w.a, "/api/v1/me/password", Some(body))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    w.assert_signed_out(&w.b, "password_changed", "B").await;
    w.assert_signed_out(&w.c, "password_changed", "C").await;
    let (_, v) = w.s.get(&w.b, "/api/v1/me").await;
    assert_eq!(v["by_device"], "A laptop");
    w.assert_works(&w.a, "A").await;
    w.assert_works(&w.x, "bob's device").await;
    assert_eq!(
        w.s.sign_in(&w.s.client(), "anna", PW, "D").await.status(),
        StatusCode::UNAUTHORIZED,
        "old password"
    );
    assert_eq!(
        w.s.sign_in(&w.s.client(), "anna", "a brand new passphrase", "D")
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn admin_disable_signs_out_every_device_of_that_user_only() {
    let w = world().await;
    let (st, u) =
        w.s.call(
            Method::PATCH,
            &w.admin,
            "/api/v1/admin/users/anna",
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!((st, u["disabled"].as_bool()), (StatusCode::OK, Some(true)));
    for (t, n) in [(&w.a, "A"), (&w.b, "B"), (&w.c, "C")] {
        w.assert_signed_out(t, "account_disabled", n).await;
    }
    let (_, v) = w.s.get(&w.a, "/api/v1/me").await;
    assert!(v.get("by_device").is_none(), "no device did it: {v}");
    w.assert_works(&w.x, "bob's device").await;
    w.assert_works(&w.admin, "admin").await;
    let r = w.s.sign_in(&w.s.client(), "anna", PW, "again").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "account_disabled"
    );
    // Re-enabled, anna signs in afresh; the old devices stay signed out.
    w.s.call(
        Method::PATCH,
        &w.admin,
        "/api/v1/admin/users/anna",
        Some(json!({ "disabled": false })),
    )
    .await;
    assert_eq!(
        w.s.sign_in(&w.s.client(), "anna", PW, "again")
            .await
            .status(),
        StatusCode::CREATED
    );
    w.assert_signed_out(&w.a, "account_disabled", "A after re-enable")
        .await;
}

#[tokio::test]
async fn console_password_reset_signs_out_every_device() {
    let w = world().await;
    let n =
        w.s.accounts
            .reset_password_from_console("anna", "reset from the console".into())
            .await
            .unwrap();
    assert_eq!(n, 3);
    for (t, name) in [(&w.a, "A"), (&w.b, "B"), (&w.c, "C")] {
        w.assert_signed_out(t, "password_reset", name).await;
    }
    w.assert_works(&w.x, "bob's device").await;
}

#[tokio::test]
async fn signing_out_records_who_did_it_in_the_security_log() {
    let w = world().await;
    let b_id = w.device_id(&w.b).await;
    w.s.call(
        Method::DELETE,
        &w.a,
        &format!("/api/v1/devices/{b_id}"),
        None,
    )
    .await;
    w.s.call(
        Method::POST,
        &w.a,
        "/api/v1/devices/sign-out-everywhere",
        Some(json!({ "keep_current": true })),
    )
    .await;
    let (_, events) = w.s.get(&w.a, "/api/v1/security-events").await;
    let events = events.as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        &kinds[..2],
        &["signed_out_everywhere", "signed_out"],
        "{kinds:?}"
    );
    assert_eq!(events[1]["device_name"], "B phone");
    assert_eq!(events[1]["detail"], "by A laptop");
    // Each of the three first sign-ins is one entry, "from a new device", and not two.
    assert_eq!(
        kinds.iter().filter(|k| **k == "new_device").count(),
        3,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "signed_in").count(),
        0,
        "{kinds:?}"
    );
    // bob sees none of it; the admin sees all of it.
    let (_, bobs) = w.s.get(&w.x, "/api/v1/security-events").await;
    assert!(bobs
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["kind"] != "signed_out_everywhere"));
    let (st, all) = w.s.get(&w.admin, "/api/v1/admin/security-events").await;
    assert_eq!(st, StatusCode::OK);
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "signed_out_everywhere"));
    assert_eq!(
        w.s.get(&w.a, "/api/v1/admin/security-events").await.0,
        StatusCode::FORBIDDEN
    );
}

/// Each sign-in is one entry in the log: the first from a device says "new device", the next
/// from the same device says "signed in", and neither comes twice.
#[tokio::test]
async fn each_sign_in_is_logged_once() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let first = s.token("anna", PW, "Kitchen laptop").await;
    let second = s.token("anna", PW, "Kitchen laptop").await;
    let (_, events) = s.get(&second, "/api/v1/security-events").await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .filter(|k| matches!(*k, "signed_in" | "new_device"))
        .collect();
    assert_eq!(kinds, ["signed_in", "new_device"], "newest first");
    drop(first);
}
