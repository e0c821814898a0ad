//! Test catalogs and a repeatable source of randomness; the readers that compare the two formats
//! are in [`crate::wire`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use clef_core::{Random, Timestamp};
use clef_library::Catalog;
use clef_store::TrackRecord;

pub use crate::wire::{json_pairs, xml_pairs};

/// Where the fixture's files "are": no answer may ever contain it.
pub const SECRET_ROOT: &str = "/srv/secret-music";
/// 2020-09-13T12:26:40Z.
pub const T0: i64 = 1_600_000_000_000;
const DAY: i64 = 86_400_000;

pub fn track_id(n: usize) -> String {
    format!("{n:032x}")
}

fn rec(n: usize, folder: &str, title: &str, format: &str) -> TrackRecord {
    TrackRecord {
        id: track_id(n),
        path: format!("{SECRET_ROOT}/{folder}/{n:02} {title}.{format}"),
        size: 4_000_000 + i64::try_from(n).unwrap_or(0),
        title: title.into(),
        duration_ms: 185_400,
        sample_rate: Some(44_100),
        bit_depth: Some(16),
        channels: Some(2),
        codec: format.into(),
        format: format.into(),
        added_at: Timestamp(T0),
        updated_at: Timestamp(T0),
        ..TrackRecord::default()
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// A small library covering the shapes that matter: multi-artist and untagged tracks, a
/// compilation, two discs, several formats, covers on some albums only, and a title full of
/// characters that need escaping.
pub fn small() -> Arc<Catalog> {
    let mut out = Vec::new();
    for (n, title) in [(1, "Come Together"), (2, "Something")] {
        out.push(TrackRecord {
            artists: strings(&["The Beatles"]),
            album: "Abbey Road".into(),
            album_artists: strings(&["The Beatles"]),
            genres: strings(&["Rock"]),
            track_no: Some(i64::try_from(n).unwrap_or(0)),
            disc_no: Some(1),
            year: Some(1969),
            bitrate: Some(900),
            embedded_cover: true,
            composer: (n == 2).then(|| "George Harrison".into()),
            comment: (n == 1).then(|| "remastered".into()),
            isrc: (n == 1).then(|| "GBAYE0601690".into()),
            ..rec(n, "Beatles/Abbey Road", title, "flac")
        });
    }
    out.push(TrackRecord {
        artists: strings(&["Miles Davis"]),
        album: "Kind of Blue".into(),
        album_artists: strings(&["Miles Davis"]),
        genres: strings(&["Jazz"]),
        track_no: Some(1),
        year: Some(1959),
        bitrate: Some(320),
        bit_depth: None,
        added_at: Timestamp(T0 + DAY),
        ..rec(3, "Miles/Kind of Blue", "So What", "mp3")
    });
    for (n, artists, genres) in [
        (4, &["Dido"][..], &["Pop", "Dance"][..]),
        (5, &["Moby", "Gwen Stefani"][..], &["Pop"][..]),
    ] {
        out.push(TrackRecord {
            artists: strings(artists),
            album: "Hits 2001".into(),
            compilation: true,
            genres: strings(genres),
            track_no: Some(i64::try_from(n - 3).unwrap_or(0)),
            year: Some(2001),
            cover_path: (n == 5).then(|| format!("{SECRET_ROOT}/Hits/cover.jpg")),
            added_at: Timestamp(T0 + 2 * DAY),
            ..rec(n, "Hits", &format!("Hit {n}"), "m4a")
        });
    }
    for (n, disc) in [(6, 1), (7, 2)] {
        out.push(TrackRecord {
            artists: strings(&["Élodie"]),
            album: "Zèbre".into(),
            album_artists: strings(&["Élodie"]),
            genres: strings(&["rock"]),
            track_no: Some(1),
            disc_no: Some(disc),
            disc_total: Some(2),
            year: Some(2020),
            added_at: Timestamp(T0 + 3 * DAY),
            updated_at: Timestamp(T0 + 5 * DAY),
            ..rec(
                n,
                "Elodie",
                &format!("Quotes \"&\" <tags> 'x' \u{1}bell\ttab\nline {disc}"),
                "opus",
            )
        });
    }
    // No tags at all: the title comes from the file name.
    out.push(TrackRecord {
        title: String::new(),
        sample_rate: None,
        bit_depth: None,
        channels: None,
        added_at: Timestamp(T0 - DAY),
        ..rec(8, "Loose", "untitled", "wav")
    });
    Catalog::build(out)
}

/// `albums` albums of `per_album` songs each, by `artists` artists, years and genres cycling.
pub fn many(albums: usize, per_album: usize, artists: usize) -> Arc<Catalog> {
    let mut out = Vec::new();
    for a in 0..albums {
        let artist = format!("Artist {:03}", a % artists);
        for t in 0..per_album {
            let n = a * per_album + t + 1;
            out.push(TrackRecord {
                artists: vec![artist.clone()],
                album: format!("Album {a:04}"),
                album_artists: vec![artist.clone()],
                genres: vec![["Rock", "Jazz", "Pop"][a % 3].to_owned()],
                track_no: i64::try_from(t + 1).ok(),
                year: i64::try_from(1960 + a % 50).ok(),
                embedded_cover: a % 2 == 0,
                added_at: Timestamp(T0 + i64::try_from(a).unwrap_or(0) * DAY),
                ..rec(
                    n,
                    &format!("{artist}/Album {a:04}"),
                    &format!("Song {t}"),
                    "mp3",
                )
            });
        }
    }
    Catalog::build(out)
}

/// Repeatable randomness (SplitMix64 from a seed).
pub struct SeqRandom(AtomicU64);

impl SeqRandom {
    pub fn new(seed: u64) -> SeqRandom {
        SeqRandom(AtomicU64::new(seed))
    }
}

impl Random for SeqRandom {
    fn fill(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let mut z = self
                .0
                .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::SeqCst)
                .wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}
