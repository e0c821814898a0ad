//! Exports when more than one thing writes: a cancel made on another node (another Clef over the
//! same database) stops the conversions running here, not just the ones not yet begun; and two
//! exports into one folder at the same moment keep each other's files.

use std::sync::Arc;
use std::time::Duration;

use clef_core::OsRandom;
use clef_export::{ExportRequest, ExportSettings, Exports, ExportsConfig};
use clef_testkit::{write_wav, Music, Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::exports::{ffprobe, files_under, follow, signed_in};

/// A node over the test server's store and library: its own jobs, its own workers.
fn node(s: &TestServer, cfg: ExportsConfig) -> Exports {
    Exports::new(
        s.store.clone(),
        s.library.clone(),
        Arc::new(s.clock.clone()),
        Arc::new(OsRandom),
        cfg,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_on_another_node_stops_the_files_converting_here() {
    let music = tempfile::tempdir().unwrap();
    for i in 0..2 {
        let path = music.path().join(format!("{i} long.wav"));
        write_wav(&path, 180, &format!("Long {i}"));
    }
    let s = TestServer::start_with(Options {
        music: Music::Dirs(vec![music.path().to_path_buf()]),
        ..Options::default()
    })
    .await;
    let user = s.create_user("anna", "node test password", false).await;
    let token = s.token("anna", "node test password", "exporter").await;
    let (_, found) = s.get(&token, "/api/v1/search?q=long").await;
    let ids: Vec<String> = found["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    let roots = s.config.export_roots.clone();
    let here = node(
        &s,
        ExportsConfig {
            workers: 2,
            check_every: Duration::from_millis(50),
            ..ExportsConfig::new(roots.clone())
        },
    );
    let elsewhere = node(&s, ExportsConfig::new(roots));
    let settings = ExportSettings::from_json(r#"{"format":"mp3","bitrate":320}"#).unwrap();
    let job = here
        .start(
            &user.id,
            ExportRequest {
                title: "Long".into(),
                track_ids: ids,
                settings,
                folder: "Car".into(),
                pattern: Some("{title}".into()),
            },
        )
        .await
        .unwrap();
    let mut progress = here.progress(&job.id).expect("the job runs on this node");
    let converting = progress
        .wait_for(|p| p.files.iter().all(|f| f.fraction > 0.0))
        .await
        .expect("both files start converting")
        .clone();
    assert!(
        converting.files.iter().all(|f| f.fraction < 1.0),
        "{converting:?}"
    );

    // The other node has no worker for this job: only the store tells this one.
    assert!(elsewhere.progress(&job.id).is_none());
    let cancelled = elsewhere.cancel(&user.id, &job.id).await.unwrap();
    assert_eq!(cancelled.state.as_str(), "cancelled");

    let ended = progress
        .wait_for(|p| p.state != "running")
        .await
        .expect("the job's last state is published")
        .clone();
    assert_eq!(ended.state, "cancelled", "{ended:?}");
    assert!(
        ended.files.iter().all(|f| f.state == "pending"),
        "the two files converting were abandoned, not finished: {ended:?}"
    );
    let folder = s.config.export_roots[0]
        .canonicalize()
        .unwrap()
        .join("anna/Car");
    assert_eq!(
        files_under(&folder),
        Vec::<String>::new(),
        "nothing is left"
    );
    let (job, files) = here.get(&user.id, &job.id).await.unwrap();
    assert_eq!(job.state.as_str(), "cancelled");
    assert!(files.iter().all(|f| f.state.as_str() == "pending"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_exports_into_one_folder_keep_each_others_files() {
    let s = TestServer::with_sample_library().await;
    let token = signed_in(&s, "anna").await;
    let (_, albums) = s.get(&token, "/api/v1/albums?sort=name").await;
    let album = albums["albums"][0]["id"].as_str().unwrap().to_owned();
    let (_, album) = s.get(&token, &format!("/api/v1/albums/{album}")).await;
    let ids: Vec<Value> = album["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].clone())
        .collect();
    let body = json!({ "title": "Twice", "track_ids": ids.clone(), "folder": "Shared",
        "pattern": "{title}", "settings": { "format": "mp3", "bitrate": 128 } });
    // Both are planned before either has written a file, so both plan the same names.
    let (a, b) = tokio::join!(
        s.call(Method::POST, &token, "/api/v1/exports", Some(body.clone())),
        s.call(Method::POST, &token, "/api/v1/exports", Some(body.clone())),
    );
    assert_eq!((a.0, b.0), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    let folder = s.config.export_roots[0]
        .canonicalize()
        .unwrap()
        .join("anna/Shared");
    let mut saved = Vec::new();
    for job in [a.1, b.1] {
        let id = job["id"].as_str().unwrap();
        let events = follow(&s, &token, id).await;
        assert_eq!(events.last().unwrap()["state"], "done");
        let (_, job) = s.get(&token, &format!("/api/v1/exports/{id}")).await;
        let mine: Vec<String> = job["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                assert_eq!(f["state"], "done", "{f}");
                f["path"].as_str().unwrap().to_owned()
            })
            .collect();
        saved.extend(mine.clone());
        // Each export's playlist lists its own files.
        let playlists: Vec<String> = files_under(&folder)
            .into_iter()
            .filter(|f| f.ends_with(".m3u8"))
            .collect();
        let listed = playlists.iter().any(|p| {
            let text = std::fs::read_to_string(folder.join(p)).unwrap();
            let entries: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
            entries == mine.iter().map(String::as_str).collect::<Vec<_>>()
        });
        assert!(listed, "no playlist lists {mine:?}: {playlists:?}");
    }
    let mut on_disk = files_under(&folder);
    on_disk.retain(|f| !f.ends_with(".m3u8"));
    saved.sort();
    assert_eq!(
        on_disk, saved,
        "every file of both exports is there, under the name its history gives"
    );
    assert_eq!(saved.len(), 2 * ids.len(), "no file replaced another");
    for f in &saved {
        let probe = ffprobe(&folder.join(f));
        assert_eq!(probe["streams"][0]["codec_name"], "mp3", "{f} is complete");
    }
    let playlists = files_under(&folder)
        .into_iter()
        .filter(|f| f.ends_with(".m3u8"));
    assert_eq!(
        playlists.collect::<Vec<_>>(),
        ["Twice (2).m3u8", "Twice.m3u8"]
    );
}
