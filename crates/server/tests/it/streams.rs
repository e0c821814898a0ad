//! Streaming: HTTP Range byte-exact against the file, stream slots under concurrency, prefetch,
//! takeover, leases of vanished clients, and open streams cut within a second of every kind of
//! sign-out (SECURITY.md F2 for the id parameters).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clef_accounts::Actor;

use crate::bitrate_reader;
use clef_testkit::{write_wav, Music, Options, TestServer};
use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, RANGE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::Barrier;

const PW: &str = "stream test password";

/// A server whose music folder holds `small` two-second tracks and one long one.
async fn server_with(
    small: usize,
    long_secs: u32,
    opts: Options,
) -> (TestServer, tempfile::TempDir) {
    let music = tempfile::tempdir().unwrap();
    for i in 0..small {
        write_wav(
            &music.path().join(format!("small {i:02}.wav")),
            2,
            &format!("Small {i:02}"),
        );
    }
    write_wav(&music.path().join("long.wav"), long_secs, "Long");
    let s = TestServer::start_with(Options {
        music: Music::Dirs(vec![music.path().to_path_buf()]),
        ..opts
    })
    .await;
    (s, music)
}

fn track_id(s: &TestServer, title: &str) -> String {
    let c = s.library.catalog();
    let id = c
        .records()
        .find(|r| r.title == title)
        .unwrap_or_else(|| panic!("no track titled {title}"))
        .id
        .clone();
    id
}

fn track_path(s: &TestServer, title: &str) -> PathBuf {
    let c = s.library.catalog();
    let p = c.records().find(|r| r.title == title).unwrap().path.clone();
    PathBuf::from(p)
}

