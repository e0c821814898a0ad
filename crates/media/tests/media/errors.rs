//! Bad input and bad settings: a clear error, nothing at the destination, no temporary file.

use std::ops::ControlFlow;
use std::path::Path;

use clef_media::{
    convert, BitDepth, FormatSettings, MediaError, Mp3Mode, SampleRate, Settings, TrackTags,
};

use crate::common;

fn wav16() -> Settings {
    Settings::new(FormatSettings::Wav {
        depth: BitDepth::Bits16,
    })
}

/// Converts and returns the error, checking that nothing was left behind.
fn failing(source: &Path, settings: &Settings, dir: &Path) -> MediaError {
    let dest = dir.join("out.wav");
    let err = convert(source, &dest, settings, &TrackTags::default(), &mut |_| {
        ControlFlow::Continue(())
    })
    .expect_err("the conversion must fail");
    assert!(!dest.exists(), "nothing at the destination after: {err}");
    assert!(
        common::leftovers(dir).is_empty(),
        "no temporary file after: {err}"
    );
    err
}

#[test]
fn a_file_that_is_not_audio_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.flac");
    std::fs::write(
        &text,
        "these are not the samples you are looking for\n".repeat(200),
    )
    .unwrap();
    let err = failing(&text, &wav16(), dir.path());
    assert!(
        matches!(err, MediaError::UnsupportedSource { .. }),
        "{err:?}"
    );
}

#[test]
fn a_missing_source_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = failing(&dir.path().join("absent.flac"), &wav16(), dir.path());
    assert!(matches!(err, MediaError::Io { .. }), "{err:?}");
}

#[test]
fn a_truncated_flac_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 0);
    let bytes = std::fs::read(&source.path).unwrap();
    let cut = dir.path().join("cut.flac");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let err = failing(&cut, &wav16(), dir.path());
    assert!(
        matches!(
            err,
            MediaError::TruncatedSource { .. } | MediaError::CorruptSource { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn a_flac_damaged_in_the_middle_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 0);
    let bytes = std::fs::read(&source.path).unwrap();
    // One flipped bit in a frame: its CRC no longer matches, whichever frame it is.
    for tenths in [3, 5, 8] {
        let mut bytes = bytes.clone();
        let at = bytes.len() * tenths / 10;
        bytes[at] ^= 0x10;
        let damaged = dir.path().join("damaged.flac");
        std::fs::write(&damaged, &bytes).unwrap();
        let err = failing(&damaged, &wav16(), dir.path());
        assert!(
            matches!(
                err,
                MediaError::TruncatedSource { .. } | MediaError::CorruptSource { .. }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn a_truncated_wav_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 5);
    let bytes = std::fs::read(&source.path).unwrap();
    let cut = dir.path().join("cut.wav");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = failing(&cut, &wav16(), dir.path());
    assert!(matches!(err, MediaError::TruncatedSource { .. }), "{err:?}");
}

#[test]
fn unsupported_settings_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 0);
    let refused = [
        Settings::new(FormatSettings::Mp3(Mp3Mode::Cbr(100))),
        Settings::new(FormatSettings::Mp3(Mp3Mode::Vbr(7))),
        Settings::new(FormatSettings::Flac {
            depth: BitDepth::Bits24,
            level: 12,
        }),
        Settings {
            sample_rate: SampleRate::Hz(22_050),
            ..wav16()
        },
    ];
    for settings in refused {
        let err = failing(&source.path, &settings, dir.path());
        assert!(
            matches!(err, MediaError::UnsupportedSetting(_)),
            "{settings:?}: {err:?}"
        );
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn a_failed_conversion_leaves_an_existing_destination_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.wav");
    std::fs::write(&dest, b"previous export").unwrap();
    let junk = dir.path().join("junk.mp3");
    std::fs::write(&junk, [0u8; 4096]).unwrap();
    let result = convert(&junk, &dest, &wav16(), &TrackTags::default(), &mut |_| {
        ControlFlow::Continue(())
    });
    assert!(result.is_err());
    assert_eq!(std::fs::read(&dest).unwrap(), b"previous export");
    assert!(common::leftovers(dir.path()).is_empty());
}

#[test]
fn keeping_existing_files_takes_the_next_free_name() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 0);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let dest = out.join("Song.wav");
    let renamed = |n: u32| out.join(format!("Song ({n}).wav"));
    let convert_kept = || {
        clef_media::convert_keeping_existing(
            &source.path,
            &dest,
            &renamed,
            &wav16(),
            &TrackTags::default(),
            &mut |_| ControlFlow::Continue(()),
            &mut |_, _| Ok(()),
        )
        .unwrap()
    };
    assert_eq!(convert_kept(), dest, "a free name is taken as it is");
    let first = std::fs::read(&dest).unwrap();
    std::fs::write(renamed(2), b"someone else's file").unwrap();
    assert_eq!(convert_kept(), renamed(3), "taken names are skipped");
    assert_eq!(
        std::fs::read(&dest).unwrap(),
        first,
        "the first is untouched"
    );
    assert_eq!(std::fs::read(renamed(2)).unwrap(), b"someone else's file");
    assert_eq!(std::fs::read(renamed(3)).unwrap(), first, "a complete copy");
    assert!(common::leftovers(&out).is_empty());
    // Replacing is still what plain `convert` does.
    common::convert_plain(&source.path, &renamed(2), &wav16()).unwrap();
    assert_eq!(std::fs::read(renamed(2)).unwrap(), first);
}

