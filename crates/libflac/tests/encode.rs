//! The safe API against libFLAC: what it writes, and how it refuses bad input and failing sinks.
//! (Decoding and the MD5 are checked by clef-media's tests, through Symphonia and ffmpeg.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{self, Cursor, Seek, SeekFrom, Write};

use clef_libflac::{EncoderConfig, Error, FlacStreamEncoder};

/// `frames` of a stereo tone with a little ramp, at `bits`.
fn tone(frames: usize, bits: u32) -> Vec<i32> {
    let amplitude = f64::from((1 << (bits - 1)) - 1) * 0.5;
    (0..frames)
        .flat_map(|i| {
            let t = i as f64 / 44_100.0;
            let l = (amplitude * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i32;
            let r = (amplitude * (2.0 * std::f64::consts::PI * 660.0 * t).sin()) as i32;
            [l, r ^ (i as i32 & 3)]
        })
        .collect()
}

/// The metadata blocks of a FLAC stream: (type, content).
fn blocks(flac: &[u8]) -> Vec<(u8, Vec<u8>)> {
    assert_eq!(&flac[..4], b"fLaC");
    let mut at = 4;
    let mut out = Vec::new();
    loop {
        let header = &flac[at..at + 4];
        let len = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
        out.push((header[0] & 0x7f, flac[at + 4..at + 4 + len].to_vec()));
        at += 4 + len;
        if header[0] & 0x80 != 0 {
            return out;
        }
    }
}

struct StreamInfo {
    min_block: u16,
    max_block: u16,
    rate: u32,
    channels: u32,
    bits: u32,
    total: u64,
    md5: [u8; 16],
}

fn stream_info(content: &[u8]) -> StreamInfo {
    let packed = u64::from_be_bytes(content[10..18].try_into().unwrap());
    StreamInfo {
        min_block: u16::from_be_bytes([content[0], content[1]]),
        max_block: u16::from_be_bytes([content[2], content[3]]),
        rate: (packed >> 44) as u32,
        channels: ((packed >> 41) & 0x7) as u32 + 1,
        bits: ((packed >> 36) & 0x1f) as u32 + 1,
        total: packed & 0xf_ffff_ffff,
        md5: content[18..34].try_into().unwrap(),
    }
}

fn encode(config: &EncoderConfig, samples: &[i32]) -> Vec<u8> {
    let mut encoder = FlacStreamEncoder::new(Cursor::new(Vec::new()), config).unwrap();
    // In uneven pieces, as decoders hand them over.
    for piece in samples.chunks(2 * 1000) {
        encoder.process_interleaved(piece).unwrap();
    }
    encoder.finish().unwrap().into_inner()
}

#[test]
fn finish_writes_streaminfo_with_the_length_and_md5_and_a_filled_seek_table() {
    let frames = 25 * 44_100 + 123;
    let config = EncoderConfig {
        total_frames: Some(frames as u64),
        ..EncoderConfig::new(2, 16, 44_100)
    };
    let flac = encode(&config, &tone(frames, 16));
    let blocks = blocks(&flac);
    assert_eq!(blocks[0].0, 0, "STREAMINFO first");
    let info = stream_info(&blocks[0].1);
    assert_eq!((info.rate, info.channels, info.bits), (44_100, 2, 16));
    assert_eq!(info.total, frames as u64);
    assert_eq!(
        (info.min_block, info.max_block),
        (4096, 4096),
        "level 5 blocks"
    );
    assert_ne!(info.md5, [0; 16], "MD5 written at the end");

    let seek = blocks.iter().find(|b| b.0 == 3).expect("a SEEKTABLE");
    let points: Vec<(u64, u64, u16)> = seek
        .1
        .chunks(18)
        .map(|p| {
            (
                u64::from_be_bytes(p[..8].try_into().unwrap()),
                u64::from_be_bytes(p[8..16].try_into().unwrap()),
                u16::from_be_bytes([p[16], p[17]]),
            )
        })
        .collect();
    assert_eq!(points.len(), 3, "a point every 10 s: 0, 10, 20");
    for (i, &(sample, offset, count)) in points.iter().enumerate() {
        assert!(sample <= i as u64 * 441_000, "point {i} at sample {sample}");
        assert!(count > 0, "point {i} filled in");
        if i > 0 {
            assert!(offset > points[i - 1].1, "point {i} moves forward");
        }
    }
    let vendor = blocks.iter().find(|b| b.0 == 4).expect("a VORBIS_COMMENT");
    assert!(
        String::from_utf8_lossy(&vendor.1).contains("libFLAC"),
        "libFLAC's vendor string"
    );
}

#[test]
fn without_a_length_there_is_no_seek_table_but_the_count_is_right() {
    let frames = 10_000;
    let flac = encode(&EncoderConfig::new(1, 24, 96_000), &tone(frames / 2, 24));
    let blocks = blocks(&flac);
    let info = stream_info(&blocks[0].1);
    assert_eq!((info.rate, info.channels, info.bits), (96_000, 1, 24));
    assert_eq!(info.total, frames as u64);
    assert!(blocks.iter().all(|b| b.0 != 3), "no SEEKTABLE");
}

#[test]
fn higher_levels_are_smaller_and_level_zero_uses_short_blocks() {
    let samples = tone(5 * 44_100, 16);
    let size = |level| {
        let config = EncoderConfig {
            level,
            ..EncoderConfig::new(2, 16, 44_100)
        };
        encode(&config, &samples).len()
    };
    let (zero, five, eight) = (size(0), size(5), size(8));
    assert!(eight <= five && five < zero, "{zero} / {five} / {eight}");
    let config = EncoderConfig {
        level: 0,
        ..EncoderConfig::new(2, 16, 44_100)
    };
    let info = stream_info(&blocks(&encode(&config, &samples))[0].1);
    assert_eq!(info.max_block, 1152, "level 0 blocks");
}

#[test]
fn a_sink_that_does_not_start_at_zero_gets_its_header_rewritten_in_place() {
    let mut out = Cursor::new(Vec::new());
    out.write_all(b"prefix").unwrap();
    let frames = 5000;
    let config = EncoderConfig {
        total_frames: Some(frames),
        ..EncoderConfig::new(2, 16, 44_100)
    };
    let mut encoder = FlacStreamEncoder::new(out, &config).unwrap();
    encoder.process_interleaved(&tone(5000, 16)).unwrap();
    let bytes = encoder.finish().unwrap().into_inner();
    assert_eq!(&bytes[..6], b"prefix");
    let info = stream_info(&blocks(&bytes[6..])[0].1);
    assert_eq!(info.total, frames);
    assert_ne!(info.md5, [0; 16]);
}

#[test]
fn create_writes_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tone.flac");
    let mut encoder = FlacStreamEncoder::create(&path, &EncoderConfig::new(2, 16, 48_000)).unwrap();
    encoder.process_interleaved(&tone(4800, 16)).unwrap();
    encoder.finish().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(stream_info(&blocks(&bytes)[0].1).total, 4800);
}

