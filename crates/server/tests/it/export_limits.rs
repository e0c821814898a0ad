//! One user's exports cannot take the server: two run at once per user, conversions are capped
//! server-wide (not per job), and an export that would not fit the folder's free space or the
//! user's quota is refused with a clear answer before anything is written.

use std::sync::Arc;

use clef_testkit::{write_wav, Music, Options, TestServer};
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub(crate) const PW: &str = "export limits password";

async fn server(opts: Options) -> (TestServer, tempfile::TempDir, String, Vec<String>) {
    long_songs_server(4, 90, opts).await
}

/// A server over `n` silent songs of `secs` each ("Long 0", …), with a user anna signed in:
/// the server, its music folder, anna's token and the song ids in order.
pub(crate) async fn long_songs_server(
    n: usize,
    secs: u32,
    opts: Options,
) -> (TestServer, tempfile::TempDir, String, Vec<String>) {
    let music = tempfile::tempdir().unwrap();
    for i in 0..n {
        write_wav(
            &music.path().join(format!("{i:02} long.wav")),
            secs,
            &format!("Long {i}"),
        );
    }
    let s = TestServer::start_with(Options {
        music: Music::Dirs(vec![music.path().to_path_buf()]),
        ..opts
    })
    .await;
    s.create_user("anna", PW, false).await;
    let token = s.token("anna", PW, "laptop").await;
    let mut ids: Vec<(String, String)> = s
        .library
        .catalog()
        .records()
        .map(|r| (r.title.clone(), r.id.clone()))
        .collect();
    ids.sort();
    let ids = ids.into_iter().map(|(_, id)| id).collect();
    (s, music, token, ids)
}

fn export(tracks: &[String], folder: &str, settings: Value) -> Value {
    json!({ "title": folder, "track_ids": tracks, "folder": folder, "settings": settings })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_exports_started_at_once_run_two() {
    let (s, _music, token, ids) = server(Options::default()).await;
    let s = Arc::new(s);
    let starts = (0..5).map(|i| {
        let (s, token, body) = (
            s.clone(),
            token.clone(),
            export(&ids, &format!("Run {i}"), json!({ "format": "flac" })),
        );
        async move {
            s.call(Method::POST, &token, "/api/v1/exports", Some(body))
                .await
        }
    });
    let answers = join_all(starts).await;
    let started: Vec<&Value> = answers
        .iter()
        .filter(|(st, _)| *st == StatusCode::ACCEPTED)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(started.len(), 2, "{answers:?}");
    for (st, v) in answers.iter().filter(|(st, _)| *st != StatusCode::ACCEPTED) {
        assert_eq!(*st, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(v["error"], "too_many_running_exports");
        assert_eq!(
            v["message"],
            "you have 2 exports running already: wait for one to finish, or cancel one, then start this one"
        );
    }
    // Nothing was written for the refused ones.
    let listed = s.get(&token, "/api/v1/exports").await.1;
    assert_eq!(listed["exports"].as_array().unwrap().len(), 2);
    // Cancelling one makes room.
    let id = started[0]["id"].as_str().unwrap();
    let (st, _) = s
        .call(
            Method::DELETE,
            &token,
            &format!("/api/v1/exports/{id}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s
        .call(
            Method::POST,
            &token,
            "/api/v1/exports",
            Some(export(
                &ids[..1],
                "Again",
                json!({ "format": "mp3", "bitrate": 128 }),
            )),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conversions_are_capped_across_jobs() {
    let (s, _music, token, ids) = server(Options {
        exports: Some(|c| c.workers = 1),
        ..Options::default()
    })
    .await;
    let mut watchers = Vec::new();
    for (i, pair) in ids.chunks(2).enumerate() {
        let body = export(pair, &format!("Job {i}"), json!({ "format": "wav" }));
        let (st, job) = s
            .call(Method::POST, &token, "/api/v1/exports", Some(body))
            .await;
        assert_eq!(st, StatusCode::ACCEPTED);
        watchers.push(s.exports.progress(job["id"].as_str().unwrap()).unwrap());
    }
    // Watch both jobs to their end: never more than one file converting across them.
    let mut most = 0;
    loop {
        let states: Vec<(usize, bool)> = watchers
            .iter_mut()
            .map(|w| {
                let p = w.borrow_and_update();
                let converting = p.files.iter().filter(|f| f.state == "converting").count();
                (converting, p.state != "running")
            })
            .collect();
        most = most.max(states.iter().map(|(c, _)| c).sum::<usize>());
        if states.iter().all(|(_, ended)| *ended) {
            break;
        }
        let changes = watchers.iter_mut().map(|w| Box::pin(w.changed()));
        let _ = futures::future::select_all(changes).await;
    }
    assert_eq!(most, 1, "one conversion at a time, server-wide");
}

#[tokio::test]
async fn an_export_beyond_the_quota_is_refused_before_anything_is_written() {
    let (s, _music, token, ids) = server(Options {
        exports: Some(|c| c.quota_bytes = Some(4_000_000)),
        ..Options::default()
    })
    .await;
    // Ninety seconds at 320 kbps is 3.6 MB; two of them do not fit in 4 MB.
    let body = export(&ids[..2], "Car", json!({ "format": "mp3", "bitrate": 320 }));
    let (st, v) = s
        .call(Method::POST, &token, "/api/v1/exports", Some(body))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"], "export_quota_exceeded");
    assert_eq!(
        v["message"],
        "this export needs about 8 MB and your exports already take 0 bytes of your 4 MB allowance: tick fewer songs, choose a smaller format, or delete old exports"
    );
    assert!(
        !s.dir.path().join("exports/anna/Car").exists(),
        "nothing written"
    );
    assert!(s.get(&token, "/api/v1/exports").await.1["exports"]
        .as_array()
        .unwrap()
        .is_empty());
    // One fits; once it is done, the next one counts it.
    let body = export(&ids[..1], "Car", json!({ "format": "mp3", "bitrate": 320 }));
    let (st, job) = s
        .call(Method::POST, &token, "/api/v1/exports", Some(body))
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    let events = crate::exports::follow(&s, &token, job["id"].as_str().unwrap()).await;
    assert_eq!(events.last().unwrap()["state"], "done");
    let body = export(
        &ids[1..2],
        "Car",
        json!({ "format": "mp3", "bitrate": 128 }),
    );
    let (st, v) = s
        .call(Method::POST, &token, "/api/v1/exports", Some(body))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::CONFLICT, Some("export_quota_exceeded"))
    );
}

#[tokio::test]
async fn an_export_larger_than_the_free_space_is_refused_before_anything_is_written() {
    let (s, _music, token, ids) = server(Options {
        exports: Some(|c| c.free_space = |_| Ok(50_000_000)),
        ..Options::default()
    })
    .await;
    // Four 90-second songs as WAV are 63.5 MB.
    let body = export(&ids, "Big", json!({ "format": "wav" }));
    let (st, v) = s
        .call(Method::POST, &token, "/api/v1/exports", Some(body))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"], "export_too_large");
    assert_eq!(
        v["message"],
        "this export needs about 65 MB but the export folder has 50 MB free: tick fewer songs, choose a smaller format, or make room"
    );
    assert!(
        !s.dir.path().join("exports/anna/Big").exists(),
        "nothing written"
    );
    // As MP3 it fits.
    let body = export(&ids, "Big", json!({ "format": "mp3", "bitrate": 320 }));
    let (st, _) = s
        .call(Method::POST, &token, "/api/v1/exports", Some(body))
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
}
