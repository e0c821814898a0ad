//! Clef's FLAC encoder against three decoders: every case is written through the encoder
//! trait, then read back exactly by Symphonia (which checks the length), checked (CRCs, MD5) and
//! decoded by the reference `flac` tool, decoded by ffmpeg, and described correctly by ffprobe.

use std::path::Path;
use std::process::Command;

use clef_media::{AudioBlock, BitDepth, FormatSettings, OutputSpec};

use crate::common;

/// What a test stream sounds like.
#[derive(Clone, Copy, Debug)]
enum Signal {
    /// Tones and a little noise, different in each channel.
    Music,
    /// Digital silence: every subframe constant.
    Silence,
    /// Full-scale white noise: nothing to predict, so verbatim subframes.
    Noise,
    /// A full-scale square wave, the largest jumps the depth allows.
    Square,
    /// Music whose low 8 bits are zero (a shallower source widened).
    Widened,
    /// Silence, music and noise in turn, so kinds of subframe change from frame to frame.
    Mixed,
}

struct Case {
    rate: u32,
    bits: u32,
    channels: u16,
    level: u8,
    frames: usize,
    signal: Signal,
}

/// A small deterministic generator (xorshift), for noise that is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A uniform sample of `bits` bits.
    fn sample(&mut self, bits: u32) -> i32 {
        (self.next() >> (64 - bits)) as i32 - (1 << (bits - 1))
    }
}

fn samples(case: &Case) -> Vec<i32> {
    let (bits, channels) = (case.bits, usize::from(case.channels));
    let max = (1i32 << (bits - 1)) - 1;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(bits) << 8 ^ channels as u64);
    let music = |rng: &mut Rng, t: usize, c: usize| {
        let t = t as f64 / f64::from(case.rate);
        let tone = 0.45 * (2.0 * std::f64::consts::PI * (220.0 * (c + 1) as f64) * t).sin()
            + 0.2 * (2.0 * std::f64::consts::PI * 3150.0 * t + c as f64).sin();
        let noise = rng.sample(bits) as f64 / f64::from(max) * 0.01;
        ((tone + noise) * f64::from(max)).round() as i32
    };
    let mut out = Vec::with_capacity(case.frames * channels);
    for t in 0..case.frames {
        for c in 0..channels {
            let s = match case.signal {
                Signal::Music => music(&mut rng, t, c),
                Signal::Silence => 0,
                Signal::Noise => rng.sample(bits),
                Signal::Square => {
                    if (t / 7 + c) % 2 == 0 {
                        max
                    } else {
                        -max - 1
                    }
                }
                Signal::Widened => music(&mut rng, t, c) & !0xff,
                Signal::Mixed => match (t / 5000) % 3 {
                    0 => 0,
                    1 => music(&mut rng, t, c),
                    _ => rng.sample(bits),
                },
            };
            out.push(s);
        }
    }
    out
}

/// Encodes `pcm` through the encoder trait, in uneven blocks.
fn encode(path: &Path, case: &Case, pcm: &[i32]) {
    let spec = OutputSpec {
        format: FormatSettings::Flac {
            depth: BitDepth::SameAsSource,
            level: case.level,
        },
        sample_rate: case.rate,
        channels: case.channels,
        bits_per_sample: case.bits,
        total_frames: None,
    };
    let mut encoder = clef_media::clef_flac_encoder(path, &spec).unwrap();
    let step = 1000 * usize::from(case.channels);
    for chunk in pcm.chunks(step) {
        encoder
            .write(&AudioBlock {
                samples: chunk.to_vec(),
                channels: case.channels,
            })
            .unwrap();
    }
    encoder.finish().unwrap();
}

/// Checks one case with every decoder; returns the file's size.
fn check(dir: &Path, case: &Case) -> u64 {
    let what = format!(
        "{:?} {} Hz {}-bit {} ch level {} {} frames",
        case.signal, case.rate, case.bits, case.channels, case.level, case.frames
    );
    let pcm = samples(case);
    let path = dir.join(format!("case-{}.flac", what.replace(' ', "_")));
    encode(&path, case, &pcm);
    let bytes = std::fs::read(&path).unwrap();

    // STREAMINFO: fixed block size (the short last frame excluded), the length, the MD5 set.
    assert_eq!(&bytes[..4], b"fLaC", "{what}");
    let info = &bytes[8..42];
    let block = if case.level <= 2 { 1152 } else { 4096 };
    assert_eq!(
        u16::from_be_bytes([info[0], info[1]]),
        block,
        "{what}: min block"
    );
    assert_eq!(
        u16::from_be_bytes([info[2], info[3]]),
        block,
        "{what}: max block"
    );
    let total = u64::from_be_bytes([
        0,
        0,
        0,
        info[13] & 0x0f,
        info[14],
        info[15],
        info[16],
        info[17],
    ]);
    assert_eq!(total, case.frames as u64, "{what}: total samples");
    assert!(info[18..34].iter().any(|&b| b != 0), "{what}: MD5");

    // Symphonia, with its length check at the end.
    let mut decoder = clef_media::open(&path).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(decoder.spec().bits_per_sample, case.bits, "{what}");
    assert_eq!(decoder.spec().channels, case.channels, "{what}");
    let mut decoded = Vec::with_capacity(pcm.len());
    while let Some(block) = decoder
        .next_block()
        .unwrap_or_else(|e| panic!("{what}: {e}"))
    {
        decoded.extend_from_slice(&block.samples);
    }
    assert!(decoded == pcm, "{what}: Symphonia decodes other samples");

    // The reference decoder: frame CRCs and the MD5, then the PCM itself.
    common::run(Command::new("flac").args(["-t", "-s", "-w"]).arg(&path));
    let raw = dir.join("decoded.raw");
    common::run(
        Command::new("flac")
            .args([
                "-d",
                "-f",
                "-s",
                "--force-raw-format",
                "--endian=little",
                "--sign=signed",
                "-o",
            ])
            .arg(&raw)
            .arg(&path),
    );
    let width = case.bits.div_ceil(8) as usize;
    let expected: Vec<u8> = pcm
        .iter()
        .flat_map(|s| s.to_le_bytes()[..width].to_vec())
        .collect();
    assert!(
        std::fs::read(&raw).unwrap() == expected,
        "{what}: flac -d decodes other samples"
    );

    // ffmpeg's decoder, and what ffprobe reports.
    let left_aligned: Vec<u8> = pcm
        .iter()
        .flat_map(|s| (s << (32 - case.bits)).to_le_bytes())
        .collect();
    assert!(
        common::pcm(&path, "s32le") == left_aligned,
        "{what}: ffmpeg decodes other samples"
    );
    let probe = common::probe(&path);
    let stream = common::stream(&probe);
    assert_eq!(stream["codec_name"], "flac", "{what}");
    assert_eq!(stream["sample_rate"], case.rate.to_string(), "{what}");
    assert_eq!(stream["channels"], case.channels, "{what}");
    assert_eq!(
        stream["bits_per_raw_sample"],
        case.bits.to_string(),
        "{what}"
    );
    assert_eq!(stream["duration_ts"], case.frames, "{what}");
    bytes.len() as u64
}

