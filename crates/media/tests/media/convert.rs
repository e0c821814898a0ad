//! Every source format converted to every output format, checked with ffprobe and ffmpeg.

use std::ops::ControlFlow;
use std::path::Path;

use clef_media::{convert, BitDepth, FormatSettings, Mp3Mode, OutputFormat, Settings, TrackTags};
use lofty::prelude::*;
use lofty::tag::{ItemKey, TagType};

use crate::common::{self, Source};

const CHANNELS: usize = 2;

fn targets() -> Vec<(FormatSettings, &'static str)> {
    let depth = BitDepth::SameAsSource;
    vec![
        (FormatSettings::Wav { depth }, "wav"),
        (FormatSettings::Aiff { depth }, "aiff"),
        (FormatSettings::Flac { depth, level: 5 }, "flac"),
        (FormatSettings::Mp3(Mp3Mode::Cbr(320)), "mp3"),
        (FormatSettings::Aac { kbps: 256 }, "aac.m4a"),
        (FormatSettings::Alac { depth }, "alac.m4a"),
    ]
}

fn expected_codec(format: OutputFormat, bits: u32) -> String {
    match format {
        OutputFormat::Wav => format!("pcm_s{bits}le"),
        OutputFormat::Aiff => format!("pcm_s{bits}be"),
        OutputFormat::Flac => "flac".into(),
        OutputFormat::Mp3 => "mp3".into(),
        OutputFormat::Aac => "aac".into(),
        OutputFormat::Alac => "alac".into(),
        _ => unreachable!(),
    }
}

/// Converts one source to every target and checks each output.
fn check_source(source: &Source, dir: &Path) {
    let tags = common::full_tags(dir);
    let is_aac = source.path.extension().unwrap() == "m4a" && !source.lossless;
    // ffmpeg 5.1 takes AAC's priming off but keeps the padding of its last packet, so for AAC
    // the reference is the length generated: exactly SECONDS.
    let source_frames = if is_aac {
        (common::SECONDS * f64::from(source.rate)) as usize
    } else {
        common::frames(&source.path, CHANNELS)
    };
    for (format, ext) in targets() {
        let dest = dir.join(format!("out-{}.{ext}", file_stem(&source.path)));
        let mut reports = 0u64;
        let mut last = 0u64;
        let written = convert(
            &source.path,
            &dest,
            &Settings::new(format),
            &tags,
            &mut |p| {
                assert!(p.frames_done > last, "progress moves forward");
                last = p.frames_done;
                reports += 1;
                ControlFlow::Continue(())
            },
        )
        .unwrap_or_else(|e| panic!("{} → {ext}: {e}", source.path.display()));
        assert_eq!(written, dest);
        let what = format!("{} → {ext}", source.path.display());
        let source_ext = source.path.extension().unwrap().to_str().unwrap();
        // FLAC → FLAC at the same depth, MP3 192k → MP3 320 (no better by encoding again).
        let copied = ext == source_ext && (ext == "flac" || ext == "mp3");
        if copied {
            // FLAC to FLAC at the same depth copies the audio frames as they are.
            assert_eq!(reports, 1, "{what}: one report for a copy");
            let (src, out) = (
                std::fs::read(&source.path).unwrap(),
                std::fs::read(&dest).unwrap(),
            );
            let audio = src.len() / 2;
            assert_eq!(
                src[src.len() - audio..],
                out[out.len() - audio..],
                "{what}: frames copied"
            );
        } else if ext != source_ext {
            assert!(reports > 1, "progress is reported per block, not once");
        }
        // WAV → WAV and AIFF → AIFF copy the samples (reported per MiB): see pcm_copy.rs.
        check_stream(&dest, format.format(), source, source_frames, &what);
        check_tags(&dest, format.format(), &tags, &what);
        assert!(
            common::leftovers(dir).is_empty(),
            "{what}: temporary file left behind"
        );
        let mode = common::fresh_file_mode(dir);
        assert_eq!(
            common::mode(&dest),
            mode,
            "{what}: an ordinary file mode, not 0600"
        );
    }
}

