//! Opus sources (decoded by opus-pure): every frame the encoder was given comes back, no more,
//! and the audio matches ffmpeg's libopus decoding.

use std::ops::ControlFlow;
use std::process::Command;

use clef_media::{convert, BitDepth, FormatSettings, Mp3Mode, Settings, TrackTags};

use crate::common;

#[test]
fn opus_converts_with_its_pre_skip_and_end_trim_applied() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("in.opus");
    // 2.5 s: not a whole number of 20 ms packets, so the end-trim matters too.
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg("aevalsrc=0.5*sin(2*PI*440*t)|0.3*sin(2*PI*660*t):s=48000:d=2.5")
        .args(["-c:a", "libopus", "-b:a", "128k"])
        .arg(&source)
        .status()
        .unwrap();
    assert!(made.success());
    let wav = dir.path().join("out.wav");
    let settings = Settings::new(FormatSettings::Wav {
        depth: BitDepth::Bits24,
    });
    convert(&source, &wav, &settings, &TrackTags::default(), &mut |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    let ours = common::pcm(&wav, "s32le");
    let theirs = common::pcm(&source, "s32le");
    assert_eq!(ours.len(), 120_000 * 2 * 4, "2.5 s at 48 kHz, stereo");
    assert_eq!(
        ours.len(),
        theirs.len(),
        "the same length as ffmpeg decodes"
    );
    // Two decoders of the same stream agree to within a little rounding.
    let worst = ours
        .chunks_exact(4)
        .zip(theirs.chunks_exact(4))
        .map(|(a, b)| {
            let (a, b) = (
                i32::from_le_bytes(a.try_into().unwrap()),
                i32::from_le_bytes(b.try_into().unwrap()),
            );
            (i64::from(a) - i64::from(b)).abs()
        })
        .max()
        .unwrap();
    assert!(worst < 1 << 20, "largest difference {worst} of 2^31");
    let mp3 = dir.path().join("out.mp3");
    common::convert_plain(
        &source,
        &mp3,
        &Settings::new(FormatSettings::Mp3(Mp3Mode::Cbr(192))),
    )
    .unwrap();
    assert_eq!(common::frames(&mp3, 2), 120_000, "gapless MP3 from Opus");
}
