//! File-name patterns and tag values: a rendered path is plain names inside the export folder.
#![no_main]

use std::path::Component;

use clef_formats::naming::{NameFields, Pattern};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str, &str, Option<u32>)| {
    let (pattern, title, artist, album, track) = input;
    let Ok(pattern) = Pattern::parse(pattern) else {
        return;
    };
    let fields = NameFields {
        title: title.into(),
        artist: artist.into(),
        album: album.into(),
        album_artist: artist.into(),
        track,
        disc: Some(1),
        year: Some(1999),
        genre: String::new(),
    };
    let path = pattern.render(&fields, "flac");
    for c in path.components() {
        let Component::Normal(name) = c else {
            panic!("{c:?} in {path:?}");
        };
        let name = name.to_str().expect("UTF-8");
        assert!(!name.is_empty() && name != "." && name != "..", "{path:?}");
        assert!(
            name.len() <= 255 && !name.contains(['/', '\\', '\0']),
            "{name:?}"
        );
        assert!(!name.chars().any(char::is_control), "{name:?}");
    }
    assert!(path.to_string_lossy().ends_with(".flac"), "{path:?}");
});
