//! The playlist pages: the person's playlists with create and import forms, and one playlist with
//! its tracks (remove, move up and down), rename, delete and M3U8 export.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::AuthContext;
use clef_core::InputError;
use clef_http::{AppState, ClientIp};
use clef_library::{LibraryError, PlaylistEdit, PlaylistView, TrackView};
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{self, WebAuth};
use crate::csrf::{Bare, CsrfForm, CsrfToken, HasCsrf};
use crate::errors::describe_library;
use crate::format::{count, total, when};
use crate::layout::{csrf_field, Flash};
use crate::pages::library::{library_problem, subnav, track_table, Numbering, TrackTable};
use crate::pages::library_page;
use crate::reply;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreateForm {
    name: String,
    /// Comma-separated track ids (from an album's "New playlist" form), or empty.
    track_ids: String,
    csrf: String,
}

impl HasCsrf for CreateForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ImportForm {
    name: String,
    m3u8: String,
    csrf: String,
}

impl HasCsrf for ImportForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RenameForm {
    name: String,
    csrf: String,
}

impl HasCsrf for RenameForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PositionForm {
    position: String,
    csrf: String,
}

impl HasCsrf for PositionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MoveForm {
    from: String,
    to: String,
    csrf: String,
}

impl HasCsrf for MoveForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub(crate) fn split_ids(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

fn position(field: &'static str, s: &str) -> Result<usize, LibraryError> {
    s.trim().parse().map_err(|_| {
        LibraryError::Invalid(InputError {
            field,
            message: "That position is not in the playlist.".into(),
        })
    })
}

/// A return address from a form, accepted only when it is one of the library pages.
pub(crate) fn safe_back(back: &str) -> Option<&str> {
    let ok = back.starts_with("/library")
        && !back.contains("//")
        && !back.contains('\\')
        && !back.contains('#')
        && back.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(back)
}

fn list_flash(q: &ListQuery) -> Option<Flash> {
    match q.notice.as_deref()? {
        "deleted" => Flash::notice("Playlist deleted."),
        _ => None,
    }
}

async fn render_list(
    st: &AppState,
    ctx: &AuthContext,
    csrf: &CsrfToken,
    status: StatusCode,
    flash: Option<Flash>,
    import_name: &str,
) -> Response {
    let lists = match st.library.playlists(&ctx.user.id).await {
        Ok(l) => l,
        Err(e) => return library_problem(ctx, csrf, &e),
    };
    let body = html! {
        (subnav("Playlists", ""))
        h1 { "Playlists" }
        @if lists.is_empty() {
            p.empty #no-playlists { "No playlists yet. Create one below, or from an album's page." }
        } @else {
            div.table-wrap {
                table #playlists .playlists.stack {
                    thead { tr { th { "Name" } th { "Tracks" } th { "Length" } th { "Changed" } } }
                    tbody {
                        @for p in &lists {
                            tr data-playlist-id=(p.id) {
                                td.name { a href={ "/library/playlists/" (p.id) } { (p.name) } }
                                td data-label="Tracks" { (p.track_count) }
                                td data-label="Length" { (total(p.duration_ms)) }
                                td.time data-label="Changed" { (when(clef_core::Timestamp(p.updated_at))) }
                            }
                        }
                    }
                }
            }
        }
        div.panels {
            section.panel #create-playlist {
                h2 { "New playlist" }
                form.row method="post" action="/library/playlists" {
                    (csrf_field(csrf.value()))
                    div.field {
                        label for="playlist-name" { "Name" }
                        input #playlist-name type="text" name="name" maxlength="200" required;
                    }
                    button.primary type="submit" { "Create playlist" }
                }
            }
            section.panel #import-playlist {
                h2 { "Import an M3U8 playlist" }
                p.hint { "Paste the playlist, or choose the file. Entries are matched to the library by path or file name." }
                form.stacked method="post" action="/library/playlists/import" {
                    (csrf_field(csrf.value()))
                    label for="import-name" { "Name" }
                    input #import-name type="text" name="name" value=(import_name) maxlength="200" required;
                    label.js-only for="import-file" { "File" }
                    input #import-file .js-only type="file" accept=".m3u,.m3u8,audio/x-mpegurl,audio/mpegurl";
                    label for="import-m3u8" { "Playlist text" }
                    textarea #import-m3u8 name="m3u8" rows="6" required placeholder="#EXTM3U" {}
                    button type="submit" { "Import" }
                }
            }
        }
    };
    library_page(ctx, csrf, status, "Playlists", flash, body)
}

/// `GET /library/playlists`.
pub async fn list(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    Query(q): Query<ListQuery>,
) -> Response {
    render_list(&st, &ctx, &csrf, StatusCode::OK, list_flash(&q), "").await
}