fn file_stem(path: &Path) -> String {
    path.file_name()
        .unwrap()
        .to_string_lossy()
        .replace('.', "-")
}

fn check_stream(
    dest: &Path,
    format: OutputFormat,
    source: &Source,
    source_frames: usize,
    what: &str,
) {
    let probe = common::probe(dest);
    let stream = common::stream(&probe);
    let out_rate = match format {
        OutputFormat::Mp3 => clef_media::mp3_output_rate(source.rate),
        OutputFormat::Aac => clef_media::aac_output_rate(source.rate),
        _ => source.rate,
    };
    assert_eq!(
        stream["codec_name"],
        expected_codec(format, source.bits),
        "{what}"
    );
    assert_eq!(stream["sample_rate"], out_rate.to_string(), "{what}");
    assert_eq!(stream["channels"], CHANNELS, "{what}");
    let duration: f64 = probe["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (duration - common::SECONDS).abs() < 0.1,
        "{what}: duration {duration}"
    );

    let out_frames = common::frames(dest, CHANNELS);
    // Our own decoder reads what we wrote, to the same length as ffmpeg (for MP3 that means
    // Symphonia honours the LAME frame too), in blocks of a packet, never the whole track.
    let mut reread = clef_media::open(dest).unwrap_or_else(|e| panic!("{what}: reread: {e}"));
    let mut reread_frames = 0;
    while let Some(block) = reread.next_block().unwrap() {
        assert!(
            block.frames() <= 1 << 16,
            "{what}: a block of {} frames",
            block.frames()
        );
        reread_frames += block.frames();
    }
    if format == OutputFormat::Aac {
        // Our decoder applies the edit list we wrote: exactly the source's frames.
        let expected =
            (source_frames as u64 * u64::from(out_rate)).div_ceil(u64::from(source.rate));
        assert_eq!(
            reread_frames as u64, expected,
            "{what}: frames reread by clef-media"
        );
    } else {
        assert_eq!(
            reread_frames, out_frames,
            "{what}: frames reread by clef-media"
        );
    }
    if format == OutputFormat::Mp3 {
        // ffmpeg trims the encoder delay and padding the LAME frame declares: nothing is lost
        // or added. LAME's own resampler (96 → 48 kHz) may round by a frame.
        let expected = source_frames as u64 * u64::from(out_rate) / u64::from(source.rate);
        let slack = if out_rate == source.rate { 0 } else { 2 };
        let extra = out_frames as i64 - expected as i64;
        assert!(
            (-slack..=slack).contains(&extra),
            "{what}: {out_frames} frames, source has {expected}"
        );
        let head = std::fs::read(dest).unwrap();
        assert!(
            contains(&head[..head.len().min(64 * 1024)], b"LAME"),
            "{what}: no LAME info frame"
        );
    } else if format == OutputFormat::Aac {
        // ffmpeg skips the priming the edit list gives but (in 5.1) decodes the last access
        // unit whole: the source's frames, at 48 kHz at most (our resampler gives ⌈n·out/in⌉
        // frames), and less than one access unit more.
        let expected =
            (source_frames as u64 * u64::from(out_rate)).div_ceil(u64::from(source.rate));
        let extra = out_frames as i64 - expected as i64;
        assert!(
            (0..1024).contains(&extra),
            "{what}: {out_frames} frames, source has {expected}"
        );
        let bytes = std::fs::read(dest).unwrap();
        assert!(contains(&bytes, b"iTunSMPB"), "{what}: no iTunSMPB");
        assert!(contains(&bytes, b"elst"), "{what}: no edit list");
    } else if source.lossless {
        // Bit-exact: the same PCM as the source, sample for sample (ALAC too, at 24 bits from
        // a 24-bit source).
        let original = common::pcm(&source.path, "s32le");
        let converted = common::pcm(dest, "s32le");
        assert_eq!(converted.len(), original.len(), "{what}: sample count");
        assert!(converted == original, "{what}: PCM differs from the source");
    } else {
        // Lossy sources keep their exact length too (AAC its edit list's, MP3 its LAME frame's).
        assert_eq!(out_frames, source_frames, "{what}: frames");
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub(crate) fn check_tags(dest: &Path, format: OutputFormat, tags: &TrackTags, what: &str) {
    let tagged = lofty::read_from_path(dest).unwrap();
    let tag_type = match format {
        OutputFormat::Flac => TagType::VorbisComments,
        OutputFormat::Aac | OutputFormat::Alac => TagType::Mp4Ilst,
        _ => TagType::Id3v2,
    };
    let tag = tagged
        .tag(tag_type)
        .unwrap_or_else(|| panic!("{what}: no {tag_type:?} tag"));
    assert_eq!(tag.title().as_deref(), tags.title.as_deref(), "{what}");
    if tag_type != TagType::VorbisComments {
        let joined = tags.artists.join(clef_media::ID3_ARTIST_SEPARATOR);
        let artists: Vec<&str> = tag.get_strings(ItemKey::TrackArtist).collect();
        assert_eq!(
            artists,
            [joined.as_str()],
            "{what}: one TPE1, artists joined"
        );
        assert_eq!(tag.get_strings(ItemKey::TrackArtists).count(), 0, "{what}");
    } else {
        let artists: Vec<&str> = tag.get_strings(ItemKey::TrackArtist).collect();
        assert_eq!(artists, tags.artists, "{what}: artists");
    }
    assert_eq!(tag.album().as_deref(), tags.album.as_deref(), "{what}");
    assert_eq!(
        tag.get_string(ItemKey::AlbumArtist),
        tags.album_artist.as_deref(),
        "{what}"
    );
    assert_eq!(tag.track(), tags.track, "{what}");
    assert_eq!(tag.track_total(), tags.track_total, "{what}");
    assert_eq!(tag.disk(), tags.disc, "{what}");
    assert_eq!(tag.disk_total(), tags.disc_total, "{what}");
    assert_eq!(
        tag.get_string(ItemKey::RecordingDate),
        tags.date.as_deref(),
        "{what}: date"
    );
    assert_eq!(tag.genre().as_deref(), tags.genre.as_deref(), "{what}");
    assert_eq!(
        tag.get_string(ItemKey::Composer),
        tags.composer.as_deref(),
        "{what}"
    );
    assert_eq!(tag.comment().as_deref(), tags.comment.as_deref(), "{what}");
    assert_eq!(
        tag.get_string(ItemKey::Isrc),
        tags.isrc.as_deref(),
        "{what}"
    );
    let cover = tags.cover.as_ref().unwrap();
    let pictures = tag.pictures();
    assert_eq!(pictures.len(), 1, "{what}: pictures");
    assert_eq!(
        pictures[0].data(),
        cover.data.as_slice(),
        "{what}: cover bytes"
    );
    assert_eq!(
        pictures[0].mime_type().map(|m| m.as_str()),
        Some(cover.mime.as_str()),
        "{what}"
    );
    // MP4's `covr` has no picture type: it is the cover by definition.
    if tag_type != TagType::Mp4Ilst {
        assert_eq!(
            pictures[0].pic_type(),
            lofty::picture::PictureType::CoverFront,
            "{what}"
        );
    }

    // ffmpeg reads the same title, so other players will too.
    let probe = common::probe(dest);
    let title = probe["format"]["tags"]["title"]
        .as_str()
        .or(probe["format"]["tags"]["TITLE"].as_str());
    assert_eq!(
        title,
        tags.title.as_deref(),
        "{what}: title seen by ffprobe"
    );
    if format == OutputFormat::Mp3 {
        let bytes = std::fs::read(dest).unwrap();
        assert_eq!(&bytes[..4], b"ID3\x03", "{what}: ID3v2.3 header");
    }
}

macro_rules! source_test {
    ($name:ident, $index:expr) => {
        #[test]
        fn $name() {
            let dir = tempfile::tempdir().unwrap();
            let source = common::source(dir.path(), $index);
            check_source(&source, dir.path());
        }
    };
}

source_test!(flac_16_bit_44k_to_every_format, 0);
source_test!(wav_16_bit_to_every_format, 1);
source_test!(aiff_16_bit_to_every_format, 2);
source_test!(alac_16_bit_to_every_format, 3);
source_test!(flac_24_bit_96k_to_every_format, 4);
source_test!(wav_24_bit_96k_to_every_format, 5);
source_test!(aiff_24_bit_96k_to_every_format, 6);
source_test!(alac_24_bit_96k_to_every_format, 7);
source_test!(mp3_to_every_format, 8);
source_test!(aac_m4a_to_every_format, 9);
source_test!(ogg_vorbis_to_every_format, 10);

#[test]
fn reducing_24_to_16_bit_is_dithered_and_keeps_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 4);
    let original = common::pcm(&source.path, "s32le");
    let mut previous: Option<Vec<u8>> = None;
    for (format, ext) in [
        (
            FormatSettings::Wav {
                depth: BitDepth::Bits16,
            },
            "wav",
        ),
        (
            FormatSettings::Aiff {
                depth: BitDepth::Bits16,
            },
            "aiff",
        ),
        (
            FormatSettings::Flac {
                depth: BitDepth::Bits16,
                level: 8,
            },
            "flac",
        ),
    ] {
        let dest = dir.path().join(format!("16.{ext}"));
        common::convert_plain(&source.path, &dest, &Settings::new(format)).unwrap();
        let stream = common::probe(&dest)["streams"][0].clone();
        assert_eq!(stream["sample_rate"], "96000");
        let reduced = common::pcm(&dest, "s32le");
        assert_eq!(reduced.len(), original.len(), "{ext}: sample count");
        let mut changed = 0usize;
        for (r, o) in reduced.chunks_exact(4).zip(original.chunks_exact(4)) {
            let r = i32::from_le_bytes(r.try_into().unwrap());
            let o = i32::from_le_bytes(o.try_into().unwrap());
            assert_eq!(r & 0xffff, 0, "{ext}: 16-bit output");
            // One LSB of triangular noise plus rounding: within 1.5 LSB of 16 bits.
            let diff = (i64::from(r) - i64::from(o)).abs();
            assert!(diff <= 3 << 15, "{ext}: error {diff} beyond the dither");
            changed += usize::from((r >> 16) != (o >> 16));
        }
        assert!(
            changed > reduced.len() / 4 / 10,
            "{ext}: dither noise is present"
        );
        // The same seed gives the same output in every container.
        if let Some(previous) = &previous {
            assert!(
                previous == &reduced,
                "{ext}: dither differs between formats"
            );
        }
        previous = Some(reduced);
    }
}

