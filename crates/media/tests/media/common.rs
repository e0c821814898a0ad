//! Helpers: make sources with the ffmpeg CLI, inspect outputs with ffprobe and decode them.

use std::path::{Path, PathBuf};
use std::process::Command;

use clef_media::{Cover, TrackTags};
use serde_json::Value;

/// A source file the tests convert, with what it should decode to.
pub struct Source {
    pub path: PathBuf,
    pub rate: u32,
    pub bits: u32,
    pub lossless: bool,
}

/// Test signals: a different tone in each channel plus a little noise, so channel swaps,
/// dropped samples and depth changes all show.
const SIGNAL: &str = "0.5*sin(2*PI*440*t)+0.01*random(0)|0.3*sin(2*PI*660*t)-0.01*random(1)";
pub const SECONDS: f64 = 3.0;

pub fn run(command: &mut Command) -> Vec<u8> {
    let output = command.output().expect("run ffmpeg/ffprobe");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Makes `name` in `dir` from the test signal at `rate`, encoded with `codec_args`.
pub fn make_source(dir: &Path, name: &str, rate: u32, bits: u32, codec_args: &[&str]) -> Source {
    make_source_of(dir, name, rate, bits, codec_args, SECONDS)
}

/// [`make_source`], `seconds` long.
pub fn make_source_of(
    dir: &Path,
    name: &str,
    rate: u32,
    bits: u32,
    codec_args: &[&str],
    seconds: f64,
) -> Source {
    let path = dir.join(name);
    let lavfi = format!("aevalsrc={SIGNAL}:s={rate}:d={seconds}");
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", &lavfi])
        .args(codec_args)
        .arg(&path));
    let lossless = !codec_args
        .iter()
        .any(|a| ["libmp3lame", "aac", "libvorbis"].contains(a));
    Source {
        path,
        rate,
        bits,
        lossless,
    }
}

type SourceSpec = (&'static str, u32, u32, &'static [&'static str]);

/// The sources of the matrix: every container and codec the decoder promises.
fn source_specs() -> Vec<SourceSpec> {
    vec![
        ("s16.flac", 44100, 16, &["-sample_fmt", "s16"]),
        ("s16.wav", 44100, 16, &["-c:a", "pcm_s16le"]),
        ("s16.aiff", 44100, 16, &["-c:a", "pcm_s16be"]),
        (
            "s16.m4a",
            44100,
            16,
            &["-c:a", "alac", "-sample_fmt", "s16p"],
        ),
        (
            "s24.flac",
            96000,
            24,
            &["-sample_fmt", "s32", "-bits_per_raw_sample", "24"],
        ),
        ("s24.wav", 96000, 24, &["-c:a", "pcm_s24le"]),
        ("s24.aiff", 96000, 24, &["-c:a", "pcm_s24be"]),
        (
            "s24-alac.m4a",
            96000,
            24,
            &["-c:a", "alac", "-sample_fmt", "s32p"],
        ),
        // Lossy sources decode to floats, rounded to 24 bits.
        (
            "lame.mp3",
            44100,
            24,
            &["-c:a", "libmp3lame", "-b:a", "192k"],
        ),
        ("aac.m4a", 44100, 24, &["-c:a", "aac", "-b:a", "192k"]),
        ("vorbis.ogg", 44100, 24, &["-c:a", "libvorbis", "-q:a", "5"]),
    ]
}

/// ffprobe's JSON for a file.
pub fn probe(path: &Path) -> Value {
    let out = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(path));
    serde_json::from_slice(&out).unwrap()
}

/// The first stream of a probe.
pub fn stream(probe: &Value) -> &Value {
    &probe["streams"][0]
}

/// Decodes a file with ffmpeg to interleaved little-endian PCM in `format` (s16le, s32le).
pub fn pcm(path: &Path, format: &str) -> Vec<u8> {
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:a:0", "-f", format, "-"]))
}

/// Frames decoded by ffmpeg (which trims MP3 delay and padding from the LAME frame).
pub fn frames(path: &Path, channels: usize) -> usize {
    pcm(path, "s16le").len() / 2 / channels
}

/// A small PNG for the cover.
pub fn cover(dir: &Path) -> Cover {
    let path = dir.join("cover.png");
    run(Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=16x16",
        ])
        .args(["-frames:v", "1"])
        .arg(&path));
    Cover {
        data: std::fs::read(path).unwrap(),
        mime: "image/png".into(),
    }
}

/// Tags with every field set, including two artists.
pub fn full_tags(dir: &Path) -> TrackTags {
    TrackTags {
        title: Some("Für Elise (Live)".into()),
        artists: vec!["Ada Artist".into(), "Bo Guest".into()],
        album: Some("The Album".into()),
        album_artist: Some("Ada Artist".into()),
        track: Some(3),
        track_total: Some(12),
        disc: Some(1),
        disc_total: Some(2),
        date: Some("2021-05-04".into()),
        genre: Some("Jazz".into()),
        composer: Some("Ludwig van Beethoven".into()),
        comment: Some("exported by tests".into()),
        isrc: Some("USRC17607839".into()),
        cover: Some(cover(dir)),
    }
}

/// Files in `dir` whose name contains `part`: leftovers of a failed conversion.
pub fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".part."))
        .collect()
}

/// Only the `index`th source of the matrix, so each test makes just what it converts.
pub fn source(dir: &Path, index: usize) -> Source {
    let spec = source_specs().swap_remove(index);
    make_source(dir, spec.0, spec.1, spec.2, spec.3)
}

/// The permission bits of a file (0 off Unix).
pub fn mode(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        0
    }
}

/// The mode an ordinary new file gets in `dir` under the current umask.
pub fn fresh_file_mode(dir: &Path) -> u32 {
    let probe = dir.join("fresh-file-mode");
    std::fs::write(&probe, b"").unwrap();
    let mode = mode(&probe);
    std::fs::remove_file(probe).unwrap();
    mode
}

/// Converts with no tags and no progress to follow.
pub fn convert_plain(
    source: &Path,
    dest: &Path,
    settings: &clef_media::Settings,
) -> Result<PathBuf, clef_media::MediaError> {
    clef_media::convert(source, dest, settings, &TrackTags::default(), &mut |_| {
        std::ops::ControlFlow::Continue(())
    })
}
