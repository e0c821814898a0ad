//! `search2` and `search3`. An empty query (or `""`, as some clients send) lists the whole
//! library, page by page in a stable order: syncing clients such as Symfonium read everything
//! this way, so each artist, album and song must come exactly once across the pages.

use clef_library::{AlbumSort, AlbumView, ArtistView, Catalog, TrackView};

use super::{items, page};
use crate::error::SubsonicError;
use crate::params::Params;
use crate::response::Element;

const DEFAULT_COUNT: usize = 20;
const MAX_COUNT: usize = 500;

/// `search2`: folder-style results.
pub fn search2(catalog: &Catalog, params: &Params) -> Result<Element, SubsonicError> {
    let hits = search(catalog, params)?;
    let e = Element::new("searchResult2")
        .list("artist", hits.artists.iter().map(items::artist))
        .list(
            "album",
            hits.albums.iter().map(|a| items::album_dir(a, None)),
        )
        .list("song", hits.songs.iter().map(|t| items::song(catalog, t)));
    Ok(Element::response().child(e))
}

/// `search3`: ID3 results.
pub fn search3(catalog: &Catalog, params: &Params) -> Result<Element, SubsonicError> {
    let hits = search(catalog, params)?;
    let e = Element::new("searchResult3")
        .list(
            "artist",
            hits.artists.iter().map(|a| items::artist_id3(catalog, a)),
        )
        .list("album", hits.albums.iter().map(items::album_id3))
        .list("song", hits.songs.iter().map(|t| items::song(catalog, t)));
    Ok(Element::response().child(e))
}

struct Hits {
    artists: Vec<ArtistView>,
    albums: Vec<AlbumView>,
    songs: Vec<TrackView>,
}

/// One page of each kind: (count, offset) per kind from `<kind>Count` and `<kind>Offset`.
struct Pages {
    artists: (usize, usize),
    albums: (usize, usize),
    songs: (usize, usize),
}

impl Pages {
    fn read(params: &Params) -> Result<Pages, SubsonicError> {
        let kind = |count, offset| -> Result<(usize, usize), SubsonicError> {
            Ok((
                params.count(count, DEFAULT_COUNT, MAX_COUNT)?,
                params.offset(offset)?,
            ))
        };
        Ok(Pages {
            artists: kind("artistCount", "artistOffset")?,
            albums: kind("albumCount", "albumOffset")?,
            songs: kind("songCount", "songOffset")?,
        })
    }

    /// How many matches of each kind a search must collect to fill every page.
    fn reach(&self) -> usize {
        [self.artists, self.albums, self.songs]
            .iter()
            .map(|(count, offset)| offset.saturating_add(*count))
            .max()
            .unwrap_or(0)
    }
}

fn search(catalog: &Catalog, params: &Params) -> Result<Hits, SubsonicError> {
    let query = params.require("query")?;
    let pages = Pages::read(params)?;
    let words = query.trim().trim_matches(|c| c == '"' || c == '*').trim();
    if words.is_empty() {
        let (count, offset) = pages.albums;
        return Ok(Hits {
            artists: page(catalog.artists(), pages.artists.1, pages.artists.0),
            albums: catalog.albums(AlbumSort::Name, None, offset, count).1,
            songs: page(catalog.tracks(), pages.songs.1, pages.songs.0)
                .into_iter()
                .cloned()
                .collect(),
        });
    }
    let found = catalog.search(words, pages.reach());
    Ok(Hits {
        artists: page(found.artists, pages.artists.1, pages.artists.0),
        albums: page(found.albums, pages.albums.1, pages.albums.0),
        songs: page(found.tracks, pages.songs.1, pages.songs.0),
    })
}
