//! scipy's test WAVs (8- to 64-bit, float, big-endian, extensible, up to five channels, cut
//! short and malformed) through the scanner, the stream and transcode endpoints and an export:
//! every file is either listed as unreadable with its reason, or plays, transcodes (or is
//! refused with a clear 422) and exports (or fails alone with its reason). Never a 5xx, never a
//! body that breaks off.

use clef_testkit::{scipy_wavs, Music, Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::exports::{duration, ffprobe, follow, signed_in};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scipys_wavs_scan_stream_and_export_or_say_why_not() {
    let source = scipy_wavs();
    let music = tempfile::tempdir().unwrap();
    let mut files = 0;
    for e in std::fs::read_dir(&source).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "wav") {
            std::fs::copy(&p, music.path().join(p.file_name().unwrap())).unwrap();
            files += 1;
        }
    }
    assert!(files >= 20, "{files} WAVs in scipy's wheel");
    let s = TestServer::start_with(Options {
        music: Music::Dirs(vec![music.path().to_path_buf()]),
        ..Options::default()
    })
    .await;
    let tracks: Vec<(String, String)> = s
        .library
        .catalog()
        .records()
        .map(|r| (r.id.clone(), r.path.clone()))
        .collect();
    let problems = s.library.problems().await.unwrap();
    for p in &problems {
        assert!(!p.reason.trim().is_empty(), "{}: no reason", p.path);
    }
    assert_eq!(
        tracks.len() + problems.len(),
        files,
        "every file is a track or a problem"
    );
    println!(
        "scipy WAVs: {} playable, {} unreadable ({})",
        tracks.len(),
        problems.len(),
        problems
            .iter()
            .map(|p| format!("{}: {}", p.path.rsplit('/').next().unwrap_or(""), p.reason))
            .collect::<Vec<_>>()
            .join("; ")
    );
    assert!(!tracks.is_empty() && !problems.is_empty());

    let token = signed_in(&s, "anna").await;
    let mut refused = Vec::new();
    for (id, path) in &tracks {
        let name = path.rsplit('/').next().unwrap_or_default();
        let r = s
            .client()
            .get(s.url(&format!("/api/v1/tracks/{id}/stream")))
            .bearer_auth(&token)
            .header("Range", "bytes=0-15")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{name}: {}", r.status());
        r.bytes().await.unwrap();
        let r = s
            .client()
            .get(s.url(&format!(
                "/api/v1/tracks/{id}/stream?format=mp3&bitrate=128"
            )))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        match r.status() {
            StatusCode::OK => {
                let body = r
                    .bytes()
                    .await
                    .unwrap_or_else(|e| panic!("{name}: cut body: {e}"));
                let out = s.dir.path().join("t.mp3");
                std::fs::write(&out, &body).unwrap();
                let probe = ffprobe(&out);
                assert_eq!(probe["streams"][0]["codec_name"], "mp3", "{name}");
                assert!(
                    probe["streams"][0]["channels"].as_u64().unwrap() <= 2,
                    "{name}"
                );
            }
            StatusCode::UNPROCESSABLE_ENTITY => {
                let v: Value = r.json().await.unwrap();
                assert_eq!(v["error"], "cannot_transcode", "{name}");
                refused.push(format!("{name}: {}", v["reason"]));
            }
            other => panic!("{name}: transcoding answered {other}"),
        }
    }
    println!("refused for transcoding: {refused:?}");

    // One export of every playable file, to FLAC: each file done or failed with its reason.
    let ids: Vec<&String> = tracks.iter().map(|(id, _)| id).collect();
    let (st, job) = s
        .call(
            Method::POST,
            &token,
            "/api/v1/exports",
            Some(
                json!({ "title": "scipy", "track_ids": ids, "folder": "scipy",
                "pattern": "{title}", "settings": { "format": "flac" } }),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_str().unwrap();
    let events = follow(&s, &token, id).await;
    assert_eq!(events.last().unwrap()["state"], "done");
    let (_, done) = s.get(&token, &format!("/api/v1/exports/{id}")).await;
    let folder = s.dir.path().join("exports/anna/scipy");
    for f in done["files"].as_array().unwrap() {
        match f["state"].as_str().unwrap() {
            "done" => {
                let probe = ffprobe(&folder.join(f["path"].as_str().unwrap()));
                assert_eq!(probe["streams"][0]["codec_name"], "flac", "{f}");
                assert!(duration(&probe) >= 0.0);
            }
            "failed" => assert!(!f["error"].as_str().unwrap_or("").is_empty(), "{f}"),
            other => panic!("{other}: {f}"),
        }
    }
}
