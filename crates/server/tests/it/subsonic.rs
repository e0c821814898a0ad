//! The Subsonic/OpenSubsonic API (`/rest`): real client libraries drive it, and SECURITY.md L1–L3
//! each have a test of their own — the account password refused, app passwords and keys as
//! devices, no credential in the logs — with replayed token logins and the API key's errors.

use clef_testkit::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::oauth::PW;

/// Creates an app password (`kind` `app_password`) or API key (`api_key`) for a new device of
/// `token`'s user; returns the secret.
pub(crate) async fn app_password(s: &TestServer, token: &str, name: &str, kind: &str) -> String {
    let (status, body) = s
        .call(
            Method::POST,
            token,
            "/api/v1/app-passwords",
            Some(json!({ "name": name, "kind": kind })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let field = if kind == "api_key" {
        "api_key"
    } else {
        "password"
    };
    body[field].as_str().unwrap().to_owned()
}

/// A `/rest` call answered in JSON: (ok, error code, error message).
pub(crate) async fn rest(s: &TestServer, path_and_query: &str) -> (bool, i64, String) {
    let r = s.client().get(s.url(path_and_query)).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "Subsonic answers failures with 200 too"
    );
    let body: Value = r.json().await.unwrap();
    let root = &body["subsonic-response"];
    assert_eq!(root["openSubsonic"], true, "{body}");
    assert_eq!(root["type"], "clef", "{body}");
    match root["status"].as_str() {
        Some("ok") => (true, 0, String::new()),
        _ => (
            false,
            root["error"]["code"].as_i64().unwrap(),
            root["error"]["message"].as_str().unwrap().to_owned(),
        ),
    }
}

fn md5_hex(text: &str) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(text.as_bytes()))
}

