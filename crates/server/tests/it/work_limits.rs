//! Open-ended work per request is capped: a device gets two transcoded streams at once (the one
//! playing and the next), and a user eight export progress connections.

use std::time::{Duration, Instant};

use clef_testkit::{Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::export_limits::{long_songs_server, PW};

async fn server() -> (TestServer, tempfile::TempDir, Vec<String>) {
    let (s, music, _, ids) = long_songs_server(3, 60, Options::default()).await;
    (s, music, ids)
}

async fn transcoded(s: &TestServer, token: &str, id: &str) -> reqwest::Response {
    s.client()
        .get(s.url(&format!(
            "/api/v1/tracks/{id}/stream?format=mp3&bitrate=128"
        )))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_gets_two_transcoded_streams_at_once() {
    let (s, _music, ids) = server().await;
    let speaker = s.token("anna", PW, "Speaker").await;
    let playing = transcoded(&s, &speaker, &ids[0]).await;
    let ahead = transcoded(&s, &speaker, &ids[1]).await;
    assert_eq!(
        (playing.status(), ahead.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let third = transcoded(&s, &speaker, &ids[2]).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.headers()["retry-after"], "5");
    let v: Value = third.json().await.unwrap();
    assert_eq!(v["error"], "too_many_transcodes");
    assert_eq!(v["scope"], "device");
    assert_eq!(
        v["message"],
        "This device already receives 2 converted streams (one playing, one ahead). Close one to start another, or play the original file."
    );
    // The original file still plays, and another device converts as usual.
    let r = s
        .client()
        .get(s.url(&format!("/api/v1/tracks/{}/stream", ids[2])))
        .bearer_auth(&speaker)
        .header("Range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    let phone = s.token("anna", PW, "Phone").await;
    assert_eq!(
        transcoded(&s, &phone, &ids[2]).await.status(),
        StatusCode::OK
    );
    // Closing one gives its place back once its encoder notices (at its next write).
    drop(playing);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = transcoded(&s, &speaker, &ids[2]).await;
        if r.status() == StatusCode::OK {
            break;
        }
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(Instant::now() < deadline, "the place was never given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_follows_exports_from_eight_places_at_once() {
    let (s, _music, ids) = server().await;
    let token = s.token("anna", PW, "laptop").await;
    let (st, job) = s
        .call(
            Method::POST,
            &token,
            "/api/v1/exports",
            Some(json!({ "title": "Slow", "track_ids": ids, "folder": "Slow",
                "settings": { "format": "flac", "compression": 8 } })),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    let url = s.url(&format!(
        "/api/v1/exports/{}/events",
        job["id"].as_str().unwrap()
    ));
    let open = || async {
        s.client()
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
    };
    let mut watching = Vec::new();
    for _ in 0..8 {
        let r = open().await;
        assert_eq!(r.status(), StatusCode::OK);
        watching.push(r);
    }
    let ninth = open().await;
    assert_eq!(ninth.status(), StatusCode::TOO_MANY_REQUESTS);
    let v: Value = ninth.json().await.unwrap();
    assert_eq!(v["error"], "too_many_progress_connections");
    // A page closed frees its place.
    drop(watching.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = open().await;
        if r.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "the place was never given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
