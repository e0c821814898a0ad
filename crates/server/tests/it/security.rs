//! SECURITY.md items that the API alone can show: S1, S6, S7, P1, P2, P3, P4, P6.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use base64::Engine;
use clef_testkit::{Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const PW: &str = "security test password";

/// S1: tokens are 256 random bits, unique, and only their hashes are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s1_ten_thousand_session_tokens_are_unique_random_and_stored_hashed() {
    // Cheap hashing here: this test is about tokens, and 10,000 full argon2 runs would take minutes.
    let s = Arc::new(
        TestServer::start_with(Options {
            tweak: Some(|c| {
                c.hash_params = clef_accounts::HashParams {
                    memory_kib: 64,
                    iterations: 1,
                    parallelism: 1,
                }
            }),
            ..Options::default()
        })
        .await,
    );
    for u in 0..50 {
        s.create_user(&format!("bulk{u}"), PW, false).await;
        s.accounts
            .set_limits(
                clef_accounts::Actor::Console,
                &format!("bulk{u}"),
                Some(200),
                None,
            )
            .await
            .unwrap();
    }
    let sem = Arc::new(tokio::sync::Semaphore::new(32));
    let tasks = (0..10_000).map(|i| {
        let (s, sem) = (s.clone(), sem.clone());
        tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            s.token(&format!("bulk{}", i % 50), PW, &format!("d{i}"))
                .await
        })
    });
    let tokens: Vec<String> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let unique: HashSet<&String> = tokens.iter().collect();
    assert_eq!(unique.len(), 10_000, "no duplicates");
    for t in &tokens {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t)
            .unwrap();
        assert_eq!(raw.len(), 32, "256 bits");
    }
    let stored: HashSet<String> = s
        .store
        .raw_strings("SELECT token_hash FROM credentials")
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(stored.len(), 10_000);
    let dump = s
        .store
        .raw_strings(
            "SELECT d.id || d.name || d.client || d.ip || c.id || c.token_hash \
             FROM devices d JOIN credentials c ON c.device_id = d.id",
        )
        .await
        .unwrap()
        .join("\n");
    for t in tokens.iter().step_by(97) {
        assert!(!dump.contains(t.as_str()), "a raw token is in the database");
        assert!(stored.contains(&clef_core::SecretToken::from_presented(t).hash().0));
    }
}

/// S6: idle and absolute timeouts, with an injected clock.
#[tokio::test]
async fn s6_idle_and_absolute_timeouts() {
    let s = TestServer::start_with(Options {
        tweak: Some(|c| {
            c.idle_timeout_secs = 7 * 86_400;
            c.absolute_lifetime_secs = 30 * 86_400;
        }),
        ..Options::default()
    })
    .await;
    s.create_user("anna", PW, false).await;
    let idle = s.token("anna", PW, "idle").await;
    let busy = s.token("anna", PW, "busy").await;
    // Used every six days, "busy" outlives the idle limit; "idle" does not.
    for _ in 0..4 {
        s.clock.advance_secs(6 * 86_400);
        assert_eq!(s.get(&busy, "/api/v1/me").await.0, StatusCode::OK);
    }
    let (st, v) = s.get(&idle, "/api/v1/me").await;
    assert_eq!(
        (st, v["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("expired"))
    );
    // 24 days in; use extends only the idle timer, so at 30 days "busy" ends too.
    s.clock.advance_secs(6 * 86_400 - 1);
    assert_eq!(
        s.get(&busy, "/api/v1/me").await.0,
        StatusCode::OK,
        "just before the absolute limit"
    );
    s.clock.advance_secs(2);
    let (st, v) = s.get(&busy, "/api/v1/me").await;
    assert_eq!(
        (st, v["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("expired"))
    );
}

/// S7: changing the password needs the current one.
#[tokio::test]
async fn s7_password_change_needs_the_current_password() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let t = s.token("anna", PW, "laptop").await;
    let other = s.token("anna", PW, "phone").await;
    for body in [
        json!({ "current_password": "wrong password!", "new_password": "another passphrase" }),
        json!({ "current_password": "", "new_password": "another passphrase" }),
    ] {
        let (st, v) = s
            .call(Method::PUT, &t, "/api/v1/me/password", Some(body))
            .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("wrong_current_password"))
        );
    }
    let (st, _) = s
        .call(
            Method::PUT,
            &t,
            "/api/v1/me/password",
            Some(json!({ "new_password": "another passphrase" })),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "missing current password");
    assert_eq!(
        s.get(&other, "/api/v1/me").await.0,
        StatusCode::OK,
        "nothing was signed out"
    );
    assert_eq!(
        s.sign_in(&s.client(), "anna", PW, "x").await.status(),
        StatusCode::CREATED,
        "old password still valid"
    );
}

/// P1: argon2id with m=19 MiB, t=2, a salt per hash; the pepper is not in the database.
#[tokio::test]
async fn p1_stored_hashes_are_argon2id_with_salt_and_pepper() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    s.create_user("bob", PW, false).await;
    let hashes = s
        .store
        .raw_strings("SELECT password_hash FROM users ORDER BY username")
        .await
        .unwrap();
    for h in &hashes {
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    }
    assert_ne!(hashes[0], hashes[1], "same password, different salts");
    let pepper = std::fs::read_to_string(s.config.data_dir.join("pepper")).unwrap();
    assert_eq!(pepper.len(), 64);
    assert!(!hashes.iter().any(|h| h.contains(&pepper)));
}

