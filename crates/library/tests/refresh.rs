//! Two libraries over one database, as a server and `clef scan` (or two nodes) are: a scan by
//! one is picked up by the other, and a scan after someone else's reads the library back whole.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{ffmpeg, open_library, require_tool, runtime};

fn wav(path: &std::path::Path, title: &str) {
    ffmpeg(&[
        "-f".to_owned(),
        "lavfi".to_owned(),
        "-i".to_owned(),
        "sine=duration=1".to_owned(),
        "-metadata".to_owned(),
        format!("title={title}"),
        path.to_string_lossy().into_owned(),
    ]);
}

fn titles(lib: &clef_library::Library) -> Vec<String> {
    let mut t: Vec<String> = lib.catalog().records().map(|r| r.title.clone()).collect();
    t.sort();
    t
}

#[test]
fn a_scan_elsewhere_reaches_the_other_library() {
    require_tool("ffmpeg");
    let music = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    wav(&music.path().join("one.wav"), "One");
    runtime().block_on(async {
        let server = open_library(music.path(), work.path()).await;
        let console = open_library(music.path(), work.path()).await;
        assert!(titles(&server).is_empty());
        assert!(
            !server.refresh_if_changed().await.unwrap(),
            "nothing changed yet"
        );

        console.scan().await.unwrap();
        assert_eq!(titles(&console), ["One"]);
        assert!(server.refresh_if_changed().await.unwrap());
        assert_eq!(titles(&server), ["One"]);
        assert!(
            !server.refresh_if_changed().await.unwrap(),
            "reloads once per change"
        );

        // The server scans after the console scanned again: its catalog still has both changes.
        wav(&music.path().join("two.wav"), "Two");
        console.scan().await.unwrap();
        wav(&music.path().join("three.wav"), "Three");
        let report = server.scan().await.unwrap();
        assert_eq!(
            report.added, 1,
            "only the file nobody had scanned: {report:?}"
        );
        assert_eq!(titles(&server), ["One", "Three", "Two"]);
        assert!(console.refresh_if_changed().await.unwrap());
        assert_eq!(titles(&console), ["One", "Three", "Two"]);

        // A no-change rescan writes nothing and so changes no version.
        server.scan().await.unwrap();
        assert!(!console.refresh_if_changed().await.unwrap());
    });
}

/// A music folder that is missing at a scan (a disk not mounted yet) is not an empty folder: its
/// songs stay, with their ids, and the scan says why; once it is back nothing has changed.
#[test]
fn a_missing_music_folder_keeps_its_songs() {
    require_tool("ffmpeg");
    let top = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let music = top.path().join("usb");
    std::fs::create_dir(&music).unwrap();
    wav(&music.join("one.wav"), "One");
    wav(&music.join("two.wav"), "Two");
    runtime().block_on(async {
        let lib = open_library(&music, work.path()).await;
        lib.scan().await.unwrap();
        let ids: Vec<String> = lib.catalog().records().map(|r| r.id.clone()).collect();
        assert_eq!(titles(&lib), ["One", "Two"]);

        let away = top.path().join("unplugged");
        std::fs::rename(&music, &away).unwrap();
        let report = lib.scan().await.unwrap();
        assert_eq!(report.deleted, 0, "{report:?}");
        assert_eq!(titles(&lib), ["One", "Two"], "the songs stay");
        let problems = lib.problems().await.unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p.path == music.to_string_lossy() && p.reason.contains("does not exist")),
            "{problems:?}"
        );

        std::fs::rename(&away, &music).unwrap();
        let report = lib.scan().await.unwrap();
        assert_eq!((report.added, report.deleted), (0, 0), "{report:?}");
        let mut again: Vec<String> = lib.catalog().records().map(|r| r.id.clone()).collect();
        let mut before = ids.clone();
        again.sort();
        before.sort();
        assert_eq!(again, before, "same songs, same ids");

        // A song really removed from a folder that is there still leaves.
        std::fs::remove_file(music.join("two.wav")).unwrap();
        let report = lib.scan().await.unwrap();
        assert_eq!(report.deleted, 1);
        assert_eq!(titles(&lib), ["One"]);
    });
}
