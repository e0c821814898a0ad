//! Exports that stop early: cancelled from the API, and a server killed mid-way (SIGKILL) that
//! resumes on restart without redoing finished files or leaving half-written ones under final
//! names (SECURITY.md F4).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use clef_testkit::{write_wav, Music, Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::exports::{duration, ffprobe, files_under, signed_in, Events};

const SECONDS: u32 = 90;

fn long_tracks(dir: &Path, n: usize) {
    for i in 0..n {
        write_wav(
            &dir.join(format!("{i:02} long.wav")),
            SECONDS,
            &format!("Long {i}"),
        );
    }
}

/// Files under `dir`: the complete ones by name, and how many temporary ones.
fn final_and_partial(dir: &Path) -> (Vec<String>, usize) {
    let all = files_under(dir);
    let partial = all.iter().filter(|p| p.contains(".part.")).count();
    let finals = all.into_iter().filter(|p| !p.contains(".part.")).collect();
    (finals, partial)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_export_keeps_finished_files_and_leaves_no_partial_ones() {
    let music = tempfile::tempdir().unwrap();
    long_tracks(music.path(), 4);
    let s = TestServer::start_with(Options {
        music: Music::Dirs(vec![music.path().to_path_buf()]),
        ..Options::default()
    })
    .await;
    let token = signed_in(&s, "anna").await;
    let (_, found) = s.get(&token, "/api/v1/search?q=long").await;
    let ids: Vec<Value> = found["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].clone())
        .collect();
    assert_eq!(ids.len(), 4);
    let (status, job) = s
        .call(
            Method::POST,
            &token,
            "/api/v1/exports",
            Some(
                json!({ "title": "Long", "track_ids": ids, "folder": "Car", "pattern": "{title}",
                "settings": { "format": "mp3", "bitrate": 320 } }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_str().unwrap().to_owned();
    let mut events = Events::open(&s.url(""), &token, &id).await;
    // Cancel once a conversion is under way.
    loop {
        let e = events
            .next()
            .await
            .expect("the export ended before it could be cancelled");
        let converting = e["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["state"] == "converting" && f["fraction"].as_f64().unwrap() > 0.0);
        if converting {
            break;
        }
    }
    let (status, cancelled) = s
        .call(
            Method::DELETE,
            &token,
            &format!("/api/v1/exports/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["state"], "cancelled");
    let mut last = Value::Null;
    while let Some(e) = events.next().await {
        last = e;
    }
    assert_eq!(last["state"], "cancelled", "{last}");

    let (_, job) = s.get(&token, &format!("/api/v1/exports/{id}")).await;
    assert_eq!(job["state"], "cancelled");
    let folder = s.config.export_roots[0]
        .canonicalize()
        .unwrap()
        .join("anna/Car");
    let done: Vec<String> = job["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["state"] == "done")
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        done.len() < 4,
        "the cancel came after everything was done: {job}"
    );
    let (finals, partial) = final_and_partial(&folder);
    assert_eq!(partial, 0, "no temporary file is left");
    assert_eq!(
        finals, done,
        "only finished files are there, and no playlist"
    );
    for f in &finals {
        assert!(
            (duration(&ffprobe(&folder.join(f))) - f64::from(SECONDS)).abs() < 0.1,
            "{f} is complete"
        );
    }
    // Cancelling again changes nothing; an ended export is removed from the history instead.
    let (status, _) = s
        .call(
            Method::DELETE,
            &token,
            &format!("/api/v1/exports/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data: &Path, music: &Path, exports: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_clef"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(data)
            .arg("--music")
            .arg(music)
            .env("CLEF_EXPORT_ROOTS", exports)
            .env("CLEF_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // The server says when it listens; the rest of its output is not needed.
        let mut lines = BufReader::new(stdout).lines();
        lines
            .by_ref()
            .map(Result::unwrap)
            .find(|l| l.starts_with("Clef is listening"))
            .expect("the server starts");
        std::thread::spawn(move || lines.for_each(drop));
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A stand-in for a server already stopped.
    fn none() -> Server {
        let child = Command::new("true").spawn().unwrap();
        Server {
            child,
            base: String::new(),
        }
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIG`name` and waits (up to 30 s) for the exit: how long it took, and whether the
    /// exit was a success.
    fn signal(mut self, name: &str) -> (std::time::Duration, bool) {
        let sent = std::time::Instant::now();
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(status.success());
        loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                return (sent.elapsed(), exit.success());
            }
            assert!(
                sent.elapsed() < std::time::Duration::from_secs(30),
                "SIG{name}: still running after 30 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clef(data: &Path, args: &[&str], stdin: &str) {
    let (ok, _, stderr) = crate::cli::clef(data, args, Some(stdin));
    assert!(ok, "clef {args:?}: {stderr}");
}

/// A data folder with a user and five long songs scanned, a server on it, and an export of
/// the five to MP3 under way; returns when one file is finished and another is half-way.
struct MidExport {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    music: std::path::PathBuf,
    exports: std::path::PathBuf,
    server: Server,
    token: String,
    id: String,
}

impl MidExport {
    async fn start() -> MidExport {
        let dir = tempfile::tempdir().unwrap();
        let (data, music, exports) = (
            dir.path().join("data"),
            dir.path().join("music"),
            dir.path().join("usb"),
        );
        for d in [&data, &music, &exports] {
            std::fs::create_dir_all(d).unwrap();
        }
        long_tracks(&music, 5);
        let password = "resume test password";
        clef(
            &data,
            &["user", "add", "anna", "--password-stdin"],
            &format!("{password}\n"),
        );
        crate::exports::run(
            Command::new(env!("CARGO_BIN_EXE_clef"))
                .args(["scan", "--data-dir"])
                .arg(&data)
                .env("CLEF_MUSIC_DIRS", &music)
                .env("CLEF_LOG", "warn"),
        );
        let server = Server::start(&data, &music, &exports);
        let http = reqwest::Client::new();
        let signed: Value = http
            .post(format!("{}/api/v1/sessions", server.base))
            .json(&json!({ "username": "anna", "password": password, "device": { "name": "laptop", "type": "computer" } }))
            .send().await.unwrap().json().await.unwrap();
        let token = signed["token"].as_str().unwrap().to_owned();
        let found: Value = http
            .get(format!("{}/api/v1/search?q=long", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<Value> = found["tracks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].clone())
            .collect();
        assert_eq!(ids.len(), 5);
        let r = http
            .post(format!("{}/api/v1/exports", server.base))
            .bearer_auth(&token)
            .json(
                &json!({ "title": "Long", "track_ids": ids, "folder": "Car", "pattern": "{title}",
                "settings": { "format": "mp3", "bitrate": 320 } }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let id = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut events = Events::open(&server.base, &token, &id).await;
        loop {
            let e = events
                .next()
                .await
                .expect("the export ended before one file was half-way");
            let files = e["files"].as_array().unwrap();
            let half = files
                .iter()
                .any(|f| f["state"] == "converting" && f["fraction"].as_f64().unwrap() > 0.3);
            if e["done"].as_u64().unwrap() >= 1 && half {
                break;
            }
        }
        MidExport {
            _dir: dir,
            data,
            music,
            exports,
            server,
            token,
            id,
        }
    }

    fn folder(&self) -> std::path::PathBuf {
        self.exports.canonicalize().unwrap().join("anna/Car")
    }

    /// Every song file by name, with what tells a rewrite apart (inode and change time).
    fn complete_files(&self) -> HashMap<String, (u64, i64)> {
        let folder = self.folder();
        let (finals, _) = final_and_partial(&folder);
        let mut out = HashMap::new();
        for f in finals.into_iter().filter(|f| f.ends_with(".mp3")) {
            let path = folder.join(&f);
            assert!(
                (duration(&ffprobe(&path)) - f64::from(SECONDS)).abs() < 0.1,
                "{f} is complete"
            );
            let m = std::fs::metadata(&path).unwrap();
            out.insert(f, (m.ino(), m.mtime_nsec() + m.mtime() * 1_000_000_000));
        }
        out
    }

    /// Starts the server again, follows the export to its end, and checks that it holds the
    /// five songs and the playlist, no copies and no temporary files, and that `before` (the
    /// files finished earlier) were not converted again.
    async fn resume_and_check(self, before: &HashMap<String, (u64, i64)>) {
        let server = Server::start(&self.data, &self.music, &self.exports);
        let mut events = Events::open(&server.base, &self.token, &self.id).await;
        let mut last = Value::Null;
        while let Some(e) = events.next().await {
            last = e;
        }
        assert_eq!(
            (last["state"].as_str(), last["done"].as_u64()),
            (Some("done"), Some(5)),
            "{last}"
        );
        let folder = self.folder();
        let (mut finals, partial) = final_and_partial(&folder);
        finals.sort();
        assert_eq!(partial, 0, "no temporary files are left");
        let want: Vec<String> = (0..5)
            .map(|i| format!("Long {i}.mp3"))
            .chain(["Long.m3u8".to_owned()])
            .collect();
        let mut want = want;
        want.sort();
        assert_eq!(finals, want, "the five songs and the playlist, no copies");
        let after = self.complete_files();
        for (f, was) in before {
            assert_eq!(after.get(f), Some(was), "{f} was not converted again");
        }
        let m3u8 = std::fs::read_to_string(folder.join("Long.m3u8")).unwrap();
        assert_eq!(
            m3u8.lines().filter(|l| l.ends_with(".mp3")).count(),
            5,
            "{m3u8}"
        );
        server.kill();
        let store = clef_store::SqlStore::open_sqlite_file(&self.data.join("clef.db"))
            .await
            .unwrap();
        assert!(store.integrity_ok().await.unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_resumes_its_export_without_redoing_finished_files() {
    let mut run = MidExport::start().await;
    let server = std::mem::replace(&mut run.server, Server::none());
    server.kill();
    let (finals, partial) = final_and_partial(&run.folder());
    assert!(!finals.is_empty() && finals.len() < 5, "{finals:?}");
    assert!(partial >= 1, "the kill came while a file was being written");
    // Only complete files carry final names.
    let before = run.complete_files();
    run.resume_and_check(&before).await;
}

/// Ctrl-C and SIGTERM mid-export, with a player that stopped reading an open stream: the server
/// exits within ten seconds, every file on disk under its final name is recorded as done, and
/// the export resumed at the next start ends with exactly its files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_mid_export_records_every_finished_file_and_exits_in_time() {
    for signal in ["INT", "TERM"] {
        let mut run = MidExport::start().await;
        let stalled = stalled_stream(&run).await;
        let server = std::mem::replace(&mut run.server, Server::none());
        let (took, ok) = server.signal(signal);
        println!("SIG{signal} mid-export: the server exited after {took:?}");
        assert!(ok, "SIG{signal}: a clean exit");
        assert!(
            took < std::time::Duration::from_secs(10),
            "SIG{signal}: exited after {took:?}"
        );
        drop(stalled);
        let (mut finals, partial) = final_and_partial(&run.folder());
        assert_eq!(
            partial, 0,
            "SIG{signal}: the file under way was finished or removed"
        );
        let store = clef_store::SqlStore::open_sqlite_file(&run.data.join("clef.db"))
            .await
            .unwrap();
        let mut recorded = store
            .raw_strings("SELECT rel_path FROM export_files WHERE state = 'done'")
            .await
            .unwrap();
        drop(store);
        finals.sort();
        recorded.sort();
        assert_eq!(
            finals, recorded,
            "SIG{signal}: every file on disk is recorded"
        );
        assert!(!finals.is_empty() && finals.len() < 5, "{finals:?}");
        let before = run.complete_files();
        run.resume_and_check(&before).await;
    }
}

/// Opens a stream of a long song and never reads it.
async fn stalled_stream(run: &MidExport) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let http = reqwest::Client::new();
    let found: Value = http
        .get(format!("{}/api/v1/search?q=long", run.server.base))
        .bearer_auth(&run.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = found["tracks"][0]["id"].as_str().unwrap().to_owned();
    let addr = run.server.base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let req = format!(
        "GET /api/v1/tracks/{id}/stream HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\r\n",
        run.token
    );
    conn.write_all(req.as_bytes()).await.unwrap();
    let mut first = [0u8; 12];
    conn.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    conn
}

/// A two-second tone at `path`, tagged with `tags` (`key=value`).
fn tone(path: &Path, tags: &[String]) {
    let mut cmd = Command::new("ffmpeg");
    cmd.args([
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=330:duration=2",
    ]);
    for t in tags {
        cmd.args(["-metadata", t]);
    }
    assert!(cmd.arg(path).status().unwrap().success());
}

/// Runs `clef ARGS --data-dir DATA` with `music` as the music folder.
fn clef_with_music(data: &Path, music: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_clef"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("CLEF_MUSIC_DIRS", music)
        .env("CLEF_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn clef_export_converts_an_album_into_a_folder_with_a_progress_bar() {
    let dir = tempfile::tempdir().unwrap();
    let (data, music, out) = (
        dir.path().join("data"),
        dir.path().join("music"),
        dir.path().join("stick"),
    );
    std::fs::create_dir_all(&music).unwrap();
    for (i, title) in ["Intro", "Drive", "Coda"].iter().enumerate() {
        let tags = [
            format!("title={title}"),
            "album=Road".into(),
            "artist=Ann".into(),
            format!("track={}", i + 1),
        ];
        tone(&music.join(format!("{i}.flac")), &tags);
    }
    clef(
        &data,
        &["user", "add", "anna", "--password-stdin"],
        "cli export password\n",
    );
    let run = |args: &[&str]| clef_with_music(&data, &music, args);
    assert!(run(&["scan"]).status.success());
    let out_arg = out.to_str().unwrap();
    let done = run(&[
        "export",
        "--album",
        "road",
        "--format",
        "flac",
        "--bit-depth",
        "24",
        "--out",
        out_arg,
        "--pattern",
        "{track:02} {title}",
    ]);
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(stdout.contains("3 of 3 files written to"), "{stdout}");
    assert_eq!(
        files_under(&out),
        [
            "01 Intro.flac",
            "02 Drive.flac",
            "03 Coda.flac",
            "Road.m3u8"
        ]
    );
    let probe = ffprobe(&out.join("02 Drive.flac"));
    assert_eq!(probe["streams"][0]["codec_name"], "flac");
    assert_eq!(probe["streams"][0]["bits_per_raw_sample"], "24");
    assert_eq!(probe["format"]["tags"]["TITLE"], "Drive");

    let missing = run(&["export", "--album", "Nope", "--out", out_arg]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no album named \"Nope\""));
    let bad = run(&[
        "export",
        "--album",
        "Road",
        "--format",
        "mp3",
        "--bitrate",
        "333",
        "--out",
        out_arg,
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("333 kbps"));
    assert_eq!(files_under(&out).len(), 4, "failed runs wrote nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clef_export_finds_a_playlist_by_name_and_asks_whose_when_two_users_have_one() {
    use clef_store::{AccountStore, LibraryStore, Playlist, PlaylistStore};
    let dir = tempfile::tempdir().unwrap();
    let (data, music, out) = (
        dir.path().join("data"),
        dir.path().join("music"),
        dir.path().join("car"),
    );
    std::fs::create_dir_all(&music).unwrap();
    for (i, title) in ["Sunrise", "Highway"].iter().enumerate() {
        let tags = [format!("title={title}"), "artist=Bo".into()];
        tone(&music.join(format!("{i}.flac")), &tags);
    }
    clef(
        &data,
        &["user", "add", "anna", "--password-stdin"],
        "playlist export password\n",
    );
    clef(
        &data,
        &["user", "add", "bert", "--password-stdin"],
        "playlist export password\n",
    );
    let run = |args: &[&str]| clef_with_music(&data, &music, args);
    assert!(run(&["scan"]).status.success());
    {
        // Both users have a "Road trip", in different orders.
        let store = clef_store::SqlStore::open_sqlite_file(&data.join("clef.db"))
            .await
            .unwrap();
        let mut tracks = store.all_tracks().await.unwrap();
        tracks.sort_by(|a, b| a.title.cmp(&b.title));
        let ids: Vec<String> = tracks.iter().map(|t| t.id.clone()).collect();
        assert_eq!(ids.len(), 2);
        for (name, order) in [
            ("anna", vec![ids[1].clone(), ids[0].clone()]),
            ("bert", vec![ids[0].clone()]),
        ] {
            let user = store.user_by_name(name).await.unwrap().unwrap();
            let now = clef_core::Timestamp(1_700_000_000_000);
            store
                .create_playlist(&Playlist {
                    id: format!("{:032x}", name.len() + order.len()),
                    user_id: user.id,
                    name: "Road trip".into(),
                    created_at: now,
                    updated_at: now,
                    track_count: order.len() as i64,
                    tracks: order,
                })
                .await
                .unwrap();
        }
    }
    let out_arg = out.to_str().unwrap();
    let both = run(&["export", "--playlist", "road trip", "--out", out_arg]);
    assert!(!both.status.success());
    let said = String::from_utf8_lossy(&both.stderr);
    assert!(
        said.contains("anna, bert") && said.contains("--user"),
        "{said}"
    );
    assert!(!out.join("Road trip.m3u8").exists());

    let done = run(&[
        "export",
        "--playlist",
        "Road trip",
        "--user",
        "anna",
        "--bitrate",
        "192",
        "--out",
        out_arg,
        "--pattern",
        "{title}",
    ]);
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(stdout.contains("2 of 2 files written"), "{stdout}");
    // Anna's order, in the playlist beside the files.
    let m3u8 = std::fs::read_to_string(out.join("Road trip.m3u8")).unwrap();
    let entries: Vec<&str> = m3u8.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(entries, ["Sunrise.mp3", "Highway.mp3"]);
    assert_eq!(
        ffprobe(&out.join("Highway.mp3"))["streams"][0]["bit_rate"],
        "192000"
    );
}
