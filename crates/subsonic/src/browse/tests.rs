//! Errors, the fields of songs, albums and artists, indexes, folders and the fixed answers.

use clef_library::Catalog;

use super::conformance::artist_id;
use super::*;
use crate::fixture::{small, track_id, SeqRandom, T0};
use crate::response::Attr;

pub(super) fn call(
    c: &Catalog,
    method: &str,
    pairs: &[(&str, &str)],
) -> Result<Element, SubsonicError> {
    call_with(c, method, pairs, &UserLists::default())
}

pub(super) fn call_with(
    c: &Catalog,
    method: &str,
    pairs: &[(&str, &str)],
    lists: &UserLists,
) -> Result<Element, SubsonicError> {
    let params = Params::from_pairs(pairs.iter().copied());
    dispatch(method, c, &params, &SeqRandom::new(1), lists).expect("a catalog method")
}

pub(super) fn ok(c: &Catalog, method: &str, pairs: &[(&str, &str)]) -> Element {
    call(c, method, pairs).unwrap_or_else(|e| panic!("{method}: {e}"))
}

pub(super) fn s<'a>(e: &'a Element, name: &str) -> &'a str {
    e.get(name)
        .and_then(Attr::as_str)
        .unwrap_or_else(|| panic!("{} has no string {name}", e.name))
}

pub(super) fn n(e: &Element, name: &str) -> i64 {
    e.get(name)
        .and_then(Attr::as_int)
        .unwrap_or_else(|| panic!("{} has no number {name}", e.name))
}

pub(super) fn album_id(c: &Catalog, name: &str) -> String {
    let (_, all) = c.albums(clef_library::AlbumSort::Name, None, 0, usize::MAX);
    all.into_iter().find(|a| a.name == name).unwrap().id
}

pub(super) fn names(list: &[Element], attr: &str) -> Vec<String> {
    list.iter().map(|e| s(e, attr).to_owned()).collect()
}

#[test]
fn missing_parameters_are_error_10_and_unknown_ids_error_70() {
    let c = small();
    for method in [
        "getMusicDirectory",
        "getArtist",
        "getArtistInfo",
        "getArtistInfo2",
        "getAlbum",
        "getAlbumInfo",
        "getAlbumInfo2",
        "getSong",
    ] {
        let e = call(&c, method, &[]).unwrap_err();
        assert_eq!((e.code, method), (10, method));
        assert!(e.message.contains("id"), "{}", e.message);
        let e = call(&c, method, &[("id", "nope")]).unwrap_err();
        assert_eq!((e.code, method), (70, method));
        assert!(e.message.contains("nope"), "{}", e.message);
    }
    // Ids of the wrong kind are not found either.
    let song = track_id(1);
    for method in [
        "getMusicDirectory",
        "getArtist",
        "getAlbum",
        "getAlbumInfo2",
    ] {
        assert_eq!(call(&c, method, &[("id", &song)]).unwrap_err().code, 70);
    }
    let album = album_id(&c, "Abbey Road");
    for method in ["getSong", "getArtistInfo2"] {
        assert_eq!(call(&c, method, &[("id", &album)]).unwrap_err().code, 70);
    }
    let missing = |method, pairs: &[(&str, &str)], name: &str| {
        let e = call(&c, method, pairs).unwrap_err();
        assert_eq!(e.code, 10, "{method} {pairs:?}");
        assert!(e.message.contains(name), "{}", e.message);
    };
    missing("getAlbumList2", &[], "type");
    missing(
        "getAlbumList",
        &[("type", "byYear"), ("toYear", "1")],
        "fromYear",
    );
    missing(
        "getAlbumList2",
        &[("type", "byYear"), ("fromYear", "1")],
        "toYear",
    );
    missing("getAlbumList2", &[("type", "byGenre")], "genre");
    missing("getSongsByGenre", &[], "genre");
    missing("search3", &[], "query");
    missing("search2", &[], "query");
    let bad = call(&c, "getAlbumList2", &[("type", "loudest")]).unwrap_err();
    assert_eq!(bad.code, 0);
    assert!(bad.message.contains("loudest"));
    let bad = call(&c, "getRandomSongs", &[("size", "-3")]).unwrap_err();
    assert_eq!(bad.code, 0);
    assert!(bad.message.contains("size"));
    assert!(dispatch(
        "stream",
        &c,
        &Params::default(),
        &SeqRandom::new(1),
        &UserLists::default()
    )
    .is_none());
}

