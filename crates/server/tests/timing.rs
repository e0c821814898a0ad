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
    let (mut known, mut unknown) = (vec![], vec![]);
    let mut bodies = HashSet::new();
    for i in 0..200u32 {
        let exists = i % 2 == 0;
        let name = if exists {
            format!("real{}", (i / 2) % 20)
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
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let (k, u) = (median(&mut known), median(&mut unknown));
    let gap = (k - u).abs() / k.max(u);
    assert!(
        gap < 0.25,
        "median sign-in time differs by {:.0}% (known {k:.4}s, unknown {u:.4}s)",
        gap * 100.0
    );
}
