//! Streaming a track's file with HTTP Range, holding the device's stream slot, and cutting the
//! connection when the device is signed out or another device takes over its playback.

use std::io::SeekFrom;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use clef_accounts::AccountsError;

use clef_core::DeviceId;
use clef_http::{reset_when_stopped, stopped_body, ConnectionAbort};
use clef_library::LibraryError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use clef_formats::range::{parse_range, RangeRequest};

use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::ApiError;
use clef_http::AppState;

/// Bytes read from disk at a time: 128 KiB kept 1 MiB ranges above 1.2 GB/s while holding memory
/// under load about 10 MB lower than 256 KiB (bench/library.sh).
const CHUNK: usize = 128 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Stop this device's playback and play here.
    pub takeover: Option<String>,
    /// `mp3` or `aac` to transcode, `raw` (or none) for the original file.
    pub format: Option<String>,
    /// Transcoding bit rate in kbps.
    pub bitrate: Option<u16>,
}

pub fn content_type(format: &str) -> &'static str {
    match format {
        "mp3" => "audio/mpeg",
        "flac" => "audio/flac",
        "m4a" => "audio/mp4",
        "ogg" | "opus" => "audio/ogg",
        "wav" => "audio/wav",
        "aiff" => "audio/aiff",
        _ => "application/octet-stream",
    }
}

#[derive(Debug, Serialize)]
pub struct PlayingDto {
    pub device_id: String,
    pub name: String,
    pub track: Option<serde_json::Value>,
    pub started_at: String,
}

/// The devices playing now, with what they play.
pub(crate) fn playing_dtos(s: &AppState, slots: &[clef_store::Slot]) -> Vec<PlayingDto> {
    let catalog = s.library.catalog();
    slots
        .iter()
        .map(|slot| PlayingDto {
            device_id: slot.device_id.to_string(),
            name: slot.device_name.clone(),
            track: catalog.track(&slot.track_id).map(|t| {
                json!({
                    "id": t.id,
                    "title": t.title,
                    "artist": t.artists.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "),
                    "album": t.album,
                })
            }),
            started_at: slot.started_at.to_rfc3339(),
        })
        .collect()
}

fn limit_error(s: &AppState, e: AccountsError) -> ApiError {
    match e {
        AccountsError::StreamLimitReached { limit, streams } => ApiError::StreamLimit {
            limit,
            streams: playing_dtos(s, &streams),
        },
        other => ApiError::Accounts(other),
    }
}

pub(crate) async fn stream(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<StreamQuery>,
    connection: Option<Extension<ConnectionAbort>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let record = s
        .library
        .catalog()
        .track_record(&id)
        .cloned()
        .ok_or(LibraryError::NotFound("track"))?;
    let takeover = match q.takeover.as_deref() {
        None => None,
        Some(t) => Some(DeviceId::parse(t).ok_or(AccountsError::NotFound("playing device"))?),
    };
    if let Some(settings) = crate::transcode::requested(q.format.as_deref(), q.bitrate, &record)? {
        tokio::fs::metadata(&record.path)
            .await
            .map_err(|_| LibraryError::NotFound("track file"))?;
        let place = s
            .limits
            .transcodes
            .take(&ctx.device.id.to_string())
            .map_err(ApiError::TooManyTranscodes)?;
        let started = crate::transcode::start(&record, settings, place).await?;
        let handle = s
            .accounts
            .open_stream(&ctx, &record.id, takeover)
            .await
            .map_err(|e| limit_error(&s, e))?;
        reset_when_stopped(&handle, connection);
        return Ok(started.respond(handle));
    }
    let mut file = tokio::fs::File::open(&record.path)
        .await
        .map_err(|_| LibraryError::NotFound("track file"))?;
    let size = file
        .metadata()
        .await
        .map_err(|e| LibraryError::Io(e.to_string()))?
        .len();
    let etag = format!("\"{:x}-{:x}\"", size, record.mtime);
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    // If-Range with another validator means the client's copy is stale: send it all.
    let if_range_ok = headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v == etag);
    let range = if if_range_ok {
        parse_range(range_header, size)
    } else {
        RangeRequest::Full
    };
    if range == RangeRequest::Unsatisfiable {
        return Ok((
            StatusCode::RANGE_NOT_SATISFIABLE,
            [
                (header::CONTENT_RANGE, format!("bytes */{size}")),
                (header::ACCEPT_RANGES, "bytes".to_owned()),
            ],
        )
            .into_response());
    }
    let handle = s
        .accounts
        .open_stream(&ctx, &record.id, takeover)
        .await
        .map_err(|e| limit_error(&s, e))?;
    reset_when_stopped(&handle, connection);
    let (status, start, len) = match range {
        RangeRequest::Partial(r) => (StatusCode::PARTIAL_CONTENT, r.start, r.end - r.start + 1),
        _ => (StatusCode::OK, 0, size),
    };
    if start > 0 {
        file.seek(SeekFrom::Start(start))
            .await
            .map_err(|e| LibraryError::Io(e.to_string()))?;
    }
    let reader = ReaderStream::with_capacity(file.take(len), CHUNK);
    let mut response = Response::new(stopped_body(reader, handle));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&record.format)),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-transform"),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        let v = format!("bytes {}-{}/{size}", start, start + len - 1);
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(clef_http::media(response))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybackReport {
    pub track_id: String,
    /// `playing`, `paused` or `stopped`.
    pub state: String,
}

/// The player's heartbeat.
pub(crate) async fn report(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    ApiJson(r): ApiJson<PlaybackReport>,
) -> Result<StatusCode, ApiError> {
    let playing = match r.state.as_str() {
        "playing" => true,
        "paused" | "stopped" => false,
        _ => {
            return Err(ApiError::Library(LibraryError::Invalid(
                clef_core::InputError {
                    field: "state",
                    message: "state is playing, paused or stopped".into(),
                },
            )))
        }
    };
    if playing && s.library.catalog().track(&r.track_id).is_none() {
        return Err(LibraryError::NotFound("track").into());
    }
    s.accounts
        .report_playback(&ctx, &r.track_id, playing)
        .await
        .map_err(|e| limit_error(&s, e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who is playing on this account now.
pub(crate) async fn now_playing(
    Auth(ctx): Auth,
    State(s): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let slots = s.accounts.playing(&ctx).await?;
    Ok(Json(json!({
        "limit": ctx.user.max_streams,
        "streams": playing_dtos(&s, &slots),
    })))
}