#[test]
fn a_song_has_the_subsonic_and_opensubsonic_fields() {
    let c = small();
    let album = album_id(&c, "Abbey Road");
    let song = ok(&c, "getSong", &[("id", &track_id(1))]);
    let t = song.find("song").unwrap();
    assert_eq!(s(t, "id"), track_id(1));
    assert_eq!(s(t, "parent"), album);
    assert_eq!(s(t, "albumId"), album);
    assert_eq!(t.get("isDir"), Some(&Attr::Bool(false)));
    assert_eq!(t.get("isVideo"), Some(&Attr::Bool(false)));
    assert_eq!(s(t, "title"), "Come Together");
    assert_eq!(s(t, "album"), "Abbey Road");
    assert_eq!(s(t, "artist"), "The Beatles");
    assert_eq!(s(t, "artistId"), artist_id(&c, "The Beatles"));
    assert_eq!(
        (n(t, "track"), n(t, "discNumber"), n(t, "year")),
        (1, 1, 1969)
    );
    assert_eq!(s(t, "genre"), "Rock");
    assert_eq!(
        s(t, "coverArt"),
        album,
        "the album's cover stands for the song"
    );
    assert_eq!(n(t, "size"), 4_000_001);
    assert_eq!(
        (s(t, "contentType"), s(t, "suffix")),
        ("audio/flac", "flac")
    );
    assert_eq!(n(t, "duration"), 185, "whole seconds");
    assert_eq!(n(t, "bitRate"), 900);
    assert_eq!(
        (n(t, "bitDepth"), n(t, "samplingRate"), n(t, "channelCount")),
        (16, 44_100, 2)
    );
    assert_eq!(
        s(t, "path"),
        "The Beatles/Abbey Road/01 - Come Together.flac"
    );
    assert_eq!(s(t, "created"), "2020-09-13T12:26:40.000Z");
    assert_eq!((s(t, "type"), s(t, "mediaType")), ("music", "song"));
    assert_eq!(s(t, "comment"), "remastered");
    assert_eq!(s(t, "displayArtist"), "The Beatles");
    assert_eq!(s(t, "displayAlbumArtist"), "The Beatles");
    assert_eq!(names(t.items("genres"), "name"), ["Rock"]);
    assert_eq!(names(t.items("artists"), "name"), ["The Beatles"]);
    assert_eq!(
        names(t.items("albumArtists"), "id"),
        [artist_id(&c, "The Beatles")]
    );
    let isrc = t.children.iter().find_map(|c| match c {
        crate::response::Node::Values("isrc", v) => Some(v.clone()),
        _ => None,
    });
    assert_eq!(isrc, Some(vec![Attr::Str("GBAYE0601690".into())]));

    // Unknown facts: OpenSubsonic fields still there, empty; classic ones left out.
    let t = ok(&c, "getSong", &[("id", &track_id(3))]);
    let t = t.find("song").unwrap();
    assert_eq!(t.get("coverArt"), None, "no cover anywhere");
    assert_eq!(n(t, "bitDepth"), 0);
    assert_eq!(s(t, "comment"), "");
    assert_eq!(s(t, "contentType"), "audio/mpeg");
    let t = ok(&c, "getSong", &[("id", &track_id(8))]);
    let t = t.find("song").unwrap();
    assert_eq!(
        s(t, "title"),
        "08 untitled",
        "the file's name stands in for a missing title"
    );
    assert_eq!(s(t, "artist"), "[Unknown Artist]");
    assert_eq!(t.get("year"), None);
    assert_eq!(t.get("bitRate"), None);
    assert!(t.items("genres").is_empty());
    assert_eq!(
        s(t, "path"),
        "[Unknown Artist]/[Unknown Album]/08 untitled.wav"
    );
}

#[test]
fn several_artists_compilations_and_discs() {
    let c = small();
    let t = ok(&c, "getSong", &[("id", &track_id(5))]);
    let t = t.find("song").unwrap();
    assert_eq!(s(t, "displayArtist"), "Moby, Gwen Stefani");
    assert_eq!(names(t.items("artists"), "name"), ["Moby", "Gwen Stefani"]);
    assert_eq!(s(t, "displayAlbumArtist"), "Various Artists");
    assert_eq!(s(t, "contentType"), "audio/mp4");
    let hits = album_id(&c, "Hits 2001");
    assert_eq!(
        s(t, "coverArt"),
        hits,
        "one track's picture is the album's cover"
    );
    let a = ok(&c, "getAlbum", &[("id", &hits)]);
    let a = a.find("album").unwrap();
    assert_eq!(a.get("isCompilation"), Some(&Attr::Bool(true)));
    assert_eq!(names(a.items("genres"), "name"), ["Pop", "Dance"]);
    let t = ok(&c, "getSong", &[("id", &track_id(7))]);
    let path = s(t.find("song").unwrap(), "path").to_owned();
    assert!(path.starts_with("Élodie/Zèbre/2-01 - Quotes"), "{path}");
    assert!(path.ends_with(".opus") && !path.contains('\n'), "{path}");
}

