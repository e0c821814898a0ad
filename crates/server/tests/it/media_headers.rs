//! SECURITY.md F6: nothing a music file carries becomes active content. A cover is served only
//! when its bytes are a JPEG, PNG, GIF or WebP, with the type read from the bytes whatever the
//! tag says; every response carrying a file's bytes is sandboxed and never sniffed; downloads are
//! attachments.

use lofty::config::WriteOptions;
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::prelude::*;
use lofty::tag::{Tag, TagType};
use reqwest::{Method, StatusCode};
use serde_json::json;

use clef_testkit::{write_wav, Music, Options, TestServer};

const PW: &str = "media headers password";

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92, 0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

const HTML: &[u8] = b"<html><body><script>document.title='pwned'</script></body></html>";
const SVG: &[u8] =
    b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(document.cookie)</script></svg>";

/// A WAV titled `title` whose ID3v2 tag carries `picture` declared as `mime`.
fn track_with_picture(dir: &std::path::Path, title: &str, mime: &str, picture: &[u8]) {
    let path = dir.join(format!("{title}.wav"));
    write_wav(&path, 1, title);
    let mut file = lofty::read_from_path(&path).unwrap();
    let mut tag = Tag::new(TagType::Id3v2);
    tag.set_title(title.into());
    tag.set_album(title.into());
    tag.push_picture(
        Picture::unchecked(picture.to_vec())
            .pic_type(PictureType::CoverFront)
            .mime_type(MimeType::from_str(mime))
            .build(),
    );
    file.insert_tag(tag);
    file.save_to_path(&path, WriteOptions::default()).unwrap();
}

fn track_id(s: &TestServer, title: &str) -> String {
    s.library
        .catalog()
        .records()
        .find(|r| r.title == title)
        .unwrap_or_else(|| panic!("no track {title}"))
        .id
        .clone()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn assert_sandboxed(r: &reqwest::Response, what: &str) {
    assert_eq!(
        header(r, "content-security-policy"),
        "default-src 'none'; sandbox",
        "{what}"
    );
    assert_eq!(header(r, "x-content-type-options"), "nosniff", "{what}");
}

#[tokio::test]
async fn covers_are_pictures_or_nothing_and_media_is_sandboxed() {
    let music = tempfile::tempdir().unwrap();
    track_with_picture(music.path(), "Html cover", "text/html", HTML);
    track_with_picture(music.path(), "Script cover", "text/javascript", HTML);
    track_with_picture(music.path(), "Svg cover", "image/svg+xml", SVG);
    track_with_picture(music.path(), "Png called html", "text/html", PNG);
    write_wav(&music.path().join("two\nlines.wav"), 1, "Two lines");
    let s = TestServer::start_with(Options {
        music: Music::Dirs(vec![music.path().to_path_buf()]),
        ..Options::default()
    })
    .await;
    s.create_user("anna", PW, false).await;
    let token = s.token("anna", PW, "Laptop").await;

    for title in ["Html cover", "Script cover", "Svg cover"] {
        let id = track_id(&s, title);
        for size in ["", "?size=64"] {
            let r = s
                .fetch(&token, &format!("/api/v1/tracks/{id}/cover{size}"))
                .await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{title}{size}");
            let body = r.text().await.unwrap();
            assert!(!body.contains("<script>"), "{title}{size}: {body}");
        }
    }
    // A real picture mislabelled by its tag is served as what it is.
    let id = track_id(&s, "Png called html");
    let r = s.fetch(&token, &format!("/api/v1/tracks/{id}/cover")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type"), "image/png");
    assert_sandboxed(&r, "cover");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
    let r = s
        .fetch(&token, &format!("/api/v1/tracks/{id}/cover?size=64"))
        .await;
    assert_eq!(
        (r.status(), header(&r, "content-type")),
        (StatusCode::OK, "image/jpeg".to_owned())
    );
    assert_sandboxed(&r, "thumbnail");

    // Streams, original and transcoded.
    let r = s
        .fetch(&token, &format!("/api/v1/tracks/{id}/stream"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_sandboxed(&r, "stream");
    drop(r);
    let r = s
        .fetch(
            &token,
            &format!("/api/v1/tracks/{id}/stream?format=mp3&bitrate=128"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_sandboxed(&r, "transcoded stream");
    drop(r);

    // A playlist's M3U8 and an export's ZIP are attachments.
    let (_, p) = s
        .call(
            Method::POST,
            &token,
            "/api/v1/playlists",
            Some(json!({ "name": "Mix", "track_ids": [id] })),
        )
        .await;
    let r = s
        .fetch(
            &token,
            &format!("/api/v1/playlists/{}/m3u8", p["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_sandboxed(&r, "m3u8");
    assert!(header(&r, "content-disposition").starts_with("attachment;"));

    // A file name with a line break adds no line to a playlist.
    let odd = track_id(&s, "Two lines");
    let (_, p) = s
        .call(
            Method::POST,
            &token,
            "/api/v1/playlists",
            Some(json!({ "name": "Odd", "track_ids": [odd] })),
        )
        .await;
    let text = s
        .fetch(
            &token,
            &format!("/api/v1/playlists/{}/m3u8", p["id"].as_str().unwrap()),
        )
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text:?}");
    assert_eq!(lines[3], "two%0Alines.wav", "{text:?}");
    let (st, job) = s
        .call(
            Method::POST,
            &token,
            "/api/v1/exports",
            Some(json!({ "track_ids": [id], "folder": "Car", "settings": { "format": "wav" } })),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{job}");
    let job_id = job["id"].as_str().unwrap();
    crate::exports::follow(&s, &token, job_id).await;
    let r = s
        .fetch(&token, &format!("/api/v1/exports/{job_id}/zip"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_sandboxed(&r, "zip");
    assert!(header(&r, "content-disposition").starts_with("attachment;"));

    // Pages keep their own policy.
    let r = s.client().get(s.url("/signin")).send().await.unwrap();
    assert!(header(&r, "content-security-policy").starts_with("default-src 'self'"));
}
