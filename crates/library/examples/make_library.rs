//! Writes a test library for benchmarks: `make_library DIR COUNT`. One short base file per format
//! is made with ffmpeg; each track is a copy of one, tagged here with its own title, artists,
//! album, numbers, year and genre, ten tracks to an album with a cover.jpg beside them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use lofty::config::WriteOptions;
use lofty::file::{AudioFile, TaggedFileExt};
use lofty::prelude::{Accessor, ItemKey};
use lofty::tag::Tag;

const FORMATS: &[(&str, &[&str])] = &[
    ("mp3", &["-c:a", "libmp3lame", "-b:a", "192k"]),
    ("flac", &["-c:a", "flac"]),
    ("m4a", &["-c:a", "aac", "-b:a", "160k"]),
    ("ogg", &["-c:a", "libvorbis", "-q:a", "4"]),
    ("opus", &["-c:a", "libopus", "-b:a", "96k", "-ar", "48000"]),
    ("wav", &["-c:a", "pcm_s16le"]),
    ("aiff", &["-c:a", "pcm_s16be"]),
];

fn base(dir: &Path, ext: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(format!("base.{ext}"));
    if out.exists() {
        return out;
    }
    let status = Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=3",
        ])
        .args(["-ac", "2"])
        .args(if args.contains(&"-ar") {
            &[][..]
        } else {
            &["-ar", "44100"][..]
        })
        .args(args)
        .arg(&out)
        .status()
        .expect("ffmpeg must be installed (Debian package ffmpeg)");
    assert!(status.success(), "ffmpeg failed for {ext}");
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: make_library DIR COUNT"));
    let count: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .expect("usage: make_library DIR COUNT");
    let bases = dir.join(".base");
    std::fs::create_dir_all(&bases).unwrap();
    let bases: Vec<(String, PathBuf)> = FORMATS
        .iter()
        .map(|(ext, a)| ((*ext).to_owned(), base(&bases, ext, a)))
        .collect();
    let cover = {
        let img = image::RgbImage::from_fn(500, 500, |x, y| {
            image::Rgb([(x / 2) as u8, (y / 2) as u8, 128])
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
            .encode_image(&img)
            .unwrap();
        out
    };
    let genres = [
        "Rock",
        "Jazz",
        "Electronic",
        "Folk",
        "Classical",
        "Hip-Hop",
        "Ambient",
    ];
    for i in 0..count {
        let album = i / 10;
        let artist = album / 3;
        let (ext, src) = &bases[album % bases.len()];
        let folder = dir
            .join(format!("Artist {artist:04}"))
            .join(format!("Album {album:05}"));
        std::fs::create_dir_all(&folder).unwrap();
        if i % 10 == 0 {
            std::fs::write(folder.join("cover.jpg"), &cover).unwrap();
        }
        let path = folder.join(format!("{:02} Track {i:06}.{ext}", i % 10 + 1));
        std::fs::copy(src, &path).unwrap();
        let mut file = lofty::read_from_path(&path).unwrap();
        let mut tag = Tag::new(file.primary_tag_type());
        tag.set_title(format!("Track {i:06}"));
        tag.set_artist(format!("Artist {artist:04}"));
        if i % 7 == 0 {
            tag.push(lofty::tag::TagItem::new(
                ItemKey::TrackArtist,
                lofty::tag::ItemValue::Text(format!("Guest {:03}", i % 100)),
            ));
        }
        tag.set_album(format!("Album {album:05}"));
        tag.insert_text(ItemKey::AlbumArtist, format!("Artist {artist:04}"));
        tag.set_track((i % 10 + 1) as u32);
        tag.set_track_total(10);
        tag.insert_text(ItemKey::Year, (1960 + album % 60).to_string());
        tag.set_genre(genres[album % genres.len()].to_owned());
        file.insert_tag(tag);
        file.save_to_path(&path, WriteOptions::default()).unwrap();
    }
    println!("wrote {count} tracks under {}", dir.display());
}
