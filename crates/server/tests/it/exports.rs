//! Offline export over the API: ticked songs become tagged files in the export folder with an
//! M3U8 beside them, progress arrives as server-sent events, the Converted history lists them
//! and the ZIP holds exactly what was written; bad requests and hostile tags stay harmless.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use clef_testkit::{Music, Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const PW: &str = "export test password";

pub(crate) async fn signed_in(s: &TestServer, name: &str) -> String {
    s.create_user(name, PW, false).await;
    s.token(name, PW, "exporter").await
}

/// An export's server-sent events, read as they come.
pub(crate) struct Events {
    response: reqwest::Response,
    text: String,
}

impl Events {
    pub(crate) async fn open(base: &str, token: &str, id: &str) -> Events {
        let response = reqwest::Client::new()
            .get(format!("{base}/api/v1/exports/{id}/events"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        Events {
            response,
            text: String::new(),
        }
    }

    /// The next progress event, or `None` when the stream ended.
    pub(crate) async fn next(&mut self) -> Option<Value> {
        loop {
            while let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) {
                    assert!(block.contains("event: progress"), "{block}");
                    return Some(serde_json::from_str(data).unwrap());
                }
            }
            let chunk = self.response.chunk().await.ok()??;
            self.text.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// Runs a command and fails the test with its standard error when it fails.
pub(crate) fn run(cmd: &mut std::process::Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Reads the export's server-sent events to the end; returns every progress event.
pub(crate) async fn follow(s: &TestServer, token: &str, id: &str) -> Vec<Value> {
    let mut events = Events::open(&s.url(""), token, id).await;
    let mut all = Vec::new();
    while let Some(e) = events.next().await {
        all.push(e);
    }
    all
}

pub(crate) fn ffprobe(path: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_format",
            "-show_streams",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("ffprobe (Debian's ffmpeg) must be installed");
    assert!(
        out.status.success(),
        "ffprobe {path:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The duration ffprobe reports for the whole file, in seconds.
pub(crate) fn duration(probe: &Value) -> f64 {
    probe["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Every file under `dir`, relative, sorted.
pub(crate) fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

/// Where a track's file is in the library.
async fn source_path(s: &TestServer, track: &str) -> PathBuf {
    let paths = s
        .store
        .raw_strings(&format!("SELECT path FROM tracks WHERE id = '{track}'"))
        .await
        .unwrap();
    PathBuf::from(&paths[0])
}

/// A file decoded by ffmpeg to 32-bit interleaved PCM.
fn pcm(path: &Path) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "s32le", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "ffmpeg decodes {}", path.display());
    out.stdout
}

/// Anna's own folder in the export root.
fn root(s: &TestServer) -> PathBuf {
    s.config.export_roots[0]
        .canonicalize()
        .unwrap()
        .join("anna")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticked_songs_become_tagged_mp3s_with_progress_an_m3u8_and_a_zip() {
    let s = TestServer::with_sample_library().await;
    let token = signed_in(&s, "anna").await;
    let (_, albums) = s.get(&token, "/api/v1/albums?sort=name").await;
    let album_id = albums["albums"][0]["id"].as_str().unwrap().to_owned();
    let (_, album) = s.get(&token, &format!("/api/v1/albums/{album_id}")).await;
    let tracks = album["tracks"].as_array().unwrap();
    assert!(tracks.len() >= 3);
    // Tick the first and the third song only.
    let ticked = [&tracks[0], &tracks[2]];
    let ids: Vec<&str> = ticked.iter().map(|t| t["id"].as_str().unwrap()).collect();
    let (status, job) = s
        .call(
            Method::POST,
            &token,
            "/api/v1/exports",
            Some(
                json!({ "album_id": album_id, "track_ids": ids, "folder": "Car",
                "settings": { "format": "mp3", "bitrate": 320 } }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["title"], album["album"]["name"]);
    assert_eq!(job["state"], "running");
    assert_eq!(job["total"], 2);
    let id = job["id"].as_str().unwrap();

    let events = follow(&s, &token, id).await;
    let last = events.last().unwrap();
    let (_, stored) = s.get(&token, &format!("/api/v1/exports/{id}")).await;
    assert_eq!(last["state"], "done", "{stored}");
    assert_eq!(
        (last["done"].as_u64(), last["overall"].as_f64()),
        (Some(2), Some(1.0)),
        "{stored}"
    );
    let overall: Vec<f64> = events
        .iter()
        .map(|e| e["overall"].as_f64().unwrap())
        .collect();
    assert!(
        overall.windows(2).all(|w| w[0] <= w[1]),
        "progress never goes back: {overall:?}"
    );

    let (_, job) = s.get(&token, &format!("/api/v1/exports/{id}")).await;
    assert_eq!(
        (job["state"].as_str(), job["done"].as_u64()),
        (Some("done"), Some(2))
    );
    let folder = root(&s).join("Car");
    // A listener sees the folder under their own, never the server's path.
    assert_eq!(job["folder"], "Car");
    let artist = album["album"]["artist"].as_str().unwrap();
    let album_name = album["album"]["name"].as_str().unwrap();
    let mut expected = Vec::new();
    for (file, track) in job["files"].as_array().unwrap().iter().zip(ticked) {
        let rel = format!(
            "{artist}/{album_name}/{:02} {}.mp3",
            track["track_no"].as_i64().unwrap(),
            track["title"].as_str().unwrap()
        );
        assert_eq!(file["path"], rel.as_str());
        assert_eq!(file["state"], "done");
        let path = folder.join(&rel);
        assert_eq!(
            file["size"].as_u64(),
            Some(std::fs::metadata(&path).unwrap().len())
        );
        let probe = ffprobe(&path);
        let audio = &probe["streams"][0];
        assert_eq!(audio["codec_name"], "mp3");
        assert_eq!(audio["channels"].as_i64(), track["channels"].as_i64());
        let secs = duration(&probe);
        let want = track["duration_ms"].as_f64().unwrap() / 1000.0;
        assert!(
            (secs - want).abs() < 0.05,
            "{rel}: {secs} s, source {want} s"
        );
        let tags = &probe["format"]["tags"];
        assert_eq!(tags["title"], track["title"]);
        assert_eq!(tags["album"], album["album"]["name"]);
        let artists: Vec<&str> = track["artists"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(tags["artist"].as_str(), Some(artists.join("; ").as_str()));
        assert!(tags["track"]
            .as_str()
            .unwrap()
            .starts_with(&track["track_no"].to_string()));
        // The cover travels as an attached picture.
        assert!(
            probe["streams"]
                .as_array()
                .unwrap()
                .iter()
                .any(|st| st["disposition"]["attached_pic"] == 1),
            "{rel}: no cover"
        );
        expected.push(rel);
    }
    let list_name = format!("{album_name}.m3u8");
    let m3u8 = std::fs::read_to_string(folder.join(&list_name)).unwrap();
    let entries: Vec<&str> = m3u8.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(entries, expected, "{m3u8}");
    assert!(m3u8.starts_with("#EXTM3U\n#EXTINF:"), "{m3u8}");
    let mut on_disk = expected.clone();
    on_disk.push(list_name.clone());
    on_disk.sort();
    assert_eq!(
        files_under(&folder),
        on_disk,
        "nothing else, no temporary files"
    );

    // The Converted history, and the ZIP holds exactly the files and the playlist.
    let (_, history) = s.get(&token, "/api/v1/exports").await;
    assert_eq!(history["enabled"], true);
    assert_eq!(history["exports"][0]["id"], id);
    let r = s.fetch(&token, &format!("/api/v1/exports/{id}/zip")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename="));
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    assert_eq!(names, on_disk);
    for name in &on_disk {
        let mut got = Vec::new();
        zip.by_name(name).unwrap().read_to_end(&mut got).unwrap();
        assert_eq!(
            got,
            std::fs::read(folder.join(name)).unwrap(),
            "{name} in the ZIP"
        );
    }

    // Another user sees none of it.
    let other = signed_in(&s, "bert").await;
    for path in ["", "/events", "/zip"] {
        let (status, _) = s.get(&other, &format!("/api/v1/exports/{id}{path}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (_, theirs) = s.get(&other, "/api/v1/exports").await;
    assert_eq!(theirs["exports"], json!([]));

    // Removing it from the history keeps the files.
    let (status, _) = s
        .call(
            Method::DELETE,
            &token,
            &format!("/api/v1/exports/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s.get(&token, &format!("/api/v1/exports/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(files_under(&folder), on_disk);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_playlist_exports_losslessly_to_flac_and_collisions_get_numbers() {
    let s = TestServer::with_sample_library().await;
    let token = signed_in(&s, "anna").await;
    let (_, found) = s.get(&token, "/api/v1/search?q=a").await;
    let first = found["tracks"][0].clone();
    let track = first["id"].as_str().unwrap();
    // The same song twice: the second file must not overwrite the first.
    let (status, pl) = s
        .call(
            Method::POST,
            &token,
            "/api/v1/playlists",
            Some(json!({ "name": "Twice", "track_ids": [track, track] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pl}");
    let (status, job) = s
        .call(
            Method::POST,
            &token,
            "/api/v1/exports",
            Some(
                json!({ "playlist_id": pl["id"], "folder": "Lossless", "pattern": "{title}",
                "settings": { "format": "flac", "compression": 8 } }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let title = first["title"].as_str().unwrap();
    let paths: Vec<&str> = job["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [format!("{title}.flac"), format!("{title} (2).flac")]
    );
    let events = follow(&s, &token, job["id"].as_str().unwrap()).await;
    assert_eq!(events.last().unwrap()["state"], "done");

    let want = pcm(&source_path(&s, track).await);
    for p in paths {
        let path = root(&s).join("Lossless").join(p);
        assert_eq!(ffprobe(&path)["streams"][0]["codec_name"], "flac");
        assert!(pcm(&path) == want, "{p} decodes to the source's samples");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn songs_export_to_alac_and_aac_in_m4a_with_their_tags() {
    let s = TestServer::with_sample_library().await;
    let token = signed_in(&s, "anna").await;
    let (_, found) = s.get(&token, "/api/v1/search?q=a").await;
    let first = found["tracks"][0].clone();
    let track = first["id"].as_str().unwrap();
    let want = pcm(&source_path(&s, track).await);
    for (settings, codec, folder) in [
        (json!({ "format": "alac" }), "alac", "alac"),
        (
            json!({ "format": "alac", "bit_depth": 24 }),
            "alac",
            "alac24",
        ),
        (json!({ "format": "aac", "bitrate": 192 }), "aac", "aac"),
    ] {
        let (status, job) = s
            .call(
                Method::POST,
                &token,
                "/api/v1/exports",
                Some(json!({ "track_ids": [track], "folder": folder, "settings": settings })),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{job}");
        let events = follow(&s, &token, job["id"].as_str().unwrap()).await;
        assert_eq!(events.last().unwrap()["state"], "done", "{codec}");
        let (_, ended) = s
            .get(
                &token,
                &format!("/api/v1/exports/{}", job["id"].as_str().unwrap()),
            )
            .await;
        let name = ended["files"][0]["path"].as_str().unwrap().to_owned();
        assert!(name.ends_with(".m4a"), "{codec}: {name}");
        let path = root(&s).join(folder).join(&name);
        let probe = ffprobe(&path);
        assert_eq!(probe["streams"][0]["codec_name"], codec);
        if folder == "alac24" {
            // A 16-bit source widened exactly: the same samples at 24 bits.
            assert_eq!(probe["streams"][0]["bits_per_raw_sample"], "24");
        }
        assert_eq!(probe["format"]["tags"]["title"], first["title"], "{codec}");
        let got = pcm(&path);
        if codec == "alac" {
            assert!(
                got == want,
                "{folder}: ALAC decodes to the source's samples"
            );
        } else {
            // ffmpeg skips AAC's priming by the edit list and decodes the last access unit
            // whole: never shorter than the source, less than 1,024 frames longer.
            let frames = |b: &[u8]| b.len() / 8; // 32-bit stereo
            let extra = frames(&got) as i64 - frames(&want) as i64;
            assert!((0..1024).contains(&extra), "AAC: {extra} frames more");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_export_requests_get_clear_errors_and_write_nothing() {
    let s = TestServer::with_sample_library().await;
    let token = signed_in(&s, "anna").await;
    let (_, found) = s.get(&token, "/api/v1/search?q=a").await;
    let track = found["tracks"][0]["id"].as_str().unwrap().to_owned();
    let canary = s.dir.path().join("canary");
    std::fs::create_dir(&canary).unwrap();
    std::fs::create_dir_all(root(&s)).unwrap();
    std::os::unix::fs::symlink(&canary, root(&s).join("escape")).unwrap();
    let mp3 = json!({ "format": "mp3" });
    let cases = [
        (
            json!({ "track_ids": [track], "settings": { "format": "ogg" } }),
            422,
            "invalid_export",
            "unknown format",
        ),
        (
            json!({ "track_ids": [track], "settings": { "format": "aac", "bitrate": 100 } }),
            422,
            "invalid_export",
            "100 kbps",
        ),
        (
            json!({ "track_ids": [track], "settings": { "format": "alac", "bit_depth": 20 } }),
            422,
            "invalid_export",
            "choose 16 or 24",
        ),
        (
            json!({ "track_ids": [track], "settings": { "format": "mp3", "bitrate": 300 } }),
            422,
            "invalid_export",
            "300 kbps",
        ),
        (
            json!({ "track_ids": [track], "settings": { "format": "mp3", "vbr": 9 } }),
            422,
            "invalid_export",
            "0 (best) to 4",
        ),
        (
            json!({ "track_ids": [track], "settings": { "format": "flac", "bitrate": 320 } }),
            422,
            "invalid_export",
            "lossless",
        ),
        (
            json!({ "track_ids": [track], "settings": { "format": "wav", "bit_depth": 12 } }),
            422,
            "invalid_export",
            "16 or 24",
        ),
        (
            json!({ "track_ids": [track], "settings": { "format": "wav", "sample_rate": 22050 } }),
            422,
            "invalid_export",
            "choose one of",
        ),
        (
            json!({ "track_ids": [], "settings": mp3 }),
            422,
            "invalid_export",
            "tick at least one",
        ),
        (
            json!({ "track_ids": ["0123456789abcdef0123456789abcdef"], "settings": mp3 }),
            422,
            "invalid_export",
            "no such song",
        ),
        (
            json!({ "track_ids": [track], "settings": mp3, "pattern": "{nope}" }),
            422,
            "invalid_export",
            "unknown field",
        ),
        (
            json!({ "track_ids": [track], "settings": mp3, "pattern": "../{title}" }),
            422,
            "invalid_export",
            "'..'",
        ),
        (
            json!({ "track_ids": [track], "settings": mp3, "folder": "../x" }),
            400,
            "outside_export_roots",
            "not inside",
        ),
        (
            json!({ "track_ids": [track], "settings": mp3, "folder": "/etc" }),
            400,
            "outside_export_roots",
            "not inside",
        ),
        (
            json!({ "track_ids": [track], "settings": mp3, "folder": "escape" }),
            400,
            "outside_export_roots",
            "not inside",
        ),
        (
            json!({ "track_ids": [track], "settings": mp3, "folder": "a/../../x" }),
            400,
            "outside_export_roots",
            "not inside",
        ),
        (
            json!({ "track_ids": [track], "settings": mp3, "playlist_id": "0123456789abcdef0123456789abcdef" }),
            404,
            "not_found",
            "playlist",
        ),
        (
            json!({ "track_ids": [track], "settings": mp3, "colour": "blue" }),
            400,
            "",
            "unknown field",
        ),
    ];
    for (body, status, code, words) in cases {
        let (got, answer) = s
            .call(Method::POST, &token, "/api/v1/exports", Some(body.clone()))
            .await;
        assert_eq!(got.as_u16(), status, "{body} → {answer}");
        if !code.is_empty() {
            assert_eq!(answer["error"], code, "{body} → {answer}");
        }
        assert!(
            answer["message"]
                .as_str()
                .unwrap_or_default()
                .contains(words),
            "{body} → {answer}"
        );
    }
    let (_, history) = s.get(&token, "/api/v1/exports").await;
    assert_eq!(history["exports"], json!([]), "no job was recorded");
    assert_eq!(files_under(&root(&s)), vec!["escape".to_owned()]);
    assert_eq!(files_under(&canary), Vec::<String>::new());
}

/// SECURITY.md F1 end to end: tags that try to leave the folder, name devices, hide characters or
/// overflow names end up as plain names inside the export folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_tags_stay_inside_the_export_folder() {
    let music = tempfile::tempdir().unwrap();
    let hostile = [
        ("../../../../escaped", "..", "AC/DC\\..\\CON"),
        ("CON", "\u{202e}3pm.exe", "../.."),
        (&*"é".repeat(150), "bell\u{7}and\ttab", "  .  "),
        ("/etc/passwd", "NUL.txt", "LPT1"),
    ];
    for (i, (title, artist, album)) in hostile.iter().enumerate() {
        run(Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:duration=1",
                "-metadata",
            ])
            .arg(format!("title={title}"))
            .arg("-metadata")
            .arg(format!("artist={artist}"))
            .arg("-metadata")
            .arg(format!("album={album}"))
            .arg(music.path().join(format!("{i}.flac"))));
    }
    let s = TestServer::start_with(Options {
        music: Music::Dirs(vec![music.path().to_path_buf()]),
        ..Options::default()
    })
    .await;
    let token = signed_in(&s, "anna").await;
    let (_, found) = s.get(&token, "/api/v1/albums?limit=50").await;
    let mut ids = Vec::new();
    for a in found["albums"].as_array().unwrap() {
        let (_, album) = s
            .get(
                &token,
                &format!("/api/v1/albums/{}", a["id"].as_str().unwrap()),
            )
            .await;
        ids.extend(
            album["tracks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].clone()),
        );
    }
    assert_eq!(ids.len(), hostile.len());
    let canary_before = files_under(s.dir.path());
    let (status, job) = s
        .call(
            Method::POST,
            &token,
            "/api/v1/exports",
            Some(
                json!({ "track_ids": ids, "folder": "Stick", "settings": { "format": "wav" },
                "pattern": "{album_artist}/{album}/{artist} - {title}" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_str().unwrap();
    let events = follow(&s, &token, id).await;
    let (_, stored) = s.get(&token, &format!("/api/v1/exports/{id}")).await;
    assert_eq!(
        events.last().unwrap()["done"].as_u64(),
        Some(hostile.len() as u64),
        "{stored}"
    );
    let stick = root(&s).join("Stick");
    let written = files_under(&stick);
    assert_eq!(written.len(), hostile.len() + 1, "{written:?}");
    for rel in &written {
        assert!(
            Path::new(rel)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_))),
            "{rel}"
        );
        for part in Path::new(rel).components() {
            let name = part.as_os_str().to_str().unwrap();
            assert!(
                name.len() <= 255 && !name.ends_with('.') && !name.ends_with(' '),
                "{rel}"
            );
            assert!(
                !name.chars().any(|c| c.is_control() || c == '\u{202e}'),
                "{rel}"
            );
            let stem = name.split('.').next().unwrap().to_ascii_uppercase();
            assert!(!["CON", "NUL", "LPT1"].contains(&stem.as_str()), "{rel}");
        }
    }
    // Nothing appeared anywhere else in the server's folder.
    let mut after = files_under(s.dir.path());
    after.retain(|p| !p.starts_with("exports/"));
    let mut before = canary_before;
    before.retain(|p| !p.starts_with("exports/"));
    let new: Vec<_> = after
        .iter()
        .filter(|p| !before.contains(p) && !p.starts_with("data/"))
        .collect();
    assert!(new.is_empty(), "{new:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_song_that_cannot_be_read_fails_alone_with_its_reason() {
    let music = tempfile::tempdir().unwrap();
    for (name, title) in [("a.flac", "Fine"), ("b.flac", "Broken")] {
        let out = Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=500:duration=2",
            ])
            .args([
                "-metadata",
                &format!("title={title}"),
                "-metadata",
                "album=Mixed",
            ])
            .arg(music.path().join(name))
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let s = TestServer::start_with(Options {
        music: Music::Dirs(vec![music.path().to_path_buf()]),
        ..Options::default()
    })
    .await;
    let token = signed_in(&s, "anna").await;
    let (_, found) = s.get(&token, "/api/v1/search?q=mixed").await;
    let ids: Vec<Value> = found["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].clone())
        .collect();
    assert_eq!(ids.len(), 2);
    // The file is damaged after the scan: its audio is gone, its header still says FLAC.
    let broken = music.path().join("b.flac");
    let mut bytes = std::fs::read(&broken).unwrap();
    bytes.truncate(bytes.len() / 3);
    std::fs::write(&broken, bytes).unwrap();
    let (status, job) = s
        .call(
            Method::POST,
            &token,
            "/api/v1/exports",
            Some(
                json!({ "title": "Mixed", "track_ids": ids, "folder": "Mixed", "pattern": "{title}",
                "settings": { "format": "mp3" } }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_str().unwrap();
    let last = follow(&s, &token, id).await.pop().unwrap();
    assert_eq!(
        (
            last["state"].as_str(),
            last["done"].as_u64(),
            last["failed"].as_u64()
        ),
        (Some("done"), Some(1), Some(1)),
        "{last}"
    );
    let (_, job) = s.get(&token, &format!("/api/v1/exports/{id}")).await;
    let failed = job["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["state"] == "failed")
        .unwrap();
    assert_eq!(failed["path"], "Broken.mp3");
    let reason = failed["error"].as_str().unwrap();
    assert!(reason.contains("b.flac"), "{failed}");
    // Named without the server's music folder.
    assert!(!reason.contains(music.path().to_str().unwrap()), "{failed}");
    let folder = root(&s).join("Mixed");
    assert_eq!(files_under(&folder), ["Fine.mp3", "Mixed.m3u8"]);
    let m3u8 = std::fs::read_to_string(folder.join("Mixed.m3u8")).unwrap();
    assert_eq!(
        m3u8.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        ["Fine.mp3"]
    );
}
