//! The device limit (SECURITY.md D1, D2): exact under concurrency, a refusal that names the
//! devices holding the slots, and freeing one in the same flow.

use std::sync::Arc;

use clef_testkit::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::Barrier;

const PW: &str = "limit test password";

/// Fires `n` sign-ins for `user` released together; returns (status, body) of each.
async fn concurrent_sign_ins(
    s: &Arc<TestServer>,
    user: &str,
    n: usize,
) -> Vec<(StatusCode, Value)> {
    let barrier = Arc::new(Barrier::new(n));
    let tasks = (0..n).map(|i| {
        let (s, barrier, user) = (s.clone(), barrier.clone(), user.to_owned());
        tokio::spawn(async move {
            let client = s.client();
            barrier.wait().await;
            let r = s.sign_in(&client, &user, PW, &format!("device {i}")).await;
            let status = r.status();
            (status, r.json::<Value>().await.unwrap())
        })
    });
    futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_sign_ins_admit_exactly_six_over_twenty_rounds() {
    let s = Arc::new(TestServer::start().await);
    for round in 0..20 {
        let user = format!("round{round}");
        s.create_user(&user, PW, false).await;
        let results = concurrent_sign_ins(&s, &user, 50).await;
        let admitted: Vec<&Value> = results
            .iter()
            .filter(|(st, _)| *st == StatusCode::CREATED)
            .map(|(_, v)| v)
            .collect();
        let refused: Vec<&Value> = results
            .iter()
            .filter(|(st, _)| *st == StatusCode::CONFLICT)
            .map(|(_, v)| v)
            .collect();
        assert_eq!((admitted.len(), refused.len()), (6, 44), "round {round}");
        for r in &refused {
            assert_eq!(r["error"], "device_limit_reached");
            assert_eq!(r["limit"], 6);
            assert_eq!(
                r["devices"].as_array().unwrap().len(),
                6,
                "the refusal names the six holders"
            );
        }
        let token = admitted[0]["token"].as_str().unwrap();
        let (st, devices) = s.get(token, "/api/v1/devices").await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(devices.as_array().unwrap().len(), 6);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sign_ins_and_sign_outs_never_exceed_the_limit() {
    let s = Arc::new(TestServer::start().await);
    for round in 0..20 {
        let user = format!("mix{round}");
        s.create_user(&user, PW, false).await;
        let mut tokens = vec![];
        for i in 0..6 {
            tokens.push(s.token(&user, PW, &format!("seed {i}")).await);
        }
        // Three of the six sign out while 47 new devices try to sign in, all released together.
        let barrier = Arc::new(Barrier::new(50));
        let mut tasks = vec![];
        for t in tokens.iter().take(3) {
            let t = t.clone();
            let (s, barrier) = (s.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                s.call(Method::DELETE, &t, "/api/v1/sessions/current", None)
                    .await
                    .0
            }));
        }
        for i in 0..47 {
            let (s, barrier, user) = (s.clone(), barrier.clone(), user.clone());
            tasks.push(tokio::spawn(async move {
                let client = s.client();
                barrier.wait().await;
                s.sign_in(&client, &user, PW, &format!("new {i}"))
                    .await
                    .status()
            }));
        }
        let statuses: Vec<StatusCode> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert!(
            statuses[..3].iter().all(|st| *st == StatusCode::NO_CONTENT),
            "round {round}: {statuses:?}"
        );
        let admitted = statuses[3..]
            .iter()
            .filter(|st| **st == StatusCode::CREATED)
            .count();
        let refused = statuses[3..]
            .iter()
            .filter(|st| **st == StatusCode::CONFLICT)
            .count();
        assert_eq!(
            admitted + refused,
            47,
            "round {round}: every attempt is admitted or refused: {statuses:?}"
        );
        assert!(
            admitted <= 3,
            "round {round}: only the three freed slots can be taken, got {admitted}"
        );
        let (_, devices) = s.get(&tokens[5], "/api/v1/devices").await;
        assert_eq!(
            devices.as_array().unwrap().len(),
            3 + admitted,
            "round {round}"
        );
    }
}

#[tokio::test]
async fn refusal_names_the_holders_and_replacing_one_completes_the_sign_in() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    s.create_user("bob", PW, false).await;
    let bobs = s.token("bob", PW, "bob's phone").await;
    let mut tokens = vec![];
    for i in 0..6 {
        tokens.push(s.token("anna", PW, &format!("phone {i}")).await);
    }
    let r = s.sign_in(&s.client(), "anna", PW, "seventh").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "device_limit_reached");
    assert!(
        v.get("continue_token").is_none(),
        "API clients get no web ticket: {v}"
    );
    let mut names: Vec<String> = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        (0..6).map(|i| format!("phone {i}")).collect::<Vec<_>>()
    );
    assert!(v["message"].as_str().unwrap().contains("replace_device_id"));
    let victim = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "phone 2")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Replacing a device that is not one of anna's live devices changes nothing.
    let (_, bob_devices) = s.get(&bobs, "/api/v1/devices").await;
    let bob_device = bob_devices[0]["id"].as_str().unwrap().to_owned();
    for bad in [
        bob_device.as_str(),
        "0123456789abcdef0123456789abcdef",
        "not-an-id",
    ] {
        let body = json!({ "username": "anna", "password": PW, "device": { "name": "seventh" }, "replace_device_id": bad });
        let r = s.sign_in_body(&s.client(), body).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    assert_eq!(
        s.get(&bobs, "/api/v1/devices").await.0,
        StatusCode::OK,
        "bob's device untouched"
    );

    let body = json!({ "username": "anna", "password": PW, "device": { "name": "seventh" }, "replace_device_id": victim });
    let r = s.sign_in_body(&s.client(), body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let seventh: Value = r.json().await.unwrap();
    let (st, gone) = s.get(&tokens[2], "/api/v1/devices").await;
    assert_eq!(
        (st, gone["error"].as_str(), gone["reason"].as_str()),
        (
            StatusCode::UNAUTHORIZED,
            Some("signed_out"),
            Some("replaced_at_device_limit")
        )
    );
    let (_, devices) = s
        .get(seventh["token"].as_str().unwrap(), "/api/v1/devices")
        .await;
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 6);
    assert!(devices
        .iter()
        .any(|d| d["name"] == "seventh" && d["current"] == true));
    assert!(!devices.iter().any(|d| d["id"] == victim.as_str()));
    for (i, t) in tokens.iter().enumerate().filter(|(i, _)| *i != 2) {
        assert_eq!(
            s.get(t, "/api/v1/me").await.0,
            StatusCode::OK,
            "device {i} still works"
        );
    }
}

