//! One artist, album or song by id (ID3 methods), their "info" (empty: Clef looks nothing up
//! elsewhere) and genres.

use clef_library::Catalog;

use super::{items, lookup};
use crate::error::SubsonicError;
use crate::ids::{self, Item};
use crate::params::Params;
use crate::response::Element;

/// `getArtist`: the artist and its albums.
pub fn get_artist(catalog: &Catalog, params: &Params) -> Result<Element, SubsonicError> {
    let (artist, albums) = lookup(params, "artist", |id| catalog.artist(id))?;
    let e = items::artist_id3(catalog, &artist).list("album", albums.iter().map(items::album_id3));
    Ok(Element::response().child(e))
}

/// `getArtistInfo`: nothing known beyond the catalog, for any artist, album or song id.
pub fn get_artist_info(catalog: &Catalog, params: &Params) -> Result<Element, SubsonicError> {
    lookup(params, "artist", |id| ids::resolve(catalog, id))?;
    Ok(Element::response().child(Element::new("artistInfo").list("similarArtist", [])))
}

/// `getArtistInfo2`: nothing known beyond the catalog, for an artist id.
pub fn get_artist_info2(catalog: &Catalog, params: &Params) -> Result<Element, SubsonicError> {
    lookup(params, "artist", |id| catalog.artist_view(id))?;
    Ok(Element::response().child(Element::new("artistInfo2").list("similarArtist", [])))
}

/// `getAlbum`: the album and its songs in disc and track order.
pub fn get_album(catalog: &Catalog, params: &Params) -> Result<Element, SubsonicError> {
    let (album, songs) = lookup(params, "album", |id| catalog.album(id))?;
    let e = items::album_id3(&album).list("song", songs.iter().map(|t| items::song(catalog, t)));
    Ok(Element::response().child(e))
}

/// `getAlbumInfo`: nothing known beyond the catalog, for an album or song id.
pub fn get_album_info(catalog: &Catalog, params: &Params) -> Result<Element, SubsonicError> {
    lookup(params, "album", |id| match ids::resolve(catalog, id) {
        Some(Item::Album(_) | Item::Track(_)) => Some(()),
        _ => None,
    })?;
    Ok(Element::response().child(Element::new("albumInfo")))
}

/// `getAlbumInfo2`: nothing known beyond the catalog, for an album id.
pub fn get_album_info2(catalog: &Catalog, params: &Params) -> Result<Element, SubsonicError> {
    lookup(params, "album", |id| catalog.album_view(id))?;
    Ok(Element::response().child(Element::new("albumInfo")))
}

/// `getSong`.
pub fn get_song(catalog: &Catalog, params: &Params) -> Result<Element, SubsonicError> {
    let t = lookup(params, "song", |id| catalog.track(id))?;
    Ok(Element::response().child(items::song(catalog, t)))
}

/// `getGenres`: every genre with its song and album counts; the name is the element's value.
pub fn get_genres(catalog: &Catalog) -> Result<Element, SubsonicError> {
    let genres = catalog.genres().iter().map(|g| {
        Element::new("genre")
            .attr("songCount", g.track_count)
            .attr("albumCount", g.album_count)
            .text(g.name.as_str())
    });
    Ok(Element::response().child(Element::new("genres").list("genre", genres)))
}
