//! Streaming a track's file with HTTP Range, holding the device's stream slot, and cutting the
//! connection when the device is signed out or another device takes over its playback.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use clef_accounts::AccountsError;

use clef_core::DeviceId;
use clef_http::play::{play, PlayError, PlayRequest};
use clef_http::transcode::requested;
use clef_http::ConnectionAbort;
use clef_library::LibraryError;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::ApiError;
use clef_http::AppState;

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

pub use clef_http::play::content_type;

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
    let settings =
        requested(q.format.as_deref(), q.bitrate, &record).map_err(|e| play_error(&s, e))?;
    let req = PlayRequest { settings, takeover };
    play(&s, &ctx, &record, req, &headers, connection)
        .await
        .map_err(|e| play_error(&s, e))
}

fn play_error(s: &AppState, e: PlayError) -> ApiError {
    match e {
        PlayError::FileMissing => LibraryError::NotFound("track file").into(),
        PlayError::BadRequest(message) => ApiError::BadRequest {
            code: "invalid_input",
            message,
        },
        PlayError::TooManyTranscodes(full) => ApiError::TooManyTranscodes(full),
        PlayError::CannotTranscode(reason) => ApiError::CannotTranscode(reason),
        PlayError::Accounts(e) => limit_error(s, e),
        PlayError::Io(e) => LibraryError::Io(e).into(),
    }
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
