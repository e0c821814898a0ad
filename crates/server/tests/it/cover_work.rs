//! Thumbnails are bounded work: twelve requests at once for one cover decode it once, and a
//! picture over the pixel limit is refused from its header, before any decoding.

use std::path::Path;
use std::process::Command;

use clef_testkit::{write_wav, Music, Options, TestServer};
use futures::future::join_all;
use reqwest::StatusCode;

const PW: &str = "cover test password";

/// A solid picture of `w`×`h` made by ffmpeg.
fn picture(path: &Path, w: u32, h: u32) {
    crate::exports::run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg(format!("color=c=0x3366cc:s={w}x{h}"))
            .args(["-frames:v", "1"])
            .arg(path),
    );
}

async fn server_with_cover(w: u32, h: u32) -> (TestServer, tempfile::TempDir, String) {
    let music = tempfile::tempdir().unwrap();
    write_wav(&music.path().join("song.wav"), 1, "Song");
    picture(&music.path().join("cover.jpg"), w, h);
    let s = TestServer::start_with(Options {
        music: Music::Dirs(vec![music.path().to_path_buf()]),
        ..Options::default()
    })
    .await;
    let track = s
        .library
        .catalog()
        .records()
        .next()
        .expect("the song was scanned")
        .id
        .clone();
    (s, music, track)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twelve_requests_for_one_thumbnail_decode_the_cover_once() {
    let (s, _music, track) = server_with_cover(3000, 3000).await;
    s.create_user("anna", PW, false).await;
    let token = s.token("anna", PW, "laptop").await;
    let before = s.library.cover_decodes();
    let url = s.url(&format!("/api/v1/tracks/{track}/cover?size=256"));
    let answers = join_all((0..12).map(|_| {
        let (c, url, token) = (s.client(), url.clone(), token.clone());
        async move {
            let r = c.get(url).bearer_auth(token).send().await.unwrap();
            (r.status(), r.bytes().await.unwrap())
        }
    }))
    .await;
    assert!(answers.iter().all(|(st, _)| *st == StatusCode::OK));
    assert!(
        answers.iter().all(|(_, b)| *b == answers[0].1),
        "everyone got the same thumbnail"
    );
    assert_eq!(s.library.cover_decodes() - before, 1, "decoded once");
    let thumb = image_size(&answers[0].1);
    assert_eq!(thumb, (256, 256));
}

#[tokio::test]
async fn a_cover_over_the_pixel_limit_gets_no_thumbnail_and_is_never_decoded() {
    let (s, _music, track) = server_with_cover(8192, 8192).await;
    s.create_user("anna", PW, false).await;
    let token = s.token("anna", PW, "laptop").await;
    let before = s.library.cover_decodes();
    let r = s
        .client()
        .get(s.url(&format!("/api/v1/tracks/{track}/cover?size=256")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(s.library.cover_decodes(), before, "refused from its header");
    // The original is still there for whoever wants it.
    let r = s
        .client()
        .get(s.url(&format!("/api/v1/tracks/{track}/cover")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(image_size(&r.bytes().await.unwrap()), (8192, 8192));
}

/// Width and height of a JPEG, read from its start-of-frame marker.
fn image_size(jpeg: &[u8]) -> (u32, u32) {
    let mut i = 2;
    while i + 9 < jpeg.len() {
        assert_eq!(jpeg[i], 0xFF, "a JPEG marker");
        let marker = jpeg[i + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        if (0xC0..=0xC2).contains(&marker) {
            let h = u16::from_be_bytes([jpeg[i + 5], jpeg[i + 6]]);
            let w = u16::from_be_bytes([jpeg[i + 7], jpeg[i + 8]]);
            return (u32::from(w), u32::from(h));
        }
        i += 2 + len;
    }
    panic!("no frame header in the JPEG");
}
