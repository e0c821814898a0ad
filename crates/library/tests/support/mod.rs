//! Shared helpers for the scanner tests that use real third-party tools: running `ffmpeg` and
//! `ffprobe` (which must be installed: these tests fail, never skip, without them), running many
//! jobs on a few threads, and opening a library over a fresh SQLite store.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use clef_core::{OsRandom, SystemClock};
use clef_library::{Library, LibraryConfig};
use clef_store::SqlStore;

/// Fails the test with an explanation when `tool` cannot be run.
pub fn require_tool(tool: &str) {
    match Command::new(tool).arg("-version").output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "`{tool} -version` failed ({}): {}\nThis test needs a working {tool}; it never skips.",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!(
            "cannot run `{tool}`: {e}.\nThis test needs ffmpeg/ffprobe on PATH \
             (Debian/Ubuntu: `apt-get install -y ffmpeg`); it never skips."
        ),
    }
}

/// Runs ffmpeg quietly with `args` (overwriting outputs); panics with its stderr on failure.
pub fn ffmpeg<S: AsRef<std::ffi::OsStr>>(args: &[S]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run ffmpeg: {e} (install ffmpeg; this test never skips)")
        });
    if !out.status.success() {
        let shown: Vec<String> = args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        panic!(
            "ffmpeg failed ({}):\n  args: {}\n  stderr: {}",
            out.status,
            shown.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// What ffprobe says about a file: tags (keys lower-cased, from the container and the audio
/// stream) and the audio stream's properties.
#[derive(Debug, Default, Clone)]
pub struct Probe {
    pub tags: HashMap<String, String>,
    pub codec: Option<String>,
    pub sample_rate: Option<i64>,
    pub channels: Option<i64>,
    /// `bits_per_raw_sample`, else `bits_per_sample` (PCM), when not zero.
    pub bits: Option<i64>,
    pub duration_ms: Option<i64>,
    /// Whether a video stream (an attached picture) is present.
    pub has_picture: bool,
}

/// Runs ffprobe on `path`. `None` when ffprobe cannot read the file at all.
pub fn ffprobe(path: &Path) -> Option<Probe> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-of",
            "flat",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run ffprobe: {e} (install ffmpeg; this test never skips)")
        });
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut flat: HashMap<String, String> = HashMap::new();
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        flat.insert(k.to_owned(), v.replace("\\\"", "\"").replace("\\\\", "\\"));
    }
    let mut p = Probe::default();
    let mut audio: Option<String> = None;
    for i in 0..16 {
        let prefix = format!("streams.stream.{i}.");
        match flat.get(&format!("{prefix}codec_type")).map(String::as_str) {
            Some("audio") if audio.is_none() => audio = Some(prefix),
            Some("video") => p.has_picture = true,
            Some(_) => {}
            None => break,
        }
    }
    let num = |k: &str| -> Option<i64> {
        flat.get(k)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| *v > 0.0)
            .map(|v| v as i64)
    };
    if let Some(a) = &audio {
        p.codec = flat.get(&format!("{a}codec_name")).cloned();
        p.sample_rate = num(&format!("{a}sample_rate"));
        p.channels = num(&format!("{a}channels"));
        p.bits = num(&format!("{a}bits_per_raw_sample")).or(num(&format!("{a}bits_per_sample")));
    }
    p.duration_ms = flat
        .get("format.duration")
        .and_then(|v| v.parse::<f64>().ok())
        .map(|s| (s * 1000.0).round() as i64);
    for (k, v) in &flat {
        let tag = k.strip_prefix("format.tags.").or_else(|| {
            audio
                .as_ref()
                .and_then(|a| k.strip_prefix(a.as_str()))
                .and_then(|rest| rest.strip_prefix("tags."))
        });
        if let Some(t) = tag {
            // `flat` turns characters it cannot put in a key into `_`; good enough here.
            p.tags.insert(t.to_lowercase(), v.clone());
        }
    }
    Some(p)
}

/// Runs `jobs` on `threads` threads (each job once), panicking if any job panicked.
pub fn run_parallel<J: Send>(jobs: Vec<J>, threads: usize, run: impl Fn(J) + Sync) {
    let queue: Vec<Mutex<Option<J>>> = jobs.into_iter().map(|j| Mutex::new(Some(j))).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(slot) = queue.get(i) else { break };
                    let job = slot.lock().unwrap().take();
                    if let Some(job) = job {
                        run(job);
                    }
                })
            })
            .collect();
        for h in handles {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e);
            }
        }
    });
}

/// How many external processes to run at once: the cores, but 2 to 4.
pub fn parallelism() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 4)
}

/// A multi-threaded runtime for driving the library from synchronous tests.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A library over a fresh SQLite file in `work`, scanning `music`.
pub async fn open_library(music: &Path, work: &Path) -> Library {
    let store = SqlStore::open_sqlite_file(&work.join("clef.sqlite"))
        .await
        .unwrap();
    let cfg = LibraryConfig::new(vec![music.to_path_buf()], work.join("cache"));
    Library::open(
        Arc::new(store),
        Arc::new(SystemClock),
        Arc::new(OsRandom),
        cfg,
    )
    .await
    .unwrap()
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// The lower-cased extension of `path`.
pub fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}