/// P2: 8 to 128 characters, no composition rules, common passwords refused.
#[tokio::test]
async fn p2_password_rules() {
    let s = TestServer::start().await;
    s.create_user("root", "root password here", true).await;
    let admin = s.token("root", "root password here", "admin").await;
    let cases = [
        ("short77", StatusCode::UNPROCESSABLE_ENTITY),
        (&"x".repeat(129)[..], StatusCode::UNPROCESSABLE_ENTITY),
        ("password123", StatusCode::UNPROCESSABLE_ENTITY),
        ("qwertyuiop", StatusCode::UNPROCESSABLE_ENTITY),
        ("aaaaaaab", StatusCode::CREATED),
        (&"y".repeat(128)[..], StatusCode::CREATED),
        ("пароль для меня", StatusCode::CREATED),
        ("with spaces and no digits", StatusCode::CREATED),
    ];
    for (i, (pw, want)) in cases.iter().enumerate() {
        let (st, v) = s
            .call(
                Method::POST,
                &admin,
                "/api/v1/admin/users",
                Some(json!({ "username": format!("u{i}"), "password": pw })),
            )
            .await;
        assert_eq!(st, *want, "{pw}: {v}");
        if st == StatusCode::CREATED {
            assert_eq!(
                s.sign_in(&s.client(), &format!("u{i}"), pw, "d")
                    .await
                    .status(),
                StatusCode::CREATED,
                "{pw} signs in"
            );
        }
    }
    let t = s.token("u4", "aaaaaaab", "phone").await;
    let (st, v) = s
        .call(
            Method::PUT,
            &t,
            "/api/v1/me/password",
            Some(json!({ "current_password": "aaaaaaab", "new_password": "letmein1" })),
        )
        .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password"))
    );
}

fn loopback(i: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, i))
}

