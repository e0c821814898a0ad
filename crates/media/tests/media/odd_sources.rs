//! Sources that are odd but not damaged: more than two channels become stereo in MP3 and AAC
//! (streams and exports); an MP3 whose Xing header counts a frame more than it holds converts;
//! and a stream that cannot start says so before anything is sent.

use std::path::{Path, PathBuf};
use std::process::Command;

use clef_media::{transcode_stream_when_ready, FormatSettings, MediaError, Mp3Mode, Settings};

use crate::common;

/// Six channels (5.1) of distinct tones, three seconds, as a WAV made by ffmpeg.
fn surround(dir: &Path) -> PathBuf {
    let path = dir.join("surround.wav");
    let tones: Vec<String> = (0..6)
        .map(|i| format!("0.2*sin({}*2*PI*t)", 220 * (i + 1)))
        .collect();
    common::run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg(format!("aevalsrc={}:s=48000:d=3:c=5.1", tones.join("|")))
            .args(["-c:a", "pcm_s16le"])
            .arg(&path),
    );
    path
}

#[test]
fn six_channels_become_stereo_in_mp3_and_aac_and_stay_six_in_flac() {
    let dir = tempfile::tempdir().unwrap();
    let source = surround(dir.path());
    let cases = [
        ("out.mp3", FormatSettings::Mp3(Mp3Mode::Cbr(192)), 2),
        ("out.m4a", FormatSettings::Aac { kbps: 192 }, 2),
        (
            "out.flac",
            FormatSettings::Flac {
                depth: clef_media::BitDepth::SameAsSource,
                level: 5,
            },
            6,
        ),
    ];
    for (name, format, channels) in cases {
        let out = common::convert_plain(&source, &dir.path().join(name), &Settings::new(format))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let probe = common::probe(&out);
        let stream = common::stream(&probe);
        assert_eq!(stream["channels"], channels, "{name}");
        let secs: f64 = probe["format"]["duration"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((secs - 3.0).abs() < 0.1, "{name}: {secs} s");
    }
    // A transcoded stream too.
    let streamed = dir.path().join("streamed.mp3");
    let file = std::fs::File::create(&streamed).unwrap();
    let settings = Settings::new(FormatSettings::Mp3(Mp3Mode::Cbr(128)));
    clef_media::transcode_stream(&source, &settings, Box::new(file)).unwrap();
    assert_eq!(common::stream(&common::probe(&streamed))["channels"], 2);
}

/// Adds `more` to the frame count of the Xing (or Info) header in an MP3's first frame.
fn overcount_xing(path: &Path, more: u32) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes
        .windows(4)
        .position(|w| w == b"Xing" || w == b"Info")
        .expect("an info frame");
    let flags = u32::from_be_bytes(bytes[at + 4..at + 8].try_into().unwrap());
    assert_eq!(flags & 1, 1, "the frame count is present");
    let count = u32::from_be_bytes(bytes[at + 8..at + 12].try_into().unwrap());
    bytes[at + 8..at + 12].copy_from_slice(&(count + more).to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn an_mp3_counting_one_frame_more_than_it_holds_converts_and_a_cut_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let mp3 = common::source(dir.path(), 8).path;
    let wav = Settings::new(FormatSettings::Wav {
        depth: clef_media::BitDepth::Bits16,
    });
    overcount_xing(&mp3, 1);
    let out = common::convert_plain(&mp3, &dir.path().join("out.wav"), &wav)
        .expect("one MPEG frame short of the header is whole");
    let secs: f64 = common::probe(&out)["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((secs - common::SECONDS).abs() < 0.1, "{secs} s");
    // A file that lost a third of its audio is still refused.
    let bytes = std::fs::read(&mp3).unwrap();
    let cut = dir.path().join("cut.mp3");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let err = common::convert_plain(&cut, &dir.path().join("cut.wav"), &wav).unwrap_err();
    assert!(matches!(err, MediaError::TruncatedSource { .. }), "{err:?}");
}

#[test]
fn a_stream_that_cannot_start_is_refused_before_it_is_ready() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.mp3");
    std::fs::write(&junk, [0x55u8; 8192]).unwrap();
    let settings = Settings::new(FormatSettings::Mp3(Mp3Mode::Cbr(128)));
    let mut ready = false;
    let err = transcode_stream_when_ready(&junk, &settings, Box::new(std::io::sink()), &mut || {
        ready = true
    })
    .unwrap_err();
    assert!(!ready, "never ready");
    let reason = err.reason();
    assert!(
        !reason.contains(dir.path().to_str().unwrap()),
        "no path: {reason}"
    );
    // A good source is ready after its first block.
    let good = common::source(dir.path(), 0).path;
    let mut ready = 0;
    transcode_stream_when_ready(&good, &settings, Box::new(std::io::sink()), &mut || {
        ready += 1
    })
    .unwrap();
    assert_eq!(ready, 1);
}
