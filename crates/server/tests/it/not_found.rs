//! Addresses that lead nowhere: an HTML page with the navigation for people, JSON for the API,
//! and for a missing album, artist or playlist a page that says what is missing and links back.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::player::{WebSession, PASSWORD};
use clef_testkit::TestServer;

#[tokio::test]
async fn unknown_addresses_get_a_page_for_people_and_json_for_programs() {
    let s = TestServer::with_sample_library().await;
    s.create_user("lena", PASSWORD, false).await;
    s.create_user("omar", PASSWORD, false).await;

    // Signed out: a page that offers to sign in.
    let r = s.client().get(s.url("/no/such/page")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let body = r.text().await.unwrap();
    assert!(body.contains("<h1>Page not found</h1>"), "{body}");
    assert!(body.contains("href=\"/signin\""), "{body}");

    // The API stays JSON, signed in or not.
    let r = s
        .client()
        .get(s.url("/api/v1/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "not_found");

    // Signed in: the navigation stays, and the link goes back to the music.
    let web = WebSession::sign_in(&s, "lena", "Laptop").await;
    let (status, body) = web.get(&s, "/librar").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("<nav aria-label=\"Main\">"), "{body}");
    assert!(body.contains("<h1>Page not found</h1>"), "{body}");

    for (path, heading, back) in [
        ("/library/albums/0000", "Album not found", "/library"),
        (
            "/library/artists/0000",
            "Artist not found",
            "/library/artists",
        ),
        (
            "/library/playlists/0000",
            "Playlist not found",
            "/library/playlists",
        ),
        ("/export/0000", "Export not found", "/export/history"),
    ] {
        let (status, body) = web.get(&s, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            body.contains(&format!("<h1>{heading}</h1>")),
            "{path}: {body}"
        );
        assert!(
            body.contains(&format!("id=\"missing-back\" href=\"{back}\"")),
            "{path} links back to {back}: {body}"
        );
        assert!(body.contains("<nav aria-label=\"Main\">"), "{path}");
    }

    // Someone else's playlist is missing too, and says nothing more.
    let omar = s.token("omar", PASSWORD, "Phone").await;
    let (_, p) = s
        .call(
            Method::POST,
            &omar,
            "/api/v1/playlists",
            Some(json!({ "name": "Private", "track_ids": [] })),
        )
        .await;
    let (status, body) = web
        .get(
            &s,
            &format!("/library/playlists/{}", p["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("<h1>Playlist not found</h1>") && !body.contains("Private"));
}
