//! Export names (SECURITY.md F1): patterns, hostile tag values, FAT-safe names, collisions and
//! the export roots, on a real file system.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Component, Path, PathBuf};

use clef_export::naming::{confine, NameFields, Pattern, UniqueNames, DEFAULT_PATTERN};
use clef_export::ExportError;

fn fields(title: &str, artist: &str, album: &str) -> NameFields {
    NameFields {
        title: title.into(),
        artist: artist.into(),
        album: album.into(),
        album_artist: String::new(),
        track: Some(7),
        disc: Some(1),
        year: Some(1979),
        genre: "Rock".into(),
    }
}

/// Every component is a plain name a FAT stick accepts.
fn assert_plain(rel: &Path) {
    for c in rel.components() {
        let Component::Normal(name) = c else {
            panic!("{rel:?} has a non-plain component {c:?}");
        };
        let name = name.to_str().unwrap();
        assert!(!name.is_empty() && name.len() <= 255, "{name:?}");
        assert!(!name.starts_with(' ') && !name.ends_with(' ') && !name.ends_with('.'));
        assert!(
            !name
                .chars()
                .any(|c| c.is_control() || "<>:\"/\\|?*".contains(c)),
            "{name:?}"
        );
        assert!(!name.chars().any(|c| ('\u{202a}'..='\u{202e}').contains(&c)));
        let stem = name.split('.').next().unwrap().to_ascii_uppercase();
        assert!(!["CON", "PRN", "AUX", "NUL", "COM1", "LPT1"].contains(&stem.as_str()));
    }
}

#[test]
fn the_default_pattern_names_album_folders_and_numbered_files() {
    let p = Pattern::parse(DEFAULT_PATTERN).unwrap();
    let mut f = fields("Highway to Hell", "AC/DC", "Highway to Hell");
    f.album_artist = "AC/DC".into();
    assert_eq!(
        p.render(&f, "mp3"),
        PathBuf::from("AC_DC/Highway to Hell/07 Highway to Hell.mp3")
    );
    // No album artist: the track artist stands in; no number: nothing, not "0".
    let mut f = fields("Intro", "Anna", "");
    f.track = None;
    let p = Pattern::parse("{album_artist}/{album}/{track:02}{title} ({year})").unwrap();
    assert_eq!(
        p.render(&f, "flac"),
        PathBuf::from("Anna/Unknown Album/Intro (1979).flac")
    );
}

#[test]
fn bad_patterns_are_refused_with_the_reason() {
    for (pattern, why) in [
        ("", "empty"),
        ("/{title}", "leading"),
        ("../{title}", "'..'"),
        ("{album}/../{title}", "'..'"),
        ("{album}//{title}", "empty folder"),
        ("{title", "without its '}'"),
        ("title}", "without its '{'"),
        ("{nope}", "unknown field {nope}"),
        ("{title:02}", "takes no width"),
        ("{track:x}", "not a width"),
        ("{album}/cover", "at least one field"),
    ] {
        match Pattern::parse(pattern) {
            Err(clef_export::naming::PatternError(msg)) => {
                assert!(msg.contains(why), "{pattern}: {msg}")
            }
            other => panic!("{pattern:?} gave {other:?}"),
        }
    }
}

#[test]
fn hostile_tag_values_stay_plain_names_inside_the_folder() {
    let p = Pattern::parse(DEFAULT_PATTERN).unwrap();
    let long = "é".repeat(200); // 400 bytes
    let hostile = [
        "../../../etc/passwd",
        "AC/DC\\..\\CON",
        "..",
        ".",
        "CON",
        "con.txt",
        "LPT1",
        "  . . ",
        "\u{202e}3pm.exe",
        "bell\u{7}tab\tnew\nline\u{0}nul",
        "a<b>c:d\"e|f?g*h",
        long.as_str(),
        "",
    ];
    for value in hostile {
        let mut f = fields(value, value, value);
        f.album_artist = value.into();
        let rel = p.render(&f, "m4a");
        assert_plain(&rel);
        assert_eq!(rel.components().count(), 3, "{value:?} → {rel:?}");
        assert!(rel.to_str().unwrap().ends_with(".m4a"), "{rel:?}");
    }
    let mut f = fields(&long, "x", "y");
    f.track = None;
    let name = p.render(&f, "flac");
    let file = name.file_name().unwrap().to_str().unwrap();
    assert!(file.len() <= 255 && file.ends_with("é.flac"), "{file}");
    let folder = p.render(&fields("t", "a", &long), "mp3");
    let album = folder.components().nth(1).unwrap().as_os_str().len();
    assert!(album <= 100, "{album}");
}

