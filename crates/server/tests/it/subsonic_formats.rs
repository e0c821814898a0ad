//! Over HTTP, every `/rest` method answers the same in XML and in JSON: the XML well-formed and
//! in the Subsonic namespace, the JSON with the protocol's types (ids strings, durations whole
//! seconds, times ISO 8601, flags booleans, lists arrays). Answers that draw at random are
//! checked for form only; methods that change something are called once per format on twins.

use clef_subsonic::wire::{check_json_types, json_pairs, xml_pairs, Pairs};
use clef_testkit::TestServer;
use serde_json::Value;

use crate::oauth::PW;
use crate::subsonic::app_password;

struct Rest<'a> {
    s: &'a TestServer,
    pass: String,
}

impl Rest<'_> {
    async fn text(&self, method: &str, query: &str, f: &str) -> String {
        let url = self.s.url(&format!(
            "/rest/{method}?u=anna&p={}&v=1.16.1&c=formats&f={f}&{query}",
            self.pass
        ));
        let r = self.s.client().get(url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{method}");
        r.text().await.unwrap()
    }

    async fn json(&self, method: &str, query: &str) -> Value {
        serde_json::from_str(&self.text(method, query, "json").await).unwrap()
    }

    /// Both formats of one call, as pairs; the JSON's types checked.
    async fn both(&self, method: &str, json_query: &str, xml_query: &str) -> (Pairs, Pairs) {
        let json: Value = self.json(method, json_query).await;
        check_json_types(&json);
        let xml = self.text(method, xml_query, "xml").await;
        (json_pairs(&json), xml_pairs(&xml))
    }
}

fn first_id(v: &Value) -> String {
    v.as_array()
        .and_then(|a| a.first())
        .and_then(|x| x["id"].as_str())
        .unwrap_or_else(|| panic!("an id in {v}"))
        .to_owned()
}

