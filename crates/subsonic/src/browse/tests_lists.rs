//! Album lists, random songs, songs by genre and search: orders, sizes and paging.

use std::collections::BTreeSet;

use super::conformance::artist_id;
use super::tests::{album_id, call, call_with, n, names, ok, s};
use super::*;
use crate::fixture::{many, small, SeqRandom};
use crate::response::Attr;
#[test]
fn album_lists_come_in_the_asked_order() {
    let c = small();
    let list = |pairs: &[(&str, &str)]| {
        let e = ok(&c, "getAlbumList2", pairs);
        names(e.find("albumList2").unwrap().items("album"), "name")
    };
    let by_name = list(&[("type", "alphabeticalByName")]);
    assert_eq!(
        by_name,
        [
            "[Unknown Album]",
            "Abbey Road",
            "Hits 2001",
            "Kind of Blue",
            "Zèbre"
        ]
    );
    let newest = list(&[("type", "newest")]);
    assert_eq!(
        newest,
        [
            "Zèbre",
            "Hits 2001",
            "Kind of Blue",
            "Abbey Road",
            "[Unknown Album]"
        ]
    );
    let e = ok(&c, "getAlbumList2", &[("type", "alphabeticalByArtist")]);
    let artists: Vec<String> = names(e.find("albumList2").unwrap().items("album"), "artist")
        .iter()
        .map(|a| a.to_lowercase())
        .collect();
    let mut sorted = artists.clone();
    sorted.sort();
    assert_eq!(artists, sorted);
    let up = list(&[("type", "byYear"), ("fromYear", "1950"), ("toYear", "2020")]);
    assert_eq!(up, ["Kind of Blue", "Abbey Road", "Hits 2001", "Zèbre"]);
    let down = list(&[("type", "byYear"), ("fromYear", "2020"), ("toYear", "1950")]);
    assert_eq!(down, ["Zèbre", "Hits 2001", "Abbey Road", "Kind of Blue"]);
    let some = list(&[("type", "byYear"), ("fromYear", "1960"), ("toYear", "2001")]);
    assert_eq!(some, ["Abbey Road", "Hits 2001"]);
    assert_eq!(
        list(&[("type", "byGenre"), ("genre", "pop")]),
        ["Hits 2001"]
    );
    assert_eq!(
        list(&[("type", "byGenre"), ("genre", "ROCK")]),
        ["Abbey Road", "Zèbre"]
    );
    let page = list(&[
        ("type", "alphabeticalByName"),
        ("size", "2"),
        ("offset", "1"),
    ]);
    assert_eq!(page, ["Abbey Road", "Hits 2001"]);
    // Folder-style lists show albums as directories under their artist.
    let e = ok(&c, "getAlbumList", &[("type", "newest"), ("size", "1")]);
    let a = &e.find("albumList").unwrap().items("album")[0];
    assert_eq!(a.get("isDir"), Some(&Attr::Bool(true)));
    assert_eq!(
        (s(a, "title"), s(a, "parent")),
        ("Zèbre", artist_id(&c, "Élodie").as_str())
    );
}

#[test]
fn user_lists_keep_the_callers_order() {
    let c = small();
    let ids = [
        album_id(&c, "Zèbre"),
        "gone".to_owned(),
        album_id(&c, "Abbey Road"),
    ];
    let lists = UserLists {
        starred: ids.to_vec(),
        ..UserLists::default()
    };
    let e = call_with(&c, "getAlbumList2", &[("type", "starred")], &lists).unwrap();
    let got = names(e.find("albumList2").unwrap().items("album"), "name");
    assert_eq!(got, ["Zèbre", "Abbey Road"]);
    let e = call_with(
        &c,
        "getAlbumList2",
        &[("type", "starred"), ("offset", "1")],
        &lists,
    )
    .unwrap();
    assert_eq!(
        names(e.find("albumList2").unwrap().items("album"), "name"),
        ["Abbey Road"]
    );
    for kind in ["frequent", "recent", "highest"] {
        let e = call(&c, "getAlbumList2", &[("type", kind)]).unwrap();
        assert!(
            e.find("albumList2").unwrap().items("album").is_empty(),
            "{kind}"
        );
    }
}

#[test]
fn list_sizes_default_to_10_and_stop_at_500() {
    let c = many(600, 1, 50);
    let count = |pairs: &[(&str, &str)]| {
        let e = ok(&c, "getAlbumList2", pairs);
        e.find("albumList2").unwrap().items("album").len()
    };
    assert_eq!(count(&[("type", "newest")]), 10);
    assert_eq!(count(&[("type", "newest"), ("size", "2000")]), 500);
    assert_eq!(
        count(&[("type", "newest"), ("size", "500"), ("offset", "550")]),
        50
    );
    let e = ok(&c, "getAlbumList2", &[("type", "random"), ("size", "50")]);
    let ids: BTreeSet<String> = names(e.find("albumList2").unwrap().items("album"), "id")
        .into_iter()
        .collect();
    assert_eq!(ids.len(), 50, "no album twice");
    let songs = |pairs: &[(&str, &str)]| {
        let e = ok(&c, "getRandomSongs", pairs);
        e.find("randomSongs").unwrap().items("song").len()
    };
    assert_eq!(songs(&[]), 10);
    assert_eq!(songs(&[("size", "9999")]), 500);
}