#[test]
fn partial_files_being_written_are_not_removed() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 0);
    let dest = dir.path().join("out.wav");
    // Another export into the same folder cleans up after a crash while this one converts.
    let mut seen = Vec::new();
    convert(
        &source.path,
        &dest,
        &wav16(),
        &TrackTags::default(),
        &mut |_| {
            seen.push((
                common::leftovers(dir.path()).len(),
                clef_media::remove_partial_files(&dest),
            ));
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|&(partial, removed)| partial == 1 && removed == 0),
        "(temporary files, removed) at each step: {seen:?}"
    );
    assert!(common::leftovers(dir.path()).is_empty());
    // A temporary file no conversion holds (its process was killed) is removed.
    let stale = dir.path().join(".out.wav.abc123.part.wav");
    std::fs::write(&stale, b"half a file").unwrap();
    assert_eq!(clef_media::remove_partial_files(&dest), 1);
    assert!(!stale.exists());
}

#[test]
fn a_cancelled_conversion_stops_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 0);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let dest = out.join("cancelled.mp3");
    let mut blocks = 0;
    let err = convert(
        &source.path,
        &dest,
        &Settings::new(FormatSettings::Mp3(Mp3Mode::Cbr(320))),
        &TrackTags::default(),
        &mut |_| {
            blocks += 1;
            if blocks == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .expect_err("a cancelled conversion fails");
    assert!(matches!(err, MediaError::Cancelled), "{err}");
    assert_eq!(blocks, 2, "no block is converted after the cancel");
    assert!(!dest.exists());
    assert!(common::leftovers(&out).is_empty());
}

#[test]
fn a_destination_name_of_255_bytes_converts_and_partial_files_are_found_again() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 0);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    // The longest name file systems take: the temporary name must still fit.
    let dest = out.join(format!("{}.wav", "é".repeat(125)));
    assert_eq!(dest.file_name().unwrap().len(), 254);
    common::convert_plain(&source.path, &dest, &wav16()).unwrap();
    assert!(dest.exists());
    // What a killed conversion leaves is recognised and removed; other files are not touched.
    let name = dest.file_name().unwrap().to_str().unwrap();
    let cut = &name[..200];
    let partial = out.join(format!(".{cut}.Ab12Cd.part.wav"));
    let other = out.join(".something-else.part.wav");
    std::fs::write(&partial, b"half").unwrap();
    std::fs::write(&other, b"keep").unwrap();
    assert_eq!(clef_media::remove_partial_files(&dest), 1);
    assert!(!partial.exists() && other.exists() && dest.exists());
}
