//! Album lists (`getAlbumList`, `getAlbumList2`), random songs and songs by genre.

use clef_core::Random;
use clef_library::{AlbumSort, AlbumView, Catalog, TrackView};

use super::{below, items, page, seed, UserLists};
use crate::error::SubsonicError;
use crate::params::Params;
use crate::response::Element;

/// Most items one list answer holds.
const MAX_LIST: usize = 500;
const DEFAULT_LIST: usize = 10;
/// Years clients may ask about.
const MIN_YEAR: i64 = -9999;
const MAX_YEAR: i64 = 9999;

/// `getAlbumList`: albums as folders.
pub fn get_album_list(
    catalog: &Catalog,
    params: &Params,
    rng: &dyn Random,
    lists: &UserLists,
) -> Result<Element, SubsonicError> {
    let albums = album_list(catalog, params, rng, lists)?;
    let list =
        Element::new("albumList").list("album", albums.iter().map(|a| items::album_dir(a, None)));
    Ok(Element::response().child(list))
}

/// `getAlbumList2`: albums as `AlbumID3`.
pub fn get_album_list2(
    catalog: &Catalog,
    params: &Params,
    rng: &dyn Random,
    lists: &UserLists,
) -> Result<Element, SubsonicError> {
    let albums = album_list(catalog, params, rng, lists)?;
    let list = Element::new("albumList2").list("album", albums.iter().map(items::album_id3));
    Ok(Element::response().child(list))
}

/// The page of albums of the asked list `type`.
fn album_list(
    catalog: &Catalog,
    params: &Params,
    rng: &dyn Random,
    lists: &UserLists,
) -> Result<Vec<AlbumView>, SubsonicError> {
    let kind = params.require("type")?;
    let size = params.count("size", DEFAULT_LIST, MAX_LIST)?;
    let offset = params.offset("offset")?;
    let sorted = |sort| catalog.albums(sort, None, offset, size).1;
    let user = |ids: &[String]| {
        page(
            ids.iter().filter_map(|id| catalog.album_view(id).cloned()),
            offset,
            size,
        )
    };
    Ok(match kind {
        "random" => sorted(AlbumSort::Random(seed(rng))),
        "newest" => sorted(AlbumSort::RecentlyAdded),
        "alphabeticalByName" => sorted(AlbumSort::Name),
        "alphabeticalByArtist" => sorted(AlbumSort::Artist),
        "byGenre" => {
            let genre = params.require("genre")?;
            catalog.albums(AlbumSort::Name, Some(genre), offset, size).1
        }
        "byYear" => {
            let from = params.require_int("fromYear", MIN_YEAR, MAX_YEAR)?;
            let to = params.require_int("toYear", MIN_YEAR, MAX_YEAR)?;
            let (low, high) = (from.min(to), from.max(to));
            let (_, all) = catalog.albums(AlbumSort::Name, None, 0, usize::MAX);
            let mut hits: Vec<AlbumView> = all
                .into_iter()
                .filter(|a| a.year.is_some_and(|y| (low..=high).contains(&y)))
                .collect();
            // Stable sorts keep albums of one year in name order either way.
            if from <= to {
                hits.sort_by_key(|a| a.year);
            } else {
                hits.sort_by_key(|a| std::cmp::Reverse(a.year));
            }
            page(hits, offset, size)
        }
        "starred" => user(&lists.starred),
        "frequent" => user(&lists.frequent),
        "recent" => user(&lists.recent),
        "highest" => user(&lists.highest),
        other => {
            return Err(SubsonicError::generic(format!(
                "Unknown album list type {other:?}: use random, newest, highest, frequent, \
                 recent, alphabeticalByName, alphabeticalByArtist, starred, byYear or byGenre"
            )))
        }
    })
}

/// `getRandomSongs`: up to `size` songs drawn without repeats, optionally of a genre and within
/// years.
pub fn get_random_songs(
    catalog: &Catalog,
    params: &Params,
    rng: &dyn Random,
) -> Result<Element, SubsonicError> {
    let size = params.count("size", DEFAULT_LIST, MAX_LIST)?;
    let genre = params
        .get("genre")
        .filter(|g| !g.is_empty())
        .map(str::to_lowercase);
    let from = params.int_in("fromYear", MIN_YEAR, MAX_YEAR)?;
    let to = params.int_in("toYear", MIN_YEAR, MAX_YEAR)?;
    let mut pool: Vec<&TrackView> = catalog
        .tracks()
        .filter(|t| genre.as_deref().is_none_or(|g| has_genre(t, g)))
        .filter(|t| match (from, to, t.year) {
            (None, None, _) => true,
            (_, _, None) => false,
            (from, to, Some(y)) => from.is_none_or(|f| y >= f) && to.is_none_or(|t| y <= t),
        })
        .collect();
    // A partial Fisher-Yates shuffle: the first `take` places end up a uniform draw.
    let take = size.min(pool.len());
    for i in 0..take {
        let j = i + below(rng, pool.len() - i);
        pool.swap(i, j);
    }
    pool.truncate(take);
    let songs = pool.into_iter().map(|t| items::song(catalog, t));
    Ok(Element::response().child(Element::new("randomSongs").list("song", songs)))
}

/// `getSongsByGenre`: songs of the genre (any case), in the catalog's stable order.
pub fn get_songs_by_genre(catalog: &Catalog, params: &Params) -> Result<Element, SubsonicError> {
    let genre = params.require("genre")?.to_lowercase();
    let count = params.count("count", DEFAULT_LIST, MAX_LIST)?;
    let offset = params.offset("offset")?;
    let songs = page(
        catalog.tracks().filter(|t| has_genre(t, &genre)),
        offset,
        count,
    );
    let songs = songs.into_iter().map(|t| items::song(catalog, t));
    Ok(Element::response().child(Element::new("songsByGenre").list("song", songs)))
}

/// Whether the track has the genre, given in lower case.
fn has_genre(t: &TrackView, folded: &str) -> bool {
    t.genres.iter().any(|g| g.to_lowercase() == folded)
}