#[test]
fn random_songs_are_distinct_and_filtered() {
    let c = many(30, 10, 7);
    let e = ok(
        &c,
        "getRandomSongs",
        &[
            ("size", "40"),
            ("genre", "jazz"),
            ("fromYear", "1965"),
            ("toYear", "1975"),
        ],
    );
    let songs = e.find("randomSongs").unwrap().items("song");
    assert!(!songs.is_empty());
    let ids: BTreeSet<&str> = songs.iter().map(|t| s(t, "id")).collect();
    assert_eq!(ids.len(), songs.len(), "no song twice");
    for t in songs {
        assert_eq!(s(t, "genre"), "Jazz");
        assert!((1965..=1975).contains(&n(t, "year")));
    }
    // A pool smaller than the size is given whole.
    let e = ok(
        &c,
        "getRandomSongs",
        &[("size", "500"), ("fromYear", "1960"), ("toYear", "1960")],
    );
    assert_eq!(e.find("randomSongs").unwrap().items("song").len(), 10);
    // Another draw differs.
    let draw = |seed| {
        let p = Params::from_pairs([("size", "20")]);
        let e = get_random_songs(&c, &p, &SeqRandom::new(seed)).unwrap();
        names(e.find("randomSongs").unwrap().items("song"), "id")
    };
    assert_ne!(draw(1), draw(2));
    assert_eq!(draw(3), draw(3));
}

#[test]
fn songs_by_genre_page_through_each_song_once() {
    let c = many(30, 10, 7);
    let mut seen = Vec::new();
    for offset in (0..200).step_by(7) {
        let off = offset.to_string();
        let e = ok(
            &c,
            "getSongsByGenre",
            &[("genre", "rock"), ("count", "7"), ("offset", &off)],
        );
        seen.extend(names(e.find("songsByGenre").unwrap().items("song"), "id"));
    }
    assert_eq!(seen.len(), 100, "ten rock albums of ten songs");
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 100);
}

#[test]
fn an_empty_search_pages_through_the_whole_library_once() {
    let c = many(100, 20, 40);
    assert_eq!(c.track_count(), 2000);
    for query in ["", "\"\""] {
        let (mut songs, mut albums, mut artists) = (Vec::new(), Vec::new(), Vec::new());
        for page in 0..6 {
            let song_offset = (page * 500).to_string();
            let other_offset = (page * 30).to_string();
            let e = ok(
                &c,
                "search3",
                &[
                    ("query", query),
                    ("songCount", "500"),
                    ("songOffset", &song_offset),
                    ("albumCount", "30"),
                    ("albumOffset", &other_offset),
                    ("artistCount", "30"),
                    ("artistOffset", &other_offset),
                ],
            );
            let r = e.find("searchResult3").unwrap();
            songs.extend(names(r.items("song"), "id"));
            albums.extend(names(r.items("album"), "id"));
            artists.extend(names(r.items("artist"), "id"));
        }
        let want: BTreeSet<String> = c.records().map(|r| r.id.clone()).collect();
        assert_eq!(songs.len(), 2000, "{query}: each song once");
        assert_eq!(songs.iter().cloned().collect::<BTreeSet<_>>(), want);
        assert_eq!(albums.len(), 100);
        assert_eq!(albums.iter().collect::<BTreeSet<_>>().len(), 100);
        assert_eq!(artists.len(), 40);
        assert_eq!(artists.iter().collect::<BTreeSet<_>>().len(), 40);
    }
    // Counts default to 20.
    let e = ok(&c, "search2", &[("query", "")]);
    let r = e.find("searchResult2").unwrap();
    assert_eq!(
        (
            r.items("song").len(),
            r.items("album").len(),
            r.items("artist").len()
        ),
        (20, 20, 20)
    );
}

#[test]
fn a_search_finds_words_and_pages_its_hits() {
    let c = small();
    let e = ok(&c, "search3", &[("query", "beatles")]);
    let r = e.find("searchResult3").unwrap();
    assert_eq!(names(r.items("artist"), "name"), ["The Beatles"]);
    assert_eq!(names(r.items("album"), "name"), ["Abbey Road"]);
    assert_eq!(
        names(r.items("song"), "title"),
        ["Come Together", "Something"]
    );
    let e = ok(
        &c,
        "search3",
        &[
            ("query", "beatles"),
            ("songOffset", "1"),
            ("songCount", "5"),
        ],
    );
    let r = e.find("searchResult3").unwrap();
    assert_eq!(names(r.items("song"), "title"), ["Something"]);
    let e = ok(&c, "search2", &[("query", "nothing matches this")]);
    let r = e.find("searchResult2").unwrap();
    assert!(
        r.items("song").is_empty() && r.items("album").is_empty() && r.items("artist").is_empty()
    );
}