/// The list page again, saying what went wrong.
async fn list_failed(
    st: &AppState,
    ctx: &AuthContext,
    csrf: &CsrfToken,
    e: &LibraryError,
    import_name: &str,
) -> Response {
    let p = describe_library(e);
    let res = render_list(
        st,
        ctx,
        csrf,
        p.status,
        Flash::error(p.message.clone()),
        import_name,
    )
    .await;
    p.decorate(res)
}

/// `POST /library/playlists`.
pub async fn create(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<CreateForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match st
        .library
        .create_playlist(&ctx.user.id, &form.name, split_ids(&form.track_ids))
        .await
    {
        Ok(p) => reply::see_other(&format!("/library/playlists/{}?notice=created", p.id)),
        Err(e) => list_failed(&st, &ctx, &csrf, &e, "").await,
    }
}

/// `POST /library/playlists/import`.
pub async fn import(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<ImportForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match st
        .library
        .import_m3u8(&ctx.user.id, &form.name, &form.m3u8)
        .await
    {
        Ok((p, unmatched)) => reply::see_other(&format!(
            "/library/playlists/{}?notice=imported&n={}&unmatched={}",
            p.id,
            p.track_count,
            unmatched.len()
        )),
        Err(e) => list_failed(&st, &ctx, &csrf, &e, &form.name).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PlaylistQuery {
    notice: Option<String>,
    n: Option<usize>,
    unmatched: Option<usize>,
}

impl PlaylistQuery {
    fn flash(&self) -> Option<Flash> {
        let n = self.n.unwrap_or(0);
        match self.notice.as_deref()? {
            "created" => Flash::notice("Playlist created."),
            "renamed" => Flash::notice("Playlist renamed."),
            "removed" => Flash::notice("Track removed."),
            "moved" => Flash::notice("Track moved."),
            "added" => Flash::notice(format!("Added {}.", count(n, "track", "tracks"))),
            "imported" => match self.unmatched.unwrap_or(0) {
                0 => Flash::notice(format!("Imported {}.", count(n, "track", "tracks"))),
                u => Flash::notice(format!(
                    "Imported {}; {} did not match any track in the library.",
                    count(n, "track", "tracks"),
                    count(u, "entry", "entries")
                )),
            },
            _ => None,
        }
    }
}

/// The remove and move buttons of one row.
fn edit_buttons(id: &str, i: usize, len: usize, csrf: &str, t: &TrackView) -> Markup {
    html! {
        span.row-edit {
            form.inline method="post" action={ "/library/playlists/" (id) "/move" } {
                (csrf_field(csrf))
                input type="hidden" name="from" value=(i);
                input type="hidden" name="to" value=(i.saturating_sub(1));
                button.subtle.icon.move-up type="submit" disabled[i == 0] aria-label={ "Move " (t.title) " up" } title="Move up" { "↑" }
            }
            form.inline method="post" action={ "/library/playlists/" (id) "/move" } {
                (csrf_field(csrf))
                input type="hidden" name="from" value=(i);
                input type="hidden" name="to" value=((i + 1).min(len.saturating_sub(1)));
                button.subtle.icon.move-down type="submit" disabled[i + 1 >= len] aria-label={ "Move " (t.title) " down" } title="Move down" { "↓" }
            }
            form.inline method="post" action={ "/library/playlists/" (id) "/remove" } {
                (csrf_field(csrf))
                input type="hidden" name="position" value=(i);
                button.danger.subtle.remove-track type="submit" aria-label={ "Remove " (t.title) " from the playlist" } { "Remove" }
            }
        }
    }
}

async fn render_playlist(
    st: &AppState,
    ctx: &AuthContext,
    csrf: &CsrfToken,
    id: &str,
    status: StatusCode,
    flash: Option<Flash>,
) -> Response {
    let p: PlaylistView = match st.library.playlist(&ctx.user.id, id).await {
        Ok(p) => p,
        Err(e) => return library_problem(ctx, csrf, &e),
    };
    let tracks = p.tracks.clone().unwrap_or_default();
    // Positions in forms are stored positions; the view leaves out tracks that left the library,
    // so when any did, the page's positions would point at the wrong entries: no editing then.
    let stored = match st.library.playlists(&ctx.user.id).await {
        Ok(all) => all.iter().find(|x| x.id == p.id).map(|x| x.track_count),
        Err(e) => return library_problem(ctx, csrf, &e),
    };
    let editable = stored == Some(tracks.len());
    let data = crate::pages::kept::kept(st, ctx).await;
    let len = tracks.len();
    let token = csrf.value().to_owned();
    let pid = p.id.clone();
    let extra = move |i: usize, t: &TrackView| edit_buttons(&pid, i, len, &token, t);
    let body = html! {
        (subnav("Playlists", ""))
        p.crumbs { a href="/library/playlists" { "Playlists" } }
        h1 #playlist-name { (p.name) }
        p.meta { (count(len, "track", "tracks")) " · " (total(p.duration_ms)) " · changed " (when(clef_core::Timestamp(p.updated_at))) }
        @if !tracks.is_empty() {
            div.album-actions {
                button #play-album .primary.js-only type="button" { "▶ Play playlist" }
                button #queue-album .js-only type="button" { "Add all to queue" }
            }
        }
        @if !editable {
            p.flash.error #playlist-stale { "Some tracks of this playlist are no longer in the library, so its order cannot be edited here." }
        }
        @if tracks.is_empty() {
            p.empty #empty-playlist { "This playlist is empty. Add tracks from an album's page or from search." }
        } @else {
            (track_table(&tracks, &TrackTable {
                numbering: Numbering::Position,
                show_album: true,
                add_to: None,
                extra: if editable { Some(&extra) } else { None },
                kept: &data,
            }))
        }
        div.panels {
            section.panel #rename-playlist {
                h2 { "Rename" }
                form.row method="post" action={ "/library/playlists/" (p.id) "/rename" } {
                    (csrf_field(csrf.value()))
                    div.field {
                        label for="rename-name" { "Name" }
                        input #rename-name type="text" name="name" value=(p.name) maxlength="200" required;
                    }
                    button type="submit" { "Rename" }
                }
            }
            section.panel #playlist-file {
                h2 { "Export and delete" }
                p { a #export-m3u8 href={ "/api/v1/playlists/" (p.id) "/m3u8" } download { "Download as M3U8" } }
                p { a #export-playlist href={ "/export?playlist=" (p.id) } { "Export the songs to files…" } }
                details.danger-zone {
                    summary { "Delete this playlist…" }
                    form.inline method="post" action={ "/library/playlists/" (p.id) "/delete" } {
                        (csrf_field(csrf.value()))
                        button.danger #delete-playlist type="submit" { "Delete “" (p.name) "”" }
                    }
                }
            }
        }
    };
    library_page(ctx, csrf, status, &p.name, flash, body)
}

/// `GET /library/playlists/{id}`.
pub async fn show(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(q): Query<PlaylistQuery>,
) -> Response {
    render_playlist(&st, &ctx, &csrf, &id, StatusCode::OK, q.flash()).await
}

/// Applies an edit from a posted form and goes back to the playlist with a notice, or shows the
/// playlist again with what went wrong.
async fn apply(
    st: &AppState,
    headers: &HeaderMap,
    ip: &str,
    csrf: &CsrfToken,
    id: &str,
    edit: Result<PlaylistEdit, LibraryError>,
    notice: &str,
) -> Response {
    let ctx = match auth::require(st, headers, ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = match edit {
        Ok(edit) => st.library.edit_playlist(&ctx.user.id, id, edit).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => reply::see_other(&format!("/library/playlists/{}?notice={notice}", p.id)),
        Err(LibraryError::NotFound(what)) => {
            library_problem(&ctx, csrf, &LibraryError::NotFound(what))
        }
        Err(e) => {
            let p = describe_library(&e);
            let res = render_playlist(
                st,
                &ctx,
                csrf,
                id,
                p.status,
                Flash::error(p.message.clone()),
            )
            .await;
            p.decorate(res)
        }
    }
}

/// `POST /library/playlists/{id}/rename`.
pub async fn rename(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<RenameForm>,
) -> Response {
    let edit = Ok(PlaylistEdit::Rename(form.name));
    apply(&st, &headers, &ip, &csrf, &id, edit, "renamed").await
}

/// `POST /library/playlists/{id}/remove`.
pub async fn remove(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<PositionForm>,
) -> Response {
    let edit = position("positions", &form.position).map(|i| PlaylistEdit::Remove(vec![i]));
    apply(&st, &headers, &ip, &csrf, &id, edit, "removed").await
}

/// `POST /library/playlists/{id}/move`.
pub async fn move_track(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<MoveForm>,
) -> Response {
    let edit = position("from", &form.from).and_then(|from| {
        Ok(PlaylistEdit::Move {
            from,
            to: position("to", &form.to)?,
        })
    });
    apply(&st, &headers, &ip, &csrf, &id, edit, "moved").await
}

/// `POST /library/playlists/{id}/delete`.
pub async fn delete(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm { csrf, .. }: CsrfForm<Bare>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match st.library.delete_playlist(&ctx.user.id, &id).await {
        Ok(()) => reply::see_other("/library/playlists?notice=deleted"),
        Err(e) => library_problem(&ctx, &csrf, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_library_pages_are_return_addresses() {
        assert_eq!(safe_back("/library/albums/ab"), Some("/library/albums/ab"));
        assert_eq!(
            safe_back("/library/search?q=a%20b"),
            Some("/library/search?q=a%20b")
        );
        for bad in [
            "https://evil.example/library",
            "//evil.example/library",
            "/library//evil",
            "/devices",
            "/library\\x",
            "/library/a b",
            "/library/é",
            "",
        ] {
            assert_eq!(safe_back(bad), None, "{bad}");
        }
    }

    #[test]
    fn ids_are_split_on_commas() {
        assert_eq!(split_ids(" a, b,,c "), ["a", "b", "c"]);
        assert!(split_ids("").is_empty());
    }
}