/// P3: throttled per account whatever the source address; forged X-Forwarded-For is ignored; the
/// owner gets back in after the back-off.
#[tokio::test]
async fn p3_throttling_per_account_across_addresses_and_owner_recovers() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let mut statuses = vec![];
    for i in 0..200u32 {
        let ip = loopback(2 + (i % 249) as u8);
        let r = s
            .client_from(ip)
            .post(s.url("/api/v1/sessions"))
            .header("X-Forwarded-For", format!("203.0.113.{}", i % 250))
            .json(&json!({ "username": "anna", "password": format!("guess {i}") }))
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
    }
    assert!(
        statuses[..5].iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{:?}",
        &statuses[..6]
    );
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(throttled >= 190, "only {throttled} of 200 throttled");
    // Even the right password waits during the back-off, from any address.
    let r = s
        .sign_in(&s.client_from(loopback(251)), "anna", PW, "owner")
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=60).contains(&wait),
        "back-off is capped at a minute, got {wait}"
    );
    // Forged headers were not believed: the log shows the real loopback addresses.
    let events = s
        .store
        .raw_strings("SELECT ip FROM security_events WHERE kind = 'failed_sign_in'")
        .await
        .unwrap();
    assert!(
        !events.is_empty() && events.iter().all(|ip| ip.starts_with("127.0.0.")),
        "{events:?}"
    );
    // Another account is not affected.
    s.create_user("bob", PW, false).await;
    assert_eq!(
        s.sign_in(&s.client_from(loopback(251)), "bob", PW, "bob")
            .await
            .status(),
        StatusCode::CREATED
    );
    s.clock.advance_secs(wait);
    assert_eq!(
        s.sign_in(&s.client_from(loopback(251)), "anna", PW, "owner")
            .await
            .status(),
        StatusCode::CREATED,
        "owner back in"
    );
}

/// P3, other half: behind a configured proxy, the forwarded address is the client's.
#[tokio::test]
async fn p3_forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let s = TestServer::start_with(Options {
        trusted_proxies: vec![loopback(1)],
        ..Options::default()
    })
    .await;
    s.create_user("anna", PW, false).await;
    let r = s
        .client_from(loopback(1))
        .post(s.url("/api/v1/sessions"))
        .header("X-Forwarded-For", "198.51.100.7, 127.0.0.1")
        .json(&json!({ "username": "anna", "password": PW, "device": { "name": "behind proxy" } }))
        .send()
        .await
        .unwrap();
    let t: Value = r.json().await.unwrap();
    // The devices list is read through the same proxy, for the same client (a device's address
    // is the one it last came from).
    let devices: Value = s
        .client_from(loopback(1))
        .get(s.url("/api/v1/devices"))
        .bearer_auth(t["token"].as_str().unwrap())
        .header("X-Forwarded-For", "198.51.100.7")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(devices[0]["ip"], "198.51.100.7");
    let r = s
        .client_from(loopback(9))
        .post(s.url("/api/v1/sessions"))
        .header("X-Forwarded-For", "198.51.100.8")
        .json(&json!({ "username": "anna", "password": PW, "device": { "name": "not a proxy" } }))
        .send()
        .await
        .unwrap();
    let t: Value = r.json().await.unwrap();
    let devices: Value = s
        .client_from(loopback(9))
        .get(s.url("/api/v1/devices"))
        .bearer_auth(t["token"].as_str().unwrap())
        .header("X-Forwarded-For", "198.51.100.8")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let me = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["current"] == true)
        .unwrap()
        .clone();
    assert_eq!(me["ip"], "127.0.0.9");
}

/// P6: every attempt is logged, and no password or token ever reaches the log.
#[tokio::test]
async fn p6_attempts_are_logged_without_secrets() {
    let s = TestServer::start().await;
    let secret = "p6 unique secret passphrase";
    s.create_user("p6user", secret, false).await;
    let token = s.token("p6user", secret, "p6 phone").await;
    s.sign_in(&s.client(), "p6user", "p6 wrong guess value", "p6 phone")
        .await;
    s.get(&token, "/api/v1/devices?token=should-not-log").await;
    let logs = clef_testkit::logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("signed in") && l.contains("p6user")),
        "success logged"
    );
    assert!(
        logs.lines()
            .any(|l| l.contains("sign-in failed") && l.contains("p6user")),
        "failure logged"
    );
    for secret in [
        secret,
        "p6 wrong guess value",
        token.as_str(),
        "should-not-log",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the log");
    }
}