#[test]
fn mp3_vbr_is_gapless_and_tagged_id3v23() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 0);
    let source_frames = common::frames(&source.path, CHANNELS);
    let tags = common::full_tags(dir.path());
    for v in [0, 2, 4] {
        let dest = dir.path().join(format!("v{v}.mp3"));
        let settings = Settings::new(FormatSettings::Mp3(Mp3Mode::Vbr(v)));
        convert(&source.path, &dest, &settings, &tags, &mut |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
        check_stream(
            &dest,
            OutputFormat::Mp3,
            &source,
            source_frames,
            &format!("V{v}"),
        );
        check_tags(&dest, OutputFormat::Mp3, &tags, &format!("V{v}"));
        let head = std::fs::read(&dest).unwrap();
        assert!(
            contains(&head[..head.len().min(64 * 1024)], b"Xing"),
            "V{v}: Xing frame"
        );
    }
}

#[test]
fn mono_sources_convert_to_mono() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::make_source(
        dir.path(),
        "mono.flac",
        44100,
        16,
        &["-ac", "1", "-sample_fmt", "s16"],
    );
    for (format, ext) in targets() {
        let dest = dir.path().join(format!("out-mono.{ext}"));
        common::convert_plain(&source.path, &dest, &Settings::new(format)).unwrap();
        let probe = common::probe(&dest);
        assert_eq!(common::stream(&probe)["channels"], 1, "{ext}");
        let frames = common::frames(&dest, 1);
        if format.format() == OutputFormat::Aac {
            // ffmpeg 5.1 decodes AAC's last access unit whole.
            let extra = frames - common::frames(&source.path, 1);
            assert!(extra < 1024, "{ext}: {extra} frames more");
            continue;
        }
        assert_eq!(frames, common::frames(&source.path, 1), "{ext}: frames");
    }
}

