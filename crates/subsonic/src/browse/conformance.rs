//! Every method, answered in both formats: the same content, the protocol's JSON types, lists as
//! arrays, and never a file path.

use std::collections::BTreeSet;

use clef_library::Catalog;
use serde_json::Value;

use super::*;
use crate::fixture::{json_pairs, small, track_id, xml_pairs, SeqRandom, SECRET_ROOT};
use crate::response::{render, Format};

/// Each method with parameters that make it answer something.
fn calls(c: &Catalog) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let artist = artist_id(c, "The Beatles");
    let album = c
        .album_view(&c.track(&track_id(1)).unwrap().album_id)
        .unwrap()
        .id
        .clone();
    let one = |k: &'static str, v: &str| vec![(k, v.to_owned())];
    let mut calls = vec![
        ("ping", vec![]),
        ("getLicense", vec![]),
        ("getOpenSubsonicExtensions", vec![]),
        ("getMusicFolders", vec![]),
        ("getIndexes", vec![]),
        ("getMusicDirectory", one("id", &artist)),
        ("getMusicDirectory", one("id", &album)),
        ("getArtists", vec![]),
        ("getArtist", one("id", &artist)),
        ("getArtistInfo", one("id", &artist)),
        ("getArtistInfo2", one("id", &artist)),
        ("getAlbum", one("id", &album)),
        ("getAlbumInfo", one("id", &album)),
        ("getAlbumInfo2", one("id", &album)),
        ("getRandomSongs", one("size", "4")),
        ("getSongsByGenre", one("genre", "ROCK")),
        ("getGenres", vec![]),
        ("search2", one("query", "")),
        ("search2", one("query", "the")),
        ("search3", one("query", "\"\"")),
        ("search3", one("query", "hit")),
    ];
    for n in 1..=8 {
        calls.push(("getSong", one("id", &track_id(n))));
    }
    for method in ["getAlbumList", "getAlbumList2"] {
        for kind in [
            "random",
            "newest",
            "alphabeticalByName",
            "alphabeticalByArtist",
            "starred",
            "frequent",
            "recent",
            "highest",
        ] {
            calls.push((
                method,
                vec![("type", kind.to_owned()), ("size", "50".into())],
            ));
        }
        calls.push((
            method,
            vec![
                ("type", "byYear".into()),
                ("fromYear", "2020".into()),
                ("toYear", "1950".into()),
            ],
        ));
        calls.push((
            method,
            vec![("type", "byGenre".into()), ("genre", "Pop".into())],
        ));
    }
    calls
}

pub(super) fn artist_id(c: &Catalog, name: &str) -> String {
    c.artists()
        .into_iter()
        .find(|a| a.name == name)
        .map(|a| a.id)
        .unwrap()
}

#[test]
fn every_method_says_the_same_in_xml_and_json() {
    let c = small();
    let rng = SeqRandom::new(7);
    let albums: Vec<String> = c
        .albums(clef_library::AlbumSort::Name, None, 0, 99)
        .1
        .into_iter()
        .map(|a| a.id)
        .collect();
    let lists = UserLists {
        starred: albums.clone(),
        frequent: vec![albums[2].clone(), "unknown".into()],
        recent: albums[..1].to_vec(),
        highest: vec![],
    };
    let mut covered = BTreeSet::new();
    for (method, pairs) in calls(&c) {
        let params = Params::from_pairs(pairs.clone());
        let answer = dispatch(method, &c, &params, &rng, &lists).expect("a catalog method");
        let answer = Ok(answer.unwrap_or_else(|e| panic!("{method} {pairs:?}: {e}")));
        let (_, xml) = render(Format::Xml, answer.clone());
        let (_, json) = render(Format::Json, answer.clone());
        let xml = String::from_utf8(xml).unwrap();
        let json_text = String::from_utf8(json).unwrap();
        for body in [&xml, &json_text] {
            assert!(
                !body.contains(SECRET_ROOT),
                "{method} shows a real path: {body}"
            );
            assert!(
                !body.contains("secret"),
                "{method} shows a real path: {body}"
            );
        }
        let json: Value = serde_json::from_str(&json_text).unwrap();
        assert_eq!(xml_pairs(&xml), json_pairs(&json), "{method} {pairs:?}");
        crate::wire::check_json_types(&json);
        covered.insert(method);
    }
    let all: BTreeSet<&str> = METHODS.iter().copied().collect();
    assert_eq!(covered, all, "every method is checked");
}

#[test]
fn lists_of_one_stay_arrays_and_ids_stay_strings_in_json() {
    let c = small();
    let json = |method: &str, pairs: &[(&str, &str)]| -> Value {
        let params = Params::from_pairs(pairs.iter().copied());
        let rng = SeqRandom::new(1);
        let answer = dispatch(method, &c, &params, &rng, &UserLists::default()).unwrap();
        let (_, body) = render(Format::Json, answer.clone());
        serde_json::from_slice::<Value>(&body).unwrap()["subsonic-response"].clone()
    };
    let kind_of_blue = c.track(&track_id(3)).unwrap().album_id.clone();
    let album = json("getAlbum", &[("id", &kind_of_blue)]);
    let songs = album["album"]["song"].as_array().unwrap();
    assert_eq!(songs.len(), 1);
    assert_eq!(songs[0]["id"], Value::String(track_id(3)));
    assert_eq!(songs[0]["duration"], 185);
    assert_eq!(songs[0]["isDir"], false);
    assert_eq!(songs[0]["genres"], serde_json::json!([{"name": "Jazz"}]));
    assert_eq!(songs[0]["isrc"], serde_json::json!([]));
    let folders = json("getMusicFolders", &[]);
    assert_eq!(
        folders["musicFolders"]["musicFolder"],
        serde_json::json!([{"id": 1, "name": "Music"}])
    );
    let list = json("getAlbumList2", &[("type", "newest"), ("size", "1")]);
    assert_eq!(list["albumList2"]["album"].as_array().unwrap().len(), 1);
    let none = json("search3", &[("query", "no such thing")]);
    assert_eq!(
        none["searchResult3"],
        serde_json::json!({"artist": [], "album": [], "song": []})
    );
    let ext = json("getOpenSubsonicExtensions", &[]);
    assert_eq!(
        ext["openSubsonicExtensions"][1],
        serde_json::json!({"name": "formPost", "versions": [1]})
    );
}
