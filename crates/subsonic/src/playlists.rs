//! `getPlaylists`, `getPlaylist`, `createPlaylist`, `updatePlaylist`, `deletePlaylist`, over the
//! same playlists as the web page and the REST API (a user sees only their own).

use clef_accounts::AuthContext;
use clef_http::AppState;
use clef_library::{Catalog, PlaylistEdit, PlaylistView};

use crate::browse::items::{iso8601, seconds, song};
use crate::error::SubsonicError;
use crate::params::Params;
use crate::refusal::from_library;
use crate::response::Element;

fn playlist(catalog: &Catalog, owner: &str, p: &PlaylistView) -> Element {
    let mut e = Element::new("playlist")
        .attr("id", p.id.as_str())
        .attr("name", p.name.as_str())
        .attr("owner", owner)
        .attr("public", false)
        .attr("songCount", p.track_count)
        .attr("duration", seconds(p.duration_ms))
        .attr("created", iso8601(p.created_at))
        .attr("changed", iso8601(p.updated_at));
    if let Some(tracks) = &p.tracks {
        e = e.list("entry", tracks.iter().map(|t| song(catalog, t)));
    }
    e
}

pub(crate) async fn read(
    st: &AppState,
    ctx: &AuthContext,
    method: &str,
    p: &Params,
) -> Result<Element, SubsonicError> {
    let catalog = st.library.catalog();
    let owner = ctx.user.username.as_str();
    if method == "getPlaylists" {
        if let Some(u) = p.get("username").filter(|u| *u != owner) {
            return Err(SubsonicError::not_authorized(&format!(
                "the playlists of {u}"
            )));
        }
        let all = st
            .library
            .playlists(&ctx.user.id)
            .await
            .map_err(from_library)?;
        let list = Element::new("playlists")
            .list("playlist", all.iter().map(|x| playlist(&catalog, owner, x)));
        return Ok(Element::response().child(list));
    }
    let id = p.require("id")?;
    let one = st
        .library
        .playlist(&ctx.user.id, id)
        .await
        .map_err(from_library)?;
    Ok(Element::response().child(playlist(&catalog, owner, &one)))
}

pub(crate) async fn write(
    st: &AppState,
    ctx: &AuthContext,
    method: &str,
    p: &Params,
) -> Result<Element, SubsonicError> {
    let lib = &st.library;
    let user = &ctx.user.id;
    let owned = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<Vec<_>>();
    match method {
        "createPlaylist" => {
            let songs = owned(p.all("songId"));
            let made = match p.get("playlistId") {
                // With an id, the playlist's songs are replaced.
                Some(id) => {
                    lib.edit_playlist(user, id, PlaylistEdit::Replace(songs))
                        .await
                        .map_err(from_library)?;
                    if let Some(name) = p.get("name") {
                        lib.edit_playlist(user, id, PlaylistEdit::Rename(name.to_owned()))
                            .await
                            .map_err(from_library)?;
                    }
                    lib.playlist(user, id).await.map_err(from_library)?
                }
                None => {
                    let name = p.require("name")?;
                    lib.create_playlist(user, name, songs)
                        .await
                        .map_err(from_library)?
                }
            };
            let catalog = lib.catalog();
            Ok(Element::response().child(playlist(&catalog, &ctx.user.username, &made)))
        }
        "updatePlaylist" => {
            let id = p.require("playlistId")?;
            // Checked before anything changes: a bad index loses nothing.
            let mut remove = Vec::new();
            for v in p.all("songIndexToRemove") {
                remove.push(v.parse::<usize>().map_err(|_| {
                    SubsonicError::generic(format!("songIndexToRemove {v:?} is not a position"))
                })?);
            }
            let current = lib.playlist(user, id).await.map_err(from_library)?;
            if let Some(bad) = remove.iter().find(|i| **i >= current.track_count) {
                return Err(SubsonicError::generic(format!(
                    "songIndexToRemove {bad}: the playlist has {} songs",
                    current.track_count
                )));
            }
            if let Some(name) = p.get("name") {
                lib.edit_playlist(user, id, PlaylistEdit::Rename(name.to_owned()))
                    .await
                    .map_err(from_library)?;
            }
            if !remove.is_empty() {
                lib.edit_playlist(user, id, PlaylistEdit::Remove(remove))
                    .await
                    .map_err(from_library)?;
            }
            let add = owned(p.all("songIdToAdd"));
            if !add.is_empty() {
                lib.edit_playlist(
                    user,
                    id,
                    PlaylistEdit::Add {
                        track_ids: add,
                        position: None,
                    },
                )
                .await
                .map_err(from_library)?;
            }
            Ok(Element::response())
        }
        _ => {
            let id = p.require("id")?;
            lib.delete_playlist(user, id).await.map_err(from_library)?;
            Ok(Element::response())
        }
    }
}