#[test]
fn every_flac_level_is_lossless_and_higher_levels_are_not_larger() {
    let dir = tempfile::tempdir().unwrap();
    // From WAV: a FLAC source at the same depth would be copied, not encoded.
    let source = common::source(dir.path(), 1);
    let original = common::pcm(&source.path, "s32le");
    let mut sizes = Vec::new();
    for level in 0..=8 {
        let dest = dir.path().join(format!("level{level}.flac"));
        let depth = BitDepth::SameAsSource;
        let settings = Settings::new(FormatSettings::Flac { depth, level });
        common::convert_plain(&source.path, &dest, &settings).unwrap();
        assert!(
            common::pcm(&dest, "s32le") == original,
            "level {level} is not lossless"
        );
        sizes.push(std::fs::metadata(&dest).unwrap().len());
    }
    assert!(
        sizes[8] < sizes[0],
        "level 8 ({}) beats level 0 ({})",
        sizes[8],
        sizes[0]
    );
}

#[test]
fn widening_16_to_24_bit_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 1);
    for (format, ext, codec) in [
        (
            FormatSettings::Wav {
                depth: BitDepth::Bits24,
            },
            "wav",
            "pcm_s24le",
        ),
        (
            FormatSettings::Aiff {
                depth: BitDepth::Bits24,
            },
            "aiff",
            "pcm_s24be",
        ),
        (
            FormatSettings::Flac {
                depth: BitDepth::Bits24,
                level: 5,
            },
            "flac",
            "flac",
        ),
    ] {
        let dest = dir.path().join(format!("24.{ext}"));
        common::convert_plain(&source.path, &dest, &Settings::new(format)).unwrap();
        let probe = common::probe(&dest);
        assert_eq!(common::stream(&probe)["codec_name"], codec);
        let bits = &common::stream(&probe)["bits_per_raw_sample"];
        let bits = bits.as_str().filter(|b| *b != "0").map_or_else(
            || common::stream(&probe)["bits_per_sample"].as_u64().unwrap(),
            |b| b.parse().unwrap(),
        );
        assert_eq!(bits, 24, "{ext}");
        assert!(
            common::pcm(&dest, "s32le") == common::pcm(&source.path, "s32le"),
            "{ext}: widening changed the samples"
        );
    }
}

