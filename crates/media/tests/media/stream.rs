//! Transcoding into a stream (the stream endpoint's `format=mp3` and `format=aac`): a playable
//! MP3 or ADTS AAC of the whole source as it is produced, and an early stop when the listener
//! goes away.

use std::io::Write;

use clef_media::{transcode_stream, FormatSettings, MediaError, Mp3Mode, Settings};

use crate::common;

/// A writer that takes `limit` bytes and then fails, as a closed connection does.
struct Hangs {
    taken: usize,
    limit: usize,
}

impl Write for Hangs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.taken >= self.limit {
            return Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "gone"));
        }
        self.taken += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_source_streams_as_a_playable_mp3_at_the_asked_bitrate() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 0);
    let out = dir.path().join("streamed.mp3");
    let file = std::fs::File::create(&out).unwrap();
    let settings = Settings::new(FormatSettings::Mp3(Mp3Mode::Cbr(128)));
    let frames = transcode_stream(&source.path, &settings, Box::new(file)).unwrap();
    assert_eq!(frames as f64, common::SECONDS * f64::from(source.rate));
    let probe = common::probe(&out);
    let stream = common::stream(&probe);
    assert_eq!(stream["codec_name"], "mp3");
    assert_eq!(stream["bit_rate"], "128000");
    // Without an info frame nothing trims LAME's delay: a few milliseconds more, never less.
    let secs: f64 = probe["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (common::SECONDS..common::SECONDS + 0.1).contains(&secs),
        "{secs} s from {} s",
        common::SECONDS
    );
}

#[test]
fn a_listener_that_goes_away_stops_the_transcoder() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 0);
    let settings = Settings::new(FormatSettings::Mp3(Mp3Mode::Cbr(320)));
    let gone = Hangs {
        taken: 0,
        limit: 4096,
    };
    let err = transcode_stream(&source.path, &settings, Box::new(gone)).unwrap_err();
    assert!(matches!(err, MediaError::Io { .. }), "{err}");
}

#[test]
fn a_hi_res_source_streams_as_adts_aac_at_48_khz() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 4); // FLAC, 24-bit, 96 kHz
    let out = dir.path().join("streamed.aac");
    let file = std::fs::File::create(&out).unwrap();
    let settings = Settings::new(FormatSettings::Aac { kbps: 128 });
    let frames = transcode_stream(&source.path, &settings, Box::new(file)).unwrap();
    assert_eq!(frames as f64, common::SECONDS * f64::from(source.rate));
    let probe = common::probe(&out);
    assert_eq!(probe["format"]["format_name"], "aac", "ADTS");
    let stream = common::stream(&probe);
    assert_eq!(stream["codec_name"], "aac");
    assert_eq!(stream["profile"], "LC");
    assert_eq!(stream["sample_rate"], "48000");
    assert_eq!(stream["channels"], 2);
    // Every access unit decodes: the whole source, plus the encoder's delay and the padding of
    // the last unit (ADTS has nowhere to say how much to trim).
    let decoded = common::frames(&out, 2) as f64 / 48_000.0;
    assert!(
        (common::SECONDS..common::SECONDS + 0.1).contains(&decoded),
        "{decoded} s from {} s",
        common::SECONDS
    );
    // About the asked rate.
    let kbps = std::fs::metadata(&out).unwrap().len() as f64 * 8.0 / decoded / 1000.0;
    assert!((110.0..150.0).contains(&kbps), "{kbps} kbps");
}

#[test]
fn streams_transcode_to_mp3_or_aac_only() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 0);
    let flac = Settings::new(FormatSettings::Flac {
        depth: clef_media::BitDepth::SameAsSource,
        level: 5,
    });
    let err = transcode_stream(&source.path, &flac, Box::new(std::io::sink())).unwrap_err();
    assert!(err.to_string().contains("MP3 or AAC"), "{err}");
}
