//! The catalog: artists, albums, tracks, genres, search and cover art. Every answer comes from the
//! in-memory catalog snapshot.

use axum::extract::{Path, State};

use axum::response::Response;
use axum::Json;
use clef_library::{AlbumSort, LibraryError};
use serde::Deserialize;
use serde_json::json;

use crate::extract::{ApiQuery, Auth};
use crate::ApiError;
use clef_http::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlbumsQuery {
    pub sort: Option<String>,
    pub seed: Option<u64>,
    pub genre: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

fn invalid(field: &'static str, message: &str) -> ApiError {
    ApiError::Library(LibraryError::Invalid(clef_core::InputError {
        field,
        message: message.to_owned(),
    }))
}

pub(crate) async fn artists(_: Auth, State(s): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({ "artists": s.library.catalog().artists() }))
}

pub(crate) async fn artist(
    _: Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (artist, albums) = s
        .library
        .catalog()
        .artist(&id)
        .ok_or(LibraryError::NotFound("artist"))?;
    Ok(Json(json!({ "artist": artist, "albums": albums })))
}

pub(crate) async fn albums(
    _: Auth,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<AlbumsQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let sort = match q.sort.as_deref().unwrap_or("name") {
        "name" => AlbumSort::Name,
        "artist" => AlbumSort::Artist,
        "year" => AlbumSort::Year,
        "recent" | "recently_added" => AlbumSort::RecentlyAdded,
        "random" => AlbumSort::Random(q.seed.unwrap_or(0)),
        _ => {
            return Err(invalid(
                "sort",
                "sort is one of name, artist, year, recent, random",
            ))
        }
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(invalid("limit", "limit is between 1 and 500"));
    }
    let offset = q.offset.unwrap_or(0);
    let (total, albums) = s
        .library
        .catalog()
        .albums(sort, q.genre.as_deref(), offset, limit);
    Ok(Json(
        json!({ "total": total, "offset": offset, "albums": albums }),
    ))
}

pub(crate) async fn album(
    _: Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (album, tracks) = s
        .library
        .catalog()
        .album(&id)
        .ok_or(LibraryError::NotFound("album"))?;
    Ok(Json(json!({ "album": album, "tracks": tracks })))
}

pub(crate) async fn track(
    _: Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let catalog = s.library.catalog();
    let t = catalog.track(&id).ok_or(LibraryError::NotFound("track"))?;
    Ok(Json(json!(t)))
}

pub(crate) async fn genres(_: Auth, State(s): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({ "genres": s.library.catalog().genres() }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub limit: Option<usize>,
}

pub(crate) async fn search(
    _: Auth,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let text = q.q.unwrap_or_default();
    if text.chars().count() > 200 {
        return Err(invalid("q", "search text is at most 200 characters"));
    }
    let limit = q.limit.unwrap_or(20).clamp(1, 200);
    Ok(Json(json!(s.library.catalog().search(&text, limit))))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverQuery {
    pub size: Option<u32>,
}

use clef_http::cover_response;

fn check_size(size: Option<u32>) -> Result<Option<u32>, ApiError> {
    match size {
        Some(s) if !(16..=2048).contains(&s) => {
            Err(invalid("size", "size is between 16 and 2048 pixels"))
        }
        other => Ok(other),
    }
}

pub(crate) async fn track_cover(
    _: Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CoverQuery>,
) -> Result<Response, ApiError> {
    let size = check_size(q.size)?;
    Ok(cover_response(s.library.track_cover(&id, size).await?))
}

pub(crate) async fn album_cover(
    _: Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CoverQuery>,
) -> Result<Response, ApiError> {
    let size = check_size(q.size)?;
    Ok(cover_response(s.library.album_cover(&id, size).await?))
}