#[test]
fn bad_settings_and_bad_samples_are_refused() {
    let refused = [
        EncoderConfig {
            level: 9,
            ..EncoderConfig::new(2, 16, 44_100)
        },
        EncoderConfig::new(0, 16, 44_100),
        EncoderConfig::new(9, 16, 44_100),
        EncoderConfig::new(2, 3, 44_100),
        EncoderConfig::new(2, 16, 0),
    ];
    for config in refused {
        let err = FlacStreamEncoder::new(Cursor::new(Vec::new()), &config)
            .err()
            .unwrap_or_else(|| panic!("{config:?} accepted"));
        assert!(matches!(err, Error::Setting(_)), "{config:?}: {err}");
    }

    let mut encoder =
        FlacStreamEncoder::new(Cursor::new(Vec::new()), &EncoderConfig::new(2, 16, 44_100))
            .unwrap();
    let err = encoder.process_interleaved(&[1, 2, 3]).unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err}");
    for bad in [32_768, -32_769] {
        let err = encoder.process_interleaved(&[0, bad]).unwrap_err();
        assert!(matches!(err, Error::Input(_)), "{bad}: {err}");
    }
    // Refused input leaves the stream usable.
    encoder.process_interleaved(&[32_767, -32_768]).unwrap();
    let bytes = encoder.finish().unwrap().into_inner();
    assert_eq!(stream_info(&blocks(&bytes)[0].1).total, 1);
}

/// Accepts `room` bytes, then fails or panics.
struct Failing {
    room: usize,
    panics: bool,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() > self.room {
            assert!(!self.panics, "sink panicked");
            return Err(io::Error::other("disk full"));
        }
        self.room -= buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Failing {
    fn seek(&mut self, _: SeekFrom) -> io::Result<u64> {
        Ok(0)
    }
}

#[test]
fn a_failing_sink_is_an_io_error_at_any_stage() {
    let config = EncoderConfig::new(2, 16, 44_100);
    let err = FlacStreamEncoder::new(
        Failing {
            room: 10,
            panics: false,
        },
        &config,
    )
    .err()
    .unwrap();
    assert!(
        matches!(&err, Error::Io(e) if e.to_string() == "disk full"),
        "{err}"
    );

    let sink = Failing {
        room: 4000,
        panics: false,
    };
    let mut encoder = FlacStreamEncoder::new(sink, &config).unwrap();
    let samples = tone(44_100, 16);
    let err = encoder.process_interleaved(&samples).unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err}");
    // Once failed, it stays failed, and dropping it is fine.
    assert!(encoder.process_interleaved(&samples).is_err());
    drop(encoder);

    // A failure while the last block is written shows at finish.
    let sink = Failing {
        room: 200,
        panics: false,
    };
    let mut encoder = FlacStreamEncoder::new(sink, &config).unwrap();
    encoder.process_interleaved(&samples[..2000]).unwrap();
    assert!(matches!(encoder.finish(), Err(Error::Io(_))));
}

#[test]
fn a_panic_in_the_sink_comes_back_as_a_panic_not_an_abort() {
    let sink = Failing {
        room: 4000,
        panics: true,
    };
    let mut encoder = FlacStreamEncoder::new(sink, &EncoderConfig::new(2, 16, 44_100)).unwrap();
    let samples = tone(44_100, 16);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = encoder.process_interleaved(&samples);
    }));
    let message = caught.unwrap_err();
    assert_eq!(message.downcast_ref::<&str>(), Some(&"sink panicked"));
    drop(encoder);
}

#[test]
fn dropping_an_unfinished_encoder_writes_nothing_more() {
    let mut buffer = Vec::new();
    {
        let mut encoder =
            FlacStreamEncoder::new(Cursor::new(&mut buffer), &EncoderConfig::new(2, 16, 44_100))
                .unwrap();
        encoder.process_interleaved(&tone(1000, 16)).unwrap();
    }
    // The header only: the 1000 frames were still in libFLAC's block buffer.
    let info = stream_info(&blocks(&buffer)[0].1);
    assert_eq!(info.total, 0);
}