#[tokio::test]
async fn admin_sets_the_limit_and_expired_devices_free_their_slots() {
    let s = TestServer::start().await;
    s.create_user("root", "admin password here", true).await;
    s.create_user("kid", PW, false).await;
    let admin = s.token("root", "admin password here", "admin laptop").await;
    let (st, u) = s
        .call(
            Method::PATCH,
            &admin,
            "/api/v1/admin/users/kid",
            Some(json!({ "max_devices": 1 })),
        )
        .await;
    assert_eq!((st, u["max_devices"].as_i64()), (StatusCode::OK, Some(1)));
    s.token("kid", PW, "tablet").await;
    assert_eq!(
        s.sign_in(&s.client(), "kid", PW, "phone").await.status(),
        StatusCode::CONFLICT
    );
    // Thirty days without use: the tablet expires and no longer holds the slot.
    s.clock.advance_secs(30 * 86_400 + 1);
    assert_eq!(
        s.sign_in(&s.client(), "kid", PW, "phone").await.status(),
        StatusCode::CREATED
    );
    // The admin's own sign-in idled out too; a fresh one raises the limit, which takes effect at once.
    let admin = s.token("root", "admin password here", "admin laptop").await;
    let (st, _) = s
        .call(
            Method::PATCH,
            &admin,
            "/api/v1/admin/users/kid",
            Some(json!({ "max_devices": 2 })),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let kid = s.token("kid", PW, "laptop").await;
    assert_eq!(
        s.get(&kid, "/api/v1/devices")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
