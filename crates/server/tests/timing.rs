//! SECURITY.md P4, timing half: failures on real accounts and on unknown names take comparable
//! time. It has a test binary of its own because cargo runs test binaries one after another, so
//! the measurement is not disturbed by the integration tests' own load.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use clef_testkit::TestServer;
use reqwest::StatusCode;
use serde_json::json;

const PW: &str = "security test password";

fn loopback(i: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, i))
}

/// P4: unknown and known accounts get the same answer in comparable time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p4_no_account_enumeration_by_answer_or_timing() {
    let s = TestServer::start().await;
    for i in 0..20 {
        s.create_user(&format!("real{i}"), PW, false).await;
    }
    // Known and unknown names come in a shuffled order. A strict alternation lines each class
    // up with whatever in the server repeats every other request (the blocking thread that gets
    // the hash, for one), which showed as a 25-30% gap whose direction changed from run to run
    // even with the security-log write switched off; a shuffled order shows the difference that
    // depends on the account existing, which is what an attacker could measure.
    let mut order: Vec<bool> = (0..200).map(|i| i % 2 == 0).collect();
    shuffle(&mut order, 0x9e37_79b9_7f4a_7c15);
    let (mut known, mut unknown) = (vec![], vec![]);
    let mut bodies = HashSet::new();
    for (i, exists) in order.into_iter().enumerate() {
        let name = if exists {
            format!("real{}", known.len() % 20)
        } else {
            format!("ghost{i}")
        };
        let client = s.client_from(loopback(2 + (i % 20) as u8));
        let start = Instant::now();
        let r = client
            .post(s.url("/api/v1/sessions"))
            .json(&json!({ "username": name, "password": "not the password" }))
            .send()
            .await
            .unwrap();
        let took = start.elapsed().as_secs_f64();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert!(r.headers().get("set-cookie").is_none());
        bodies.insert(r.text().await.unwrap());
        if exists {
            known.push(took)
        } else {
            unknown.push(took)
        }
    }
    assert_eq!(bodies.len(), 1, "one body for every failure: {bodies:?}");
    assert_eq!((known.len(), unknown.len()), (100, 100));
    known.sort_by(|a, b| a.partial_cmp(b).unwrap());
    unknown.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let (k, u) = (known[50], unknown[50]);
    let gap = (k - u).abs() / k.max(u);
    assert!(
        gap < 0.10,
        "median sign-in time differs by {:.0}% (known {k:.4}s, unknown {u:.4}s)\n\
         deciles in ms, known:   {}\n\
         deciles in ms, unknown: {}",
        gap * 100.0,
        deciles(&known),
        deciles(&unknown),
    );
}

/// Fisher-Yates with xorshift64: a fixed seed keeps the order the same from run to run.
fn shuffle(v: &mut [bool], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

fn deciles(sorted: &[f64]) -> String {
    (0..10)
        .map(|i| format!("{:.1}", sorted[i * sorted.len() / 10] * 1000.0))
        .collect::<Vec<_>>()
        .join(" ")
}
