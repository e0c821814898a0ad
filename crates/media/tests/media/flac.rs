//! The FLAC encoders: the default one (libFLAC with the `libflac` feature, Clef's own without) and
//! each one chosen explicitly, checked after tagging for exact audio, tags, cover and seek table.

use std::ops::ControlFlow;
use std::path::Path;

use clef_media::{
    convert, convert_with, BitDepth, EncoderConstructor, EncoderRegistry, FormatSettings,
    OutputFormat, Settings, TrackTags, FLAC_ENCODER,
};
use lofty::prelude::*;
use lofty::tag::TagType;

use crate::common;

fn flac5() -> Settings {
    Settings::new(FormatSettings::Flac {
        depth: BitDepth::SameAsSource,
        level: 5,
    })
}

/// Every FLAC encoder in this build, by name.
fn encoders() -> Vec<(&'static str, EncoderConstructor)> {
    vec![
        ("clef", clef_media::clef_flac_encoder as EncoderConstructor),
        #[cfg(feature = "libflac")]
        ("libFLAC", clef_media::libflac_encoder as EncoderConstructor),
    ]
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

/// The Vorbis comment vendor string, which names the encoder that made the file.
fn vendor(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let (blocks, _) = blocks(&bytes);
    let comment = &blocks.iter().find(|b| b.0 == 4).expect("VORBIS_COMMENT").1;
    let len = u32::from_le_bytes(comment[..4].try_into().unwrap()) as usize;
    String::from_utf8_lossy(&comment[4..4 + len]).into_owned()
}

#[test]
fn the_default_flac_encoder_is_the_one_the_build_names() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 1);
    let dest = dir.path().join("default.flac");
    let tags = TrackTags {
        title: Some("x".into()),
        ..TrackTags::default()
    };
    convert(&source.path, &dest, &flac5(), &tags, &mut |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    let vendor = vendor(&dest);
    assert_eq!(
        vendor.contains("libFLAC"),
        FLAC_ENCODER == "libFLAC",
        "{FLAC_ENCODER} build wrote vendor {vendor:?}"
    );
    assert_eq!(FLAC_ENCODER == "libFLAC", cfg!(feature = "libflac"));
}

#[test]
fn every_flac_encoder_is_exact_tagged_and_seekable_after_tagging() {
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
        let original = common::pcm(&source.path, "s32le");
        let seconds = common::frames(&source.path, 2) as u64 / u64::from(source.rate);
        for (name, constructor) in encoders() {
            let what = format!("{name}, {}", source.path.display());
            let mut registry = EncoderRegistry::default();
            registry.register(OutputFormat::Flac, constructor);
            let dest = dir.path().join(format!("{name}-{}.flac", source.bits));
            convert_with(&registry, &source.path, &dest, &flac5(), &tags, &mut |_| {
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
            let Some(seek) = blocks.iter().find(|b| b.0 == 3) else {
                assert_eq!(name, "clef", "{what}: libFLAC writes a SEEKTABLE");
                continue;
            };
            // A point every 10 s, each filled in and pointing at a frame header, even after
            // the tags and cover moved the audio.
            let points: Vec<(u64, u64)> = seek
                .1
                .chunks(18)
                .map(|p| {
                    let sample = u64::from_be_bytes(p[..8].try_into().unwrap());
                    let offset = u64::from_be_bytes(p[8..16].try_into().unwrap());
                    assert!(u16::from_be_bytes([p[16], p[17]]) > 0, "{what}: filled in");
                    (sample, offset)
                })
                .collect();
            assert_eq!(points.len() as u64, seconds.div_ceil(10), "{what}: points");
            for (i, (sample, offset)) in points.into_iter().enumerate() {
                let second = sample / u64::from(source.rate);
                assert!(second <= i as u64 * 10, "{what}: point {i} at {second} s");
                let frame = audio + offset as usize;
                assert_eq!(
                    bytes[frame..frame + 2],
                    [0xff, 0xf8],
                    "{what}: point {i} is a frame header"
                );
            }
        }
    }
}