#[test]
fn an_mp3_is_copied_unless_a_lower_bit_rate_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 8); // LAME, 192 kbps
    let tags = common::full_tags(dir.path());
    let audio = |p: &Path| {
        let bytes = std::fs::read(p).unwrap();
        let half = bytes.len() / 2;
        bytes[bytes.len() - half..].to_vec()
    };
    let original = std::fs::read(&source.path).unwrap();
    for (mode, copied) in [
        (Mp3Mode::Cbr(320), true),
        (Mp3Mode::Cbr(192), true),
        (Mp3Mode::Vbr(0), true),
        (Mp3Mode::Cbr(128), false),
        (Mp3Mode::Vbr(4), false),
    ] {
        let dest = dir.path().join(format!("{mode:?}.mp3"));
        let mut reports = 0;
        convert(
            &source.path,
            &dest,
            &Settings::new(FormatSettings::Mp3(mode)),
            &tags,
            &mut |_| {
                reports += 1;
                ControlFlow::Continue(())
            },
        )
        .unwrap();
        let out = audio(&dest);
        let same = original.ends_with(&out);
        assert_eq!(same, copied, "{mode:?}: audio copied");
        assert_eq!(reports == 1, copied, "{mode:?}: {reports} progress reports");
        check_tags(&dest, OutputFormat::Mp3, &tags, &format!("{mode:?}"));
        assert_eq!(
            common::frames(&dest, CHANNELS),
            common::frames(&source.path, CHANNELS),
            "{mode:?}: gapless either way"
        );
    }
}

