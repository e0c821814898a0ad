//! Clef's FLAC encoder, checked after tagging for exact audio, tags, cover and seek table, by
//! the reference tools (`flac -t`, `metaflac`) and by ffmpeg seeking with the table.

use std::ops::ControlFlow;
use std::path::Path;

use clef_media::{convert, BitDepth, FormatSettings, Settings};
use lofty::prelude::*;
use lofty::tag::TagType;

use crate::common;

fn flac5() -> Settings {
    Settings::new(FormatSettings::Flac {
        depth: BitDepth::SameAsSource,
        level: 5,
    })
}

/// The metadata blocks of a FLAC file, (type, content), and where the audio starts.
fn blocks(flac: &[u8]) -> (Vec<(u8, Vec<u8>)>, usize) {
    assert_eq!(&flac[..4], b"fLaC");
    let mut at = 4;
    let mut out = Vec::new();
    loop {
        let header = &flac[at..at + 4];
        let len = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
        out.push((header[0] & 0x7f, flac[at + 4..at + 4 + len].to_vec()));
        at += 4 + len;
        if header[0] & 0x80 != 0 {
            return (out, at);
        }
    }
}

/// The seek points `metaflac` lists: (sample number, offset from the first frame, frame samples).
fn metaflac_points(path: &Path) -> Vec<(u64, u64, u64)> {
    let listing = common::run(
        std::process::Command::new("metaflac")
            .args(["--list", "--block-type=SEEKTABLE"])
            .arg(path),
    );
    String::from_utf8(listing)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("point "))
        .map(|l| {
            let field = |name: &str| -> u64 {
                let at = l.find(&format!("{name}=")).unwrap_or_else(|| panic!("{l}"));
                let rest = &l[at + name.len() + 1..];
                rest[..rest.find(',').unwrap_or(rest.len())]
                    .parse()
                    .unwrap()
            };
            (
                field("sample_number"),
                field("stream_offset"),
                field("frame_samples"),
            )
        })
        .collect()
}

#[test]
fn flac_is_exact_tagged_and_seekable_after_tagging() {
    let dir = tempfile::tempdir().unwrap();
    let sources = [
        common::make_source_of(dir.path(), "long16.wav", 44_100, 16, &[], 25.0),
        common::make_source_of(
            dir.path(),
            "long24.wav",
            96_000,
            24,
            &["-c:a", "pcm_s24le"],
            12.0,
        ),
    ];
    let tags = common::full_tags(dir.path());
    for source in &sources {
        let what = source.path.display().to_string();
        let original = common::pcm(&source.path, "s32le");
        let rate = u64::from(source.rate);
        let frames = common::frames(&source.path, 2) as u64;
        let dest = dir.path().join(format!("{}.flac", source.bits));
        convert(&source.path, &dest, &flac5(), &tags, &mut |_| {
            ControlFlow::Continue(())
        })
        .unwrap_or_else(|e| panic!("{what}: {e}"));

        assert!(common::pcm(&dest, "s32le") == original, "{what}: not exact");
        // Symphonia checks the STREAMINFO length at the end; `flac -t` the frame CRCs and
        // the MD5.
        let mut reread = clef_media::open(&dest).unwrap();
        while reread.next_block().unwrap().is_some() {}
        common::run(
            std::process::Command::new("flac")
                .args(["-t", "-s", "-w"])
                .arg(&dest),
        );

        let tagged = lofty::read_from_path(&dest).unwrap();
        let tag = tagged.tag(TagType::VorbisComments).unwrap();
        assert_eq!(tag.title().as_deref(), tags.title.as_deref(), "{what}");
        assert_eq!(tag.pictures().len(), 1, "{what}: cover");

        let bytes = std::fs::read(&dest).unwrap();
        let (blocks, audio) = blocks(&bytes);
        assert_eq!(blocks[0].0, 0, "{what}: STREAMINFO first");
        assert_eq!(
            blocks.iter().filter(|b| b.0 == 4).count(),
            1,
            "{what}: one VORBIS_COMMENT"
        );
        assert_eq!(
            blocks.iter().filter(|b| b.0 == 3).count(),
            1,
            "{what}: one SEEKTABLE"
        );
        // A point every 10 s, each filled in (the length was known) and pointing at the
        // header of the frame holding its target, even after the tags and cover moved the
        // audio.
        let points = metaflac_points(&dest);
        assert_eq!(points.len() as u64, frames.div_ceil(10 * rate), "{what}");
        for (i, &(sample, offset, samples)) in points.iter().enumerate() {
            let target = i as u64 * 10 * rate;
            assert!(
                sample <= target && target < sample + samples,
                "{what}: point {i} {:?}",
                points[i]
            );
            assert_eq!(sample % 4096, 0, "{what}: point {i} starts a frame");
            let frame = audio + offset as usize;
            assert!(
                matches!(bytes[frame..frame + 2], [0xff, 0xf8 | 0xf9]),
                "{what}: point {i} is not at a frame header"
            );
        }

        // ffmpeg seeks with the table, to 1.5 s before the end (past the last point, inside
        // a frame), and decodes from there exactly what the whole file decodes there.
        let at = frames / rate * rate - rate * 3 / 2;
        let seconds = format!("{}", at as f64 / rate as f64);
        let seeked = common::run(
            std::process::Command::new("ffmpeg")
                .args(["-v", "error", "-ss", &seconds, "-i"])
                .arg(&dest)
                .args(["-map", "0:a:0", "-f", "s32le", "-"]),
        );
        let skip = at as usize * 2 * 4;
        assert_eq!(
            seeked.len(),
            original.len() - skip,
            "{what}: from {seconds} s"
        );
        assert!(
            seeked == original[skip..],
            "{what}: samples from {seconds} s"
        );
    }
}
