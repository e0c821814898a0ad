//! `stream`, `download` and `getCoverArt`: the bytes themselves, through the same playback path
//! as the REST API (the stream slot, Range, transcoding, the cut at sign-out), and the length of
//! a transcoded stream promised ahead when the client asks (`estimateContentLength`).

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;
use clef_accounts::AuthContext;
use clef_core::Scope;
use clef_http::play::{exact_length, play, PlayRequest};
use clef_http::transcode::requested;
use clef_http::{AppState, ConnectionAbort};
use clef_media::{
    aac_output_rate, mp3_output_rate, FormatSettings, Mp3Mode, Settings, AAC_KBPS, MP3_CBR_KBPS,
};
use clef_store::TrackRecord;

use crate::error::SubsonicError;
use crate::ids::{cover_of, CoverRef};
use crate::refusal::{from_library, from_play};
use crate::routes::Request;

pub(crate) async fn serve(
    st: &AppState,
    ctx: &AuthContext,
    req: &Request,
    headers: &HeaderMap,
    connection: Option<Extension<ConnectionAbort>>,
) -> Result<Response, SubsonicError> {
    ctx.require(Scope::Stream)
        .map_err(crate::refusal::from_accounts)?;
    let id = req.params.require("id")?;
    let catalog = st.library.catalog();
    if req.method == "getCoverArt" {
        let size = req.params.int_in("size", 16u32, 2048)?;
        let cover = match cover_of(&catalog, id) {
            Some(CoverRef::Album(a)) => st.library.album_cover(a, size).await,
            Some(CoverRef::Track(t)) => st.library.track_cover(t, size).await,
            None => return Err(SubsonicError::not_found("cover art", id)),
        };
        return Ok(clef_http::cover_response(cover.map_err(from_library)?));
    }
    let record = catalog
        .track_record(id)
        .cloned()
        .ok_or_else(|| SubsonicError::not_found("song", id))?;
    let settings = if req.method == "download" {
        None
    } else {
        let max = req.params.int_in("maxBitRate", 0u16, 10_000)?.unwrap_or(0);
        let format = req.params.get("format");
        let (format, kbps) = choose(format, max, &record)?;
        requested(format, kbps, &record).map_err(|e| from_play(e, &catalog))?
    };
    let promised = match &settings {
        Some(s) if req.params.bool("estimateContentLength", false)? => estimated_length(s, &record),
        _ => None,
    };
    let transcoded = settings.is_some();
    let mut response = play(
        st,
        ctx,
        &record,
        PlayRequest {
            settings,
            takeover: None,
        },
        headers,
        connection,
    )
    .await
    .map_err(|e| from_play(e, &catalog))?;
    if transcoded && response.status() == StatusCode::OK {
        // A transcoded stream's duration, known ahead when its length is not (Navidrome sends
        // this header too).
        let seconds = format!("{:.3}", record.duration_ms.max(0) as f64 / 1000.0);
        if let Ok(v) = HeaderValue::from_str(&seconds) {
            response.headers_mut().insert("x-content-duration", v);
        }
        if let Some(len) = promised {
            response = exact_length(response, len);
        }
    }
    Ok(response)
}

/// The length promised for a transcoded stream when the client asks for an estimate, or `None`
/// when the duration is unknown (then nothing is promised). MP3: the length of LAME's stream for
/// the track's duration, to the byte, so the body is the encoder's own. AAC: an upper bound, the
/// rest filled with zeros, which ADTS readers skip while they look for the next frame.
fn estimated_length(settings: &Settings, record: &TrackRecord) -> Option<u64> {
    let duration_ms = u64::try_from(record.duration_ms).ok().filter(|d| *d > 0)?;
    let source_rate = record
        .sample_rate
        .and_then(|r| u32::try_from(r).ok())
        .filter(|r| *r > 0)
        .unwrap_or(44_100);
    match settings.format {
        FormatSettings::Mp3(Mp3Mode::Cbr(kbps)) => {
            mp3_length(duration_ms, mp3_output_rate(source_rate), kbps)
        }
        FormatSettings::Aac { kbps } => {
            let channels = record.channels.map_or(2, |c| c.clamp(1, 2));
            aac_bound(duration_ms, aac_output_rate(source_rate), channels, kbps)
        }
        _ => None,
    }
}

/// The exact length of LAME's CBR stream (no info frame, no tags) of `duration_ms` at `rate`.
///
/// LAME delays the audio by 576 samples and pads its end with 576 samples or more, to a whole
/// number of frames (of 1,152 samples; 576 below 32 kHz); a frame is the rate's share of bytes
/// rounded down, and one byte longer ("padding") whenever LAME's running remainder falls below
/// zero. The duration is rounded down to the millisecond: a track up to a millisecond longer can
/// need one frame more, which holds only LAME's end padding (a decoder needs 529 samples past
/// the last one) and is then left out, the cut falling between frames.
fn mp3_length(duration_ms: u64, rate: u32, kbps: u16) -> Option<u64> {
    let (rate, kbps) = (u64::from(rate), u64::from(kbps));
    if rate == 0 {
        return None;
    }
    // Below 32 kHz (MPEG-2) rates stop at 160 kbit/s, which LAME takes for any higher one.
    let (frame_samples, slots, kbps) = if rate >= 32_000 {
        (1152, 144_000, kbps)
    } else {
        (576, 72_000, kbps.min(160))
    };
    let delayed = duration_ms * rate / 1000 + 576;
    let mut end = frame_samples - delayed % frame_samples;
    if end < 576 {
        end += frame_samples;
    }
    let frames = (delayed + end) / frame_samples;
    let (whole, remainder) = (slots * kbps / rate, slots * kbps % rate);
    let padded = (frames.saturating_sub(1) * remainder).div_ceil(rate);
    Some(frames * whole + padded)
}