#[test]
fn albums_carry_their_songs_in_order_and_their_totals() {
    let c = small();
    let id = album_id(&c, "Abbey Road");
    let a = ok(&c, "getAlbum", &[("id", &id)]);
    let a = a.find("album").unwrap();
    assert_eq!(s(a, "name"), "Abbey Road");
    assert_eq!(s(a, "artist"), "The Beatles");
    assert_eq!(s(a, "coverArt"), id);
    assert_eq!(
        (n(a, "songCount"), n(a, "duration"), n(a, "year")),
        (2, 371, 1969)
    );
    assert_eq!(s(a, "created"), "2020-09-13T12:26:40.000Z");
    assert_eq!(
        names(a.items("song"), "title"),
        ["Come Together", "Something"]
    );
    let artist = ok(&c, "getArtist", &[("id", &artist_id(&c, "The Beatles"))]);
    let artist = artist.find("artist").unwrap();
    assert_eq!(n(artist, "albumCount"), 1);
    assert_eq!(s(artist, "coverArt"), id);
    assert_eq!(names(artist.items("album"), "id"), [id]);
}

#[test]
fn indexes_group_artists_by_letter_without_articles() {
    let c = small();
    let e = ok(&c, "getIndexes", &[]);
    let idx = e.find("indexes").unwrap();
    assert_eq!(s(idx, "ignoredArticles"), IGNORED_ARTICLES);
    assert_eq!(n(idx, "lastModified"), T0 + 5 * 86_400_000);
    let letters = names(idx.items("index"), "name");
    assert_eq!(letters, ["#", "B", "D", "G", "M", "V", "É"]);
    let m = &idx.items("index")[4];
    assert_eq!(names(m.items("artist"), "name"), ["Miles Davis", "Moby"]);
    assert_eq!(
        names(idx.items("index")[1].items("artist"), "name"),
        ["The Beatles"]
    );
    // Unchanged since the client last looked: no index.
    let since = (T0 + 5 * 86_400_000).to_string();
    let e = ok(&c, "getIndexes", &[("ifModifiedSince", &since)]);
    assert!(e.find("indexes").unwrap().items("index").is_empty());
    let e = ok(&c, "getIndexes", &[("ifModifiedSince", "0")]);
    assert_eq!(e.find("indexes").unwrap().items("index").len(), 7);
    let e = ok(&c, "getArtists", &[]);
    let a = e.find("artists").unwrap();
    assert_eq!(names(a.items("index"), "name"), letters);
    let beatles = &a.items("index")[1].items("artist")[0];
    assert_eq!(n(beatles, "albumCount"), 1);
}

#[test]
fn folders_are_artists_of_albums_of_songs() {
    let c = small();
    let artist = artist_id(&c, "The Beatles");
    let e = ok(&c, "getMusicDirectory", &[("id", &artist)]);
    let d = e.find("directory").unwrap();
    assert_eq!(s(d, "name"), "The Beatles");
    let albums = d.items("child");
    assert_eq!(names(albums, "title"), ["Abbey Road"]);
    assert_eq!(albums[0].get("isDir"), Some(&Attr::Bool(true)));
    assert_eq!(s(&albums[0], "parent"), artist);
    let album = s(&albums[0], "id").to_owned();
    let e = ok(&c, "getMusicDirectory", &[("id", &album)]);
    let d = e.find("directory").unwrap();
    assert_eq!(
        (s(d, "name"), s(d, "parent")),
        ("Abbey Road", artist.as_str())
    );
    assert_eq!(names(d.items("child"), "parent"), [album.clone(), album]);
}

#[test]
fn the_fixed_answers() {
    let c = small();
    assert_eq!(ok(&c, "ping", &[]), Element::response());
    let e = ok(&c, "getLicense", &[]);
    assert_eq!(
        e.find("license").unwrap().get("valid"),
        Some(&Attr::Bool(true))
    );
    let e = ok(&c, "getOpenSubsonicExtensions", &[]);
    let ext = e.items("openSubsonicExtensions");
    assert_eq!(
        names(ext, "name"),
        ["apiKeyAuthentication", "formPost", "songLyrics"]
    );
    let e = ok(&c, "getMusicFolders", &[]);
    let f = &e.find("musicFolders").unwrap().items("musicFolder")[0];
    assert_eq!((n(f, "id"), s(f, "name")), (1, "Music"));
    let e = ok(&c, "getGenres", &[]);
    let g = e.find("genres").unwrap().items("genre");
    let names: Vec<(&str, i64, i64)> = g
        .iter()
        .map(|g| {
            (
                g.value.as_deref().unwrap(),
                n(g, "songCount"),
                n(g, "albumCount"),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("Dance", 1, 1),
            ("Jazz", 1, 1),
            ("Pop", 2, 1),
            ("Rock", 4, 2)
        ]
    );
}
