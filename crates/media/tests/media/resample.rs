//! Resampled lossless exports: the asked rate, exactly ⌈n × out / in⌉ frames, the tone where it
//! was, at the level it had.

use std::path::Path;

use clef_media::{BitDepth, FormatSettings, SampleRate, Settings};

use crate::common;

/// Frames, frequency (from zero crossings), RMS level, and the largest distance from the ideal
/// tone `0.5 sin(2π 1000 t)` (which a shifted output would not keep), of channel 0.
fn analyse(path: &Path, rate: f64) -> (usize, f64, f64, f64) {
    let pcm = common::pcm(path, "s32le");
    let left: Vec<f64> = pcm
        .chunks_exact(8)
        .map(|f| f64::from(i32::from_le_bytes(f[..4].try_into().unwrap())) / 2f64.powi(31))
        .collect();
    // Away from the edges, where a resampler's filter settles.
    let mid = &left[left.len() / 10..left.len() * 9 / 10];
    let crossings = mid.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
    let rms = (mid.iter().map(|x| x * x).sum::<f64>() / mid.len() as f64).sqrt();
    let first = left.len() / 10;
    let off = mid
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let t = (first + i) as f64 / rate;
            (x - 0.5 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()).abs()
        })
        .fold(0.0, f64::max);
    (
        left.len(),
        crossings as f64 * rate / mid.len() as f64,
        rms,
        off,
    )
}

#[test]
fn lossless_exports_resample_to_the_asked_rate_with_the_exact_length() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("tone.flac");
    // 2.3 s of 1 kHz at 44.1 kHz, 24 bits: 101,430 frames.
    let made = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg("aevalsrc=0.5*sin(2*PI*1000*t)|0.5*sin(2*PI*1000*t):s=44100:d=2.3")
        .args(["-sample_fmt", "s32", "-bits_per_raw_sample", "24"])
        .arg(&source)
        .status()
        .unwrap();
    assert!(made.success());
    let (n, f_in, rms_in, _) = analyse(&source, 44_100.0);
    assert_eq!(n, 101_430);
    for (rate, format, ext) in [
        (
            48_000u32,
            FormatSettings::Wav {
                depth: BitDepth::Bits24,
            },
            "wav",
        ),
        (
            96_000,
            FormatSettings::Flac {
                depth: BitDepth::SameAsSource,
                level: 5,
            },
            "flac",
        ),
        (
            44_100,
            FormatSettings::Aiff {
                depth: BitDepth::Bits16,
            },
            "aiff",
        ),
    ] {
        let dest = dir.path().join(format!("out{rate}.{ext}"));
        let settings = Settings {
            sample_rate: SampleRate::Hz(rate),
            ..Settings::new(format)
        };
        common::convert_plain(&source, &dest, &settings).unwrap();
        let probe = common::probe(&dest);
        assert_eq!(
            common::stream(&probe)["sample_rate"],
            rate.to_string(),
            "{dest:?}"
        );
        let (frames, f, rms, off) = analyse(&dest, f64::from(rate));
        // One sample of shift at 48 kHz would put the tone 0.065 off.
        assert!(
            off < 0.005,
            "{rate} Hz: {off} from the ideal tone: shifted or distorted"
        );
        let want = (101_430u64 * u64::from(rate)).div_ceil(44_100) as usize;
        assert_eq!(frames, want, "{rate} Hz: every frame, no more");
        assert!(
            (f - f_in).abs() < 2.0,
            "{rate} Hz: {f} Hz, source {f_in} Hz"
        );
        assert!(
            (rms / rms_in - 1.0).abs() < 0.01,
            "{rate} Hz: level {rms} vs {rms_in}"
        );
    }
}