async fn get_range(
    s: &TestServer,
    token: &str,
    path: &str,
    range: Option<&str>,
) -> reqwest::Response {
    let mut req = s.client().get(s.url(path)).bearer_auth(token);
    if let Some(r) = range {
        req = req.header(RANGE, r);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn range_requests_are_byte_exact() {
    let (s, _music) = server_with(1, 3, Options::default()).await;
    s.create_user("ann", PW, false).await;
    let t = s.token("ann", PW, "phone").await;
    let id = track_id(&s, "Long");
    let file = std::fs::read(track_path(&s, "Long")).unwrap();
    let size = file.len();
    let path = format!("/api/v1/tracks/{id}/stream");

    let r = get_range(&s, &t, &path, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "audio/wav");
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        &file[..],
        "the whole file"
    );

    let cases: Vec<(String, usize, usize)> = vec![
        ("bytes=0-0".into(), 0, 0),
        ("bytes=0-1023".into(), 0, 1023),
        (
            format!("bytes={}-{}", size / 2, size / 2 + 65_535),
            size / 2,
            size / 2 + 65_535,
        ),
        (format!("bytes={}-", size - 100), size - 100, size - 1),
        (
            format!("bytes={}-{}", size - 1, size + 5000),
            size - 1,
            size - 1,
        ),
        ("bytes=-500".into(), size - 500, size - 1),
        (format!("bytes=-{}", size * 2), 0, size - 1),
    ];
    for (range, start, end) in cases {
        let r = get_range(&s, &t, &path, Some(&range)).await;
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            r.headers()[CONTENT_RANGE].to_str().unwrap(),
            format!("bytes {start}-{end}/{size}"),
            "{range}"
        );
        assert_eq!(
            r.headers()["content-length"].to_str().unwrap(),
            (end - start + 1).to_string()
        );
        let body = r.bytes().await.unwrap();
        assert_eq!(
            body.as_ref(),
            &file[start..=end],
            "{range}: bytes differ from the file"
        );
    }
    for range in [
        format!("bytes={size}-"),
        format!("bytes={}-", size + 10),
        "bytes=-0".into(),
    ] {
        let r = get_range(&s, &t, &path, Some(&range)).await;
        assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(
            r.headers()[CONTENT_RANGE].to_str().unwrap(),
            format!("bytes */{size}")
        );
    }
    // Several ranges, or a unit we do not serve: the whole file (RFC 9110 allows ignoring Range).
    for range in ["bytes=0-1,5-9", "items=0-1"] {
        let r = get_range(&s, &t, &path, Some(range)).await;
        assert_eq!(r.status(), StatusCode::OK, "{range}");
        assert_eq!(r.bytes().await.unwrap().len(), size);
    }
    // A stale If-Range gets the whole file; a matching one the range.
    let etag = get_range(&s, &t, &path, Some("bytes=0-0")).await.headers()["etag"].clone();
    let r = s
        .client()
        .get(s.url(&path))
        .bearer_auth(&t)
        .header(RANGE, "bytes=0-9")
        .header("if-range", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .client()
        .get(s.url(&path))
        .bearer_auth(&t)
        .header(RANGE, "bytes=0-9")
        .header("if-range", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    // Without a credential there is nothing.
    let r = s.client().get(s.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ids_cannot_reach_other_files_or_other_users_data() {
    let (s, music) = server_with(1, 1, Options::default()).await;
    // A link inside the library to a file outside it, and to a folder outside it.
    let outside = tempfile::tempdir().unwrap();
    write_wav(&outside.path().join("secret.wav"), 1, "Secret");
    std::os::unix::fs::symlink(
        outside.path().join("secret.wav"),
        music.path().join("linked.wav"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), music.path().join("linked-folder")).unwrap();
    let report = s.library.scan().await.unwrap();
    assert_eq!(report.added, 0, "links out of the library are not followed");
    let root = music.path().canonicalize().unwrap();
    for r in s.library.catalog().records() {
        assert!(
            PathBuf::from(&r.path).starts_with(&root),
            "{} is outside the library",
            r.path
        );
    }

    s.create_user("ann", PW, false).await;
    s.create_user("bob", PW, false).await;
    let ann = s.token("ann", PW, "phone").await;
    let bob = s.token("bob", PW, "phone").await;
    let (st, pl) = s
        .call(
            Method::POST,
            &bob,
            "/api/v1/playlists",
            Some(json!({ "name": "Bob's" })),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let bobs = pl["id"].as_str().unwrap().to_owned();
    let real = track_path(&s, "Long").to_string_lossy().into_owned();

    let hostile = [
        "..%2F..%2F..%2Fetc%2Fpasswd".to_owned(),
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd".to_owned(),
        "%252e%252e%252fetc%252fpasswd".to_owned(),
        "%2Fetc%2Fpasswd".to_owned(),
        "abc%00def".to_owned(),
        "..".to_owned(),
        "%2e%2e".to_owned(),
        real.replace('/', "%2F"),
        "a".repeat(5000),
    ];
    let templates = [
        "/api/v1/tracks/{}/stream",
        "/api/v1/tracks/{}",
        "/api/v1/tracks/{}/cover",
        "/api/v1/albums/{}",
        "/api/v1/albums/{}/cover",
        "/api/v1/artists/{}",
        "/api/v1/playlists/{}",
        "/api/v1/playlists/{}/m3u8",
    ];
    for t in templates {
        for h in &hostile {
            let path = t.replace("{}", h);
            let r = s
                .client()
                .get(s.url(&path))
                .bearer_auth(&ann)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body = r.bytes().await.unwrap();
            assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
                "{path}: {status}"
            );
            assert!(
                !body.windows(5).any(|w| w == b"root:"),
                "{path} leaked a file"
            );
            assert!(
                !body.windows(4).any(|w| w == b"RIFF"),
                "{path} served audio"
            );
        }
        // Another user's playlist is as absent as a made-up one.
        if t.contains("playlists") {
            let (st, _) = s.get(&ann, &t.replace("{}", &bobs)).await;
            assert_eq!(
                st,
                StatusCode::NOT_FOUND,
                "{t} with another user's playlist"
            );
        }
    }
    for (m, path, body) in [
        (Method::DELETE, format!("/api/v1/playlists/{bobs}"), None),
        (
            Method::PATCH,
            format!("/api/v1/playlists/{bobs}"),
            Some(json!({ "name": "mine now" })),
        ),
        (
            Method::POST,
            format!("/api/v1/playlists/{bobs}/tracks"),
            Some(json!({ "track_ids": [] })),
        ),
        (
            Method::POST,
            format!("/api/v1/playlists/{bobs}/tracks/remove"),
            Some(json!({ "positions": [0] })),
        ),
    ] {
        let (st, _) = s.call(m.clone(), &ann, &path, body).await;
        assert!(
            st == StatusCode::NOT_FOUND || st == StatusCode::UNPROCESSABLE_ENTITY,
            "{m} {path}: {st}"
        );
    }
    let (st, pl) = s.get(&bob, &format!("/api/v1/playlists/{bobs}")).await;
    assert_eq!(
        (st, pl["name"].as_str()),
        (StatusCode::OK, Some("Bob's")),
        "untouched"
    );
}

/// Signs `n` devices of `user` in and returns (device id, token) of each.
async fn devices(s: &TestServer, user: &str, n: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for i in 0..n {
        let r = s
            .sign_in(&s.client(), user, PW, &format!("device {i:02}"))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        out.push((
            v["device_id"].as_str().unwrap().to_owned(),
            v["token"].as_str().unwrap().to_owned(),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_devices_starting_at_once_get_exactly_six_slots_over_twenty_rounds() {
    let (s, _music) = server_with(2, 1, Options::default()).await;
    s.create_user("ann", PW, false).await;
    s.accounts
        .set_limits(Actor::Console, "ann", Some(50), None)
        .await
        .unwrap();
    let s = Arc::new(s);
    let devs = Arc::new(devices(&s, "ann", 50).await);
    let first = track_id(&s, "Small 00");
    let second = track_id(&s, "Small 01");
    for round in 0..20 {
        let barrier = Arc::new(Barrier::new(50));
        let tasks = (0..50).map(|i| {
            let (s, devs, barrier, path) = (
                s.clone(),
                devs.clone(),
                barrier.clone(),
                format!("/api/v1/tracks/{first}/stream"),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                let r = get_range(&s, &devs[i].1, &path, Some("bytes=0-1023")).await;
                let status = r.status();
                let body = r.bytes().await.unwrap();
                (i, status, body)
            })
        });
        let results: Vec<_> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let winners: Vec<usize> = results
            .iter()
            .filter(|r| r.1 == StatusCode::PARTIAL_CONTENT)
            .map(|r| r.0)
            .collect();
        assert_eq!(
            winners.len(),
            6,
            "round {round}: {} streams granted",
            winners.len()
        );
        for (_, status, body) in results
            .iter()
            .filter(|r| r.1 != StatusCode::PARTIAL_CONTENT)
        {
            assert_eq!(*status, StatusCode::CONFLICT);
            let v: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(v["error"], "stream_limit_reached");
            assert_eq!(v["limit"], 6);
            let names: Vec<&str> = v["streams"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["name"].as_str().unwrap())
                .collect();
            assert_eq!(names.len(), 6, "the refusal names the six playing devices");
            assert!(
                v["streams"][0]["track"]["title"].is_string(),
                "and what they play"
            );
        }
        // A playing device prefetching the next track keeps its one slot; nobody else gets in.
        let w = winners[0];
        let r = get_range(
            &s,
            &devs[w].1,
            &format!("/api/v1/tracks/{second}/stream"),
            Some("bytes=0-1023"),
        )
        .await;
        assert_eq!(
            r.status(),
            StatusCode::PARTIAL_CONTENT,
            "prefetch by a playing device"
        );
        let loser = (0..50).find(|i| !winners.contains(i)).unwrap();
        let r = get_range(
            &s,
            &devs[loser].1,
            &format!("/api/v1/tracks/{second}/stream"),
            Some("bytes=0-0"),
        )
        .await;
        assert_eq!(
            r.status(),
            StatusCode::CONFLICT,
            "still six slots after the prefetch"
        );
        let (_, playing) = s.get(&devs[w].1, "/api/v1/playback").await;
        assert_eq!(playing["streams"].as_array().unwrap().len(), 6);
        // The players stop: every slot is free for the next round.
        for &w in &winners {
            let (st, _) = s
                .call(
                    Method::PUT,
                    &devs[w].1,
                    "/api/v1/playback",
                    Some(json!({ "track_id": first, "state": "stopped" })),
                )
                .await;
            assert_eq!(st, StatusCode::NO_CONTENT);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_vanished_client_frees_its_slot_when_its_lease_ends_and_heartbeats_keep_it() {
    let (s, _music) = server_with(1, 1, Options::default()).await;
    s.create_user("ann", PW, false).await;
    s.accounts
        .set_limits(Actor::Console, "ann", None, Some(1))
        .await
        .unwrap();
    let d = devices(&s, "ann", 2).await;
    let id = track_id(&s, "Small 00");
    let path = format!("/api/v1/tracks/{id}/stream");
    let r = get_range(&s, &d[0].1, &path, Some("bytes=0-99")).await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    r.bytes().await.unwrap();
    assert_eq!(
        get_range(&s, &d[1].1, &path, Some("bytes=0-0"))
            .await
            .status(),
        StatusCode::CONFLICT
    );
    // Heartbeats keep the slot past the lease.
    for _ in 0..3 {
        s.clock.advance_secs(30);
        let (st, _) = s
            .call(
                Method::PUT,
                &d[0].1,
                "/api/v1/playback",
                Some(json!({ "track_id": id, "state": "playing" })),
            )
            .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
    }
    assert_eq!(
        get_range(&s, &d[1].1, &path, Some("bytes=0-0"))
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let (_, devs) = s.get(&d[1].1, "/api/v1/devices").await;
    let playing: Vec<bool> = devs
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["playing"].as_bool().unwrap())
        .collect();
    assert_eq!(
        playing.iter().filter(|p| **p).count(),
        1,
        "the Devices list shows who plays"
    );
    // The client vanishes: 45 s without a heartbeat frees the slot (under the 60 s promise).
    s.clock.advance_secs(46);
    assert_eq!(
        get_range(&s, &d[1].1, &path, Some("bytes=0-0"))
            .await
            .status(),
        StatusCode::PARTIAL_CONTENT
    );
    let (st, body) = s
        .call(
            Method::PUT,
            &d[0].1,
            "/api/v1/playback",
            Some(json!({ "track_id": id, "state": "playing" })),
        )
        .await;
    assert_eq!(
        (st, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("stream_limit_reached"))
    );
    let (st, body) = s
        .call(
            Method::PUT,
            &d[0].1,
            "/api/v1/playback",
            Some(json!({ "track_id": id, "state": "dancing" })),
        )
        .await;
    assert_eq!(
        (st, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("state"))
    );
}

/// What ends a stream in `cut_case`.
#[derive(Debug, Clone, Copy)]
enum Cut {
    SignOutFromOtherDevice,
    SignOutItself,
    Everywhere,
    PasswordChange,
    AdminDisable,
    ConsoleRevoke,
    Takeover,
}

/// Opens a long stream on a "speaker", stops reading (a slow reader), makes `cut` happen, then
/// reads as fast as it can: the stream must end short of the file within a second, and the
/// speaker must learn why.
async fn cut_case(s: &TestServer, cut: Cut, password: &mut String) {
    let r = s.sign_in(&s.client(), "ann", password, "Speaker").await;
    let v: Value = r.json().await.unwrap();
    let (speaker_id, speaker) = (
        v["device_id"].as_str().unwrap().to_owned(),
        v["token"].as_str().unwrap().to_owned(),
    );
    let phone = s.token("ann", password, "Phone").await;
    let id = track_id(s, "Long");
    let size = std::fs::metadata(track_path(s, "Long")).unwrap().len();
    // A speaker playing it: 16-bit stereo at 44.1 kHz is 176,400 bytes a second.
    let (length, reader) = bitrate_reader::open(
        s.addr,
        &speaker,
        &format!("/api/v1/tracks/{id}/stream"),
        176_400,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(length, size);
    assert_eq!(s.accounts.open_streams(), 1);

    let started = Instant::now();
    match cut {
        Cut::SignOutFromOtherDevice => {
            let (st, _) = s
                .call(
                    Method::DELETE,
                    &phone,
                    &format!("/api/v1/devices/{speaker_id}"),
                    None,
                )
                .await;
            assert!(st.is_success(), "{cut:?}: {st}");
        }
        Cut::SignOutItself => {
            let (st, _) = s
                .call(Method::DELETE, &speaker, "/api/v1/sessions/current", None)
                .await;
            assert!(st.is_success(), "{cut:?}: {st}");
        }
        Cut::Everywhere => {
            let (st, _) = s
                .call(
                    Method::POST,
                    &phone,
                    "/api/v1/devices/sign-out-everywhere",
                    Some(json!({ "keep_current": true })),
                )
                .await;
            assert!(st.is_success(), "{cut:?}: {st}");
        }
        Cut::PasswordChange => {
            let new = format!("{password} and more");
            let (st, _) = s.call(Method::PUT, &phone, "/api/v1/me/password", Some(json!({ "current_password": password.clone(), "new_password": new.clone() }))).await;
            assert!(st.is_success(), "{cut:?}: {st}");
            *password = new;
        }
        Cut::AdminDisable => {
            s.accounts
                .set_disabled(Actor::Console, "ann", true)
                .await
                .unwrap();
        }
        Cut::ConsoleRevoke => {
            let id = clef_core::DeviceId::parse(&speaker_id).unwrap();
            s.accounts.revoke_from_console("ann", &id).await.unwrap();
        }
        Cut::Takeover => {
            let r = get_range(
                s,
                &phone,
                &format!("/api/v1/tracks/{id}/stream"),
                Some("bytes=0-0"),
            )
            .await;
            assert_eq!(r.status(), StatusCode::CONFLICT, "the limit is one stream");
            let r = get_range(
                s,
                &phone,
                &format!("/api/v1/tracks/{id}/stream?takeover={speaker_id}"),
                Some("bytes=0-0"),
            )
            .await;
            assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
            r.bytes().await.unwrap();
        }
    }
    let cut_at = Instant::now();
    let reading = reader.await.unwrap();
    let (after_cut, after_a_second) = (
        reading.after(cut_at),
        reading.after(cut_at + Duration::from_secs(1)),
    );
    println!(
        "{cut:?}: sign-out answered after {:?}; the speaker read {after_cut} bytes after it, {after_a_second} after one second more ({} of {size} in all)",
        cut_at - started,
        reading.total()
    );
    assert!(
        reading.cut,
        "{cut:?}: the stream must end short, not look complete"
    );
    assert_eq!(
        after_a_second, 0,
        "{cut:?}: audio still arrived more than a second after the sign-out"
    );

    // The speaker learns why on its next call.
    let (st, body) = s
        .call(
            Method::PUT,
            &speaker,
            "/api/v1/playback",
            Some(json!({ "track_id": id, "state": "playing" })),
        )
        .await;
    match cut {
        Cut::Takeover => {
            assert_eq!(st, StatusCode::CONFLICT);
            assert_eq!(body["error"], "playback_stopped");
            assert_eq!(body["by_device"], "Phone");
            assert_eq!(body["message"], "Playback moved to Phone.");
            // Every report says so, paused or not, until the speaker starts a new stream, which
            // then meets the limit: the phone holds the only slot.
            let playing = json!({ "track_id": id, "state": "playing" });
            let stopped = json!({ "track_id": id, "state": "stopped" });
            for body in [playing.clone(), stopped, playing] {
                let (st, answer) = s
                    .call(
                        Method::PUT,
                        &speaker,
                        "/api/v1/playback",
                        Some(body.clone()),
                    )
                    .await;
                if body["state"] == "stopped" {
                    assert_eq!(st, StatusCode::NO_CONTENT);
                } else {
                    assert_eq!(answer["error"], "playback_stopped", "{answer}");
                }
            }
            let r = get_range(
                s,
                &speaker,
                &format!("/api/v1/tracks/{id}/stream"),
                Some("bytes=0-0"),
            )
            .await;
            assert_eq!(r.status(), StatusCode::CONFLICT);
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"], "stream_limit_reached");
        }
        _ => {
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{cut:?}");
            let reason = match cut {
                Cut::Everywhere => "signed_out_everywhere",
                Cut::PasswordChange => "password_changed",
                Cut::AdminDisable => "account_disabled",
                _ => "signed_out_by_user",
            };
            assert_eq!(body["reason"], reason, "{cut:?}: {body}");
        }
    }
    // Its slot is free, and no stream is left open.
    let deadline = Instant::now() + Duration::from_secs(2);
    while s.accounts.open_streams() > 0 {
        assert!(
            Instant::now() < deadline,
            "{cut:?}: a stream is still registered"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if let Cut::AdminDisable = cut {
        s.accounts
            .set_disabled(Actor::Console, "ann", false)
            .await
            .unwrap();
        return;
    }
    let observer = if matches!(cut, Cut::Takeover) {
        phone.clone()
    } else {
        s.token("ann", password, "Observer").await
    };
    let (_, playing) = s.get(&observer, "/api/v1/playback").await;
    let holders: Vec<&str> = playing["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["device_id"].as_str().unwrap())
        .collect();
    assert!(
        !holders.contains(&speaker_id.as_str()),
        "{cut:?}: the speaker still holds a slot"
    );
    // Clean up for the next case.
    let (_, all) = s.get(&observer, "/api/v1/devices").await;
    for d in all.as_array().unwrap() {
        if !d["current"].as_bool().unwrap() {
            s.call(
                Method::DELETE,
                &observer,
                &format!("/api/v1/devices/{}", d["id"].as_str().unwrap()),
                None,
            )
            .await;
        }
    }
    s.call(Method::DELETE, &observer, "/api/v1/sessions/current", None)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn open_streams_are_cut_within_a_second_of_every_kind_of_sign_out() {
    // Two minutes of audio (21 MB): far more than socket buffers hold.
    let (s, _music) = server_with(0, 120, Options::default()).await;
    s.create_user("ann", PW, false).await;
    let mut password = PW.to_owned();
    for cut in [
        Cut::SignOutFromOtherDevice,
        Cut::SignOutItself,
        Cut::Everywhere,
        Cut::PasswordChange,
        Cut::AdminDisable,
        Cut::ConsoleRevoke,
    ] {
        cut_case(&s, cut, &mut password).await;
    }
    s.accounts
        .set_limits(Actor::Console, "ann", None, Some(1))
        .await
        .unwrap();
    cut_case(&s, Cut::Takeover, &mut password).await;
}
