//! Offline exports: start one from ticked songs (or a whole playlist or album), follow its
//! progress as server-sent events, list the Converted history, download an export as a ZIP,
//! cancel.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use clef_export::{ExportRequest, ExportSettings, JobProgress, PathView};
use clef_library::Selection;
use clef_store::{ExportFile, ExportJob, ExportState, FileState};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::extract::{ApiJson, Auth};
use crate::ApiError;
use clef_http::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewExport {
    /// For people; defaults to the playlist's or album's name.
    #[serde(default)]
    pub title: Option<String>,
    /// The ticked songs in order; empty with a playlist or album means all of its songs.
    #[serde(default)]
    pub track_ids: Vec<String>,
    #[serde(default)]
    pub playlist_id: Option<String>,
    #[serde(default)]
    pub album_id: Option<String>,
    pub settings: ExportSettings,
    /// Relative to the user's own folder in the first export folder ("Car"); administrators may
    /// give an absolute path inside their own folder of any export folder.
    #[serde(default)]
    pub folder: String,
    #[serde(default)]
    pub pattern: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ExportDto {
    pub id: String,
    pub title: String,
    pub settings: serde_json::Value,
    pub folder: String,
    pub pattern: String,
    pub state: &'static str,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileDto>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<usize>,
    /// Bytes written so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct FileDto {
    pub position: i64,
    pub track_id: String,
    pub path: String,
    pub state: &'static str,
    pub size: Option<i64>,
    pub error: Option<String>,
}

/// An export as `view` shows it: administrators see the server's paths, anyone else the folder
/// relative to their own and messages without absolute paths.
fn dto(job: ExportJob, files: Option<Vec<ExportFile>>, view: &PathView) -> ExportDto {
    let counts = files.as_ref().map(|f| {
        let count = |s: FileState| f.iter().filter(|x| x.state == s).count();
        (
            f.len(),
            count(FileState::Done),
            count(FileState::Failed),
            f.iter().filter_map(|x| x.size).sum::<i64>(),
        )
    });
    ExportDto {
        settings: serde_json::from_str(&job.settings).unwrap_or(serde_json::Value::Null),
        id: job.id,
        title: job.title,
        folder: view.folder(&job.out_dir),
        pattern: job.pattern,
        state: job.state.as_str(),
        created_at: job.created_at.0,
        finished_at: job.finished_at.map(|t| t.0),
        error: job.error.map(|e| view.text(&e)),
        total: counts.map(|c| c.0),
        done: counts.map(|c| c.1),
        failed: counts.map(|c| c.2),
        size: counts.map(|c| c.3),
        files: files.map(|f| {
            f.into_iter()
                .map(|x| FileDto {
                    position: x.position,
                    track_id: x.track_id,
                    path: x.rel_path,
                    state: x.state.as_str(),
                    size: x.size,
                    error: x.error.map(|e| view.text(&e)),
                })
                .collect()
        }),
    }
}

pub(crate) async fn create(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    ApiJson(req): ApiJson<NewExport>,
) -> Result<(StatusCode, Json<ExportDto>), ApiError> {
    let user = &ctx.user.id;
    let (mut title, mut track_ids) = (req.title.unwrap_or_default(), req.track_ids);
    let source = match (&req.playlist_id, &req.album_id) {
        (Some(id), _) => Some(Selection::Playlist(id.clone())),
        (None, Some(id)) => Some(Selection::Album(id.clone())),
        (None, None) => None,
    };
    if let Some(source) = source {
        let picked = s.library.selection(user, &source).await?;
        if title.trim().is_empty() {
            title = picked.name.clone();
        }
        track_ids = picked.ticked_or_all(&track_ids);
    }
    let job = s
        .exports
        .start(
            user,
            ExportRequest {
                title,
                track_ids,
                settings: req.settings,
                folder: req.folder,
                pattern: req.pattern,
            },
        )
        .await?;
    let (job, files) = s.exports.get(user, &job.id).await?;
    let view = s.exports.view(&ctx.user);
    Ok((StatusCode::ACCEPTED, Json(dto(job, Some(files), &view))))
}

pub(crate) async fn list(
    Auth(ctx): Auth,
    State(s): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let jobs = s.exports.list(&ctx.user.id).await?;
    let view = s.exports.view(&ctx.user);
    // Only administrators learn where the export folders are on the server.
    let roots: Vec<String> = if view.is_admin() {
        s.exports
            .roots()
            .iter()
            .map(|r| r.display().to_string())
            .collect()
    } else {
        Vec::new()
    };
    let problem = s.exports.check(&ctx.user).err().map(|e| e.to_string());
    Ok(Json(json!({
        "enabled": s.exports.enabled(),
        "roots": roots,
        "problem": problem,
        "exports": jobs.into_iter().map(|j| dto(j, None, &view)).collect::<Vec<_>>(),
    })))
}

pub(crate) async fn get_one(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ExportDto>, ApiError> {
    let (job, files) = s.exports.get(&ctx.user.id, &id).await?;
    Ok(Json(dto(job, Some(files), &s.exports.view(&ctx.user))))
}

/// Cancels a running export; on an ended one, removes it from the history (files stay).
pub(crate) async fn delete(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (job, _) = s.exports.get(&ctx.user.id, &id).await?;
    if job.state == ExportState::Running {
        let job = s.exports.cancel(&ctx.user.id, &id).await?;
        return Ok(Json(dto(job, None, &s.exports.view(&ctx.user))).into_response());
    }
    s.exports.delete(&ctx.user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Progress as server-sent events (`progress`, JSON of every file and the whole), ending with
/// the export: the last event is always the stored outcome.
pub(crate) async fn events(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    s.exports.get(&ctx.user.id, &id).await?;
    let place = s
        .limits
        .progress
        .take(&ctx.user.id.to_string())
        .map_err(|_| ApiError::TooManyProgress(clef_http::limits::PROGRESS_PER_USER))?;
    let live = futures::stream::unfold((s.exports.progress(&id), true), |(rx, first)| async move {
        let mut rx = rx?;
        if !first && rx.changed().await.is_err() {
            return None;
        }
        let p = rx.borrow_and_update().clone();
        let next = (p.state == "running").then_some(rx);
        Some((event_of(&p), (next, false)))
    });
    let (exports, user) = (s.exports.clone(), ctx.user.id.clone());
    let outcome = futures::stream::once(async move {
        // The user's progress place is held until the stream ends or the client leaves.
        let _place = place;
        let p = match exports.get(&user, &id).await {
            Ok((job, files)) => JobProgress::of_files(job.state.as_str(), &files),
            Err(_) => JobProgress::of("failed", Vec::new()),
        };
        event_of(&p)
    });
    Ok(
        Sse::new(live.chain(outcome))
            .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))),
    )
}

fn event_of(p: &JobProgress) -> Result<Event, Infallible> {
    Ok(Event::default()
        .event("progress")
        .data(serde_json::to_string(p).unwrap_or_default()))
}

pub(crate) async fn zip(
    Auth(ctx): Auth,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (name, stream) = s.exports.zip(&ctx.user.id, &id).await?;
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        name.replace(|c: char| !c.is_ascii_graphic() && c != ' ' || c == '"', "_"),
        percent_encode(&name)
    );
    let mut r = Body::from_stream(stream).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(clef_http::media(r))
}

/// RFC 5987 encoding of a file name for `filename*`.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