/// Drops the paths whose last part is one of `names` (ids and times of things made twice).
fn without(pairs: Pairs, names: &[&str]) -> Pairs {
    pairs
        .into_iter()
        .filter(|(k, _)| !names.iter().any(|n| k.ends_with(&format!("/{n}"))))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_says_the_same_in_xml_and_json_over_http() {
    let s = TestServer::with_sample_library().await;
    s.create_user("anna", PW, false).await;
    let token = s.token("anna", PW, "anna's laptop").await;
    let pass = app_password(&s, &token, "anna's phone", "app_password").await;
    let r = Rest { s: &s, pass };
    let albums = r.json("getAlbumList2", "type=newest").await;
    let album = first_id(&albums["subsonic-response"]["albumList2"]["album"]);
    let got = r.json("getAlbum", &format!("id={album}")).await;
    let a = &got["subsonic-response"]["album"];
    let song = first_id(&a["song"]);
    let artist = a["artistId"].as_str().unwrap().to_owned();
    let genre = a["genre"].as_str().unwrap_or("Ambient").to_owned();
    // Something of everything the user keeps, so the answers carry it.
    r.json(
        "star",
        &format!("id={song}&albumId={album}&artistId={artist}"),
    )
    .await;
    r.json("setRating", &format!("id={song}&rating=4")).await;
    r.json("scrobble", &format!("id={song}")).await;
    r.json("scrobble", &format!("id={song}&submission=false"))
        .await;
    r.json(
        "savePlayQueue",
        &format!("id={song}&current={song}&position=1500"),
    )
    .await;
    let mut playlists = Vec::new();
    for name in ["one", "two", "three"] {
        let p = r
            .json("createPlaylist", &format!("name={name}&songId={song}"))
            .await;
        playlists.push(
            p["subsonic-response"]["playlist"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    let same = |q: String| (q.clone(), q);
    let mut calls: Vec<(&str, (String, String))> = vec![
        ("ping", same(String::new())),
        ("getLicense", same(String::new())),
        ("getOpenSubsonicExtensions", same(String::new())),
        ("getMusicFolders", same(String::new())),
        ("getIndexes", same(String::new())),
        ("getMusicDirectory", same(format!("id={artist}"))),
        ("getMusicDirectory", same(format!("id={album}"))),
        ("getArtists", same(String::new())),
        ("getArtist", same(format!("id={artist}"))),
        ("getArtistInfo", same(format!("id={artist}"))),
        ("getArtistInfo2", same(format!("id={artist}"))),
        ("getAlbum", same(format!("id={album}"))),
        ("getAlbumInfo", same(format!("id={album}"))),
        ("getAlbumInfo2", same(format!("id={album}"))),
        ("getSong", same(format!("id={song}"))),
        ("getSongsByGenre", same(format!("genre={genre}"))),
        ("getGenres", same(String::new())),
        ("search2", same("query=".into())),
        ("search3", same("query=".into())),
        ("search3", same("query=light".into())),
        ("getPlaylists", same(String::new())),
        ("getPlaylist", same(format!("id={}", playlists[0]))),
        ("getStarred", same(String::new())),
        ("getStarred2", same(String::new())),
        ("getNowPlaying", same(String::new())),
        ("getPlayQueue", same(String::new())),
        ("getLyricsBySongId", same(format!("id={song}"))),
        ("getUser", same("username=anna".into())),
        ("getScanStatus", same(String::new())),
        ("tokenInfo", same(String::new())),
        ("star", same(format!("id={song}"))),
        ("unstar", same(format!("albumId={album}"))),
        ("setRating", same(format!("id={album}&rating=2"))),
        ("scrobble", same(format!("id={song}&submission=false"))),
        ("savePlayQueue", same(format!("id={song}&position=10"))),
        (
            "updatePlaylist",
            same(format!("playlistId={}&name=renamed", playlists[0])),
        ),
        (
            "deletePlaylist",
            (
                format!("id={}", playlists[1]),
                format!("id={}", playlists[2]),
            ),
        ),
        // Refusals are answers too.
        ("startScan", same(String::new())),
        ("changePassword", same("username=anna&password=x".into())),
        ("getSong", same("id=nothing-has-this-id".into())),
        ("getAlbum", same(String::new())),
        ("noSuchMethod", same(String::new())),
    ];
    for kind in [
        "newest",
        "frequent",
        "recent",
        "starred",
        "alphabeticalByName",
        "alphabeticalByArtist",
        "highest",
    ] {
        for method in ["getAlbumList", "getAlbumList2"] {
            calls.push((method, same(format!("type={kind}"))));
        }
    }
    calls.push((
        "getAlbumList2",
        same("type=byYear&fromYear=1900&toYear=2100".into()),
    ));
    calls.push(("getAlbumList2", same(format!("type=byGenre&genre={genre}"))));
    for (method, (jq, xq)) in &calls {
        let (json, xml) = r.both(method, jq, xq).await;
        assert_eq!(json, xml, "{method}?{jq}");
        assert!(json.len() > 5, "{method} answered: {json:?}");
    }
    // Made twice, a playlist differs only in its id and times.
    let (json, xml) = r.both("createPlaylist", "name=twin", "name=twin").await;
    let strip = |p: Pairs| without(p, &["id", "created", "changed"]);
    assert_eq!(strip(json), strip(xml));
    // Drawn at random: the same form, the same number of items.
    for (method, q) in [
        ("getRandomSongs", "size=3"),
        ("getAlbumList2", "type=random&size=2"),
        ("getAlbumList", "type=random&size=2"),
    ] {
        let (json, xml) = r.both(method, q, q).await;
        // (Whether the one starred song was drawn is chance too.)
        let kept = ["starred", "played", "playCount", "userRating"];
        let shape = |p: Pairs| -> Vec<String> { without(p, &kept).into_keys().collect() };
        assert_eq!(shape(json), shape(xml), "{method}");
    }
}
