//! The catalog and playlists over HTTP, on the sample library a fresh install writes.

use clef_testkit::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const PW: &str = "library test password";

async fn sample() -> (TestServer, String) {
    let s = TestServer::with_sample_library().await;
    s.create_user("ann", PW, true).await;
    let t = s.token("ann", PW, "laptop").await;
    (s, t)
}

fn titles(v: &Value, key: &str, field: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x[field].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_library_is_browsable_with_tags_covers_and_sorts() {
    let (s, t) = sample().await;
    let (st, albums) = s.get(&t, "/api/v1/albums?sort=name").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(albums["total"], 2);
    assert_eq!(
        titles(&albums, "albums", "name"),
        ["First Light", "Signal Garden"]
    );
    let (_, by_year) = s.get(&t, "/api/v1/albums?sort=year").await;
    assert_eq!(
        titles(&by_year, "albums", "name"),
        ["Signal Garden", "First Light"],
        "newest first"
    );
    let (_, by_artist) = s.get(&t, "/api/v1/albums?sort=artist").await;
    assert_eq!(
        titles(&by_artist, "albums", "artist"),
        ["Mira Oak", "The Placeholders"]
    );
    let (_, page) = s.get(&t, "/api/v1/albums?sort=name&limit=1&offset=1").await;
    assert_eq!(
        (page["total"].as_i64(), titles(&page, "albums", "name")),
        (Some(2), vec!["Signal Garden".to_owned()])
    );
    let (_, r1) = s.get(&t, "/api/v1/albums?sort=random&seed=7").await;
    let (_, r2) = s.get(&t, "/api/v1/albums?sort=random&seed=7").await;
    assert_eq!(r1, r2, "a seeded shuffle pages stably");
    let (_, jazz) = s.get(&t, "/api/v1/albums?genre=ambient").await;
    assert_eq!(titles(&jazz, "albums", "name"), ["First Light"]);

    let first = &albums["albums"][0];
    assert_eq!(
        (
            first["artist"].as_str(),
            first["year"].as_i64(),
            first["track_count"].as_i64()
        ),
        (Some("The Placeholders"), Some(2024), Some(3))
    );
    let (st, album) = s
        .get(
            &t,
            &format!("/api/v1/albums/{}", first["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        titles(&album, "tracks", "title"),
        ["Morning Scale", "Open Window", "Tea Steam"]
    );
    let tr = &album["tracks"][0];
    assert_eq!(tr["track_no"], 1);
    assert_eq!(tr["track_total"], 3);
    assert_eq!(tr["disc_no"], 1);
    assert_eq!(tr["genres"], json!(["Ambient"]));
    assert_eq!(tr["artists"][0]["name"], "The Placeholders");
    assert_eq!(tr["codec"], "flac");
    assert_eq!(tr["sample_rate"], 44100);
    assert_eq!(tr["bit_depth"], 16);
    assert_eq!(tr["channels"], 2);
    assert_eq!(tr["duration_ms"], 8000);
    assert!(tr.get("path").is_none(), "clients never see file paths");
    let wav = &album["tracks"][2];
    assert_eq!(
        (wav["format"].as_str(), wav["has_cover"].as_bool()),
        (Some("wav"), Some(true)),
        "cover.jpg beside it"
    );

    // Covers: original and a cached thumbnail, both real JPEGs of the right size.
    let id = first["id"].as_str().unwrap();
    for (q, side) in [("", 300), ("?size=100", 128), ("?size=64", 64)] {
        let r = s
            .client()
            .get(s.url(&format!("/api/v1/albums/{id}/cover{q}")))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        let bytes = r.bytes().await.unwrap();
        let img = image_size(&bytes);
        assert_eq!(img, (side, side), "cover{q}");
    }
    let (st, body) = s
        .get(&t, &format!("/api/v1/albums/{id}/cover?size=99999"))
        .await;
    assert_eq!(
        (st, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("size"))
    );

    // Artists, genres, search.
    let (_, artists) = s.get(&t, "/api/v1/artists").await;
    assert_eq!(
        titles(&artists, "artists", "name"),
        ["Mira Oak", "The Placeholders"]
    );
    let aid = artists["artists"][0]["id"].as_str().unwrap();
    let (_, artist) = s.get(&t, &format!("/api/v1/artists/{aid}")).await;
    assert_eq!(titles(&artist, "albums", "name"), ["Signal Garden"]);
    let (_, genres) = s.get(&t, "/api/v1/genres").await;
    assert_eq!(titles(&genres, "genres", "name"), ["Ambient", "Electronic"]);
    let (_, found) = s.get(&t, "/api/v1/search?q=signal%20mira").await;
    assert_eq!(titles(&found, "albums", "name"), ["Signal Garden"]);
    assert_eq!(
        found["tracks"].as_array().unwrap().len(),
        3,
        "every word matches title, artist or album"
    );
    let (_, found) = s.get(&t, "/api/v1/search?q=TEA").await;
    assert_eq!(titles(&found, "tracks", "title"), ["Tea Steam"]);
    let (_, none) = s.get(&t, "/api/v1/search?q=").await;
    assert_eq!(none["tracks"].as_array().unwrap().len(), 0);

    // Bad input gets a clear answer.
    let (st, body) = s.get(&t, "/api/v1/albums?sort=colour").await;
    assert_eq!(
        (st, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("sort"))
    );
    let (st, body) = s.get(&t, "/api/v1/albums?limit=-3").await;
    assert_eq!(
        (st, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );
    let (st, _) = s.get(&t, "/api/v1/albums?limit=0").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = s.get("", "/api/v1/albums").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

/// Width and height of a JPEG, read from its SOF marker.
fn image_size(b: &[u8]) -> (u32, u32) {
    assert_eq!(&b[..2], &[0xff, 0xd8], "a JPEG");
    let mut i = 2;
    while i + 9 < b.len() {
        let marker = b[i + 1];
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        if (0xc0..=0xc2).contains(&marker) {
            let h = u16::from_be_bytes([b[i + 5], b[i + 6]]) as u32;
            let w = u16::from_be_bytes([b[i + 7], b[i + 8]]) as u32;
            return (w, h);
        }
        i += 2 + len;
    }
    panic!("no frame header");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playlists_edit_and_round_trip_through_m3u8() {
    let (s, t) = sample().await;
    let (_, albums) = s.get(&t, "/api/v1/albums?sort=name").await;
    let mut ids = Vec::new();
    for a in albums["albums"].as_array().unwrap() {
        let (_, album) = s
            .get(&t, &format!("/api/v1/albums/{}", a["id"].as_str().unwrap()))
            .await;
        for tr in album["tracks"].as_array().unwrap() {
            ids.push(tr["id"].as_str().unwrap().to_owned());
        }
    }
    let (st, p) = s
        .call(
            Method::POST,
            &t,
            "/api/v1/playlists",
            Some(json!({ "name": "  Morning  ", "track_ids": [ids[0], ids[1]] })),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(p["name"], "Morning", "names are trimmed");
    let pid = p["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/playlists/{pid}");
    let order = |v: &Value| -> Vec<String> {
        v["tracks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_owned())
            .collect()
    };

    let (_, p) = s
        .call(
            Method::POST,
            &t,
            &format!("{path}/tracks"),
            Some(json!({ "track_ids": [ids[4], ids[5]] })),
        )
        .await;
    assert_eq!(
        order(&p),
        [
            ids[0].as_str(),
            ids[1].as_str(),
            ids[4].as_str(),
            ids[5].as_str()
        ]
    );
    let (_, p) = s
        .call(
            Method::POST,
            &t,
            &format!("{path}/tracks"),
            Some(json!({ "track_ids": [ids[3]], "position": 0 })),
        )
        .await;
    assert_eq!(
        order(&p),
        [
            ids[3].as_str(),
            ids[0].as_str(),
            ids[1].as_str(),
            ids[4].as_str(),
            ids[5].as_str()
        ]
    );
    let (_, p) = s
        .call(
            Method::POST,
            &t,
            &format!("{path}/tracks/move"),
            Some(json!({ "from": 0, "to": 4 })),
        )
        .await;
    assert_eq!(
        order(&p),
        [
            ids[0].as_str(),
            ids[1].as_str(),
            ids[4].as_str(),
            ids[5].as_str(),
            ids[3].as_str()
        ]
    );
    let (_, p) = s
        .call(
            Method::POST,
            &t,
            &format!("{path}/tracks/remove"),
            Some(json!({ "positions": [1, 3] })),
        )
        .await;
    assert_eq!(
        order(&p),
        [ids[0].as_str(), ids[4].as_str(), ids[3].as_str()]
    );
    let (_, p) = s
        .call(Method::PATCH, &t, &path, Some(json!({ "name": "Dawn" })))
        .await;
    assert_eq!(
        (p["name"].as_str(), p["track_count"].as_i64()),
        (Some("Dawn"), Some(3))
    );
    assert!(p["duration_ms"].as_i64().unwrap() >= 24_000);

    // Bad edits change nothing.
    for (m, sub, body, field) in [
        (
            Method::POST,
            "/tracks/remove",
            json!({ "positions": [9] }),
            "positions",
        ),
        (
            Method::POST,
            "/tracks/move",
            json!({ "from": 5, "to": 0 }),
            "from",
        ),
        (
            Method::POST,
            "/tracks/move",
            json!({ "from": 0, "to": 3 }),
            "to",
        ),
        (
            Method::POST,
            "/tracks",
            json!({ "track_ids": ["nope"] }),
            "track_ids",
        ),
        (Method::PATCH, "", json!({ "name": "   " }), "name"),
        (Method::PATCH, "", json!({ "name": "a\u{202e}b" }), "name"),
    ] {
        let (st, b) = s.call(m, &t, &format!("{path}{sub}"), Some(body)).await;
        assert_eq!(
            (st, b["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{sub}"
        );
    }
    let (_, same) = s.get(&t, &path).await;
    assert_eq!(
        order(&same),
        [ids[0].as_str(), ids[4].as_str(), ids[3].as_str()]
    );

    // Export, then import the file as a new playlist: the same tracks in the same order.
    let r = s
        .client()
        .get(s.url(&format!("{path}/m3u8")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("Dawn.m3u8"));
    let text = r.text().await.unwrap();
    assert!(text.starts_with("#EXTM3U\n"), "{text}");
    assert!(text.contains("#EXTINF:8,The Placeholders - Morning Scale\nThe Placeholders/First Light/01 Morning Scale.flac\n"), "{text}");
    let with_junk = format!("{text}\nnot/in/the/library.mp3\n");
    let (st, imported) = s
        .call(
            Method::POST,
            &t,
            "/api/v1/playlists/import",
            Some(json!({ "name": "Copy", "m3u8": with_junk })),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(
        order(&imported["playlist"]),
        [ids[0].as_str(), ids[4].as_str(), ids[3].as_str()]
    );
    assert_eq!(imported["unmatched"], json!(["not/in/the/library.mp3"]));

    let (_, list) = s.get(&t, "/api/v1/playlists").await;
    assert_eq!(titles(&list, "playlists", "name"), ["Copy", "Dawn"]);
    let (st, _) = s.call(Method::DELETE, &t, &path, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.get(&t, &path).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_see_scan_progress_and_start_scans() {
    let (s, admin) = sample().await;
    s.create_user("bob", PW, false).await;
    let bob = s.token("bob", PW, "phone").await;
    let (st, status) = s.get(&admin, "/api/v1/admin/scan").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (status["tracks"].as_i64(), status["albums"].as_i64()),
        (Some(6), Some(2))
    );
    assert_eq!(status["progress"]["last"]["added"], 6);
    let (st, _) = s.get(&bob, "/api/v1/admin/scan").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = s.call(Method::POST, &bob, "/api/v1/admin/scan", None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // A broken file appears in the problems list after a scan started over the API.
    let dir = s.library.config().music_dirs[0].clone();
    std::fs::write(dir.join("broken.flac"), b"fLaC but not really").unwrap();
    let (st, _) = s
        .call(Method::POST, &admin, "/api/v1/admin/scan", None)
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    // Waiting for the scan to finish is waiting on the scanner's own lock, not a timer.
    s.library.scan().await.unwrap();
    let (_, problems) = s.get(&admin, "/api/v1/admin/scan/problems").await;
    let list = problems["problems"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{problems}");
    assert!(list[0]["path"].as_str().unwrap().ends_with("broken.flac"));
    assert!(!list[0]["reason"].as_str().unwrap().is_empty());
    let (_, status) = s.get(&admin, "/api/v1/admin/scan").await;
    assert_eq!(status["tracks"], 6, "the broken file is not a track");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_library_route() {
    let s = TestServer::start().await;
    let doc: Value = s
        .client()
        .get(s.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, method) in [
        ("/api/v1/artists", "get"),
        ("/api/v1/artists/{id}", "get"),
        ("/api/v1/albums", "get"),
        ("/api/v1/albums/{id}", "get"),
        ("/api/v1/albums/{id}/cover", "get"),
        ("/api/v1/tracks/{id}", "get"),
        ("/api/v1/tracks/{id}/cover", "get"),
        ("/api/v1/tracks/{id}/stream", "get"),
        ("/api/v1/genres", "get"),
        ("/api/v1/search", "get"),
        ("/api/v1/playback", "get"),
        ("/api/v1/playback", "put"),
        ("/api/v1/playlists", "get"),
        ("/api/v1/playlists", "post"),
        ("/api/v1/playlists/import", "post"),
        ("/api/v1/playlists/{id}", "patch"),
        ("/api/v1/playlists/{id}", "delete"),
        ("/api/v1/playlists/{id}/tracks", "post"),
        ("/api/v1/playlists/{id}/tracks", "put"),
        ("/api/v1/playlists/{id}/tracks/remove", "post"),
        ("/api/v1/playlists/{id}/tracks/move", "post"),
        ("/api/v1/playlists/{id}/m3u8", "get"),
        ("/api/v1/admin/scan", "post"),
        ("/api/v1/admin/scan/problems", "get"),
        ("/api/v1/sessions", "post"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
    // Every reference points at a schema that exists.
    let text = doc.to_string();
    for part in text.split("#/components/schemas/").skip(1) {
        let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
        assert!(
            doc["components"]["schemas"][&name].is_object(),
            "missing schema {name}"
        );
    }
}
