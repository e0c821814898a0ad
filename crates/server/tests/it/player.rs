//! The library pages and the web player: the pages over plain HTTP with a web session (no script),
//! and the player bar in headless Chromium (chromedriver + fantoccini, as in `browser`): playing a
//! track, being stopped with the reason when the device is signed out elsewhere, and taking over a
//! stream slot at the account's stream limit. Screenshots go to `test-artifacts/screenshots/`.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use crate::chromium::{finish, Driver};
use clef_accounts::Actor;
use clef_testkit::TestServer;
use fantoccini::Locator;
use futures::FutureExt;
use reqwest::{Method, StatusCode};
use serde_json::json;

pub(crate) const PASSWORD: &str = "player test password";

async fn sample_server() -> TestServer {
    TestServer::with_sample_library().await
}

fn album_id(s: &TestServer, name: &str) -> String {
    let catalog = s.library.catalog();
    let (_, albums) = catalog.albums(clef_library::AlbumSort::Name, None, 0, 100);
    albums
        .into_iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no album {name}"))
        .id
}

fn track_id(s: &TestServer, title: &str) -> String {
    let catalog = s.library.catalog();
    let id = catalog
        .records()
        .find(|r| r.title == title)
        .unwrap_or_else(|| panic!("no track {title}"))
        .id
        .clone();
    id
}

// ---- a web session over plain HTTP ----

/// A cookie-keeping client signed in through the sign-in form, as a browser without script.
pub(crate) struct WebSession {
    pub(crate) client: reqwest::Client,
}

/// The value of the hidden `csrf` field in a page.
pub(crate) fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("the page has a form with a CSRF field");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

