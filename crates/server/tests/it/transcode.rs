//! Transcoded streams: `format=mp3&bitrate=N` plays as MP3 at that rate (and `format=aac` as
//! AAC in ADTS) under the same stream slot as the original, and is cut as fast when the device
//! is signed out.

use std::time::{Duration, Instant};

use clef_testkit::{write_wav, Music, Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::exports::{duration, ffprobe, signed_in};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_track_streams_as_mp3_at_the_asked_bitrate() {
    let s = TestServer::with_sample_library().await;
    let token = signed_in(&s, "anna").await;
    let (_, found) = s.get(&token, "/api/v1/search?q=a").await;
    let track = found["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["format"] == "flac")
        .unwrap()
        .clone();
    let id = track["id"].as_str().unwrap();
    let r = s
        .client()
        .get(s.url(&format!(
            "/api/v1/tracks/{id}/stream?format=mp3&bitrate=128"
        )))
        .bearer_auth(&token)
        // Ranges do not apply to a transcoded stream: the whole stream comes.
        .header("range", "bytes=100-200")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "audio/mpeg");
    assert_eq!(r.headers()["accept-ranges"], "none");
    assert!(r.headers().get("content-length").is_none());
    let bytes = r.bytes().await.unwrap();
    let file = s.dir.path().join("streamed.mp3");
    std::fs::write(&file, &bytes).unwrap();
    let probe = ffprobe(&file);
    assert_eq!(probe["streams"][0]["codec_name"], "mp3");
    assert_eq!(probe["streams"][0]["bit_rate"], "128000");
    let secs = duration(&probe);
    let want = track["duration_ms"].as_f64().unwrap() / 1000.0;
    assert!((want..want + 0.1).contains(&secs), "{secs} s from {want} s");

    for (query, words) in [
        ("format=ogg", "mp3 or aac"),
        ("format=mp3&bitrate=100", "choose one of"),
        ("bitrate=96", "choose one of"),
        ("format=aac&bitrate=64", "choose one of"),
    ] {
        let (status, body) = s
            .get(&token, &format!("/api/v1/tracks/{id}/stream?{query}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(words),
            "{query}: {body}"
        );
    }
    // format=raw is the original file, with its ranges.
    let r = s
        .client()
        .get(s.url(&format!("/api/v1/tracks/{id}/stream?format=raw")))
        .bearer_auth(&token)
        .header("range", "bytes=0-3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(&r.bytes().await.unwrap()[..], b"fLaC");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_track_streams_as_aac_in_adts() {
    let s = TestServer::with_sample_library().await;
    let token = signed_in(&s, "anna").await;
    let (_, found) = s.get(&token, "/api/v1/search?q=a").await;
    let track = found["tracks"].as_array().unwrap()[0].clone();
    let id = track["id"].as_str().unwrap();
    let path = format!("/api/v1/tracks/{id}/stream?format=aac&bitrate=128");
    let r = s.fetch(&token, &path).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "audio/aac");
    assert_eq!(r.headers()["accept-ranges"], "none");
    let bytes = r.bytes().await.unwrap();
    let file = s.dir.path().join("streamed.aac");
    std::fs::write(&file, &bytes).unwrap();
    let probe = ffprobe(&file);
    assert_eq!(probe["format"]["format_name"], "aac");
    assert_eq!(probe["streams"][0]["codec_name"], "aac");
    assert_eq!(probe["streams"][0]["profile"], "LC");
    // ffprobe estimates an ADTS stream's length from its rate: within a second of the song.
    let secs = duration(&probe);
    let want = track["duration_ms"].as_f64().unwrap() / 1000.0;
    assert!((secs - want).abs() < 1.0, "{secs} s from {want} s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transcoded_stream_holds_the_slot_and_is_cut_when_the_device_is_signed_out() {
    let music = tempfile::tempdir().unwrap();
    write_wav(&music.path().join("long.wav"), 300, "Long");
    let s = TestServer::start_with(Options {
        music: Music::Dirs(vec![music.path().to_path_buf()]),
        ..Options::default()
    })
    .await;
    s.create_user("ann", "transcode test password", false).await;
    let r = s
        .sign_in(&s.client(), "ann", "transcode test password", "Speaker")
        .await;
    let v: Value = r.json().await.unwrap();
    let (speaker_id, speaker) = (
        v["device_id"].as_str().unwrap().to_owned(),
        v["token"].as_str().unwrap().to_owned(),
    );
    let phone = s.token("ann", "transcode test password", "Phone").await;
    let (_, found) = s.get(&phone, "/api/v1/search?q=long").await;
    let id = found["tracks"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tracks/{id}/stream?format=mp3&bitrate=192");
    let mut stream = s.fetch(&speaker, &path).await;
    assert_eq!(stream.status(), StatusCode::OK);
    let mut received = stream.chunk().await.unwrap().unwrap().len();
    assert_eq!(s.accounts.open_streams(), 1);
    let (_, playing) = s.get(&phone, "/api/v1/playback").await;
    assert!(
        playing.to_string().contains(&speaker_id),
        "the speaker holds a slot: {playing}"
    );

    let started = Instant::now();
    let (status, _) = s
        .call(
            Method::DELETE,
            &phone,
            &format!("/api/v1/devices/{speaker_id}"),
            None,
        )
        .await;
    assert!(status.is_success());
    let ended = loop {
        match stream.chunk().await {
            Ok(Some(c)) => received += c.len(),
            Ok(None) => break "the stream ended cleanly",
            Err(_) => break "cut",
        }
    };
    let took = started.elapsed();
    // 300 s at 192 kbps is 7.2 MB: a cut stream stops far short of it.
    assert_eq!(ended, "cut", "after {received} bytes");
    assert!(received < 7_200_000 / 2, "{received} bytes arrived");
    assert!(took < Duration::from_secs(1), "cut after {took:?}");
    let (status, body) = s
        .get(&speaker, &format!("/api/v1/tracks/{id}/stream?format=mp3"))
        .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("signed_out_by_user"))
    );
    println!("transcoded stream cut after {took:?}, {received} bytes");
}

/// Makes `name` in `dir` from a two-second tone with ffmpeg `args` (`-ac 6` for 5.1).
fn made(dir: &std::path::Path, name: &str, args: &[&str]) {
    crate::exports::run(
        std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:d=2"])
            .args(args)
            .arg(dir.join(name)),
    );
}

/// Decided before the answer: a file the scanner lists but no decoder here reads gets a clear
/// 422 (never a 200 whose body breaks off), and more than two channels are folded into stereo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_cannot_be_transcoded_is_refused_before_the_answer() {
    let music = tempfile::tempdir().unwrap();
    made(music.path(), "speex.ogg", &["-c:a", "libspeex"]);
    made(
        music.path(),
        "surround.wav",
        &["-ac", "6", "-c:a", "pcm_s16le"],
    );
    let s = TestServer::start_with(Options {
        music: Music::Dirs(vec![music.path().to_path_buf()]),
        ..Options::default()
    })
    .await;
    let token = signed_in(&s, "anna").await;
    let id_of = |file: &str| {
        s.library
            .catalog()
            .records()
            .find(|r| r.path.ends_with(file))
            .unwrap_or_else(|| panic!("{file} was scanned"))
            .id
            .clone()
    };
    for file in ["speex.ogg"] {
        let (status, body) = s
            .get(
                &token,
                &format!(
                    "/api/v1/tracks/{}/stream?format=mp3&bitrate=128",
                    id_of(file)
                ),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{file}: {body}");
        assert_eq!(body["error"], "cannot_transcode", "{file}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.starts_with("This file cannot be converted for streaming ("),
            "{message}"
        );
        assert!(
            !message.contains(music.path().to_str().unwrap()),
            "no server path: {message}"
        );
    }
    assert_eq!(s.accounts.open_streams(), 0, "no stream left open");
    let (_, playing) = s.get(&token, "/api/v1/playback").await;
    assert_eq!(playing["streams"], serde_json::json!([]), "no slot taken");
    // Six channels play as stereo.
    let r = s
        .client()
        .get(s.url(&format!(
            "/api/v1/tracks/{}/stream?format=mp3&bitrate=128",
            id_of("surround.wav")
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let file = s.dir.path().join("surround.mp3");
    std::fs::write(&file, r.bytes().await.unwrap()).unwrap();
    let probe = ffprobe(&file);
    assert_eq!(probe["streams"][0]["channels"], 2);
    assert!((duration(&probe) - 2.0).abs() < 0.1);
}
