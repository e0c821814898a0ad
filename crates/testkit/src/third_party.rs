//! Third-party test files fetched on first use and cached under `target/test-data/`: nothing is
//! committed. scipy's wheel carries the WAVs its own reader is tested with (8- to 64-bit, float,
//! big-endian RIFX, WAVE_FORMAT_EXTENSIBLE, 1 to 5 channels, truncated and malformed ones).

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

const SCIPY: &str = "scipy-1.13.1";
const SCIPY_WHEEL: &str = "scipy-1.13.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl";
/// The SHA-256 of that wheel as published on PyPI.
const SCIPY_SHA256: &str = "a78b4b3345f1b6f68a763c6e25c0c9a23a9fd0f39f5f3d200efe8feda560a5fa";

/// The cargo target folder: `CARGO_TARGET_DIR` when set, else the workspace's `target`.
fn target_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
        Some(d) => workspace.join(d),
        None => workspace.join("target"),
    }
}

/// A folder holding scipy's test WAVs (downloaded with pip and checked on first use).
pub fn scipy_wavs() -> PathBuf {
    let cache = target_dir().join("test-data").join(SCIPY);
    let wavs = cache.join("wavs");
    if wavs.join(".complete").exists() {
        return wavs;
    }
    std::fs::create_dir_all(&cache).unwrap();
    let wheel = cache.join(SCIPY_WHEEL);
    let sum = |p: &Path| hex(&Sha256::digest(std::fs::read(p).unwrap()));
    if !wheel.exists() || sum(&wheel) != SCIPY_SHA256 {
        let out = Command::new("python3")
            .args(["-m", "pip", "download", "scipy==1.13.1", "--no-deps"])
            .args(["--only-binary=:all:", "--python-version", "3.11"])
            .args([
                "--platform",
                "manylinux2014_x86_64",
                "--implementation",
                "cp",
            ])
            .args([
                "--disable-pip-version-check",
                "--timeout",
                "20",
                "--retries",
                "2",
            ])
            .arg("-d")
            .arg(&cache)
            .env("PIP_NO_INPUT", "1")
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run `python3 -m pip` to fetch scipy's test WAVs: {e}")
            });
        assert!(
            out.status.success() && wheel.exists(),
            "downloading {SCIPY_WHEEL} failed (no network?); or put it (sha256 {SCIPY_SHA256}) at {}\n{}",
            wheel.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            sum(&wheel),
            SCIPY_SHA256,
            "the downloaded wheel is not the published one"
        );
    }
    let unpack = cache.join(format!("unpack-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&unpack);
    std::fs::create_dir_all(&unpack).unwrap();
    // A wheel is a ZIP: take the WAVs of scipy.io's tests out of it.
    let script = "import sys, zipfile\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  for n in z.namelist():\n\
                  \x20   if n.startswith('scipy/io/tests/data/') and n.endswith('.wav'):\n\
                  \x20       open(sys.argv[2] + '/' + n.rsplit('/', 1)[1], 'wb').write(z.read(n))\n";
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(&wheel)
        .arg(&unpack)
        .status()
        .expect("cannot run python3");
    assert!(status.success(), "could not unpack {}", wheel.display());
    std::fs::write(unpack.join(".complete"), b"").unwrap();
    if std::fs::rename(&unpack, &wavs).is_err() {
        assert!(
            wavs.join(".complete").exists(),
            "cannot place {}",
            wavs.display()
        );
        let _ = std::fs::remove_dir_all(&unpack);
    }
    wavs
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
