//! Our ALAC encoder on generated PCM: every depth, channel count and packet shape decodes to
//! exactly the samples written, through Symphonia (our decoder) and through ffmpeg.

use std::path::Path;

use clef_media::{AudioBlock, BitDepth, EncoderRegistry, FormatSettings, OutputSpec};
use serde_json::Value;

use crate::common;

const RATE: u32 = 48_000;
/// Frames per ALAC packet.
const PACKET: usize = 4096;

/// A deterministic generator (xorshift) for noise.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as i64
    }

    /// Uniform in the full signed range of `bits`.
    fn full_scale(&mut self, bits: u32) -> i32 {
        (self.next() % (1 << bits) - (1 << (bits - 1))) as i32
    }
}

/// Music-like interleaved samples: a different tone in each channel, a shared component (so
/// stereo mixing pays) and a little noise, at about half scale.
fn tones(frames: usize, channels: usize, bits: u32) -> Vec<i32> {
    let scale = f64::from(1u32 << (bits - 2));
    let mut noise = Noise(0x1234_5678_9abc_def1);
    let mut out = Vec::with_capacity(frames * channels);
    for i in 0..frames {
        let t = i as f64 / f64::from(RATE);
        let shared = (2.0 * std::f64::consts::PI * 220.0 * t).sin();
        for c in 0..channels {
            let own = (2.0 * std::f64::consts::PI * (330.0 + 110.0 * c as f64) * t).sin();
            let dither = (noise.next() % 64) as f64 / 64.0 - 0.5;
            out.push(((0.6 * shared + 0.3 * own) * scale + dither * scale / 256.0) as i32);
        }
    }
    out
}

fn white_noise(frames: usize, channels: usize, bits: u32) -> Vec<i32> {
    let mut noise = Noise(0x0bad_5eed_dead_beef);
    (0..frames * channels)
        .map(|_| noise.full_scale(bits))
        .collect()
}

/// Encodes `samples` to `path` through the registry, in uneven blocks.
fn encode(path: &Path, samples: &[i32], channels: u16, bits: u32) {
    let depth = if bits == 16 {
        BitDepth::Bits16
    } else {
        BitDepth::Bits24
    };
    let spec = OutputSpec {
        format: FormatSettings::Alac { depth },
        sample_rate: RATE,
        channels,
        bits_per_sample: bits,
        total_frames: None,
    };
    let mut encoder = EncoderRegistry::default().create(path, &spec).unwrap();
    let step = 3001 * usize::from(channels);
    for chunk in samples.chunks(step) {
        encoder
            .write(&AudioBlock {
                samples: chunk.to_vec(),
                channels,
            })
            .unwrap();
    }
    encoder.finish().unwrap();
}

/// Symphonia's samples, through clef-media's decoder.
fn symphonia(path: &Path) -> (u32, Vec<i32>) {
    let mut decoder = clef_media::open(path).unwrap();
    let bits = decoder.spec().bits_per_sample;
    let mut out = Vec::new();
    while let Some(block) = decoder.next_block().unwrap() {
        out.extend_from_slice(&block.samples);
    }
    (bits, out)
}

/// ffmpeg's samples at `bits` (16 or 24), sign-extended.
fn ffmpeg(path: &Path, bits: u32) -> Vec<i32> {
    if bits == 16 {
        let raw = common::pcm(path, "s16le");
        raw.chunks_exact(2)
            .map(|b| i32::from(i16::from_le_bytes([b[0], b[1]])))
            .collect()
    } else {
        let raw = common::pcm(path, "s24le");
        raw.chunks_exact(3)
            .map(|b| i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8)
            .collect()
    }
}

