//! Playlists of the signed-in user, and M3U8 import and export.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use clef_library::{PlaylistEdit, PlaylistView};
use serde::Deserialize;
use serde_json::json;

use crate::extract::{ApiJson, Auth};
use crate::ApiError;
use clef_http::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPlaylist {
    pub name: String,
    #[serde(default)]
    pub track_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenamePlaylist {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddTracks {
    pub track_ids: Vec<String>,
    pub position: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveTracks {
    pub positions: Vec<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveTrack {
    pub from: usize,
    pub to: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaceTracks {
    pub track_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportPlaylist {
    pub name: String,
    pub m3u8: String,
}

pub(crate) async fn list(
    Auth(ctx): Auth,
    State(s): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let playlists = s.library.playlists(&ctx.user.id).await?;
    Ok(Json(json!({ "playlists": playlists })))
}

pub(crate) async fn create(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    ApiJson(p): ApiJson<NewPlaylist>,
) -> Result<(StatusCode, Json<PlaylistView>), ApiError> {
    let view = s
        .library
        .create_playlist(&ctx.user.id, &p.name, p.track_ids)
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

pub(crate) async fn get_one(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PlaylistView>, ApiError> {
    Ok(Json(s.library.playlist(&ctx.user.id, &id).await?))
}

async fn edit(
    s: &AppState,
    ctx: &clef_accounts::AuthContext,
    id: &str,
    e: PlaylistEdit,
) -> Result<Json<PlaylistView>, ApiError> {
    Ok(Json(s.library.edit_playlist(&ctx.user.id, id, e).await?))
}

pub(crate) async fn rename(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<RenamePlaylist>,
) -> Result<Json<PlaylistView>, ApiError> {
    edit(&s, &ctx, &id, PlaylistEdit::Rename(r.name)).await
}

pub(crate) async fn add(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(a): ApiJson<AddTracks>,
) -> Result<Json<PlaylistView>, ApiError> {
    let e = PlaylistEdit::Add {
        track_ids: a.track_ids,
        position: a.position,
    };
    edit(&s, &ctx, &id, e).await
}

pub(crate) async fn replace(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<ReplaceTracks>,
) -> Result<Json<PlaylistView>, ApiError> {
    edit(&s, &ctx, &id, PlaylistEdit::Replace(r.track_ids)).await
}

pub(crate) async fn remove(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<RemoveTracks>,
) -> Result<Json<PlaylistView>, ApiError> {
    edit(&s, &ctx, &id, PlaylistEdit::Remove(r.positions)).await
}

pub(crate) async fn move_track(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(m): ApiJson<MoveTrack>,
) -> Result<Json<PlaylistView>, ApiError> {
    let e = PlaylistEdit::Move {
        from: m.from,
        to: m.to,
    };
    edit(&s, &ctx, &id, e).await
}

pub(crate) async fn delete(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.library.delete_playlist(&ctx.user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn export(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (name, text) = s.library.export_m3u8(&ctx.user.id, &id).await?;
    // The file name is made of safe characters only; the real name is inside the file.
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    Ok(clef_http::media(
        (
            [
                (
                    header::CONTENT_TYPE,
                    "audio/x-mpegurl; charset=utf-8".to_owned(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{safe}.m3u8\""),
                ),
            ],
            text,
        )
            .into_response(),
    ))
}

pub(crate) async fn import(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    ApiJson(i): ApiJson<ImportPlaylist>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let (view, unmatched) = s
        .library
        .import_m3u8(&ctx.user.id, &i.name, &i.m3u8)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "playlist": view, "unmatched": unmatched })),
    ))
}
