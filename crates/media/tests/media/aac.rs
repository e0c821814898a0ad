//! AAC in M4A decodes to exactly the frames the encoder was given: the priming at the start and
//! the padding at the end are taken off, as the edit list (or iTunSMPB) says.

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;

use clef_media::{convert, BitDepth, FormatSettings, MediaError, Settings, TrackTags};
use lofty::config::WriteOptions;
use lofty::mp4::{Atom, AtomData, AtomIdent, Ilst};
use lofty::prelude::TagExt;

use crate::common;

/// AAC's priming as ffmpeg's encoder writes it in the edit list.
const PRIMING: u64 = 1024;

/// A source of `frames` frames at `rate`: a quiet tone and, at `click`, a 16-frame pulse.
struct Clicked {
    wav: PathBuf,
    frames: u64,
    click: u64,
}

fn clicked_wav(dir: &Path, rate: u32, channels: u32, frames: u64, click: u64) -> Clicked {
    let wav = dir.join(format!("clicked-{rate}-{channels}.wav"));
    // Commas inside a filter's arguments are escaped for the filter graph.
    let pulse = format!("0.8*between(n\\,{click}\\,{})", click + 15);
    let one = format!("0.05*sin(2*PI*440*t)+{pulse}");
    let signal = vec![one; channels as usize].join("|");
    common::run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg(format!("aevalsrc={signal}:s={rate}:d=5"))
            .args(["-af", &format!("atrim=end_sample={frames}")])
            .args(["-c:a", "pcm_s16le"])
            .arg(&wav),
    );
    assert_eq!(common::frames(&wav, channels as usize) as u64, frames);
    Clicked { wav, frames, click }
}

/// Encodes the source to AAC in M4A with ffmpeg's encoder and `extra` muxer options.
fn to_m4a(source: &Clicked, name: &str, extra: &[&str]) -> PathBuf {
    let m4a = source.wav.with_file_name(name);
    common::run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i"])
            .arg(&source.wav)
            .args(["-c:a", "aac", "-b:a", "160k"])
            .args(extra)
            .arg(&m4a),
    );
    m4a
}

/// Every frame our decoder gives, as the first channel, with its announced length.
fn decode(path: &Path) -> Result<(Vec<i32>, Option<u64>), MediaError> {
    let mut decoder = clef_media::open(path)?;
    let total = decoder.spec().total_frames;
    let mut first = Vec::new();
    while let Some(block) = decoder.next_block()? {
        assert!(block.frames() <= 1 << 16, "a block of {}", block.frames());
        let channels = usize::from(block.channels);
        first.extend(block.samples.iter().step_by(channels));
    }
    Ok((first, total))
}

/// The frame of the loudest sample: the pulse.
fn peak(samples: &[i32]) -> u64 {
    let (at, _) = samples
        .iter()
        .enumerate()
        .max_by_key(|(_, s)| s.unsigned_abs())
        .unwrap();
    at as u64
}

/// The decoded length is the source's and the pulse lands where it was.
fn check_exact(m4a: &Path, source: &Clicked) {
    let what = m4a.file_name().unwrap().to_string_lossy().into_owned();
    let (samples, total) = decode(m4a).unwrap();
    assert_eq!(total, Some(source.frames), "{what}: announced length");
    assert_eq!(
        samples.len() as u64,
        source.frames,
        "{what}: decoded frames"
    );
    // Untrimmed, the pulse would come a priming (1024 frames) late.
    let found = peak(&samples);
    assert!(
        (source.click.saturating_sub(4)..=source.click + 19).contains(&found),
        "{what}: the pulse at {found}, in the source at {}..{}",
        source.click,
        source.click + 15
    );
}

#[test]
fn aac_in_m4a_decodes_to_the_exact_length_with_its_edit_list() {
    let dir = tempfile::tempdir().unwrap();
    for (rate, channels, frames, click) in [
        (44_100, 2, 44_100 * 3 + 123, 30_011),
        (48_000, 1, 48_000 * 2 + 77, 50_003),
    ] {
        let source = clicked_wav(dir.path(), rate, channels, frames, click);
        // The mono file has its moov first, as for streaming.
        let flags: &[&str] = if channels == 1 {
            &["-movflags", "+faststart"]
        } else {
            &[]
        };
        let m4a = to_m4a(&source, &format!("edit-list-{rate}.m4a"), flags);
        let bytes = std::fs::read(&m4a).unwrap();
        assert!(contains(&bytes, b"elst"), "ffmpeg writes an edit list");
        check_exact(&m4a, &source);
    }
}

/// Writes Apple's gapless tag with lofty: priming, padding and the original length in hex.
fn tag_itunsmpb(m4a: &Path, padding: u64, frames: u64) {
    let smpb = format!(" 00000000 {PRIMING:08X} {padding:08X} {frames:016X} 00000000 00000000");
    let mut ilst = Ilst::new();
    ilst.insert(Atom::new(
        AtomIdent::Freeform {
            mean: Cow::Borrowed("com.apple.iTunes"),
            name: Cow::Borrowed("iTunSMPB"),
        },
        AtomData::UTF8(smpb),
    ));
    ilst.save_to_path(m4a, WriteOptions::default()).unwrap();
}

