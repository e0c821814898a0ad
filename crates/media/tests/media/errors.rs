//! Bad input and bad settings: a clear error, nothing at the destination, no temporary file.

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
    let err = convert(source, &dest, settings, &TrackTags::default(), &mut |_| {})
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
            sample_rate: SampleRate::Hz(48_000),
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
    let result = convert(&junk, &dest, &wav16(), &TrackTags::default(), &mut |_| {});
    assert!(result.is_err());
    assert_eq!(std::fs::read(&dest).unwrap(), b"previous export");
    assert!(common::leftovers(dir.path()).is_empty());
}
