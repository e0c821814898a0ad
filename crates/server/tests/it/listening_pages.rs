//! What a phone keeps shows in the web Library: albums starred, rated and played through a
//! Subsonic app are listed under the Library's own sorts with their marks, and the album page
//! stars and rates in turn, which the app then reads back. Headless Chromium at 390×844 and
//! 1280×800; screenshots `test-artifacts/screenshots/listening-*.png`.

use std::panic::AssertUnwindSafe;

use clef_testkit::TestServer;
use futures::FutureExt;
use serde_json::Value;

use crate::chromium::{finish, Driver};
use crate::oauth::PW;
use crate::subsonic::app_password;
use crate::viewport::{fit, screenshot, set_viewport, DESKTOP, PHONE};

/// A `/rest` call with the app password, answered in JSON; panics unless it is `ok`.
async fn rest(s: &TestServer, pass: &str, method: &str, query: &str) -> Value {
    let url = s.url(&format!(
        "/rest/{method}?u=anna&p={pass}&v=1.16.1&c=phone&f=json&{query}"
    ));
    let body: Value = s
        .client()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let root = body["subsonic-response"].clone();
    assert_eq!(root["status"], "ok", "{method}: {body}");
    root
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_phone_keeps_shows_in_the_library_and_the_page_keeps_it_too() {
    let s = TestServer::with_sample_library().await;
    s.create_user("anna", PW, false).await;
    let token = s.token("anna", PW, "anna's laptop").await;
    let pass = app_password(&s, &token, "anna's phone", "app_password").await;
    let albums = ids(
        &rest(&s, &pass, "getAlbumList2", "type=alphabeticalByName").await["albumList2"]["album"],
    );
    let (a0, a1) = (albums[0].clone(), albums[1].clone());
    let songs = |a: Value| ids(&a["album"]["song"]);
    let s0 = songs(rest(&s, &pass, "getAlbum", &format!("id={a0}")).await)[0].clone();
    let s1 = songs(rest(&s, &pass, "getAlbum", &format!("id={a1}")).await)[0].clone();
    rest(&s, &pass, "star", &format!("albumId={a0}")).await;
    rest(&s, &pass, "setRating", &format!("id={a1}&rating=4")).await;
    for id in [&s1, &s1, &s0] {
        rest(&s, &pass, "scrobble", &format!("id={id}")).await;
    }

    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        b.sign_in(&s, "anna", PW, "Chromium").await;
        let mut problems = Vec::new();
        for v in [PHONE, DESKTOP] {
            set_viewport(&b, v).await;
            b.goto(&s, "/library?sort=most-played").await;
            b.wait("ul.albums").await;
            let shown: Vec<String> = b
                .js("return [...document.querySelectorAll('.album-card')].map(e => e.dataset.albumId)")
                .await
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            assert_eq!(shown, vec![a1.clone(), a0.clone()], "most played first, only played");
            let card = |a: &str, part: &str| format!(".album-card[data-album-id='{a}'] {part}");
            assert_eq!(b.find(&card(&a1, ".plays")).await.text().await.unwrap(), "2 plays");
            let rating = b.find(&card(&a1, ".rating")).await;
            assert_eq!(rating.attr("title").await.unwrap().as_deref(), Some("Rated 4 of 5"));
            assert!(rating.text().await.unwrap().starts_with("★★★★☆"));
            assert!(b.find(&card(&a0, ".starred")).await.is_displayed().await.unwrap());
            problems.extend(fit(&b, &format!("most played ({})", v.name)).await);
            screenshot(&b, v, &format!("listening-most-played-{}", v.name)).await;
        }
        b.goto(&s, "/library?sort=starred").await;
        b.wait("ul.albums").await;
        assert_eq!(b.find_all(".album-card").await.len(), 1, "one album starred");

        // The album page unstars and rates; the phone reads both back.
        b.goto(&s, &format!("/library/albums/{a0}")).await;
        let star = b.wait("#star-album").await;
        assert_eq!(star.text().await.unwrap(), "★ Starred");
        assert!(b.find("#album-plays").await.text().await.unwrap().starts_with("Played 1 time"));
        let row = format!("tr[data-track-id='{s0}'] .plays");
        assert_eq!(b.find(&row).await.text().await.unwrap(), "1 play");
        problems.extend(fit(&b, "album (desktop)").await);
        screenshot(&b, DESKTOP, "listening-album-desktop").await;
        star.click().await.unwrap();
        b.wait_text("star-album", "☆ Star").await;
        b.js("const s = document.getElementById('album-rating'); s.value = '3'; \
              s.dispatchEvent(new Event('change', {bubbles: true}));")
            .await;
        b.wait("#album-rating option[value='3'][selected]").await;
        set_viewport(&b, PHONE).await;
        problems.extend(fit(&b, "album (phone)").await);
        screenshot(&b, PHONE, "listening-album-phone").await;
        let album = rest(&s, &pass, "getAlbum", &format!("id={a0}")).await;
        assert_eq!(album["album"]["userRating"], 3);
        assert!(album["album"].get("starred").is_none(), "unstarred on the page");
        let starred = rest(&s, &pass, "getStarred2", "").await;
        assert!(ids(&starred["starred2"]["album"]).is_empty());
        assert!(problems.is_empty(), "{problems:#?}");
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}