impl WebSession {
    pub(crate) async fn sign_in(s: &TestServer, user: &str, device: &str) -> WebSession {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = client
            .get(s.url("/signin"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let r = client
            .post(s.url("/signin"))
            .form(&[
                ("username", user),
                ("password", PASSWORD),
                ("device_name", device),
                ("csrf", &csrf_of(&page)),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "web sign-in");
        assert_eq!(r.headers()["location"], "/library");
        WebSession { client }
    }

    pub(crate) async fn get(&self, s: &TestServer, path: &str) -> (StatusCode, String) {
        let r = self.client.get(s.url(path)).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// Posts a form with the CSRF token of `page`; returns status and Location.
    async fn post(
        &self,
        s: &TestServer,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let token = csrf_of(page);
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &token));
        let r = self
            .client
            .post(s.url(action))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, location)
    }
}

fn assert_contains(html: &str, needles: &[&str], what: &str) {
    for n in needles {
        assert!(html.contains(n), "{what} should contain {n:?}");
    }
}

/// Adding an album to a playlist that holds some of it already asks first: only the new songs,
/// all again, or nothing.
#[tokio::test]
async fn adding_songs_a_playlist_holds_asks_before_duplicating() {
    let s = sample_server().await;
    s.create_user("lena", PASSWORD, false).await;
    let token = s.token("lena", PASSWORD, "Tablet").await;
    let album = album_id(&s, "First Light");
    let (_, a) = s.get(&token, &format!("/api/v1/albums/{album}")).await;
    let ids: Vec<String> = a["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.len() >= 2, "an album of several songs");
    let (_, p) = s
        .call(
            Method::POST,
            &token,
            "/api/v1/playlists",
            Some(json!({ "name": "Mix", "track_ids": [ids[0]] })),
        )
        .await;
    let playlist = p["id"].as_str().unwrap().to_owned();
    let held = || async {
        let (_, p) = s
            .get(&token, &format!("/api/v1/playlists/{playlist}"))
            .await;
        p["tracks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let web = WebSession::sign_in(&s, "lena", "Laptop").await;
    let back = format!("/library/albums/{album}");
    let (_, page) = web.get(&s, &back).await;
    let all = ids.join(",");
    let n = ids.len();
    let add = |dup: &'static str| {
        let mut f = vec![
            ("playlist", playlist.clone()),
            ("track_ids", all.clone()),
            ("back", back.clone()),
        ];
        if !dup.is_empty() {
            f.push(("duplicates", dup.to_owned()));
        }
        f
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let page = page.clone();
        let web = &web;
        let s = &s;
        async move {
            let mut form: Vec<(&str, String)> = fields;
            form.push(("csrf", csrf_of(&page)));
            let r = web
                .client
                .post(s.url("/library/playlists/add"))
                .form(&form)
                .send()
                .await
                .unwrap();
            let location = r
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned());
            (r.status(), location, r.text().await.unwrap())
        }
    };

    let (status, _, question) = post(add("")).await;
    assert_eq!(status, StatusCode::OK, "a question, not a change");
    assert_contains(
        &question,
        &[&format!("“Mix” already holds 1 of these {n} songs.")],
        "the question",
    );
    assert_eq!(held().await, [ids[0].clone()], "nothing added yet");

    let (status, location, _) = post(add("skip")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location
        .unwrap()
        .contains(&format!("notice=added&n={}", n - 1)));
    assert_eq!(held().await, ids, "each song once, in album order");

    let (_, _, question) = post(add("")).await;
    assert_contains(
        &question,
        &[&format!("“Mix” already holds all {n} of these songs.")],
        "the question",
    );
    let (status, _, _) = post(add("again")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(held().await.len(), 2 * n, "added again when asked to");
}

#[tokio::test]
async fn library_pages_work_without_script() {
    let started = Instant::now();
    let s = sample_server().await;
    s.create_user("lena", PASSWORD, false).await;
    s.create_user("root", PASSWORD, true).await;

    // Signed out: sent to sign in.
    let r = s.client().get(s.url("/library")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/signin");

    let web = WebSession::sign_in(&s, "lena", "Laptop").await;
    let (status, devices) = web.get(&s, "/devices").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        devices.contains("href=\"/library\""),
        "Library in the navigation"
    );

    let (status, albums) = web.get(&s, "/library").await;
    assert_eq!(status, StatusCode::OK);
    assert_contains(
        &albums,
        &[
            "First Light",
            "Signal Garden",
            "The Placeholders",
            "Mira Oak",
        ],
        "/library",
    );
    assert!(albums.contains("/static/player.js?v="), "the player script");
    let first = albums.find("First Light").unwrap();
    let signal = albums.find("Signal Garden").unwrap();
    assert!(first < signal, "sorted by name");
    for sort in ["artist", "year", "recent", "random"] {
        let (status, page) = web.get(&s, &format!("/library?sort={sort}")).await;
        assert_eq!(status, StatusCode::OK, "sort={sort}");
        assert_contains(&page, &["First Light", "Signal Garden"], sort);
    }
    let (status, page) = web.get(&s, "/library?page=2").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("First Light"), "page 2 of 1 is empty");

    let light = album_id(&s, "First Light");
    let (status, album) = web.get(&s, &format!("/library/albums/{light}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_contains(
        &album,
        &[
            "First Light",
            "Morning Scale",
            "Open Window",
            "Tea Steam",
            "id=\"play-album\"",
            &format!("data-track-id=\"{}\"", track_id(&s, "Morning Scale")),
            "class=\"play-track js-only\"",
            "0:08",
        ],
        "the album page",
    );
    let (status, _) = web.get(&s, "/library/albums/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, artists) = web.get(&s, "/library/artists").await;
    assert_eq!(status, StatusCode::OK);
    assert_contains(&artists, &["Mira Oak", "The Placeholders"], "artists");

    let (status, found) = web.get(&s, "/library/search?q=garden").await;
    assert_eq!(status, StatusCode::OK);
    assert_contains(&found, &["Signal Garden", "Carrier Wave"], "search");
    assert!(!found.contains("Morning Scale"), "only what matches");
    let (status, none) = web.get(&s, "/library/search?q=zzzz").await;
    assert_eq!(status, StatusCode::OK);
    assert!(none.contains("Nothing found."));

    // Playlists through the forms: create from an album, rename, move, remove, delete.
    let (status, lists) = web.get(&s, "/library/playlists").await;
    assert_eq!(status, StatusCode::OK);
    assert!(lists.contains("No playlists yet."));
    let ids = [
        track_id(&s, "Morning Scale"),
        track_id(&s, "Open Window"),
        track_id(&s, "Tea Steam"),
    ]
    .join(",");
    let (status, location) = web
        .post(
            &s,
            &album,
            "/library/playlists",
            &[("name", "Road trip"), ("track_ids", &ids)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.ends_with("?notice=created"), "{location}");
    let path = location.split('?').next().unwrap().to_owned();
    let (status, list) = web.get(&s, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert_contains(
        &list,
        &[
            "Road trip",
            "Playlist created.",
            "Morning Scale",
            "Tea Steam",
        ],
        "the new playlist",
    );
    let (status, location) = web
        .post(
            &s,
            &list,
            &format!("{path}/move"),
            &[("from", "2"), ("to", "0")],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, &*format!("{path}?notice=moved"))
    );
    let (status, location) = web
        .post(&s, &list, &format!("{path}/remove"), &[("position", "1")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let (status, location) = web
        .post(
            &s,
            &list,
            &format!("{path}/rename"),
            &[("name", "Short trip")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let pid = path.rsplit('/').next().unwrap();
    let p = s
        .library
        .playlist(
            &s.accounts.user(Actor::Console, "lena").await.unwrap().id,
            pid,
        )
        .await
        .unwrap();
    let titles: Vec<_> = p.tracks.unwrap().into_iter().map(|t| t.title).collect();
    assert_eq!(p.name, "Short trip");
    assert_eq!(titles, ["Tea Steam", "Open Window"], "moved, then removed");
    let (status, _) = web
        .post(&s, &list, &format!("{path}/rename"), &[("name", "  ")])
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an empty name is refused"
    );
    let (status, m3u8) = web.get(&s, &format!("/api/v1/playlists/{pid}/m3u8")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the export link works with the cookie"
    );
    assert!(m3u8.starts_with("#EXTM3U"));
    let (status, location) = web
        .post(
            &s,
            &list,
            "/library/playlists/import",
            &[("name", "Imported"), ("m3u8", &m3u8)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.contains("notice=imported&n=2&unmatched=0"),
        "{location}"
    );
    let (status, location) = web.post(&s, &list, &format!("{path}/delete"), &[]).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/library/playlists?notice=deleted")
    );
    let (_, lists) = web.get(&s, "/library/playlists").await;
    assert!(!lists.contains("Short trip") && lists.contains("Imported"));

    // A form without the token changes nothing.
    let r = web
        .client
        .post(s.url("/library/playlists"))
        .form(&[("name", "Sneaky")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The admin's library page and its Scan now button; listeners are refused.
    let (status, _) = web.get(&s, "/admin/library").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = WebSession::sign_in(&s, "root", "Admin laptop").await;
    let (status, page) = admin.get(&s, "/admin/library").await;
    assert_eq!(status, StatusCode::OK);
    assert_contains(
        &page,
        &[
            "id=\"library-tracks\">6<",
            "id=\"library-albums\">2<",
            "Scan now",
            "Unreadable files",
        ],
        "/admin/library",
    );
    let (status, location) = admin.post(&s, &page, "/admin/library/scan", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.starts_with("/admin/library?notice=scan_"),
        "{location}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.library.progress().running || s.library.progress().last.is_none() {
        assert!(Instant::now() < deadline, "the scan ends");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, page) = admin.get(&s, "/admin/library").await;
    assert!(
        page.contains("id=\"last-files\">6<"),
        "the last scan's numbers"
    );
    eprintln!("library_pages_work_without_script: {:?}", started.elapsed());
}

/// The id of the user's device with this name, as another device sees it.
pub(crate) async fn device_id(s: &TestServer, token: &str, name: &str) -> String {
    let (status, body) = s.get(token, "/api/v1/devices").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("a device named {name}: {body}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_player_plays_and_stops_with_the_reason_when_signed_out() {
    let started = Instant::now();
    let s = sample_server().await;
    s.create_user("mona", PASSWORD, false).await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        b.sign_in(&s, "mona", PASSWORD, "Kitchen browser").await;
        b.goto(&s, "/library").await;
        b.wait("ul.albums").await;
        b.screenshot("library-albums").await;

        b.play_from_album(&s, "First Light", "Morning Scale").await;
        b.wait_audio(15, "the track plays", |(t, paused, _)| !paused && t > 0.5)
            .await;
        let (t1, _, _) = b.audio().await;
        b.wait_audio(10, "time advances", |(t, _, _)| t > t1 + 0.5).await;
        assert_eq!(b.find("#player-title").await.text().await.unwrap(), "Morning Scale");
        assert!(b
            .find("tr[data-title='Morning Scale']")
            .await
            .attr("class")
            .await
            .unwrap()
            .unwrap_or_default()
            .contains("now-playing"));
        b.screenshot("album-playing").await;

        // Another device of the account sees what plays, on the API and the Devices page.
        let phone = s.token("mona", PASSWORD, "Phone").await;
        let (status, playing) = s.get(&phone, "/api/v1/playback").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(playing["streams"][0]["name"], "Kitchen browser", "{playing}");
        assert_eq!(playing["streams"][0]["track"]["title"], "Morning Scale");
        let web = WebSession::sign_in(&s, "mona", "Laptop").await;
        let (_, devices) = web.get(&s, "/devices").await;
        assert!(
            devices.contains("Playing now: <span class=\"device-playing-track\">Morning Scale by The Placeholders</span>"),
            "the Devices page says what plays"
        );

        // The phone signs the browser out: the player stops and says why.
        let browser_id = device_id(&s, &phone, "Kitchen browser").await;
        let (status, body) = s
            .call(Method::DELETE, &phone, &format!("/api/v1/devices/{browser_id}"), None)
            .await;
        assert!(status.is_success(), "signing the browser out: {status} {body}");
        let signed_out_at = Instant::now();
        let reason = b.wait_visible_text("player-status", 10).await;
        let took = signed_out_at.elapsed();
        assert!(
            reason.starts_with("This device was signed out from Phone."),
            "the reason is shown: {reason:?}"
        );
        b.wait_audio(3, "playback stops", |(_, paused, _)| paused).await;
        let (t_stop, _, _) = b.audio().await;
        // Not advancing: measured over a second of wall time.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (t_later, paused, _) = b.audio().await;
        assert!(paused && (t_later - t_stop).abs() < 0.01, "{t_stop} then {t_later}");
        let sign_in = b
            .find("#player-status a.player-signin")
            .await
            .attr("href")
            .await
            .unwrap();
        assert_eq!(
            sign_in.as_deref(),
            Some("/signin?reason=signed_out_by_user"),
            "a way back in, telling the sign-in page why"
        );
        b.screenshot("player-stopped-signed-out").await;
        eprintln!("the player showed the reason {took:?} after the sign-out");
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
    eprintln!(
        "the_player_plays_and_stops_with_the_reason_when_signed_out: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn at_the_stream_limit_the_player_offers_to_take_over() {
    let started = Instant::now();
    let s = sample_server().await;
    s.create_user("nico", PASSWORD, false).await;
    s.accounts
        .set_limits(Actor::Console, "nico", None, Some(1))
        .await
        .unwrap();
    let phone = s.token("nico", PASSWORD, "Phone").await;
    // The phone plays Carrier Wave: it holds the account's one stream slot.
    let carrier = track_id(&s, "Carrier Wave");
    let (status, body) = s
        .call(
            Method::PUT,
            &phone,
            "/api/v1/playback",
            Some(json!({ "track_id": carrier, "state": "playing" })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        b.sign_in(&s, "nico", PASSWORD, "Study browser").await;
        b.play_from_album(&s, "First Light", "Open Window").await;
        let status = b.wait_visible_text("player-status", 10).await;
        assert_eq!(status, "This account already plays on 1 device, its limit.");
        let choice = b.wait("#player-choices li.choice").await;
        let text = choice.text().await.unwrap();
        assert!(
            text.contains("Phone") && text.contains("Carrier Wave") && text.contains("Mira Oak"),
            "who plays what: {text:?}"
        );
        let (_, paused, _) = b.audio().await;
        assert!(paused, "nothing plays here yet");
        b.screenshot("player-stream-limit").await;

        let button = choice.find(Locator::Css("button.takeover")).await.unwrap();
        assert_eq!(
            button.text().await.unwrap(),
            "Stop playback there and play here"
        );
        button.click().await.unwrap();
        b.wait_audio(
            15,
            "the track plays after the takeover",
            |(t, paused, _)| !paused && t > 0.5,
        )
        .await;
        let shown = b
            .js("const e = document.getElementById('player-status'); return e.hidden;")
            .await;
        assert_eq!(shown, json!(true), "the message is gone");
        b.screenshot("player-after-takeover").await;

        // The phone hears that its playback moved.
        let (status, body) = s
            .call(
                Method::PUT,
                &phone,
                "/api/v1/playback",
                Some(json!({ "track_id": carrier, "state": "playing" })),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"], "playback_stopped");
        assert_eq!(body["message"], "Playback moved to Study browser.");

        // At a phone's width; then to another page, where the player picks up its queue.
        b.client.set_window_size(390, 844).await.unwrap();
        b.screenshot("player-phone-album").await;
        b.goto(&s, "/library").await;
        b.wait("ul.albums").await;
        b.wait_audio(15, "playback resumes on the next page", |(t, paused, _)| {
            !paused && t > 0.2
        })
        .await;
        let title = b.find("#player-title").await.text().await.unwrap();
        assert!(
            title == "Open Window" || title == "Tea Steam",
            "the queue carried over: {title:?}"
        );
        b.screenshot("player-phone-library").await;

        // Now the phone takes playback back: the browser stops and says where it went.
        b.js("document.getElementById('player-audio').currentTime = 0; return null;")
            .await;
        let here = device_id(&s, &phone, "Study browser").await;
        let r = s
            .client()
            .get(s.url(&format!("/api/v1/tracks/{carrier}/stream?takeover={here}")))
            .bearer_auth(&phone)
            .header("range", "bytes=0-0")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        // The short tune is buffered whole, so no open stream is cut here: the browser hears
        // it at its next report, which a pause and play makes now (rather than the track's end,
        // where its next track would meet the phone's slot as a plain stream limit).
        b.js(
            "const a = document.getElementById('player-audio'); a.pause(); a.play(); return null;",
        )
        .await;
        let reason = b.wait_visible_text("player-status", 10).await;
        assert_eq!(reason, "Playback moved to Phone.");
        b.wait_audio(3, "playback stops", |(_, paused, _)| paused)
            .await;
        b.screenshot("player-phone-taken-over").await;
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;

    eprintln!(
        "at_the_stream_limit_the_player_offers_to_take_over: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn library_pages_and_queue_in_a_browser() {
    let started = Instant::now();
    let s = sample_server().await;
    s.create_user("olga", PASSWORD, true).await;
    let token = s.token("olga", PASSWORD, "Tablet").await;
    let ids = vec![track_id(&s, "Carrier Wave"), track_id(&s, "Last Packet")];
    let (status, body) = s
        .call(
            Method::POST,
            &token,
            "/api/v1/playlists",
            Some(json!({ "name": "Evening", "track_ids": ids })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        b.sign_in(&s, "olga", PASSWORD, "Office browser").await;
        b.client
            .find(Locator::LinkText("Library"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.wait("ul.albums").await;

        // The sort select applies itself (script), keeping the page usable without it.
        b.find("#sort option[value='artist']")
            .await
            .click()
            .await
            .unwrap();
        b.wait("#sort option[value='artist'][selected]").await;
        let names = {
            let mut v = Vec::new();
            for e in b
                .client
                .find_all(Locator::Css(".album-card .album-artist"))
                .await
                .unwrap()
            {
                v.push(e.text().await.unwrap());
            }
            v
        };
        assert_eq!(names, ["Mira Oak", "The Placeholders"], "sorted by artist");

        // Search, then queue two tracks from the results without playing them.
        b.fill("#library-q", "packet").await;
        b.find("form.search button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        b.wait("#track-results").await;
        b.find("tr[data-title='Last Packet'] button.queue-track")
            .await
            .click()
            .await
            .unwrap();
        b.find("tr[data-title='Last Packet'] details.more summary")
            .await
            .click()
            .await
            .unwrap();
        b.screenshot("library-search").await;
        b.find("tr[data-title='Last Packet'] form.add-to-playlist button")
            .await
            .click()
            .await
            .unwrap();
        // "Evening" holds the song already: Clef asks before adding it twice.
        b.wait("#duplicates-question").await;
        let question = b.find("main p").await.text().await.unwrap();
        assert!(
            question.starts_with("“Evening” already holds this song."),
            "{question}"
        );
        assert!(
            b.find_all("#add-skip").await.is_empty(),
            "nothing new to add"
        );
        b.screenshot("library-add-again").await;
        b.find("#add-again").await.click().await.unwrap();
        b.wait_path("/library/search").await;
        let notice = b.wait("#notice").await.text().await.unwrap();
        assert_eq!(notice, "Added 1 track to “Evening”.");
        b.goto(&s, "/library/artists").await;
        b.wait("#artists").await;
        b.screenshot("library-artists").await;
        b.client
            .find(Locator::LinkText("Mira Oak"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.wait("#artist-name").await;
        assert_eq!(
            b.find("#artist-name").await.text().await.unwrap(),
            "Mira Oak"
        );
        assert_eq!(
            b.find("#player-queue-toggle").await.text().await.unwrap(),
            "Queue (1)",
            "the queue survives the page change"
        );
        assert_eq!(
            b.find("#player-title").await.text().await.unwrap(),
            "Last Packet"
        );

        // Playlists: the list, one playlist, play it from there.
        b.goto(&s, "/library/playlists").await;
        b.wait("#playlists").await;
        b.screenshot("library-playlists").await;
        b.client
            .find(Locator::LinkText("Evening"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.wait("#playlist-name").await;
        let rows = b.client.find_all(Locator::Css("#tracks tr")).await.unwrap();
        assert_eq!(rows.len(), 3, "two from the API, one added from search");
        b.find("#play-album").await.click().await.unwrap();
        b.wait_audio(15, "the playlist plays", |(t, paused, _)| {
            !paused && t > 0.3
        })
        .await;
        assert_eq!(
            b.find("#player-title").await.text().await.unwrap(),
            "Carrier Wave"
        );
        b.find("#player-queue-toggle").await.click().await.unwrap();
        let queued = {
            let mut v = Vec::new();
            for e in b
                .client
                .find_all(Locator::Css("#player-queue .queue-jump"))
                .await
                .unwrap()
            {
                v.push(e.text().await.unwrap());
            }
            v
        };
        assert_eq!(
            queued,
            ["Carrier Wave", "Last Packet", "Last Packet"],
            "Play replaces the queue with the playlist"
        );
        b.find("#player-next").await.click().await.unwrap();
        b.wait_audio(15, "the next track plays", |(t, paused, _)| {
            !paused && t > 0.3
        })
        .await;
        assert_eq!(
            b.find("#player-title").await.text().await.unwrap(),
            "Last Packet"
        );
        b.screenshot("library-playlist-playing").await;
        b.find("#player-toggle").await.click().await.unwrap();
        b.wait_audio(5, "pause", |(_, paused, _)| paused).await;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let (_, playing) = s.get(&token, "/api/v1/playback").await;
            if playing["streams"].as_array().is_some_and(|a| a.is_empty()) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "pausing gives the slot back: {playing}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // The admin's library page.
        b.goto(&s, "/admin/library").await;
        b.wait("#scan-now").await;
        assert_eq!(b.find("#library-tracks").await.text().await.unwrap(), "6");
        b.screenshot("admin-library").await;
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
    eprintln!(
        "library_pages_and_queue_in_a_browser: {:?}",
        started.elapsed()
    );
}