async fn setup() -> (TestServer, String) {
    let s = TestServer::with_sample_library().await;
    s.create_user("anna", PW, false).await;
    let t = s.token("anna", PW, "anna's laptop").await;
    (s, t)
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

/// py-sonic (token login, then `p=enc:`) and py-opensonic (API key) browse, search, page through
/// everything, keep playlists, fetch cover art and play (raw with Range, and as MP3); what they
/// see is what the REST API says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_clients_browse_search_keep_playlists_and_play() {
    let (s, t) = setup().await;
    let pass = app_password(&s, &t, "anna's phone", "app_password").await;
    let key = app_password(&s, &t, "anna's desktop", "api_key").await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/subsonic_clients.py"
    );
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .env("CLEF_HOST", "http://127.0.0.1")
        .env("CLEF_PORT", s.addr.port().to_string())
        .env("CLEF_USER", "anna")
        .env("APP_PASSWORD", &pass)
        .env("API_KEY", &key)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "the Subsonic clients failed (python3 needs py-sonic and py-opensonic; .ci/run installs them):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (_, albums) = s.get(&t, "/api/v1/albums?sort=name").await;
    let (_, by_year) = s.get(&t, "/api/v1/albums?sort=year").await;
    let (_, artists) = s.get(&t, "/api/v1/artists").await;
    let mut artist_names: Vec<String> = artists["artists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    artist_names.sort();
    let by_name = ids(&albums, "albums");
    let mut all_tracks = Vec::new();
    for id in &by_name {
        let (_, album) = s.get(&t, &format!("/api/v1/albums/{id}")).await;
        all_tracks.extend(ids(&album, "tracks"));
    }

    let tok = &seen["token_login"];
    assert_eq!(tok["ping"], true);
    let mut names: Vec<String> = serde_json::from_value(tok["artists"].clone()).unwrap();
    names.sort();
    assert_eq!(names, artist_names, "getArtists");
    let mut names: Vec<String> = serde_json::from_value(tok["indexes"].clone()).unwrap();
    names.sort();
    assert_eq!(names, artist_names, "getIndexes");
    let list = |t: &str| -> Vec<String> {
        tok["album_lists"][t]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(list("alphabeticalByName"), by_name);
    let mut years: Vec<i64> = tok["album_lists"]["byYear"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["year"].as_i64().unwrap())
        .collect();
    assert!(
        years.windows(2).all(|w| w[0] <= w[1]),
        "byYear oldest first: {years:?}"
    );
    years.reverse();
    let rest_years: Vec<i64> = by_year["albums"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["year"].as_i64().unwrap())
        .collect();
    assert_eq!(years, rest_years);
    let mut random = list("random");
    random.sort();
    let mut sorted = by_name.clone();
    sorted.sort();
    assert_eq!(random, sorted, "random holds every album once");
    let genre = tok["genre_asked"].as_str().unwrap();
    assert!(!list("byGenre").is_empty());
    for a in tok["album_lists"]["byGenre"].as_array().unwrap() {
        assert_eq!(
            a["genre"].as_str().map(str::to_lowercase),
            Some(genre.to_lowercase())
        );
    }
    for t in ["starred", "frequent", "recent", "highest"] {
        assert!(
            list(t).is_empty(),
            "{t}: nothing starred, played or rated yet"
        );
    }
    let (_, first) = s.get(&t, &format!("/api/v1/albums/{}", by_name[0])).await;
    assert_eq!(tok["album"]["name"], first["album"]["name"]);
    let songs: Vec<String> = serde_json::from_value(tok["album"]["songs"].clone()).unwrap();
    assert_eq!(songs, ids(&first, "tracks"), "getAlbum's songs in order");
    let song = &tok["song"];
    let rest_song = &first["tracks"][0];
    assert_eq!(song["title"], rest_song["title"]);
    assert_eq!(
        song["duration"].as_i64().unwrap(),
        rest_song["duration_ms"].as_i64().unwrap() / 1000
    );
    assert_eq!(song["albumId"], first["album"]["id"]);
    assert!(!song["path"]
        .as_str()
        .unwrap()
        .contains(s.dir.path().to_str().unwrap()));
    assert!(song["created"].as_str().unwrap().ends_with('Z'), "{song}");
    let mut synced: Vec<String> = serde_json::from_value(tok["search_all"].clone()).unwrap();
    let n = synced.len();
    synced.sort();
    synced.dedup();
    all_tracks.sort();
    assert_eq!(
        (n, synced),
        (all_tracks.len(), all_tracks.clone()),
        "every song once, page by page"
    );
    let word = tok["search_word"].as_str().unwrap().to_lowercase();
    let hits = tok["search_hits"].as_array().unwrap();
    assert!(
        !hits.is_empty()
            && hits
                .iter()
                .all(|h| h.as_str().unwrap().to_lowercase().contains(&word))
    );
    assert_eq!(tok["playlist"]["name"], "Road trip 2");
    let kept: Vec<String> = serde_json::from_value(tok["playlist"]["songs"].clone()).unwrap();
    assert_eq!(kept, vec![songs[1].clone(), songs[songs.len() - 1].clone()]);
    assert_eq!(tok["playlists_after_delete"], 0);
    let head = tok["cover"]["head"].as_str().unwrap();
    assert!(
        head.starts_with("ffd8") || head == "89504e47",
        "a JPEG or PNG: {head}"
    );
    assert_eq!(tok["mp3"]["content_type"], "audio/mpeg");
    let mp3 = tok["mp3"]["head"].as_str().unwrap();
    assert!(mp3 == "494433" || mp3.starts_with("fff"), "an MP3: {mp3}");

    listening_was_kept(&tok["listening"], &seen["api_key"]["play_queue"]);

    let legacy = &seen["legacy_login"];
    assert_eq!(legacy["ping"], true);
    assert_eq!(legacy["albums"].as_u64().unwrap() as usize, by_name.len());

    let keyed = &seen["api_key"];
    assert_eq!(keyed["ping"], true);
    assert_eq!(keyed["token_user"], "anna");
    let names: Vec<String> = serde_json::from_value(keyed["artists"].clone()).unwrap();
    assert_eq!(names, artist_names);
    let found: Vec<String> = serde_json::from_value(keyed["search_all"].clone()).unwrap();
    assert_eq!(found, all_tracks);
    assert_eq!(keyed["range"]["status"], 206);
    assert_eq!(keyed["range"]["content_length"], "100");
    assert!(keyed["range"]["content_range"]
        .as_str()
        .unwrap()
        .starts_with("bytes 0-99/"));

    // Both apps are devices, named as the apps name themselves.
    let (_, devices) = s.get(&t, "/api/v1/devices").await;
    let client_of = |name: &str| {
        devices
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {devices}"))["client"]
            .clone()
    };
    assert_eq!(client_of("anna's desktop"), "py-opensonic test");
    assert!(client_of("anna's phone")
        .as_str()
        .unwrap()
        .starts_with("py-sonic"));

    // Lyrics (OpenSubsonic `songLyrics`) as py-opensonic read them: the sample's LRC in
    // "Morning Scale" (a FLAC's LYRICS), its plain lines in "Carrier Wave" (a WAV's ID3v2 USLT,
    // in English), none in the other songs; an unknown song is error 70. The client reads
    // numbers as floats.
    let mut title_of = std::collections::HashMap::new();
    for id in &by_name {
        let (_, album) = s.get(&t, &format!("/api/v1/albums/{id}")).await;
        for track in album["tracks"].as_array().unwrap() {
            title_of.insert(
                track["id"].as_str().unwrap().to_owned(),
                track["title"].as_str().unwrap().to_owned(),
            );
        }
    }
    let lyrics = keyed["lyrics"].as_object().unwrap();
    assert_eq!(lyrics.len(), all_tracks.len(), "{lyrics:?}");
    let timed = |lines: &[(f64, &str)]| -> Vec<Value> {
        lines
            .iter()
            .map(|(start, value)| json!({ "start": start, "value": value }))
            .collect()
    };
    let plain = |lines: &[&str]| -> Vec<Value> {
        lines
            .iter()
            .map(|value| json!({ "start": null, "value": value }))
            .collect()
    };
    for (id, sets) in lyrics {
        let title = title_of[id].as_str();
        let expected = match title {
            "Morning Scale" => json!([{
                "lang": "xxx",
                "synced": true,
                "offset": 0.0,
                "display_artist": "The Placeholders",
                "display_title": "Morning Scale",
                "lines": timed(&[
                    (0.0, "Up the steps the morning climbs"),
                    (2000.0, "and down again to rest"),
                    (4000.0, "One note higher, second time"),
                    (6000.0, "then quiet does the rest"),
                ]),
            }]),
            "Carrier Wave" => json!([{
                "lang": "eng",
                "synced": false,
                "offset": 0.0,
                "display_artist": "Mira Oak",
                "display_title": "Carrier Wave",
                "lines": plain(&[
                    "Carrier wave, carry me",
                    "over static, over sea",
                    "",
                    "Every packet finds its way",
                    "home before the end of day",
                ]),
            }]),
            _ => json!([]),
        };
        assert_eq!(sets, &expected, "{title}");
    }
    assert!(
        title_of.values().any(|t| t == "Morning Scale")
            && title_of.values().any(|t| t == "Carrier Wave"),
        "{title_of:?}"
    );
    assert_eq!(keyed["lyrics_unknown"], "DataNotFoundError");
}

/// What the phone starred, rated, scrobbled and queued, as the clients read it back.
fn listening_was_kept(l: &Value, queue: &Value) {
    let id = |k: &str| l[k].as_str().unwrap().to_owned();
    let (a0, a1, s0, s1, x) = (id("a0"), id("a1"), id("s0"), id("s1"), id("x"));
    let now: Vec<&str> = l["now_playing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(now, [s1.as_str()], "getNowPlaying");
    assert_eq!(l["now_playing"][0]["username"], "anna");
    assert_eq!(l["now_playing"][0]["minutesAgo"], 0);
    assert_eq!(l["starred2"]["song"], json!([s0]));
    assert_eq!(l["starred2"]["album"], json!([a0]));
    assert_eq!(l["starred2"]["artist"], json!([id("artist")]));
    assert!(l["song"]["starred"].as_str().unwrap().ends_with('Z'));
    assert!(l["song"]["played"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        (&l["song"]["userRating"], &l["song"]["playCount"]),
        (&json!(4), &json!(2))
    );
    assert_eq!(l["album"]["playCount"], 2);
    assert!(l["album"]["starred"].is_string());
    assert_eq!(l["lists"]["starred"], json!([a0]));
    assert_eq!(
        l["lists"]["frequent"],
        json!([a0, a1]),
        "two plays, then one"
    );
    assert_eq!(l["lists"]["recent"], json!([a0, a1]), "now, then 2020");
    assert_eq!(l["lists"]["highest"], json!([a1]));
    assert_eq!(l["songs_starred_after_unstar"], json!([]));
    assert_eq!(queue["entries"], json!([s1, s0, x]));
    assert_eq!(queue["current"], json!(s0));
    assert_eq!(queue["position"], 42000);
    assert!(queue["changed_by"]
        .as_str()
        .unwrap()
        .starts_with("py-sonic"));
}

/// L1: the account password is refused on `/rest` — plain, `enc:`, and as a token login — with a
/// message that says to create an app password; it is stored nowhere in a readable form.
#[tokio::test]
async fn l1_the_account_password_is_refused_and_never_stored_readably() {
    let (s, t) = setup().await;
    let pass = app_password(&s, &t, "anna's phone", "app_password").await;
    let enc = hex::encode(PW);
    let salt = "c19b2d";
    let token = md5_hex(&format!("{PW}{salt}"));
    for q in [
        format!("u=anna&p={}", urlencode(PW)),
        format!("u=anna&p=enc:{enc}"),
        format!("u=anna&t={token}&s={salt}"),
    ] {
        let (ok, code, message) = rest(&s, &format!("/rest/ping.view?f=json&{q}")).await;
        assert!(!ok);
        assert_eq!(code, 40, "{message}");
        assert!(message.contains("app password"), "{message}");
    }
    // The app password works in every form a client sends it.
    let salt2 = "a1b2c3d4";
    for q in [
        format!("u=anna&p={pass}"),
        format!("u=anna&p=enc:{}", hex::encode(&pass)),
        format!("u=anna&t={}&s={salt2}", md5_hex(&format!("{pass}{salt2}"))),
        format!("u=anna&p={}", pass.replace('-', "").to_uppercase()),
    ] {
        let (ok, code, message) = rest(&s, &format!("/rest/ping?f=json&{q}")).await;
        assert!(ok, "{q}: {code} {message}");
    }
    // Neither password is in the database file in readable form.
    let data = s.dir.path().join("data");
    let db = std::fs::read(data.join("clef.db")).unwrap();
    let wal = std::fs::read(data.join("clef.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains(PW),
            "the account password is stored readably"
        );
        assert!(!text.contains(&pass), "the app password is stored readably");
    }
}

fn urlencode(s: &str) -> String {
    s.replace(' ', "%20")
}

/// L2: app passwords and API keys are devices: listed with their type, counted against the limit
/// (which names the devices holding the slots and lets one be signed out to make room), usable
/// only on `/rest`, and never for account or admin methods.
#[tokio::test]
async fn l2_app_passwords_are_devices_limited_and_without_account_rights() {
    let (s, t) = setup().await;
    let pass = app_password(&s, &t, "anna's phone", "app_password").await;
    let key = app_password(&s, &t, "anna's desktop", "api_key").await;
    let (_, devices) = s.get(&t, "/api/v1/devices").await;
    assert_eq!(devices.as_array().unwrap().len(), 3, "{devices}");
    let anna = s.store.user_by_name("anna").await.unwrap().unwrap();
    use clef_store::AccountStore;
    s.store.set_limits(&anna.id, Some(3), None).await.unwrap();
    let (status, body) = s
        .call(
            Method::POST,
            &t,
            "/api/v1/app-passwords",
            Some(json!({ "name": "anna's tablet" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "device_limit_reached");
    let phone = body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "anna's phone")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = s
        .call(
            Method::POST,
            &t,
            "/api/v1/app-passwords",
            Some(json!({ "name": "anna's tablet", "type": "tablet", "replace_device_id": phone })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (ok, code, message) = rest(&s, &format!("/rest/ping?f=json&u=anna&p={pass}")).await;
    assert!(
        !ok && code == 40 && message.contains("signed out"),
        "{code} {message}"
    );
    let tablet = body["password"].as_str().unwrap();
    let as_tablet = format!("f=json&u=anna&p={tablet}");
    // Account and admin methods: error 50.
    for m in [
        "createUser",
        "changePassword",
        "deleteUser",
        "getUsers",
        "updateUser",
    ] {
        let (ok, code, _) = rest(
            &s,
            &format!("/rest/{m}?{as_tablet}&username=anna&password=x"),
        )
        .await;
        assert!(!ok && code == 50, "{m}: {code}");
    }
    let (ok, code, _) = rest(&s, &format!("/rest/getUser?{as_tablet}&username=root")).await;
    assert!(!ok && code == 50);
    let (ok, _, _) = rest(&s, &format!("/rest/getUser?{as_tablet}&username=anna")).await;
    assert!(ok);
    let (ok, code, _) = rest(&s, &format!("/rest/startScan?{as_tablet}")).await;
    assert!(!ok && code == 50, "scanning is for admins");
    // Only on /rest: not a bearer token anywhere else.
    for secret in [tablet, key.as_str()] {
        let (status, _) = s.get(secret, "/api/v1/albums").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // An app's token cannot make app passwords.
    let (client_id, _) =
        crate::oauth::register(&s, &t, "Scrobbler", &[crate::oauth::NATIVE_CB], false).await;
    s.store.set_limits(&anna.id, Some(10), None).await.unwrap();
    let b = crate::oauth::browser(&s, "anna").await;
    let tokens = crate::oauth::tokens_for(&s, &b, &client_id, "library:read").await;
    let (status, body) = s
        .call(
            Method::POST,
            tokens["access_token"].as_str().unwrap(),
            "/api/v1/app-passwords",
            Some(json!({ "name": "sneaky" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

/// A token login's salt is accepted once; a player asking for another range of the same stream
/// URL is served; the API key's error codes.
#[tokio::test]
async fn replayed_salts_and_api_key_errors() {
    let (s, t) = setup().await;
    let pass = app_password(&s, &t, "anna's phone", "app_password").await;
    let key = app_password(&s, &t, "anna's desktop", "api_key").await;
    let salt = "5a1t0nce";
    let login = format!("u=anna&t={}&s={salt}", md5_hex(&format!("{pass}{salt}")));
    assert!(
        rest(&s, &format!("/rest/getArtists?f=json&{login}"))
            .await
            .0
    );
    let (ok, code, message) = rest(&s, &format!("/rest/getArtists?f=json&{login}")).await;
    assert!(
        !ok && code == 40 && message.contains("already used"),
        "{message}"
    );
    let (ok, _, _) = rest(&s, &format!("/rest/ping?f=json&{login}")).await;
    assert!(!ok, "nor for another method");
    // The same stream URL, range after range.
    let track = s.library.catalog().records().next().unwrap().id.clone();
    let salt = "r4ng3s4lt";
    let url = s.url(&format!(
        "/rest/stream?id={track}&u=anna&t={}&s={salt}",
        md5_hex(&format!("{pass}{salt}"))
    ));
    for range in ["bytes=0-9", "bytes=10-19"] {
        let r = s
            .client()
            .get(&url)
            .header("Range", range)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(r.bytes().await.unwrap().len(), 10);
    }
    // API keys.
    let (ok, code, _) = rest(&s, &format!("/rest/ping?f=json&apiKey={key}&u=anna")).await;
    assert!(!ok && code == 43);
    let (ok, code, _) = rest(&s, &format!("/rest/ping?f=json&apiKey={key}&t=x&s=y")).await;
    assert!(!ok && code == 43);
    let (ok, code, _) = rest(&s, "/rest/ping?f=json&apiKey=not-a-key").await;
    assert!(!ok && code == 44);
    assert!(rest(&s, &format!("/rest/ping?f=json&apiKey={key}")).await.0);
    // Signed out, the key is refused with 44, saying why.
    let desktop = crate::player::device_id(&s, &t, "anna's desktop").await;
    s.call(
        Method::DELETE,
        &t,
        &format!("/api/v1/devices/{desktop}"),
        None,
    )
    .await;
    let (ok, code, message) = rest(&s, &format!("/rest/ping?f=json&apiKey={key}")).await;
    assert!(
        !ok && code == 44 && message.contains("signed out"),
        "{message}"
    );
    // Answers in XML by default, in the Subsonic namespace; unknown formats are refused.
    let xml = s
        .client()
        .get(s.url(&format!("/rest/ping.view?u=anna&p={pass}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        xml.contains("xmlns=\"http://subsonic.org/restapi\"") && xml.contains("status=\"ok\""),
        "{xml}"
    );
}

/// L3: no credential of a Subsonic request reaches the log — not `p`, `t`, `s`, `apiKey`, nor the
/// query string — whether the login works or fails.
#[tokio::test]
async fn l3_subsonic_credentials_never_reach_the_log() {
    let (s, t) = setup().await;
    let pass = app_password(&s, &t, "l3 phone", "app_password").await;
    let key = app_password(&s, &t, "l3 desktop", "api_key").await;
    let salt = "l3uniquesalt";
    let token = md5_hex(&format!("{pass}{salt}"));
    let wrong_key = "l3-wrong-key-value";
    for q in [
        format!("u=anna&p={pass}"),
        format!("u=anna&p=enc:{}", hex::encode(&pass)),
        format!("u=anna&t={token}&s={salt}"),
        format!("u=anna&t={token}&s={salt}"),
        format!("apiKey={key}"),
        format!("apiKey={wrong_key}"),
        format!("u=anna&p={}", urlencode(PW)),
    ] {
        rest(&s, &format!("/rest/getAlbumList2?f=json&type=newest&{q}")).await;
    }
    let logs = clef_testkit::logs();
    assert!(logs.contains("/rest/getAlbumList2"), "requests are logged");
    for secret in [
        pass.as_str(),
        &hex::encode(&pass),
        &token,
        salt,
        &key,
        wrong_key,
        PW,
        "type=newest",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the log");
    }
}

/// Fifty phones, each with its own app password, start a stream at once: exactly the account's
/// stream limit (6) play; the others are told who is playing what.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_app_password_devices_starting_at_once_get_exactly_six_streams() {
    use clef_store::AccountStore;
    let (s, t) = setup().await;
    let anna = s.store.user_by_name("anna").await.unwrap().unwrap();
    s.store.set_limits(&anna.id, Some(60), None).await.unwrap();
    let mut passwords = Vec::new();
    for i in 0..50 {
        passwords.push(app_password(&s, &t, &format!("phone {i}"), "app_password").await);
    }
    let track = s.library.catalog().records().next().unwrap().id.clone();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(passwords.len()));
    let tasks = passwords.into_iter().map(|p| {
        let url = s.url(&format!("/rest/stream?id={track}&u=anna&p={p}&f=json"));
        let (client, barrier) = (s.client(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            let r = client.get(url).send().await.unwrap();
            let audio = r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("audio/");
            if audio {
                // Returned unread: the stream stays open, its slot taken, until all have asked.
                (Some(r), String::new())
            } else {
                (None, r.text().await.unwrap())
            }
        })
    });
    let answers: Vec<(Option<reqwest::Response>, String)> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let playing = answers.iter().filter(|(audio, _)| audio.is_some()).count();
    assert_eq!(playing, 6, "exactly the stream limit plays");
    for (_, body) in answers.iter().filter(|(audio, _)| audio.is_none()) {
        assert!(
            body.contains("its limit") && body.contains("phone "),
            "the refusal names who is playing: {body}"
        );
    }
}

/// The Devices page in Chromium, at phone and desktop sizes: an app password made through its
/// form is shown once with the server and user name, works on `/rest`, and the new device is
/// listed; at the limit, signing one out to make room works on the spot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_devices_page_makes_app_passwords_and_frees_a_slot_at_the_limit() {
    use crate::chromium::{finish, Driver};
    use crate::viewport::{fit, screenshot, set_viewport, DESKTOP, PHONE};
    use clef_store::AccountStore;
    use futures::FutureExt;

    let (s, t) = setup().await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = std::panic::AssertUnwindSafe(async {
        let mut problems = Vec::new();
        b.sign_in(&s, "anna", PW, "Chromium").await;
        b.goto(&s, "/devices").await;
        b.wait("#app-password-form").await;
        for v in [PHONE, DESKTOP] {
            set_viewport(&b, v).await;
            problems.extend(fit(&b, &format!("devices with Subsonic form ({})", v.name)).await);
            screenshot(&b, v, &format!("devices-subsonic-{}", v.name)).await;
        }
        b.fill("#subsonic-name", "Anna's tablet").await;
        b.find("#subsonic-type option[value=tablet]")
            .await
            .click()
            .await
            .unwrap();
        b.find("#create-app-password").await.click().await.unwrap();
        let secret = b.wait("#subsonic-secret").await.text().await.unwrap();
        assert_eq!(secret.len(), 34, "{secret}");
        assert_eq!(
            b.find("#subsonic-username").await.text().await.unwrap(),
            "anna"
        );
        assert_eq!(
            b.find("#subsonic-server").await.text().await.unwrap(),
            s.url("")
        );
        for v in [PHONE, DESKTOP] {
            set_viewport(&b, v).await;
            problems.extend(fit(&b, &format!("new app password ({})", v.name)).await);
            screenshot(&b, v, &format!("devices-app-password-{}", v.name)).await;
        }
        assert!(
            rest(&s, &format!("/rest/ping?f=json&u=anna&p={secret}"))
                .await
                .0
        );
        b.goto(&s, "/devices").await;
        let names = b.texts("#devices .device-name").await;
        assert!(names.contains(&"Anna's tablet".to_owned()), "{names:?}");

        // At the limit (laptop, this browser, the tablet), the tablet's slot is freed on the spot.
        let anna = s.store.user_by_name("anna").await.unwrap().unwrap();
        s.store.set_limits(&anna.id, Some(3), None).await.unwrap();
        b.fill("#subsonic-name", "Car stereo").await;
        b.find("#subsonic-type option[value=car]")
            .await
            .click()
            .await
            .unwrap();
        b.find("#subsonic-kind-key").await.click().await.unwrap();
        b.find("#create-app-password").await.click().await.unwrap();
        b.wait("#device-limit").await;
        let mut holding = b.texts("tr[data-device-id] td.name").await;
        holding.sort();
        assert_eq!(holding.len(), 3, "{holding:?}");
        set_viewport(&b, PHONE).await;
        problems.extend(fit(&b, "app password at the device limit (phone)").await);
        screenshot(&b, PHONE, "devices-app-password-limit-phone").await;
        let tablet = crate::player::device_id(&s, &t, "Anna's tablet").await;
        b.find(&format!(".replace[data-device-id='{tablet}']"))
            .await
            .click()
            .await
            .unwrap();
        let key = b.wait("#subsonic-secret").await.text().await.unwrap();
        assert!(rest(&s, &format!("/rest/ping?f=json&apiKey={key}")).await.0);
        let (ok, code, _) = rest(&s, &format!("/rest/ping?f=json&u=anna&p={secret}")).await;
        assert!(!ok && code == 40, "the tablet was signed out to make room");
        assert!(problems.is_empty(), "{problems:#?}");
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}

/// `estimateContentLength=true` on a transcoded `stream` (MP3 at 128 and 320 kbit/s, AAC at 256,
/// from 44.1 kHz, 96 kHz and 24 kHz mono sources): the answer promises a `Content-Length` and
/// keeps it, so a client reading the whole body gets exactly that many bytes and no connection
/// error. For MP3 they are LAME's own stream to the byte (its length follows from the duration
/// and the rate); for AAC an upper bound, the encoder's stream followed by zeros. ffmpeg decodes
/// each without an error. Where the encoder would lower the rate (AAC above what one channel at
/// 24 kHz holds), nothing is promised. Without the parameter nothing is promised either, and the
/// original file (`format=raw`) keeps its own exact length.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn estimated_content_length_is_kept_and_the_stream_decodes() {
    use std::process::Command;
    let music = tempfile::tempdir().unwrap();
    for (name, rate, channels) in [("cd", 44_100, 2), ("hires", 96_000, 2), ("mono", 24_000, 1)] {
        let out = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg("sine=frequency=330:duration=12.3")
            .args(["-ac", &channels.to_string(), "-ar", &rate.to_string()])
            .args(["-metadata", &format!("title={name}")])
            .arg(music.path().join(format!("{name}.flac")))
            .output()
            .expect("ffmpeg (Debian's package) must be installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let s = TestServer::start_with(clef_testkit::Options {
        music: clef_testkit::Music::Dirs(vec![music.path().to_path_buf()]),
        ..Default::default()
    })
    .await;
    s.create_user("anna", PW, false).await;
    let t = s.token("anna", PW, "anna's laptop").await;
    let pass = app_password(&s, &t, "anna's phone", "app_password").await;
    // Token login with a new salt for every request, as real clients send them.
    let mut salt = 0;
    let mut url = |query: String| {
        salt += 1;
        let salt = format!("estimate{salt}");
        let token = md5_hex(&format!("{pass}{salt}"));
        s.url(&format!(
            "/rest/stream?u=anna&t={token}&s={salt}&v=1.16.1&c=test&{query}"
        ))
    };
    let records: Vec<_> = s.library.catalog().records().cloned().collect();
    assert_eq!(records.len(), 3);
    for record in &records {
        let id = &record.id;
        for (format, kbps, content_type) in [
            ("mp3", 128, "audio/mpeg"),
            ("mp3", 320, "audio/mpeg"),
            ("aac", 256, "audio/aac"),
        ] {
            let case = format!("{} as {format} {kbps}", record.title);
            let asked = format!("id={id}&format={format}&maxBitRate={kbps}");
            let plain = s.client().get(url(asked.clone())).send().await.unwrap();
            assert_eq!(plain.status(), StatusCode::OK, "{case}");
            assert!(plain.headers().get("content-length").is_none(), "{case}");
            let plain = plain.bytes().await.unwrap();

            let r = s
                .client()
                .get(url(format!("{asked}&estimateContentLength=true")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{case}");
            assert_eq!(r.headers()["content-type"], content_type, "{case}");
            assert_eq!(r.headers()["x-content-duration"], "12.300", "{case}");
            let promised: Option<usize> = r
                .headers()
                .get("content-length")
                .map(|v| v.to_str().unwrap().parse().unwrap());
            // The whole body arrives: one that ended short would be a connection error here.
            let body = r.bytes().await.unwrap();
            match promised {
                None => {
                    assert_eq!(case, "mono as aac 256", "only there is nothing promised");
                    assert_eq!(body, plain, "{case}");
                }
                Some(promised) if format == "mp3" => {
                    assert_eq!(body.len(), promised, "{case}");
                    // LAME's stream to the byte; or, for a track a little longer than its
                    // duration in milliseconds says, without its last frame of padding.
                    assert!(
                        plain.len() == promised || plain.len() - promised < 1045,
                        "{case}: {} bytes, {promised} promised",
                        plain.len()
                    );
                    assert_eq!(body, plain[..promised], "{case}: the encoder's stream");
                }
                Some(promised) => {
                    assert_eq!(body.len(), promised, "{case}");
                    assert!(plain.len() <= promised, "{case}: an upper bound");
                    assert_eq!(body[..plain.len()], plain, "{case}: the encoder's stream");
                    assert!(body[plain.len()..].iter().all(|b| *b == 0), "{case}");
                    assert!(
                        promised - plain.len() < promised / 50,
                        "{case}: {} bytes of zeros",
                        promised - plain.len()
                    );
                }
            }
            let file = s
                .dir
                .path()
                .join(format!("{}-{kbps}.{format}", record.title));
            std::fs::write(&file, &body).unwrap();
            let out = Command::new("ffmpeg")
                .args(["-v", "error", "-i"])
                .arg(&file)
                .args(["-f", "null", "-"])
                .output()
                .unwrap();
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "{case}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let probe = crate::exports::ffprobe(&file);
            assert_eq!(probe["streams"][0]["codec_name"], format, "{case}: {probe}");
        }
    }
    // The original file has its exact length already; nothing is estimated.
    let record = &records[0];
    let r = s
        .client()
        .get(url(format!(
            "id={}&format=raw&estimateContentLength=true",
            record.id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-length"], record.size.to_string());
    assert!(r.headers().get("x-content-duration").is_none());
    assert_eq!(r.bytes().await.unwrap().len() as i64, record.size);
}
