//! P3 under concurrency: however many guesses arrive at once, no more passwords are checked than
//! the allowance (5 per account, 20 per address), on every path that checks one; the counts live
//! in the store, so a restarted server (or another node) keeps them.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use clef_accounts::{Accounts, AccountsConfig, DeviceInfo, SignIn};
use clef_core::{OsRandom, Password};
use clef_testkit::TestServer;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

const PW: &str = "throttle test password";

fn loopback(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x7f00_0000 + i))
}

/// Sends every (address, user, password) at once and returns the statuses in order.
async fn guess_at_once(s: &TestServer, guesses: Vec<(IpAddr, String, String)>) -> Vec<StatusCode> {
    let sends = guesses.into_iter().map(|(ip, user, password)| {
        let c = s.client_from(ip);
        let url = s.url("/api/v1/sessions");
        async move {
            c.post(url)
                .json(&json!({ "username": user, "password": password }))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    join_all(sends).await
}

fn count(statuses: &[StatusCode], want: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == want).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_guesses_at_once_check_five_passwords_of_one_account() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let before = s.accounts.password_checks();
    let guesses = (0..200)
        .map(|i| (loopback(2 + i), "anna".to_owned(), format!("guess {i}")))
        .collect();
    let statuses = guess_at_once(&s, guesses).await;
    let checked = s.accounts.password_checks() - before;
    println!("200 simultaneous wrong guesses on one account: {checked} passwords checked");
    assert_eq!(
        checked, 5,
        "the account's allowance, whatever the concurrency"
    );
    assert_eq!(count(&statuses, StatusCode::UNAUTHORIZED), 5);
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 195);
    // The owner waits out the back-off, then gets in.
    let r = s
        .sign_in(&s.client_from(loopback(250)), "anna", PW, "owner")
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    s.clock.advance_secs(1);
    let r = s
        .sign_in(&s.client_from(loopback(250)), "anna", PW, "owner")
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_guesses_at_once_from_one_address_check_twenty_passwords() {
    let s = TestServer::start().await;
    for i in 0..10 {
        s.create_user(&format!("user{i}"), PW, false).await;
    }
    let before = s.accounts.password_checks();
    // A sprayer tries one password on 200 names, real and not, from one address.
    let guesses = (0..200)
        .map(|i| (loopback(7), format!("user{i}"), "Summer2026!".to_owned()))
        .collect();
    let statuses = guess_at_once(&s, guesses).await;
    let checked = s.accounts.password_checks() - before;
    assert_eq!(checked, 20, "the address's allowance");
    assert_eq!(count(&statuses, StatusCode::UNAUTHORIZED), 20);
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 180);
    // Another address is not held back.
    let r = s
        .sign_in(&s.client_from(loopback(8)), "user3", PW, "laptop")
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_wrong_current_passwords_at_once_check_five() {
    let s = Arc::new(TestServer::start().await);
    s.create_user("anna", PW, false).await;
    let token = s.token("anna", PW, "laptop").await;
    let before = s.accounts.password_checks();
    let sends = (0..30).map(|i| {
        let (s, token) = (s.clone(), token.clone());
        async move {
            s.client()
                .put(s.url("/api/v1/me/password"))
                .bearer_auth(token)
                .json(&json!({
                    "current_password": format!("guess {i}"),
                    "new_password": "a brand new passphrase",
                }))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = join_all(sends).await;
    assert_eq!(s.accounts.password_checks() - before, 5);
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 25);
}

/// A restarted server is a new process over the same store: a second `Accounts` over it stands
/// for one (or for another node on PostgreSQL).
#[tokio::test]
async fn the_counts_outlive_a_restart() {
    let s = TestServer::start().await;
    s.create_user("anna", PW, false).await;
    let guesses = (0..5)
        .map(|i| (loopback(2), "anna".to_owned(), format!("guess {i}")))
        .collect();
    let statuses = guess_at_once(&s, guesses).await;
    assert_eq!(count(&statuses, StatusCode::UNAUTHORIZED), 5);
    let restarted = Accounts::new(
        s.store.clone(),
        Arc::new(s.clock.clone()),
        Arc::new(OsRandom),
        AccountsConfig::with_pepper(b"another process, same store".to_vec()),
    )
    .unwrap();
    let r = restarted
        .sign_in(SignIn {
            username: "anna".into(),
            password: Password::presented("one more guess".into()),
            device: DeviceInfo {
                name: clef_core::DeviceName::parse("laptop").unwrap(),
                device_type: clef_core::DeviceType::Computer,
                client: "test".into(),
            },
            credential: clef_store::CredentialKind::ApiToken,
            ip: "127.0.0.9".into(),
            replace: None,
        })
        .await;
    assert!(
        matches!(r, Err(clef_accounts::AccountsError::Throttled { .. })),
        "{r:?}"
    );
    assert_eq!(restarted.password_checks(), 0, "refused before any check");
}
