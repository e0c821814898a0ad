//! What a listener keeps: `star`/`unstar`, `setRating`, `scrobble`, `getStarred(2)`,
//! `getNowPlaying`, `getPlayQueue`/`savePlayQueue`; and [`annotate`], which adds the user's
//! stars, ratings and plays to every song, album and artist an answer shows.

use clef_accounts::AuthContext;
use clef_core::Timestamp;
use clef_http::AppState;
use clef_library::{Catalog, UserData};
use clef_store::ItemKind;

use crate::browse::items::{album_dir, album_id3, artist, artist_id3, iso8601, song};
use crate::browse::UserLists;
use crate::error::SubsonicError;
use crate::params::Params;
use crate::refusal::from_library;
use crate::response::{Attr, Element, Node};

/// The elements that stand for a song, an album or an artist, by the names answers give them.
const ANNOTATED: &[&str] = &["song", "child", "entry", "album", "artist", "directory"];

/// Adds `starred`, `userRating`, `playCount` and `played` to every song, album, artist and
/// directory in `e` that the user annotated.
pub fn annotate(e: &mut Element, data: &UserData) {
    if data.is_empty() {
        return;
    }
    if ANNOTATED.contains(&e.name) {
        let found = match e.get("id") {
            Some(Attr::Str(id)) => data.get(id),
            _ => None,
        };
        if let Some(a) = found {
            if let Some(t) = a.starred_at {
                e.attrs.push(("starred", Attr::Str(iso8601(t.0))));
            }
            if a.rating > 0 {
                e.attrs.push(("userRating", Attr::Int(a.rating)));
            }
            if a.play_count > 0 {
                e.attrs.push(("playCount", Attr::Int(a.play_count)));
            }
            if let Some(t) = a.played_at {
                e.attrs.push(("played", Attr::Str(iso8601(t.0))));
            }
        }
    }
    for child in &mut e.children {
        match child {
            Node::One(c) => annotate(c, data),
            Node::List(_, items) => items.iter_mut().for_each(|c| annotate(c, data)),
            Node::Values(..) => {}
        }
    }
}

/// The user's own album lists for `getAlbumList(2)`.
pub fn user_lists(data: &UserData) -> UserLists {
    UserLists {
        starred: data.starred(ItemKind::Album),
        frequent: data.most_played(ItemKind::Album),
        recent: data.recently_played(ItemKind::Album),
        highest: data.highest_rated(ItemKind::Album),
    }
}

/// `getStarred` (folder shapes) or `getStarred2` (ID3 shapes).
pub fn get_starred(catalog: &Catalog, data: &UserData, id3: bool) -> Element {
    let artists = data
        .starred(ItemKind::Artist)
        .into_iter()
        .filter_map(|id| catalog.artist_view(&id))
        .map(|a| {
            if id3 {
                artist_id3(catalog, a)
            } else {
                artist(a)
            }
        })
        .collect::<Vec<_>>();
    let albums = data
        .starred(ItemKind::Album)
        .into_iter()
        .filter_map(|id| catalog.album_view(&id))
        .map(|a| {
            if id3 {
                album_id3(a)
            } else {
                album_dir(a, a.artists.first().map(|r| r.id.as_str()))
            }
        })
        .collect::<Vec<_>>();
    let songs = data
        .starred(ItemKind::Song)
        .into_iter()
        .filter_map(|id| catalog.track(&id))
        .map(|t| song(catalog, t))
        .collect::<Vec<_>>();
    let name = if id3 { "starred2" } else { "starred" };
    Element::response().child(
        Element::new(name)
            .list("artist", artists)
            .list("album", albums)
            .list("song", songs),
    )
}

/// `star` and `unstar`: any of `id` (songs, or any item), `albumId` and `artistId`, each
/// repeatable; nothing changes unless every id is known.
pub(crate) async fn star(
    st: &AppState,
    ctx: &AuthContext,
    p: &Params,
    starred: bool,
) -> Result<Element, SubsonicError> {
    let mut ids = p.all("id");
    ids.extend(p.all("albumId"));
    ids.extend(p.all("artistId"));
    if ids.is_empty() {
        return Err(SubsonicError::missing_parameter("id"));
    }
    st.library
        .set_starred(&ctx.user.id, &ids, starred)
        .await
        .map_err(from_library)?;
    Ok(Element::response())
}