fn case(rate: u32, bits: u32, channels: u16, level: u8, frames: usize, signal: Signal) -> Case {
    Case {
        rate,
        bits,
        channels,
        level,
        frames,
        signal,
    }
}

/// Three full 4096-sample blocks and a short last one.
const FRAMES: usize = 3 * 4096 + 1000;

#[test]
fn every_level_round_trips_at_16_and_24_bits() {
    let dir = tempfile::tempdir().unwrap();
    for level in 0..=8 {
        check(
            dir.path(),
            &case(44_100, 16, 2, level, FRAMES, Signal::Music),
        );
        check(
            dir.path(),
            &case(96_000, 24, 2, level, FRAMES, Signal::Mixed),
        );
    }
}

#[test]
fn every_channel_count_and_rate_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    for channels in 1..=8 {
        check(
            dir.path(),
            &case(48_000, 16, channels, 5, FRAMES, Signal::Music),
        );
    }
    check(dir.path(), &case(192_000, 24, 8, 8, FRAMES, Signal::Mixed));
    check(dir.path(), &case(44_100, 24, 6, 2, FRAMES, Signal::Music));
    // The rates with codes of their own, and others written out in the frame header.
    for rate in [
        8_000, 11_025, 22_050, 32_000, 37_800, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000,
        384_000,
    ] {
        check(dir.path(), &case(rate, 16, 2, 5, FRAMES, Signal::Music));
    }
}

#[test]
fn odd_lengths_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    for frames in [
        1,
        2,
        3,
        15,
        16,
        17,
        1151,
        1152,
        1153,
        4095,
        4096,
        4097,
        3 * 4096,
    ] {
        check(dir.path(), &case(44_100, 16, 2, 5, frames, Signal::Music));
        check(dir.path(), &case(44_100, 16, 2, 0, frames, Signal::Music));
    }
    check(dir.path(), &case(44_100, 24, 1, 8, 5, Signal::Noise));
}

#[test]
fn silence_noise_and_extremes_round_trip_at_their_expected_sizes() {
    let dir = tempfile::tempdir().unwrap();
    for bits in [8, 16, 24] {
        for level in [0, 5, 8] {
            let frames = FRAMES;
            let raw = (frames * 2 * bits as usize / 8) as u64;
            let block = if level <= 2 { 1152 } else { 4096 };
            // Header and CRCs of each frame (at most 16 bytes here) and a subframe header.
            let overhead = 42 + 18 * frames.div_ceil(block) as u64;
            // Silence: constant subframes, a few bytes a frame.
            let size = check(
                dir.path(),
                &case(44_100, bits, 2, level, frames, Signal::Silence),
            );
            assert!(
                size <= overhead + 6,
                "{bits}-bit silence at level {level}: {size} bytes"
            );
            // White noise: verbatim subframes, hardly more than the raw samples.
            let size = check(
                dir.path(),
                &case(44_100, bits, 2, level, frames, Signal::Noise),
            );
            assert!(
                size <= raw + overhead,
                "{bits}-bit noise at level {level}: {size} of {raw}"
            );
            check(
                dir.path(),
                &case(96_000, bits, 2, level, frames, Signal::Square),
            );
            check(
                dir.path(),
                &case(96_000, bits, 3, level, frames, Signal::Mixed),
            );
        }
    }
    // Zero low bits are left out of the coding: the widened music codes like 16-bit music.
    let widened = check(dir.path(), &case(44_100, 24, 2, 5, FRAMES, Signal::Widened));
    let music = check(dir.path(), &case(44_100, 24, 2, 5, FRAMES, Signal::Music));
    assert!(
        widened * 10 < music * 8,
        "wasted bits: {widened} vs {music}"
    );
}