#[test]
fn collisions_get_numbers_compared_as_fat_does() {
    let mut names = UniqueNames::default();
    let a = names.claim(Path::new("Artist/Album/01 Song.mp3"));
    let b = names.claim(Path::new("artist/album/01 song.MP3"));
    let c = names.claim(Path::new("Artist/Album/01 Song.mp3"));
    assert_eq!(a, PathBuf::from("Artist/Album/01 Song.mp3"));
    assert_eq!(b, PathBuf::from("artist/album/01 song (2).MP3"));
    assert_eq!(c, PathBuf::from("Artist/Album/01 Song (3).mp3"));
    // A name at the length limit still gets its number and stays within it.
    let long = format!("{}.flac", "x".repeat(250));
    names.claim(Path::new(&long));
    let second = names.claim(Path::new(&long));
    let s = second.to_str().unwrap();
    assert!(s.len() <= 255 && s.ends_with(" (2).flac"), "{s}");
    // Files an earlier run wrote keep their names.
    let mut names = UniqueNames::default();
    names.reserve(Path::new("A/b.mp3"));
    assert_eq!(
        names.claim(Path::new("A/B.mp3")),
        PathBuf::from("A/B (2).mp3")
    );
}

#[test]
fn output_folders_stay_inside_the_export_roots() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("usb");
    let other = dir.path().join("canary");
    std::fs::create_dir_all(root.join("Car")).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    std::os::unix::fs::symlink(&other, root.join("escape")).unwrap();
    let roots = vec![root.clone()];
    let canon = root.canonicalize().unwrap();

    assert_eq!(confine(&roots, None, "Car").unwrap().1, canon.join("Car"));
    assert_eq!(
        confine(&roots, None, "New/Deeper").unwrap().1,
        canon.join("New/Deeper")
    );
    assert_eq!(confine(&roots, None, "").unwrap().1, canon);
    let abs = canon.join("Car").to_str().unwrap().to_owned();
    assert_eq!(confine(&roots, None, &abs).unwrap().1, canon.join("Car"));

    let outside = [
        "..".to_owned(),
        "../canary".to_owned(),
        "Car/../../canary".to_owned(),
        "New/../../canary".to_owned(),
        "escape".to_owned(),
        "escape/inner".to_owned(),
        other.to_str().unwrap().to_owned(),
        "/etc".to_owned(),
        "Car\0/x".to_owned(),
    ];
    for bad in outside {
        match confine(&roots, None, &bad) {
            Err(ExportError::OutsideRoots(_)) => {}
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
    assert!(matches!(
        confine(&[], None, "x"),
        Err(ExportError::NoExportRoot)
    ));
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 0);
}

#[test]
fn each_user_stays_inside_their_own_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("exports");
    std::fs::create_dir_all(root.join("bert/Car")).unwrap();
    std::fs::create_dir_all(root.join("carl")).unwrap();
    let roots = vec![root.clone()];
    let canon = root.canonicalize().unwrap();
    let anna = Some("anna");

    // Anna's folder need not exist yet.
    assert_eq!(
        confine(&roots, anna, "Car").unwrap(),
        (0, canon.join("anna/Car"))
    );
    assert_eq!(confine(&roots, anna, "").unwrap(), (0, canon.join("anna")));
    let abs = canon.join("anna/Stick").to_str().unwrap().to_owned();
    assert_eq!(
        confine(&roots, anna, &abs).unwrap(),
        (0, canon.join("anna/Stick"))
    );
    let refused = |own: Option<&str>, bad: &str| match confine(&roots, own, bad) {
        Err(ExportError::OutsideRoots(_)) => {}
        other => panic!("{bad:?} gave {other:?}"),
    };
    for bad in [
        "..",
        "../bert",
        "../bert/Car",
        "../bert/Nothing",
        "Car/../../bert",
        canon.join("bert/Car").to_str().unwrap(),
        canon.to_str().unwrap(),
    ] {
        refused(anna, bad);
    }
    // A link in carl's place, or inside his folder, leads out of it.
    std::os::unix::fs::symlink(root.join("bert"), root.join("carl/link")).unwrap();
    refused(Some("carl"), "link");
    refused(Some("carl"), "link/Car");
    std::os::unix::fs::symlink(root.join("bert"), root.join("dora")).unwrap();
    refused(Some("dora"), "Car");
    refused(Some("dora"), "");
}