#[test]
fn an_alac_is_copied_packet_for_packet() {
    let dir = tempfile::tempdir().unwrap();
    let tags = common::full_tags(dir.path());
    // ffmpeg's ALAC at 16 and at 24 bits.
    for (index, pcm) in [(3, "s16le"), (7, "s32le")] {
        let source = common::source(dir.path(), index);
        let what = source.path.display().to_string();
        let original = std::fs::read(&source.path).unwrap();
        let at = original.len() / 2;
        let sample = &original[at..at + 64];
        let dest = dir.path().join(format!("copy-{index}.m4a"));
        let depth = BitDepth::SameAsSource;
        convert(
            &source.path,
            &dest,
            &Settings::new(FormatSettings::Alac { depth }),
            &tags,
            &mut |_| ControlFlow::Continue(()),
        )
        .unwrap();
        let out = std::fs::read(&dest).unwrap();
        assert!(contains(&out, sample), "{what}: the packets are copied");
        assert_eq!(
            common::pcm(&dest, pcm),
            common::pcm(&source.path, pcm),
            "{what}: bit-identical"
        );
        let probe = common::probe(&dest);
        assert_eq!(common::stream(&probe)["codec_name"], "alac", "{what}");
        check_tags(&dest, OutputFormat::Alac, &tags, &what);
        let mut reread = clef_media::open(&dest).unwrap();
        let exact = (common::SECONDS * f64::from(source.rate)) as u64;
        assert_eq!(reread.spec().total_frames, Some(exact), "{what}");
        let mut frames = 0u64;
        while let Some(block) = reread.next_block().unwrap() {
            frames += block.frames() as u64;
        }
        assert_eq!(frames, exact, "{what}");
    }
}

#[test]
fn an_aac_is_copied_unless_a_lower_bit_rate_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::source(dir.path(), 9); // ffmpeg's AAC, 192 kbps, with an edit list
    let tags = common::full_tags(dir.path());
    let original = std::fs::read(&source.path).unwrap();
    // Some bytes from the middle of the source's audio: a copy holds them, an encode does not.
    let at = original.len() / 2;
    let sample = &original[at..at + 64];
    let exact = (common::SECONDS * f64::from(source.rate)) as u64;
    for (kbps, copied) in [(256, true), (192, true), (128, false)] {
        let dest = dir.path().join(format!("{kbps}.m4a"));
        convert(
            &source.path,
            &dest,
            &Settings::new(FormatSettings::Aac { kbps }),
            &tags,
            &mut |_| ControlFlow::Continue(()),
        )
        .unwrap();
        let out = std::fs::read(&dest).unwrap();
        assert_eq!(contains(&out, sample), copied, "{kbps} kbps: audio copied");
        check_tags(&dest, OutputFormat::Aac, &tags, &format!("{kbps} kbps"));
        // Gapless either way: our decoder reads exactly the source's frames.
        let mut reread = clef_media::open(&dest).unwrap();
        assert_eq!(reread.spec().total_frames, Some(exact), "{kbps} kbps");
        let mut frames = 0u64;
        while let Some(block) = reread.next_block().unwrap() {
            frames += block.frames() as u64;
        }
        assert_eq!(frames, exact, "{kbps} kbps: frames");
    }
}
