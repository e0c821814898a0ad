//! The methods that read the catalog, as pure functions from the catalog and the request's
//! parameters to an answer. They know nothing of HTTP or of who asks: the caller has already
//! checked the login, and passes in the randomness and the user's own album lists.

mod folders;
pub mod items;
mod library;
mod lists;
mod search;

use clef_core::Random;
use clef_library::Catalog;

use crate::error::SubsonicError;
use crate::ids::{MUSIC_FOLDER_ID, MUSIC_FOLDER_NAME};
use crate::params::Params;
use crate::response::Element;

pub use folders::{get_artists, get_indexes, get_music_directory, IGNORED_ARTICLES};
pub use library::{
    get_album, get_album_info, get_album_info2, get_artist, get_artist_info, get_artist_info2,
    get_genres, get_song,
};
pub use lists::{get_album_list, get_album_list2, get_random_songs, get_songs_by_genre};
pub use search::{search2, search3};

/// The OpenSubsonic extensions Clef supports, each with its versions.
pub const EXTENSIONS: &[(&str, &[i64])] = &[
    ("apiKeyAuthentication", &[1]),
    ("formPost", &[1]),
    ("songLyrics", &[1]),
];

/// A user's own album lists, most relevant first, for `getAlbumList(2)` types that depend on who
/// asks. The caller fills them (empty until Clef keeps stars, play counts and ratings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserLists {
    /// `starred`: albums the user starred.
    pub starred: Vec<String>,
    /// `frequent`: albums played most.
    pub frequent: Vec<String>,
    /// `recent`: albums played most recently.
    pub recent: Vec<String>,
    /// `highest`: albums rated highest.
    pub highest: Vec<String>,
}

/// The methods [`dispatch`] answers, by their normalised names.
pub const METHODS: &[&str] = &[
    "ping",
    "getLicense",
    "getOpenSubsonicExtensions",
    "getMusicFolders",
    "getIndexes",
    "getMusicDirectory",
    "getArtists",
    "getArtist",
    "getArtistInfo",
    "getArtistInfo2",
    "getAlbum",
    "getAlbumInfo",
    "getAlbumInfo2",
    "getSong",
    "getAlbumList",
    "getAlbumList2",
    "getRandomSongs",
    "getSongsByGenre",
    "getGenres",
    "search2",
    "search3",
];

/// Answers a catalog method by its name (already normalised by [`crate::params::method_name`]);
/// `None` when the method is not one of [`METHODS`].
pub fn dispatch(
    method: &str,
    catalog: &Catalog,
    params: &Params,
    rng: &dyn Random,
    lists: &UserLists,
) -> Option<Result<Element, SubsonicError>> {
    let answer = match method {
        "ping" => ping(),
        "getLicense" => get_license(),
        "getOpenSubsonicExtensions" => get_open_subsonic_extensions(),
        "getMusicFolders" => get_music_folders(),
        "getIndexes" => get_indexes(catalog, params),
        "getMusicDirectory" => get_music_directory(catalog, params),
        "getArtists" => get_artists(catalog, params),
        "getArtist" => get_artist(catalog, params),
        "getArtistInfo" => get_artist_info(catalog, params),
        "getArtistInfo2" => get_artist_info2(catalog, params),
        "getAlbum" => get_album(catalog, params),
        "getAlbumInfo" => get_album_info(catalog, params),
        "getAlbumInfo2" => get_album_info2(catalog, params),
        "getSong" => get_song(catalog, params),
        "getAlbumList" => get_album_list(catalog, params, rng, lists),
        "getAlbumList2" => get_album_list2(catalog, params, rng, lists),
        "getRandomSongs" => get_random_songs(catalog, params, rng),
        "getSongsByGenre" => get_songs_by_genre(catalog, params),
        "getGenres" => get_genres(catalog),
        "search2" => search2(catalog, params),
        "search3" => search3(catalog, params),
        _ => return None,
    };
    Some(answer)
}

/// `ping`: an empty answer that tells the client the server is there and the login works.
pub fn ping() -> Result<Element, SubsonicError> {
    Ok(Element::response())
}

/// `getLicense`: always valid.
pub fn get_license() -> Result<Element, SubsonicError> {
    Ok(Element::response().child(Element::new("license").attr("valid", true)))
}

/// `getOpenSubsonicExtensions`: [`EXTENSIONS`].
pub fn get_open_subsonic_extensions() -> Result<Element, SubsonicError> {
    let items = EXTENSIONS.iter().map(|(name, versions)| {
        Element::new("openSubsonicExtensions")
            .attr("name", *name)
            .values("versions", versions.iter().copied())
    });
    Ok(Element::response().list("openSubsonicExtensions", items))
}

/// `getMusicFolders`: the one folder.
pub fn get_music_folders() -> Result<Element, SubsonicError> {
    let folder = Element::new("musicFolder")
        .attr("id", MUSIC_FOLDER_ID)
        .attr("name", MUSIC_FOLDER_NAME);
    Ok(Element::response().child(Element::new("musicFolders").list("musicFolder", [folder])))
}

/// The `id` parameter, looked up with `find`; error 10 when missing, 70 (naming `what`) when
/// nothing has it.
fn lookup<'a, T>(
    params: &'a Params,
    what: &str,
    find: impl FnOnce(&'a str) -> Option<T>,
) -> Result<T, SubsonicError> {
    let id = params.require("id")?;
    find(id).ok_or_else(|| SubsonicError::not_found(what, id))
}

/// A page of `items`.
fn page<T>(items: impl IntoIterator<Item = T>, offset: usize, count: usize) -> Vec<T> {
    items.into_iter().skip(offset).take(count).collect()
}

/// A number below `n` (which must be above 0) from the injected randomness.
fn below(rng: &dyn Random, n: usize) -> usize {
    let mut b = [0u8; 8];
    rng.fill(&mut b);
    let n64 = u64::try_from(n).unwrap_or(u64::MAX);
    usize::try_from(u64::from_le_bytes(b) % n64).unwrap_or(0)
}

/// A seed for a shuffled order.
fn seed(rng: &dyn Random) -> u64 {
    let mut b = [0u8; 8];
    rng.fill(&mut b);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_lists;
