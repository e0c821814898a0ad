//! WAV to WAV and AIFF to AIFF with nothing to change: the samples are copied as they are, the
//! source's other chunks stay behind, and the file ends with exactly one ID3 chunk, ours.

use std::ops::ControlFlow;
use std::path::Path;

use clef_media::{convert, BitDepth, FormatSettings, OutputFormat, Settings, TrackTags};

use crate::common;
use crate::convert::check_tags;

/// The chunks of a RIFF/WAVE or FORM/AIFF file: id and body.
fn chunks(path: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let big_endian = &bytes[..4] == b"FORM";
    let mut out = Vec::new();
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let size: [u8; 4] = bytes[at + 4..at + 8].try_into().unwrap();
        let len = if big_endian {
            u32::from_be_bytes(size)
        } else {
            u32::from_le_bytes(size)
        } as usize;
        let id = String::from_utf8_lossy(&bytes[at..at + 4]).into_owned();
        out.push((id, bytes[at + 8..at + 8 + len].to_vec()));
        at += 8 + len + len % 2;
    }
    let outer: [u8; 4] = bytes[4..8].try_into().unwrap();
    let outer = if big_endian {
        u32::from_be_bytes(outer)
    } else {
        u32::from_le_bytes(outer)
    };
    assert_eq!(outer as usize + 8, bytes.len(), "{path:?}: the outer size");
    out
}

fn body<'a>(chunks: &'a [(String, Vec<u8>)], id: &str) -> &'a [u8] {
    &chunks.iter().find(|c| c.0 == id).unwrap().1
}

#[test]
fn wav_and_aiff_are_copied_with_one_id3_chunk_ours() {
    let dir = tempfile::tempdir().unwrap();
    let tags = common::full_tags(dir.path());
    let first = TrackTags {
        title: Some("First export".into()),
        ..TrackTags::default()
    };
    let depth = BitDepth::SameAsSource;
    for (index, settings, format) in [
        (1, FormatSettings::Wav { depth }, OutputFormat::Wav),
        (5, FormatSettings::Wav { depth }, OutputFormat::Wav),
        (2, FormatSettings::Aiff { depth }, OutputFormat::Aiff),
        (6, FormatSettings::Aiff { depth }, OutputFormat::Aiff),
    ] {
        let source = common::source(dir.path(), index);
        let what = source.path.display().to_string();
        let (format_id, data_id, id3) = match format {
            OutputFormat::Wav => ("fmt ", "data", "id3 "),
            _ => ("COMM", "SSND", "ID3 "),
        };
        // ffmpeg's WAV has a LIST chunk too; the first export's ID3 chunk is a second source
        // chunk that must not be carried over.
        let original = chunks(&source.path);
        // Exported once, then the export exported again: each time a copy with our tags only.
        let once = dir
            .path()
            .join(format!("once-{index}.{}", format.extension()));
        let twice = dir
            .path()
            .join(format!("twice-{index}.{}", format.extension()));
        for (from, to, tags) in [(&source.path, &once, &first), (&once, &twice, &tags)] {
            let mut reports = 0;
            convert(from, to, &Settings::new(settings), tags, &mut |p| {
                reports += 1;
                assert!(p.frames_done <= p.total_frames.unwrap(), "{what}: {p:?}");
                ControlFlow::Continue(())
            })
            .unwrap();
            assert!(reports > 0, "{what}: progress is reported");
            let copied = chunks(to);
            let ids: Vec<&str> = copied.iter().map(|c| c.0.as_str()).collect();
            assert_eq!(ids, [format_id, data_id, id3], "{what}");
            assert_eq!(
                body(&copied, format_id),
                body(&original, format_id),
                "{what}"
            );
            assert!(
                body(&copied, data_id) == body(&original, data_id),
                "{what}: the samples are copied byte for byte"
            );
        }
        check_tags(&twice, format, &tags, &what);
        assert_eq!(
            common::pcm(&twice, "s32le"),
            common::pcm(&source.path, "s32le"),
            "{what}: ffmpeg reads the same audio"
        );
    }
}

#[test]
fn a_lower_depth_is_not_a_copy() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 5); // 24-bit WAV
    let dest = dir.path().join("16.wav");
    let settings = Settings::new(FormatSettings::Wav {
        depth: BitDepth::Bits16,
    });
    common::convert_plain(&source.path, &dest, &settings).unwrap();
    let probe = common::probe(&dest);
    assert_eq!(common::stream(&probe)["codec_name"], "pcm_s16le");
}