#[test]
fn aac_in_m4a_without_an_edit_list_is_trimmed_by_itunsmpb() {
    let dir = tempfile::tempdir().unwrap();
    let source = clicked_wav(dir.path(), 44_100, 2, 44_100 * 3 + 123, 30_011);
    let m4a = to_m4a(&source, "no-edit-list.m4a", &["-use_editlist", "0"]);
    assert!(!contains(&std::fs::read(&m4a).unwrap(), b"edts"));
    // Without gapless information every decoded frame stays, the priming first.
    let (untrimmed, _) = decode(&m4a).unwrap();
    let decoded = untrimmed.len() as u64;
    assert_eq!(decoded % 1024, 0, "whole AAC frames");
    let found = peak(&untrimmed);
    assert!(
        found.abs_diff(source.click + PRIMING) <= 16,
        "untrimmed, the pulse at {found} comes a priming late"
    );
    tag_itunsmpb(&m4a, decoded - PRIMING - source.frames, source.frames);
    let bytes = std::fs::read(&m4a).unwrap();
    assert!(contains(&bytes, b"iTunSMPB") && !contains(&bytes, b"edts"));
    check_exact(&m4a, &source);
}

#[test]
fn alac_in_m4a_is_not_trimmed() {
    let dir = tempfile::tempdir().unwrap();
    let source = clicked_wav(dir.path(), 44_100, 2, 44_100 * 3 + 123, 30_011);
    let m4a = source.wav.with_file_name("alac.m4a");
    common::run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i"])
            .arg(&source.wav)
            .args(["-c:a", "alac"])
            .arg(&m4a),
    );
    let (samples, total) = decode(&m4a).unwrap();
    assert_eq!(total, Some(source.frames));
    let original: Vec<i32> = common::pcm(&source.wav, "s16le")
        .chunks_exact(4)
        .map(|frame| i32::from(i16::from_le_bytes([frame[0], frame[1]])))
        .collect();
    assert!(
        samples == original,
        "ALAC decodes bit-exactly, to the frame"
    );
}

#[test]
fn aac_converts_to_a_wav_of_the_source_length() {
    let dir = tempfile::tempdir().unwrap();
    let source = clicked_wav(dir.path(), 48_000, 1, 48_000 * 2 + 77, 50_003);
    let m4a = to_m4a(&source, "in.m4a", &[]);
    let wav = dir.path().join("out.wav");
    let settings = Settings::new(FormatSettings::Wav {
        depth: BitDepth::Bits16,
    });
    convert(&m4a, &wav, &settings, &TrackTags::default(), &mut |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    let probe = common::probe(&wav);
    let stream = common::stream(&probe);
    assert_eq!(stream["duration_ts"], source.frames, "frames in the WAV");
    assert_eq!(common::frames(&wav, 1) as u64, source.frames);
}

#[test]
fn damaged_mp4_boxes_decode_or_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let source = clicked_wav(dir.path(), 44_100, 2, 44_100 + 123, 20_011);
    let m4a = to_m4a(&source, "good.m4a", &[]);
    let good = std::fs::read(&m4a).unwrap();
    let moov = rfind(&good, b"moov").unwrap() - 4;
    let elst = rfind(&good, b"elst").unwrap() - 4;
    assert!(moov < elst, "ffmpeg writes moov after mdat");
    let set = |at: usize, value: u32| {
        let mut bytes = good.clone();
        bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
        bytes
    };
    let damaged: Vec<(&str, Vec<u8>)> = vec![
        (
            "moov cut in half",
            good[..moov + (good.len() - moov) / 2].to_vec(),
        ),
        ("moov cut after its header", good[..moov + 8].to_vec()),
        ("elst larger than its parent", set(elst, 0xFFFF_FFF0)),
        ("elst with a 64-bit size", set(elst, 1)),
        ("elst smaller than a header", set(elst, 3)),
        ("elst announcing 2^32-1 edits", set(elst + 12, u32::MAX)),
        ("moov larger than the file", set(moov, 0x7FFF_FFFF)),
    ];
    for (what, bytes) in damaged {
        let path = dir.path().join("damaged.m4a");
        std::fs::write(&path, bytes).unwrap();
        match decode(&path) {
            Ok((samples, _)) => assert!(!samples.is_empty(), "{what}: decoded nothing"),
            Err(e) => assert!(
                matches!(
                    e,
                    MediaError::UnsupportedSource { .. }
                        | MediaError::CorruptSource { .. }
                        | MediaError::TruncatedSource { .. }
                ),
                "{what}: {e:?}"
            ),
        }
    }
}

#[test]
fn aac_shorter_than_announced_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source = clicked_wav(dir.path(), 44_100, 2, 44_100 + 123, 20_011);
    // A file cut inside its audio (moov first): Symphonia's reader finds the packet missing.
    let m4a = to_m4a(&source, "cut.m4a", &["-movflags", "+faststart"]);
    let bytes = std::fs::read(&m4a).unwrap();
    std::fs::write(&m4a, &bytes[..bytes.len() * 4 / 5]).unwrap();
    let err = decode(&m4a).map(|(s, _)| s.len()).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::CorruptSource { .. } | MediaError::TruncatedSource { .. }
        ),
        "{err:?}"
    );
    // A tag announcing more frames than the stream holds: the length check uses the trim.
    let m4a = to_m4a(&source, "short.m4a", &["-use_editlist", "0"]);
    tag_itunsmpb(&m4a, 0, source.frames + 5000);
    match decode(&m4a) {
        Err(MediaError::TruncatedSource {
            decoded, expected, ..
        }) => {
            assert_eq!(expected, source.frames + 5000);
            // Everything after the priming: the audio and the last packet's padding.
            assert!((source.frames..source.frames + 1024).contains(&decoded));
        }
        other => panic!("{:?}", other.map(|(s, t)| (s.len(), t))),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}