/// `setRating`: `id` and `rating` 0 (none) to 5.
pub(crate) async fn set_rating(
    st: &AppState,
    ctx: &AuthContext,
    p: &Params,
) -> Result<Element, SubsonicError> {
    let id = p.require("id")?;
    let rating = p.require_int("rating", 0i64, 5)?;
    st.library
        .set_rating(&ctx.user.id, id, rating)
        .await
        .map_err(from_library)?;
    Ok(Element::response())
}

/// `scrobble`: with `submission` (the default) counts a play of each `id` at its `time`
/// (milliseconds), else says the device is playing the first `id` now.
pub(crate) async fn scrobble(
    st: &AppState,
    ctx: &AuthContext,
    p: &Params,
) -> Result<Element, SubsonicError> {
    let ids = p.require_all("id")?;
    let submission = p.bool("submission", true)?;
    if !submission {
        st.library
            .set_now_playing(&ctx.user.id, &ctx.device.id, ids[0])
            .await
            .map_err(from_library)?;
        return Ok(Element::response());
    }
    let times = p.all("time");
    if !times.is_empty() && times.len() != ids.len() {
        return Err(SubsonicError::generic(
            "Give one time for each id, or none at all.",
        ));
    }
    let mut at = Vec::with_capacity(ids.len());
    for t in &times {
        let ms: i64 = t.parse().map_err(|_| {
            SubsonicError::generic(format!("time must be milliseconds since 1970, not {t:?}"))
        })?;
        at.push(Some(Timestamp(ms)));
    }
    at.resize(ids.len(), None);
    for (id, at) in ids.iter().zip(at) {
        st.library
            .record_play(&ctx.user.id, id, at)
            .await
            .map_err(from_library)?;
    }
    Ok(Element::response())
}

/// `getNowPlaying`: what the user's devices are playing.
pub(crate) async fn get_now_playing(
    st: &AppState,
    ctx: &AuthContext,
) -> Result<Element, SubsonicError> {
    let playing = st
        .library
        .now_playing(&ctx.user.id)
        .await
        .map_err(from_library)?;
    let catalog = st.library.catalog();
    let entries = playing.iter().map(|p| {
        song(&catalog, &p.track)
            .attr("username", ctx.user.username.as_str())
            .attr("minutesAgo", p.minutes_ago)
            .attr("playerId", player_number(p.entry.device_id.as_str()))
            .attr("playerName", p.entry.device_name.as_str())
    });
    Ok(Element::response().child(Element::new("nowPlaying").list("entry", entries)))
}

/// The protocol types a player's id as a number: a stable one made from the device's id.
fn player_number(device_id: &str) -> i64 {
    let h = device_id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    i64::from(h & 0x7fff_ffff)
}

/// `getPlayQueue`: the saved queue, or an empty answer when there is none.
pub(crate) async fn get_play_queue(
    st: &AppState,
    ctx: &AuthContext,
) -> Result<Element, SubsonicError> {
    let Some(q) = st
        .library
        .play_queue(&ctx.user.id)
        .await
        .map_err(from_library)?
    else {
        return Ok(Element::response());
    };
    let catalog = st.library.catalog();
    let entries = q
        .track_ids
        .iter()
        .filter_map(|id| catalog.track(id))
        .map(|t| song(&catalog, t));
    Ok(Element::response().child(
        Element::new("playQueue")
            .opt("current", q.current.as_deref())
            .attr("position", q.position_ms)
            .attr("username", ctx.user.username.as_str())
            .attr("changed", iso8601(q.changed_at.0))
            .attr("changedBy", q.changed_by.as_str())
            .list("entry", entries),
    ))
}

/// `savePlayQueue`: `id` repeated in order, `current`, `position` in milliseconds. No `id` at all
/// clears the queue.
pub(crate) async fn save_play_queue(
    st: &AppState,
    ctx: &AuthContext,
    p: &Params,
) -> Result<Element, SubsonicError> {
    let ids: Vec<String> = p.all("id").into_iter().map(str::to_owned).collect();
    let current = p
        .get("current")
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let position = p.int_in("position", 0i64, i64::MAX)?.unwrap_or(0);
    let client = p.get("c").unwrap_or("");
    st.library
        .save_play_queue(&ctx.user.id, ids, current, position, client)
        .await
        .map_err(from_library)?;
    Ok(Element::response())
}