/// An upper bound of FDK AAC's stream (raw access units, each behind our 7-byte ADTS header) of
/// `duration_ms` at `rate`: its 2,048-sample delay and last frame, the constant rate, and a bit
/// reservoir of at most 6,144 bits a channel that can let a stretch of frames run over it.
/// `None` above the most FDK writes (6,144 bits a channel a frame), where it lowers the rate.
fn aac_bound(duration_ms: u64, rate: u32, channels: i64, kbps: u16) -> Option<u64> {
    let rate = u64::from(rate);
    let channels = u64::try_from(channels).ok()?;
    if rate == 0 || u64::from(kbps) * 1000 * 1024 > channels * 6144 * rate {
        return None;
    }
    let samples = (duration_ms + 1) * rate / 1000 + 1;
    let frames = (samples + 2048).div_ceil(1024) + 1;
    let audio = (frames * 1024 * u64::from(kbps) * 125).div_ceil(rate);
    Some(audio + frames * 7 + channels * 6144 / 8)
}

/// Subsonic's `format` and `maxBitRate` in Clef's terms: the original file (`raw`, the file's own
/// format, or no limit it exceeds), or MP3/AAC at the highest rate Clef encodes within the limit.
fn choose(
    format: Option<&str>,
    max_kbps: u16,
    record: &TrackRecord,
) -> Result<(Option<&'static str>, Option<u16>), SubsonicError> {
    let within = |rates: &[u16]| -> Option<u16> {
        if max_kbps == 0 {
            return None;
        }
        rates
            .iter()
            .copied()
            .filter(|r| *r <= max_kbps)
            .max()
            .or(rates.first().copied())
    };
    let original_fits = max_kbps == 0 || record.bitrate.is_some_and(|b| b <= i64::from(max_kbps));
    match format.map(str::to_ascii_lowercase).as_deref() {
        Some("raw") => Ok((Some("raw"), None)),
        Some(f) if f == record.format || (f == "m4a" && record.format == "m4a") => {
            Ok((Some("raw"), None))
        }
        None | Some("") if original_fits => Ok((Some("raw"), None)),
        None | Some("") | Some("mp3") => Ok((Some("mp3"), within(&MP3_CBR_KBPS))),
        Some("aac") => Ok((Some("aac"), within(&AAC_KBPS))),
        Some(other) => Err(SubsonicError::generic(format!(
            "format {other:?}: Clef streams the original (raw), mp3 or aac"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(duration_ms: i64, sample_rate: i64) -> TrackRecord {
        TrackRecord {
            duration_ms,
            sample_rate: Some(sample_rate),
            ..TrackRecord::default()
        }
    }

    #[test]
    fn the_mp3_length_is_lames_to_the_byte() {
        // 12.3 s at 44.1 kHz, 128 kbit/s: 542,430 samples + 576 of delay + 738 of padding make
        // 472 frames of 417 bytes, 452 of them a byte longer (what LAME wrote in the test).
        assert_eq!(mp3_length(12_300, 44_100, 128), Some(197_276));
        // At 48 kHz frames are whole bytes: 960 a frame at 320 kbit/s.
        assert_eq!(mp3_length(1_000, 48_000, 320), Some(43 * 960));
        // 24 kHz has frames of 576 samples, at 160 kbit/s at most.
        assert_eq!(
            mp3_length(1_000, 24_000, 320),
            mp3_length(1_000, 24_000, 160)
        );
        assert_eq!(mp3_length(1_000, 24_000, 160), Some(44 * 480));
        let mp3 = Settings::new(FormatSettings::Mp3(Mp3Mode::Cbr(128)));
        assert_eq!(
            estimated_length(&mp3, &track(12_300, 44_100)),
            Some(197_276)
        );
        // A 96 kHz source is encoded at 48 kHz.
        assert_eq!(
            estimated_length(&mp3, &track(12_300, 96_000)),
            mp3_length(12_300, 48_000, 128)
        );
        assert_eq!(
            estimated_length(&mp3, &track(0, 44_100)),
            None,
            "unknown duration"
        );
    }

    #[test]
    fn the_aac_bound_is_a_little_over_the_rate() {
        let aac = Settings::new(FormatSettings::Aac { kbps: 256 });
        let len = estimated_length(&aac, &track(30_000, 44_100)).unwrap();
        // The rate, the ADTS headers (7 bytes a frame: 0.9 % at 256 kbit/s), a few frames more.
        assert!(len > 30 * 32_000 && len < 30 * 32_000 * 102 / 100, "{len}");
        // One channel at 24 kHz holds 144 kbit/s at most: FDK would write less than asked.
        let mono = TrackRecord {
            channels: Some(1),
            ..track(30_000, 24_000)
        };
        assert_eq!(estimated_length(&aac, &mono), None);
        let aac = Settings::new(FormatSettings::Aac { kbps: 128 });
        assert!(estimated_length(&aac, &mono).is_some());
    }
}
