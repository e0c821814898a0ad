//! The artist indexes (`getIndexes`, `getArtists`) and folder browsing (`getMusicDirectory`).
//! Clef has no folders to show: an artist is a folder of albums, an album a folder of songs.

use std::collections::BTreeMap;

use clef_library::{ArtistView, Catalog};

use super::{items, lookup};
use crate::error::SubsonicError;
use crate::ids::{self, Item};
use crate::params::Params;
use crate::response::Element;

/// Leading words that sorting and indexing skip ("The Beatles" under B).
pub const IGNORED_ARTICLES: &str = "The El La Los Las Le Les";

/// `getIndexes`: artists under the letter they sort by. With `ifModifiedSince` at or after the
/// last change, only the time of that change.
pub fn get_indexes(catalog: &Catalog, params: &Params) -> Result<Element, SubsonicError> {
    let since = params.int_in("ifModifiedSince", 0, i64::MAX)?;
    let modified = last_modified(catalog);
    let mut indexes = Element::new("indexes")
        .attr("lastModified", modified)
        .attr("ignoredArticles", IGNORED_ARTICLES);
    if since.is_none_or(|s| modified > s) {
        let artists = catalog.artists();
        let groups = grouped(&artists).into_iter().map(|(letter, group)| {
            Element::new("index")
                .attr("name", letter)
                .list("artist", group.into_iter().map(items::artist))
        });
        indexes = indexes.list("index", groups);
    }
    Ok(Element::response().child(indexes))
}

/// `getArtists`: every artist (ID3) under the letter it sorts by.
pub fn get_artists(catalog: &Catalog, _params: &Params) -> Result<Element, SubsonicError> {
    let artists = catalog.artists();
    let groups = grouped(&artists).into_iter().map(|(letter, group)| {
        Element::new("index").attr("name", letter).list(
            "artist",
            group.into_iter().map(|a| items::artist_id3(catalog, a)),
        )
    });
    let index = Element::new("artists")
        .attr("ignoredArticles", IGNORED_ARTICLES)
        .list("index", groups);
    Ok(Element::response().child(index))
}

/// `getMusicDirectory`: an artist's albums, or an album's songs.
pub fn get_music_directory(catalog: &Catalog, params: &Params) -> Result<Element, SubsonicError> {
    let dir = match lookup(params, "directory", |id| ids::resolve(catalog, id))? {
        Item::Artist(a) => {
            let albums = catalog.artist(&a.id).map(|(_, al)| al).unwrap_or_default();
            Element::new("directory")
                .attr("id", a.id.as_str())
                .attr("name", a.name.as_str())
                .list(
                    "child",
                    albums.iter().map(|al| items::album_dir(al, Some(&a.id))),
                )
        }
        Item::Album(a) => {
            let songs = catalog.album(&a.id).map(|(_, s)| s).unwrap_or_default();
            Element::new("directory")
                .attr("id", a.id.as_str())
                .opt("parent", a.artists.first().map(|r| r.id.as_str()))
                .attr("name", a.name.as_str())
                .list("child", songs.iter().map(|t| items::song(catalog, t)))
        }
        Item::Track(t) => return Err(SubsonicError::not_found("directory", &t.id)),
    };
    Ok(Element::response().child(dir))
}

/// When the library last changed, in milliseconds since the epoch.
fn last_modified(catalog: &Catalog) -> i64 {
    catalog
        .records()
        .map(|r| r.updated_at.0.max(r.added_at.0))
        .max()
        .unwrap_or(0)
}

/// Artists grouped by index letter, letters in order and artists by name within each.
fn grouped(artists: &[ArtistView]) -> Vec<(String, Vec<&ArtistView>)> {
    let mut groups: BTreeMap<String, Vec<(String, &ArtistView)>> = BTreeMap::new();
    for a in artists {
        let key = sort_name(&a.name);
        groups
            .entry(index_letter(key))
            .or_default()
            .push((key.to_lowercase(), a));
    }
    groups
        .into_iter()
        .map(|(letter, mut group)| {
            group.sort_by(|(x, a), (y, b)| x.cmp(y).then_with(|| a.id.cmp(&b.id)));
            (letter, group.into_iter().map(|(_, a)| a).collect())
        })
        .collect()
}

/// The name without a leading ignored article.
fn sort_name(name: &str) -> &str {
    let name = name.trim();
    for article in IGNORED_ARTICLES.split(' ') {
        let Some(head) = name.get(..article.len()) else {
            continue;
        };
        let rest = &name[article.len()..];
        if head.eq_ignore_ascii_case(article) && rest.starts_with(' ') && !rest.trim().is_empty() {
            return rest.trim_start();
        }
    }
    name
}

/// The index a name sorts under: its first letter, upper case, or `#`.
fn index_letter(sort_name: &str) -> String {
    match sort_name.chars().next() {
        Some(c) if c.is_alphabetic() => c.to_uppercase().collect(),
        _ => "#".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_are_skipped_for_the_index() {
        assert_eq!(sort_name("The Beatles"), "Beatles");
        assert_eq!(sort_name("the beatles"), "beatles");
        assert_eq!(sort_name("Les Négresses Vertes"), "Négresses Vertes");
        assert_eq!(sort_name("The"), "The");
        assert_eq!(sort_name("Theatre of Tragedy"), "Theatre of Tragedy");
        assert_eq!(sort_name("Lastly"), "Lastly");
        assert_eq!(index_letter("beatles"), "B");
        assert_eq!(index_letter("2Pac"), "#");
        assert_eq!(index_letter("élan"), "É");
        assert_eq!(index_letter(""), "#");
    }
}
