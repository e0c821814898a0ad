//! Converts one file, for benchmarks: `convert SOURCE DEST FORMAT`, where FORMAT is `mp3:320`
//! (CBR kbps), `mp3:v2` (VBR quality), `aac:256` (kbps), `alac` or `alac:16`, `flac:5` (level), `wav`,
//! `wav:16`, `aiff` or `aiff:24`.

use std::ops::ControlFlow;
use std::path::Path;

use clef_media::{BitDepth, FormatSettings, Mp3Mode, Settings, TrackTags};

fn depth(arg: Option<&str>) -> BitDepth {
    match arg {
        Some("16") => BitDepth::Bits16,
        Some("24") => BitDepth::Bits24,
        _ => BitDepth::SameAsSource,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: convert SOURCE DEST FORMAT (mp3:320, mp3:v2, flac:5, wav, aiff:24)");
        std::process::exit(2);
    }
    let (kind, opt) = match args[3].split_once(':') {
        Some((k, o)) => (k, Some(o)),
        None => (args[3].as_str(), None),
    };
    let format = match (kind, opt) {
        ("mp3", Some(v)) if v.starts_with('v') => {
            FormatSettings::Mp3(Mp3Mode::Vbr(v[1..].parse().unwrap_or(2)))
        }
        ("mp3", v) => {
            FormatSettings::Mp3(Mp3Mode::Cbr(v.and_then(|v| v.parse().ok()).unwrap_or(320)))
        }
        ("aac", v) => FormatSettings::Aac {
            kbps: v.and_then(|v| v.parse().ok()).unwrap_or(256),
        },
        ("alac", d) => FormatSettings::Alac { depth: depth(d) },
        ("flac", v) => FormatSettings::Flac {
            depth: BitDepth::SameAsSource,
            level: v.and_then(|v| v.parse().ok()).unwrap_or(5),
        },
        ("wav", d) => FormatSettings::Wav { depth: depth(d) },
        ("aiff", d) => FormatSettings::Aiff { depth: depth(d) },
        _ => {
            eprintln!("unknown format {}", args[3]);
            std::process::exit(2);
        }
    };
    let result = clef_media::convert(
        Path::new(&args[1]),
        Path::new(&args[2]),
        &Settings::new(format),
        &TrackTags::default(),
        &mut |_| ControlFlow::Continue(()),
    );
    if let Err(e) = result {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
