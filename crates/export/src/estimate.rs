//! How much room an export will take, worked out before anything is written, so that an export
//! that cannot fit (the root's free space, the user's quota) is refused up front.

use std::path::Path;

use clef_store::TrackRecord;

use crate::settings::ExportSettings;

/// Tags, cover art and container overhead allowed per file.
const PER_FILE_OVERHEAD: u64 = 256 * 1024;
/// FLAC and ALAC keep about this share of the PCM they compress (music compresses to 50–70 %;
/// the estimate leans high so that a "fits" is true).
const LOSSLESS_SHARE: f64 = 0.75;
/// MP3 VBR quality 0 averages about 245 kbps; the estimate takes the top of the range.
const VBR_KBPS: u64 = 260;

/// The bytes `track` will take in `settings`' format.
pub fn file_bytes(track: &TrackRecord, settings: &ExportSettings) -> u64 {
    let secs = (track.duration_ms.max(0) as f64) / 1000.0;
    let kbps = |k: u64| (secs * k as f64 * 1000.0 / 8.0) as u64;
    let pcm = || {
        let rate = settings
            .sample_rate
            .map(f64::from)
            .or(track.sample_rate.map(|r| r as f64))
            .unwrap_or(44_100.0);
        let depth = settings
            .bit_depth
            .map(f64::from)
            .or(track.bit_depth.map(|d| d as f64))
            .unwrap_or(16.0);
        // More than two channels are downmixed only for lossy formats; lossless keeps them.
        let channels = track.channels.unwrap_or(2).clamp(1, 8) as f64;
        secs * rate * channels * (depth / 8.0).ceil()
    };
    let body = match settings.format.trim().to_ascii_lowercase().as_str() {
        "mp3" if settings.vbr.is_some() => kbps(VBR_KBPS),
        "mp3" | "aac" => kbps(u64::from(settings.bitrate.unwrap_or(320))),
        "wav" | "aiff" => pcm() as u64,
        _ => (pcm() * LOSSLESS_SHARE) as u64,
    };
    body + PER_FILE_OVERHEAD
}

/// The bytes free for an unprivileged writer on the file system holding `dir`.
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    let st = rustix::fs::statvfs(dir).map_err(std::io::Error::from)?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Bytes for people: "1.2 GB", "340 MB".
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.0} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(ms: i64, rate: i64, depth: i64, channels: i64) -> TrackRecord {
        TrackRecord {
            duration_ms: ms,
            sample_rate: Some(rate),
            bit_depth: Some(depth),
            channels: Some(channels),
            ..TrackRecord::default()
        }
    }

    fn settings(json: &str) -> ExportSettings {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn estimates_follow_the_format() {
        let t = track(60_000, 44_100, 16, 2);
        let mp3 = file_bytes(&t, &settings(r#"{"format":"mp3","bitrate":320}"#));
        assert_eq!(mp3, 60 * 40_000 + PER_FILE_OVERHEAD);
        let wav = file_bytes(&t, &settings(r#"{"format":"wav"}"#));
        assert_eq!(wav, 60 * 44_100 * 4 + PER_FILE_OVERHEAD);
        let flac = file_bytes(&t, &settings(r#"{"format":"flac"}"#));
        assert!(flac < wav && flac > mp3);
        let hires = track(60_000, 96_000, 24, 2);
        let down = file_bytes(
            &hires,
            &settings(r#"{"format":"wav","bit_depth":16,"sample_rate":48000}"#),
        );
        assert_eq!(down, 60 * 48_000 * 4 + PER_FILE_OVERHEAD);
        assert_eq!(human(1_234_000_000), "1.2 GB");
        assert_eq!(human(340_000_000), "340 MB");
    }
}
