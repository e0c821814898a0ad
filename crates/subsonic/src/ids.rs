//! What a Subsonic id names. Ids are Clef's own catalog ids (artists and albums derived from their
//! names, tracks from the store); an id is only ever looked up, never taken as a path.

use clef_library::{AlbumView, ArtistView, Catalog, TrackView};

/// The one music folder (`getMusicFolders`). The protocol types folder ids as integers.
pub const MUSIC_FOLDER_ID: i64 = 1;
pub const MUSIC_FOLDER_NAME: &str = "Music";

/// What an id names in the catalog.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Item<'a> {
    Artist(&'a ArtistView),
    Album(&'a AlbumView),
    Track(&'a TrackView),
}

/// Looks an id up among artists, albums and tracks.
pub fn resolve<'a>(catalog: &'a Catalog, id: &str) -> Option<Item<'a>> {
    if let Some(a) = catalog.artist_view(id) {
        return Some(Item::Artist(a));
    }
    if let Some(a) = catalog.album_view(id) {
        return Some(Item::Album(a));
    }
    catalog.track(id).map(Item::Track)
}

/// Whose picture a `coverArt` id (or any id a client passes to `getCoverArt`) stands for: the
/// HTTP layer answers with `Library::album_cover` or `Library::track_cover` accordingly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverRef<'a> {
    Album(&'a str),
    Track(&'a str),
}

/// The picture for an id: an album's cover; for a track its album's cover, else its own; for an
/// artist the cover of its first album that has one. `None` when there is no picture.
pub fn cover_of<'a>(catalog: &'a Catalog, id: &str) -> Option<CoverRef<'a>> {
    match resolve(catalog, id)? {
        Item::Album(a) => a.has_cover.then_some(CoverRef::Album(&a.id)),
        Item::Track(t) => track_cover_art(catalog, t).map(|id| {
            if id == t.id {
                CoverRef::Track(&t.id)
            } else {
                CoverRef::Album(&t.album_id)
            }
        }),
        Item::Artist(a) => catalog
            .artist_cover_album(&a.id)
            .map(|al| CoverRef::Album(&al.id)),
    }
}

/// An album's `coverArt`: its own id when it has a cover.
pub fn album_cover_art(album: &AlbumView) -> Option<&str> {
    album.has_cover.then_some(album.id.as_str())
}

/// A track's `coverArt`: its album's id when the album has a cover, else its own id when the track
/// has a picture.
pub fn track_cover_art<'a>(catalog: &Catalog, track: &'a TrackView) -> Option<&'a str> {
    let album_has_cover = catalog
        .album_view(&track.album_id)
        .is_some_and(|a| a.has_cover);
    if album_has_cover {
        Some(&track.album_id)
    } else if track.has_cover {
        Some(&track.id)
    } else {
        None
    }
}

/// An artist's `coverArt`: the id of its first album that has a cover.
pub fn artist_cover_art<'a>(catalog: &'a Catalog, artist_id: &str) -> Option<&'a str> {
    catalog.artist_cover_album(artist_id).map(|a| a.id.as_str())
}
