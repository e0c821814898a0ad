//! The scanner against third-party files: the test data shipped in the mutagen source release
//! (tagged, untagged, odd and deliberately broken files from many taggers). The release is
//! fetched from PyPI with pip during the test, checked against its known SHA-256, and cached
//! under `target/test-data/`, so only the first run needs the network. Nothing is committed.
//!
//! Asserted: the scan finishes (no panic, no hang), every file with an audio extension ends up
//! either in the catalog or among the problems with a reason, some files are problems, and a
//! handful of well-formed files read the same as ffprobe reads them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use clef_library::AUDIO_EXTENSIONS;
use clef_store::TrackRecord;
use sha2::{Digest, Sha256};
use support::{ffprobe, files_under, open_library, require_tool, runtime, Probe};

const MUTAGEN: &str = "mutagen-1.47.0";
/// The SHA-256 of mutagen-1.47.0.tar.gz as published on PyPI.
const MUTAGEN_SHA256: &str = "719fadef0a978c31b4cf3c956261b3c58b6948b32023078a2117b1de09f0fc99";

/// The cargo target folder: `CARGO_TARGET_DIR` when set, else the workspace's `target`.
fn target_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
        Some(d) => workspace.join(d),
        None => workspace.join("target"),
    }
}

fn sha256_file(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// The mutagen test data folder, downloaded and unpacked on first use.
fn mutagen_test_data() -> PathBuf {
    let cache = target_dir().join("test-data").join(MUTAGEN);
    let data = cache.join("tests-data");
    if data.join(".complete").exists() {
        return data;
    }
    std::fs::create_dir_all(&cache).unwrap();
    let tarball = cache.join(format!("{MUTAGEN}.tar.gz"));
    if !tarball.exists() || sha256_file(&tarball) != MUTAGEN_SHA256 {
        let tmp = cache.join(format!("download-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        let started = Instant::now();
        let out = Command::new("python3")
            .args(["-m", "pip", "download", "--no-binary", ":all:", "--no-deps"])
            .args([
                "--disable-pip-version-check",
                "--timeout",
                "20",
                "--retries",
                "2",
            ])
            .arg("mutagen==1.47.0")
            .arg("-d")
            .arg(&tmp)
            .env("PIP_NO_INPUT", "1")
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run `python3 -m pip`: {e}. This test fetches its corpus with pip.")
            });
        let got = tmp.join(format!("{MUTAGEN}.tar.gz"));
        if !out.status.success() || !got.exists() {
            panic!(
                "downloading the mutagen sdist from PyPI failed ({}). This test needs network \
                 access on its first run (no network?); or put {MUTAGEN}.tar.gz \
                 (sha256 {MUTAGEN_SHA256}) at {}.\npip stderr:\n{}",
                out.status,
                tarball.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let sum = sha256_file(&got);
        assert_eq!(
            sum, MUTAGEN_SHA256,
            "the downloaded {MUTAGEN}.tar.gz is not the published release"
        );
        std::fs::rename(&got, &tarball).unwrap();
        let _ = std::fs::remove_dir_all(&tmp);
        println!(
            "downloaded {MUTAGEN}.tar.gz in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let unpack = cache.join(format!("unpack-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&unpack);
    std::fs::create_dir_all(&unpack).unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&unpack)
        .arg(format!("{MUTAGEN}/tests/data"))
        .status()
        .expect("cannot run tar");
    assert!(
        status.success(),
        "tar could not unpack {}",
        tarball.display()
    );
    let unpacked = unpack.join(MUTAGEN).join("tests/data");
    std::fs::write(unpacked.join(".complete"), b"").unwrap();
    // Another test process may have finished first; either copy will do.
    if std::fs::rename(&unpacked, &data).is_err() {
        assert!(
            data.join(".complete").exists(),
            "cannot place {}",
            data.display()
        );
    }
    let _ = std::fs::remove_dir_all(&unpack);
    data
}

fn is_audio(path: &Path) -> bool {
    AUDIO_EXTENSIONS.contains(&support::extension(path).as_str())
}

/// How a known-good file is compared with ffprobe.
struct Known {
    file: &'static str,
    /// Tags ffprobe shows that are not compared, with the reason.
    skip: &'static [(&'static str, &'static str)],
    /// Compare the duration with the decoded length instead of ffprobe's (an estimate there).
    decode_duration: bool,
}

const fn known(file: &'static str) -> Known {
    Known {
        file,
        skip: &[],
        decode_duration: false,
    }
}

/// Well-formed files, at least one per container, picked after looking at the corpus.
const KNOWN_GOOD: &[Known] = &[
    known("silence-44-s.flac"),
    known("variable-block.flac"),
    known("multipage-setup.ogg"),
    Known {
        file: "example.opus",
        skip: &[],
        // ffprobe guesses 12.72 s from the bit rate; decoding gives 11.35 s.
        decode_duration: true,
    },
    known("id3v22-test.mp3"),
    known("silence-44-s-v1.mp3"),
    known("has-tags.m4a"),
    known("alac.m4a"),
    known("nero-chapters.m4b"),
    Known {
        file: "silence-2s-PCM-44100-16-ID3v23.wav",
        // The file holds two artists: "piman, jzig" in RIFF INFO (which ffprobe shows) and
        // "piman / jzig" in its ID3 chunk (which the scanner prefers).
        skip: &[("artist", "RIFF INFO and ID3 disagree")],
        decode_duration: false,
    },
    known("11k-1ch-2s-silence.aif"),
    known("with-id3.aif"),
];

/// The length in ms found by decoding the whole file with ffmpeg.
fn decoded_ms(path: &Path) -> i64 {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let t = err
        .rsplit("time=")
        .next()
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no time in ffmpeg's output for {}", path.display()));
    let parts: Vec<f64> = t.split(':').map(|p| p.parse().unwrap()).collect();
    ((parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]) * 1000.0).round() as i64
}

/// Compares what the scanner read with ffprobe; returns the mismatches.
fn compare(k: &Known, path: &Path, r: &TrackRecord, p: &Probe) -> Vec<String> {
    let mut errs = Vec::new();
    let mut check = |what: &str, scanner: String, probe: String| {
        if scanner != probe {
            errs.push(format!(
                "{}: {what}: scanner {scanner:?}, ffprobe {probe:?}",
                k.file
            ));
        }
    };
    let number = |s: &str| s.trim().parse::<i64>().ok();
    let mut compared = Vec::new();
    for (key, value) in &p.tags {
        if k.skip.iter().any(|(s, _)| s == key) {
            continue;
        }
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        match key.as_str() {
            "title" => check("title", r.title.clone(), value.clone()),
            // ffprobe joins repeated values with ';'.
            "artist" => check("artist", r.artists.join(";"), value.clone()),
            "album" => check("album", r.album.clone(), value.clone()),
            "genre" => check("genre", r.genres.join(";"), value.clone()),
            "composer" => check("composer", opt(&r.composer), value.clone()),
            "comment" => check("comment", opt(&r.comment), value.clone()),
            "date" => check(
                "year",
                format!("{:?}", r.year),
                format!("{:?}", value.get(..4).and_then(number)),
            ),
            "track" => {
                let (n, total) = value.split_once('/').unwrap_or((value, ""));
                check(
                    "track",
                    format!("{:?}", r.track_no),
                    format!("{:?}", number(n)),
                );
                if !total.is_empty() {
                    check(
                        "track total",
                        format!("{:?}", r.track_total),
                        format!("{:?}", number(total)),
                    );
                }
            }
            "disc" => {
                let n = value.split('/').next().unwrap_or_default();
                check(
                    "disc",
                    format!("{:?}", r.disc_no),
                    format!("{:?}", number(n)),
                );
            }
            _ => continue,
        }
        compared.push(key.clone());
    }
    check(
        "sample rate",
        format!("{:?}", r.sample_rate),
        format!("{:?}", p.sample_rate),
    );
    check(
        "channels",
        format!("{:?}", r.channels),
        format!("{:?}", p.channels),
    );
    if matches!(r.codec.as_str(), "flac" | "alac" | "pcm") {
        check(
            "bit depth",
            format!("{:?}", r.bit_depth),
            format!("{:?}", p.bits),
        );
    }
    let (expected, source) = if k.decode_duration {
        (decoded_ms(path), "decoded")
    } else {
        (p.duration_ms.unwrap(), "ffprobe")
    };
    // Lossless, PCM, Vorbis and Opus lengths are exact in both (decoding reports 10 ms
    // steps). MP3 and AAC lengths are estimated differently (frame count or Xing header versus
    // bit rate; encoder delay counted or not), by up to two frames of 1152 samples.
    let sr = r.sample_rate.unwrap_or(44100).max(1);
    let tolerance = match r.codec.as_str() {
        "mp3" | "aac" => 2 * 1152 * 1000 / sr + 2,
        _ if k.decode_duration => 15,
        _ => 5,
    };
    if (r.duration_ms - expected).abs() > tolerance {
        errs.push(format!(
            "{}: duration: scanner {} ms, {source} {expected} ms (±{tolerance})",
            k.file, r.duration_ms
        ));
    }
    compared.sort();
    println!(
        "  {:<38} {} {} ms, {:?} Hz, {:?} ch; tags compared: {}",
        k.file,
        r.codec,
        r.duration_ms,
        r.sample_rate,
        r.channels,
        compared.join(", ")
    );
    errs
}

#[test]
fn mutagen_corpus_scans_without_losing_files() {
    require_tool("ffmpeg");
    require_tool("ffprobe");
    let test_started = Instant::now();
    let corpus = mutagen_test_data();
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    std::fs::create_dir_all(&music).unwrap();
    let music = music.canonicalize().unwrap();
    let mut all = 0;
    for f in files_under(&corpus) {
        let name = f.file_name().unwrap();
        if name == ".complete" {
            continue;
        }
        std::fs::copy(&f, music.join(name)).unwrap();
        all += 1;
    }
    let audio: BTreeSet<String> = files_under(&music)
        .into_iter()
        .filter(|p| is_audio(p))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert!(
        audio.len() >= 40,
        "only {} audio files in the corpus",
        audio.len()
    );

    let rt = runtime();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let lib = rt.block_on(open_library(&music, &work));
    let started = Instant::now();
    let report = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(120), lib.scan()).await })
        .expect("the scan did not finish within 120 s")
        .unwrap();
    let scan_ms = started.elapsed().as_millis();

    let catalog = lib.catalog();
    let problems = rt.block_on(lib.problems()).unwrap();
    let in_catalog: BTreeSet<String> = catalog.records().map(|r| r.path.clone()).collect();
    let in_problems: BTreeSet<String> = problems.iter().map(|p| p.path.clone()).collect();
    println!(
        "mutagen corpus: {all} files, {} with audio extensions: {} in the catalog, {} problems; \
         scan {scan_ms} ms ({report:?})",
        audio.len(),
        in_catalog.len(),
        in_problems.len()
    );
    println!("problems (and whether ffprobe can read the file):");
    for p in &problems {
        let readable = ffprobe(Path::new(&p.path)).is_some_and(|p| p.codec.is_some());
        println!(
            "  {:<38} ffprobe {}: {}",
            Path::new(&p.path).file_name().unwrap().to_string_lossy(),
            if readable { "reads it " } else { "fails too" },
            p.reason
        );
        assert!(!p.reason.trim().is_empty(), "{}: no reason", p.path);
    }

    // Every audio file is accounted for, exactly once.
    let both: Vec<&String> = in_catalog.intersection(&in_problems).collect();
    assert!(both.is_empty(), "in the catalog and a problem: {both:?}");
    let accounted: BTreeSet<String> = in_catalog.union(&in_problems).cloned().collect();
    let lost: Vec<&String> = audio.difference(&accounted).collect();
    assert!(
        lost.is_empty(),
        "audio files neither listed nor reported: {lost:?}"
    );
    let extra: Vec<&String> = accounted.difference(&audio).collect();
    assert!(
        extra.is_empty(),
        "listed files that are not audio files: {extra:?}"
    );
    assert_eq!(report.files, audio.len());
    assert_eq!(report.added, in_catalog.len());
    assert_eq!(report.unreadable, in_problems.len());
    assert!(!problems.is_empty(), "the corpus has broken files");
    assert!(
        in_problems.contains(&music.join("emptyfile.mp3").to_string_lossy().into_owned()),
        "an empty file must be a problem"
    );
    assert!(in_catalog.len() >= 30, "only {} readable", in_catalog.len());

    // Known-good files read as ffprobe reads them.
    println!("known-good files compared with ffprobe:");
    let mut errors = Vec::new();
    for k in KNOWN_GOOD {
        let path = music.join(k.file);
        assert!(path.exists(), "{} is not in the corpus", k.file);
        let key = path.to_string_lossy().into_owned();
        let r = catalog
            .records()
            .find(|r| r.path == key)
            .unwrap_or_else(|| panic!("{} is not in the catalog", k.file));
        let p = ffprobe(&path).unwrap_or_else(|| panic!("ffprobe cannot read {}", k.file));
        errors.extend(compare(k, &path, r, &p));
    }
    assert!(
        errors.is_empty(),
        "the scanner and ffprobe disagree:\n{}",
        errors.join("\n")
    );

    // Covers: every track claiming one gives one (or a clean error), never a crash.
    let mut covers: BTreeMap<&str, usize> = BTreeMap::new();
    for r in catalog.records().filter(|r| r.embedded_cover) {
        let ok = rt.block_on(lib.track_cover(&r.id, Some(128))).is_ok();
        *covers.entry(if ok { "ok" } else { "error" }).or_default() += 1;
    }
    println!("embedded covers as 128 px thumbnails: {covers:?}");
    assert!(covers.get("ok").copied().unwrap_or(0) >= 3, "{covers:?}");

    // A rescan reads only the broken files again and changes nothing.
    let again = rt.block_on(lib.scan()).unwrap();
    assert_eq!(
        (
            again.unchanged,
            again.unreadable,
            again.added,
            again.deleted
        ),
        (in_catalog.len(), in_problems.len(), 0, 0),
        "{again:?}"
    );
    assert_eq!(lib.catalog().track_count(), in_catalog.len());
    println!(
        "rescan: {} ms; whole test {:.1} s",
        again.duration_ms,
        test_started.elapsed().as_secs_f64()
    );
}
