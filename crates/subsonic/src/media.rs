//! `stream`, `download` and `getCoverArt`: the bytes themselves, through the same playback path
//! as the REST API (the stream slot, Range, transcoding, the cut at sign-out).

use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use clef_accounts::AuthContext;
use clef_core::Scope;
use clef_http::play::{play, PlayRequest};
use clef_http::transcode::requested;
use clef_http::{AppState, ConnectionAbort};
use clef_media::{AAC_KBPS, MP3_CBR_KBPS};
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
    play(
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
    .map_err(|e| from_play(e, &catalog))
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
