//! Crafted hostile files (SECURITY.md F3): huge declared tag sizes, a picture block claiming
//! gigabytes, a zero-channel Opus stream, a runaway MP4 atom and a decompression-bomb cover. The
//! scan must finish, list each unreadable file with a reason, keep memory bounded, and a cover
//! request must fail cleanly. Runs alone in its binary so the process's peak memory is its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use support::{ffmpeg, open_library, require_tool, runtime};

/// Peak resident memory of this process so far, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// CRC-32 of an Ogg page (polynomial 0x04c11db7, no reflection, zero start).
fn ogg_crc(page: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in page {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// An Opus file whose OpusHead says zero channels, with the page CRC made right again so only
/// the channel count is wrong.
fn zero_channel_opus(dir: &Path) -> std::path::PathBuf {
    let good = dir.join("good.opus.tmp");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=duration=1",
            "-c:a",
            "libopus",
            "-f",
            "ogg",
        ]
        .map(str::to_owned)
        .into_iter()
        .chain([good.to_string_lossy().into_owned()])
        .collect::<Vec<_>>(),
    );
    let mut bytes = std::fs::read(&good).unwrap();
    std::fs::remove_file(&good).unwrap();
    let head = bytes.windows(8).position(|w| w == b"OpusHead").unwrap();
    bytes[head + 9] = 0;
    // The first page: header of 27 bytes, the segment table, then its segments.
    let nsegs = bytes[26] as usize;
    let body: usize = bytes[27..27 + nsegs].iter().map(|&b| b as usize).sum();
    let end = 27 + nsegs + body;
    bytes[22..26].fill(0);
    let crc = ogg_crc(&bytes[..end]);
    bytes[22..26].copy_from_slice(&crc.to_le_bytes());
    let out = dir.join("zero-channels.opus");
    std::fs::write(&out, bytes).unwrap();
    out
}

fn flac_with_giant_picture(dir: &Path) {
    let good = dir.join("good.flac.tmp");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=duration=1",
            "-c:a",
            "flac",
            "-f",
            "flac",
        ]
        .map(str::to_owned)
        .into_iter()
        .chain([good.to_string_lossy().into_owned()])
        .collect::<Vec<_>>(),
    );
    let bytes = std::fs::read(&good).unwrap();
    std::fs::remove_file(&good).unwrap();
    // After "fLaC" and the 38-byte STREAMINFO block, insert a PICTURE block (type 6) whose MIME
    // and data lengths claim gigabytes inside a 16 MiB block that the file does not have.
    let mut out = bytes[..42].to_vec();
    out[4] &= 0x7f; // STREAMINFO is no longer the last block
    out.extend_from_slice(&[6, 0xff, 0xff, 0xff]);
    out.extend_from_slice(&3u32.to_be_bytes()); // front cover
    out.extend_from_slice(&0x7fff_fff0u32.to_be_bytes()); // MIME type length
    out.extend_from_slice(b"image/png");
    out.extend_from_slice(&[0u8; 64]);
    out.extend_from_slice(&bytes[42..]);
    std::fs::write(dir.join("giant-picture.flac"), out).unwrap();
}

#[test]
fn hostile_files_are_reported_without_crashing_or_exhausting_memory() {
    require_tool("ffmpeg");
    let music = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let m = music.path();

    // ID3v2.4 declaring a 256 MiB tag, and a frame inside declaring 256 MiB more.
    let mut id3 = b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f".to_vec();
    id3.extend_from_slice(b"TIT2\x7f\x7f\x7f\x7f\x00\x00\x03Title");
    id3.extend_from_slice(&[0xff, 0xfb, 0x90, 0x64]);
    id3.extend_from_slice(&[0u8; 400]);
    std::fs::write(m.join("huge-tag.mp3"), id3).unwrap();
    flac_with_giant_picture(m);
    zero_channel_opus(m);
    // An MP4 whose second atom claims 4 GiB.
    let mut mp4 = Vec::new();
    mp4.extend_from_slice(&20u32.to_be_bytes());
    mp4.extend_from_slice(b"ftypM4A \x00\x00\x02\x00M4A ");
    mp4.extend_from_slice(&0xffff_fff0u32.to_be_bytes());
    mp4.extend_from_slice(b"moov");
    mp4.extend_from_slice(&[0u8; 256]);
    std::fs::write(m.join("runaway-atom.m4a"), mp4).unwrap();
    // A good file whose folder cover is a PNG declaring 100,000 × 100,000 pixels.
    std::fs::create_dir(m.join("album")).unwrap();
    ffmpeg(
        &["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "pcm_s16le"]
            .map(str::to_owned)
            .into_iter()
            .chain([m.join("album/good.wav").to_string_lossy().into_owned()])
            .collect::<Vec<_>>(),
    );
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    png.extend_from_slice(&100_000u32.to_be_bytes());
    png.extend_from_slice(&100_000u32.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    std::fs::write(m.join("album/cover.png"), png).unwrap();

    let before = peak_rss_kib();
    let rt = runtime();
    rt.block_on(async {
        let lib = open_library(m, work.path()).await;
        let report = lib.scan().await.unwrap();
        let problems = lib.problems().await.unwrap();
        let catalog = lib.catalog();
        let in_catalog: Vec<String> = catalog
            .records()
            .map(|r| {
                Path::new(&r.path)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        let reported: Vec<String> = problems
            .iter()
            .map(|p| {
                Path::new(&p.path)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        println!("catalog: {in_catalog:?}\nproblems: {problems:#?}\nreport: {report:?}");
        for name in [
            "huge-tag.mp3",
            "giant-picture.flac",
            "zero-channels.opus",
            "runaway-atom.m4a",
            "good.wav",
        ] {
            assert!(
                in_catalog.contains(&name.to_owned()) ^ reported.contains(&name.to_owned()),
                "{name} must be either in the library or listed as unreadable, exactly once"
            );
        }
        assert!(in_catalog.contains(&"good.wav".to_owned()));
        assert!(
            reported.contains(&"zero-channels.opus".to_owned()),
            "a stream without channels is not playable"
        );
        assert!(problems.iter().all(|p| !p.reason.is_empty()));
        // The bomb cover is refused, not decoded.
        let good = catalog
            .records()
            .find(|r| r.path.ends_with("good.wav"))
            .unwrap()
            .id
            .clone();
        assert!(lib.track_cover(&good, Some(128)).await.is_err());
        let original = lib.track_cover(&good, None).await.unwrap();
        assert!(
            original.bytes.len() < 100,
            "the original is sent as it is, without decoding"
        );
    });
    let grown_mib = (peak_rss_kib().saturating_sub(before)) / 1024;
    println!("peak memory grew by {grown_mib} MiB");
    assert!(
        grown_mib < 128,
        "parsing hostile files raised peak memory by {grown_mib} MiB"
    );
}