/// Encodes, then checks ffprobe's view and both decoders; returns the file size.
fn check(name: &str, samples: &[i32], channels: u16, bits: u32) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.m4a"));
    encode(&path, samples, channels, bits);
    let frames = samples.len() / usize::from(channels);
    let probe = common::probe(&path);
    let stream = common::stream(&probe);
    let what = format!("{name} ({channels} ch, {bits} bits, {frames} frames)");
    assert_eq!(stream["codec_name"], "alac", "{what}");
    assert_eq!(stream["sample_rate"], RATE.to_string(), "{what}");
    assert_eq!(stream["channels"], channels, "{what}");
    assert_eq!(stream["bits_per_raw_sample"], bits.to_string(), "{what}");
    let fmt = if bits == 16 { "s16p" } else { "s32p" };
    assert_eq!(stream["sample_fmt"], fmt, "{what}");
    let duration: f64 = as_f64(&stream["duration"]);
    let expected = frames as f64 / f64::from(RATE);
    assert!((duration - expected).abs() < 1e-3, "{what}: {duration} s");

    let (decoded_bits, ours) = symphonia(&path);
    assert_eq!(decoded_bits, bits, "{what}: depth through Symphonia");
    assert_eq!(
        ours.len(),
        samples.len(),
        "{what}: length through Symphonia"
    );
    assert!(ours == samples, "{what}: Symphonia decodes other samples");

    let theirs = ffmpeg(&path, bits);
    assert_eq!(theirs.len(), samples.len(), "{what}: length through ffmpeg");
    if channels <= 6 {
        assert!(theirs == samples, "{what}: ffmpeg decodes other samples");
    } else {
        // For 7 and 8 channels ffmpeg names Apple's layouts differently from Symphonia and
        // orders the channels its own way: the same channels, each exact, permuted.
        let plane = |v: &[i32], c: usize| -> Vec<i32> {
            v.iter()
                .skip(c)
                .step_by(usize::from(channels))
                .copied()
                .collect()
        };
        let mut want: Vec<Vec<i32>> = (0..channels.into()).map(|c| plane(samples, c)).collect();
        let mut got: Vec<Vec<i32>> = (0..channels.into()).map(|c| plane(&theirs, c)).collect();
        want.sort();
        got.sort();
        assert!(got == want, "{what}: ffmpeg decodes other channels");
    }
    std::fs::metadata(&path).unwrap().len()
}

fn as_f64(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn mono_and_stereo_at_16_and_24_bits_decode_exactly() {
    // Two whole packets and a one-frame partial packet.
    let frames = 2 * PACKET + 1;
    for bits in [16, 24] {
        for channels in [1u16, 2] {
            let samples = tones(frames, channels.into(), bits);
            let size = check("tones", &samples, channels, bits);
            let raw = (samples.len() * bits as usize / 8) as u64;
            assert!(
                size < raw * 3 / 4,
                "{channels} ch {bits} bits: {size} of {raw} bytes"
            );
        }
    }
}

#[test]
fn more_channels_go_into_apple_element_order() {
    for channels in [3u16, 4, 5, 6, 7, 8] {
        let samples = tones(PACKET + 777, channels.into(), 16);
        check("surround", &samples, channels, 16);
    }
    let samples = tones(PACKET / 2, 6, 24);
    check("surround", &samples, 6, 24);
}

#[test]
fn full_scale_white_noise_is_stored_uncompressed() {
    for bits in [16, 24] {
        for channels in [1u16, 2] {
            let samples = white_noise(PACKET + 100, channels.into(), bits);
            let size = check("noise", &samples, channels, bits);
            // Prediction cannot help: the packets hold the samples as they are, and nothing
            // comes out larger than that (plus headers and the index).
            let raw = (samples.len() * bits as usize / 8) as u64;
            assert!(
                size > raw && size < raw + 2048,
                "{channels} ch {bits} bits: {size} of {raw}"
            );
        }
    }
}

#[test]
fn silence_and_short_files_decode_exactly() {
    for bits in [16, 24] {
        let silence = vec![0; 3 * PACKET * 2];
        let size = check("silence", &silence, 2, bits);
        assert!(size < 2048, "silence takes {size} bytes");
        // Shorter than one packet, and shorter than the predictor's order.
        check("short", &tones(1000, 2, bits), 2, bits);
        check("tiny", &tones(5, 1, bits), 1, bits);
        let (lo, hi) = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1);
        check("two frames", &[lo, hi, hi, lo], 2, bits);
        // A single frame: ffmpeg's MP4 reader takes a track whose only sample lasts one frame
        // for raw PCM and reads no packet, so only our decoder checks it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one.m4a");
        encode(&path, &[lo, hi], 2, bits);
        assert_eq!(symphonia(&path), (bits, vec![lo, hi]));
        // Exactly one packet: no partial packet at all.
        check("one packet", &tones(PACKET, 2, bits), 2, bits);
    }
}

#[test]
fn extremes_and_steps_stay_exact() {
    // Alternating full-scale extremes and a square wave with long flat stretches: large
    // residuals, escapes inside Rice coding, zero runs after large values.
    for bits in [16, 24] {
        let (lo, hi) = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1);
        let mut samples = Vec::new();
        for i in 0..PACKET * 2 + 33 {
            let square = if (i / 700) % 2 == 0 { hi } else { lo };
            let alternating = if i % 2 == 0 { hi } else { lo };
            samples.extend([square, if i < PACKET { alternating } else { 0 }]);
        }
        check("extremes", &samples, 2, bits);
    }
}
