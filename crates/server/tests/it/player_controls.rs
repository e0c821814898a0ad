//! The player as people know it, in headless Chromium: volume remembered across pages, shuffle
//! and its undoing, repeat all and repeat one, keys outside form fields, what the Media Session
//! tells a lock screen, and the queue on a phone. Screenshots go to
//! `test-artifacts/screenshots/player-{phone,desktop}.png`.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use crate::chromium::{finish, Browser, Driver};
use clef_testkit::TestServer;
use fantoccini::key::Key;
use futures::FutureExt;
use serde_json::{json, Value};

const PASSWORD: &str = "player controls password";
const FIRST_LIGHT: [&str; 3] = ["Morning Scale", "Open Window", "Tea Steam"];

fn album_id(s: &TestServer, name: &str) -> String {
    let catalog = s.library.catalog();
    let (_, albums) = catalog.albums(clef_library::AlbumSort::Name, None, 0, 100);
    albums
        .into_iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no album {name}"))
        .id
}

/// Polls a script until it returns `want` or `secs` pass.
async fn wait_js(b: &Browser, secs: u64, what: &str, script: &str, want: Value) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let got = b.js(script).await;
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} within {secs} s: {script} gave {got}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn title(b: &Browser) -> String {
    b.find("#player-title").await.text().await.unwrap()
}

/// The queue's titles in order, and which one is marked as playing.
async fn queue(b: &Browser) -> (Vec<String>, String) {
    let v = b
        .js("const q = [...document.querySelectorAll('#player-queue .queue-jump')]; \
             return [q.map(e => e.textContent), \
                     (document.querySelector('#player-queue li.current .queue-jump') || {}).textContent || ''];")
        .await;
    let titles = v[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    (titles, v[1].as_str().unwrap_or_default().to_owned())
}

async fn attr(b: &Browser, css: &str, name: &str) -> String {
    b.find(css)
        .await
        .attr(name)
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Sizes the window so the page's viewport is `w`×`h` CSS pixels.
async fn viewport(b: &Browser, w: i64, h: i64) {
    b.client.set_window_size(w as u32, h as u32).await.unwrap();
    let v = b.js("return [innerWidth, innerHeight];").await;
    let (iw, ih) = (v[0].as_i64().unwrap(), v[1].as_i64().unwrap());
    if (iw, ih) != (w, h) {
        b.client
            .set_window_size((2 * w - iw) as u32, (2 * h - ih) as u32)
            .await
            .unwrap();
    }
    let v = b.js("return [innerWidth, innerHeight];").await;
    assert_eq!(v, json!([w, h]), "the viewport is {w}×{h}");
}

/// Types keys into the page itself (focus on the body, as after a click on plain text).
async fn press_on_page(b: &Browser, keys: &str) {
    b.find("main h1").await.click().await.unwrap();
    // `main` takes focus from the skip link, so a click in it may focus it: still no control.
    let focused = b.js("return document.activeElement.tagName;").await;
    assert!(
        focused == json!("BODY") || focused == json!("MAIN"),
        "no control focused after a click on a heading: {focused}"
    );
    b.find("body").await.send_keys(keys).await.unwrap();
}

/// What the repeat button says: its label and whether it is pressed.
async fn repeat_state(b: &Browser) -> (String, String) {
    (
        attr(b, "#player-repeat", "aria-label").await,
        attr(b, "#player-repeat", "aria-pressed").await,
    )
}

async fn current_time(b: &Browser) -> f64 {
    b.audio().await.0
}

async fn signed_in_playing(s: &TestServer, b: &Browser, user: &str, title: &str) {
    b.sign_in(s, user, PASSWORD, "Desk browser").await;
    b.play_from_album(s, "First Light", title).await;
    b.wait_audio(15, "the track plays", |(t, paused, _)| !paused && t > 0.3)
        .await;
    assert_eq!(self::title(b).await, title);
}

#[tokio::test]
async fn volume_shuffle_and_repeat() {
    let started = Instant::now();
    let s = TestServer::with_sample_library().await;
    s.create_user("vera", PASSWORD, false).await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        viewport(&b, 1280, 800).await;
        signed_in_playing(&s, &b, "vera", "Open Window").await;

        // Shuffle: the current track first, the rest after it, playback goes on.
        b.find("#player-queue-toggle").await.click().await.unwrap();
        let (order, now) = queue(&b).await;
        assert_eq!(order, FIRST_LIGHT, "the album in order");
        assert_eq!(now, "Open Window");
        let t0 = current_time(&b).await;
        b.find("#player-shuffle").await.click().await.unwrap();
        assert_eq!(attr(&b, "#player-shuffle", "aria-pressed").await, "true");
        let (shuffled, now) = queue(&b).await;
        assert_eq!(
            shuffled[0], "Open Window",
            "the playing track leads: {shuffled:?}"
        );
        assert_eq!(now, "Open Window", "and is still the current one");
        let mut sorted = shuffled.clone();
        sorted.sort();
        assert_eq!(sorted, FIRST_LIGHT, "the same tracks");
        assert_eq!(title(&b).await, "Open Window");
        let (t1, paused, _) = b.audio().await;
        assert!(!paused && t1 >= t0, "not restarted: {t0} then {t1}");

        // Volume: the slider sets the element's volume; the mute button mutes it.
        let before = current_time(&b).await;
        let slider = b.find("#player-volume").await;
        slider
            .send_keys(&Key::Left.to_string().repeat(30))
            .await
            .unwrap();
        wait_js(
            &b,
            5,
            "the volume follows the slider",
            "return Math.round(document.getElementById('player-audio').volume * 100);",
            json!(70),
        )
        .await;
        let (t, paused, _) = b.audio().await;
        assert!(
            !paused && t >= before && t < before + 3.0,
            "arrows on the slider neither seek nor stop: {before} then {t}"
        );
        assert_eq!(title(&b).await, "Open Window");
        b.find("#player-mute").await.click().await.unwrap();
        let muted = "return [document.getElementById('player-audio').muted, \
                     document.getElementById('player-mute').getAttribute('aria-pressed')];";
        wait_js(&b, 5, "muted", muted, json!([true, "true"])).await;
        b.find("#player-mute").await.click().await.unwrap();
        wait_js(&b, 5, "unmuted", muted, json!([false, "false"])).await;

        // Another page keeps the volume, on the element and the slider, and the shuffled queue.
        b.goto(&s, "/library/artists").await;
        b.wait("#artists").await;
        let v = b
            .js(
                "return [Math.round(document.getElementById('player-audio').volume * 100), \
                 Math.round(Number(document.getElementById('player-volume').value) * 100), \
                 document.getElementById('player-audio').muted];",
            )
            .await;
        assert_eq!(v, json!([70, 70, false]), "volume after a page change");
        b.wait_audio(15, "playback picks up on the next page", |(t, p, _)| {
            !p && t > 0.3
        })
        .await;
        assert_eq!(title(&b).await, "Open Window");
        assert_eq!(attr(&b, "#player-shuffle", "aria-pressed").await, "true");
        b.find("#player-queue-toggle").await.click().await.unwrap();
        assert_eq!(queue(&b).await, (shuffled, "Open Window".to_owned()));

        // Shuffle off: the album's order again, at the same track, still playing.
        let t2 = current_time(&b).await;
        b.find("#player-shuffle").await.click().await.unwrap();
        assert_eq!(attr(&b, "#player-shuffle", "aria-pressed").await, "false");
        let (order, now) = queue(&b).await;
        assert_eq!(order, FIRST_LIGHT, "the order is back");
        assert_eq!(now, "Open Window");
        let (t3, paused, _) = b.audio().await;
        assert!(!paused && t3 >= t2, "not restarted: {t2} then {t3}");

        // Repeat: off → all → one, said by the button.
        assert_eq!(
            repeat_state(&b).await,
            ("Repeat: off".into(), "false".into())
        );
        b.find("#player-repeat").await.click().await.unwrap();
        assert_eq!(
            repeat_state(&b).await,
            ("Repeat: all".into(), "true".into())
        );
        b.find("#player-repeat").await.click().await.unwrap();
        assert_eq!(
            repeat_state(&b).await,
            ("Repeat: one".into(), "true".into())
        );
        b.screenshot("player-desktop").await;

        // Repeat one: at its end the track starts again.
        let one = title(&b).await;
        wait_until_replayed(&b, &one).await;

        // Repeat all: from the last track to the first.
        b.find("#player-repeat").await.click().await.unwrap();
        assert_eq!(
            repeat_state(&b).await,
            ("Repeat: off".into(), "false".into())
        );
        b.find("#player-repeat").await.click().await.unwrap();
        assert_eq!(
            repeat_state(&b).await,
            ("Repeat: all".into(), "true".into())
        );
        b.find("#player-queue li:last-child .queue-jump")
            .await
            .click()
            .await
            .unwrap();
        b.wait_text("player-title", "Tea Steam").await;
        b.wait_audio(15, "the last track plays", |(t, p, _)| !p && t > 0.3)
            .await;
        let disabled = b
            .js("return document.getElementById('player-next').disabled;")
            .await;
        assert_eq!(disabled, json!(false), "Next wraps around with repeat all");
        b.wait_text("player-title", "Morning Scale").await;
        b.wait_audio(15, "the first track plays after the last", |(t, p, _)| {
            !p && t > 0.3
        })
        .await;
        let (_, now) = queue(&b).await;
        assert_eq!(now, "Morning Scale");
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
    eprintln!("volume_shuffle_and_repeat: {:?}", started.elapsed());
}

/// Waits for the playing track to reach its end and start again from the beginning.
async fn wait_until_replayed(b: &Browser, title: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut latest = 0.0;
    loop {
        let (t, paused, _) = b.audio().await;
        assert_eq!(self::title(b).await, title, "the same track");
        if latest > 5.0 && t < 3.0 && t > 0.1 && !paused {
            return;
        }
        if t > latest {
            latest = t;
        }
        assert!(
            Instant::now() < deadline,
            "{title} starts again after its end; got to {latest} s, now at {t} s, paused {paused}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn keys_and_the_media_session() {
    let started = Instant::now();
    let s = TestServer::with_sample_library().await;
    s.create_user("kai", PASSWORD, false).await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        signed_in_playing(&s, &b, "kai", "Morning Scale").await;

        // What a lock screen shows.
        let meta = "const m = navigator.mediaSession.metadata; \
                    return m && [m.title, m.artist, m.album, m.artwork.length > 0 && m.artwork[0].src.includes('/cover')];";
        assert_eq!(
            b.js(meta).await,
            json!(["Morning Scale", "The Placeholders", "First Light", true])
        );
        let state = "return navigator.mediaSession.playbackState;";
        wait_js(&b, 5, "the session plays", state, json!("playing")).await;

        // Space pauses and plays again.
        press_on_page(&b, " ").await;
        b.wait_audio(5, "space pauses", |(_, p, _)| p).await;
        wait_js(&b, 5, "the session is paused", state, json!("paused")).await;
        press_on_page(&b, " ").await;
        b.wait_audio(5, "space plays", |(_, p, _)| !p).await;
        wait_js(&b, 5, "the session plays again", state, json!("playing")).await;

        // The arrows seek by 5 s (back to the start first, so 5 s ahead is inside the track).
        let t0 = current_time(&b).await;
        press_on_page(&b, &Key::Left.to_string()).await;
        let t1 = current_time(&b).await;
        assert!(t1 < 1.5 && t1 < t0, "← seeks back to the start: {t0} then {t1}");
        press_on_page(&b, &Key::Right.to_string()).await;
        let t2 = current_time(&b).await;
        assert!(t2 >= t1 + 5.0 && t2 < t1 + 6.5, "→ seeks forward: {t1} then {t2}");
        press_on_page(&b, &Key::Left.to_string()).await;
        let t3 = current_time(&b).await;
        assert!(t3 < t2 - 3.5 && t3 > t2 - 5.0, "← seeks back: {t2} then {t3}");
        let (_, paused, _) = b.audio().await;
        assert!(!paused, "seeking keeps playing");

        // Shift+→ is the next track; the lock screen follows.
        press_on_page(&b, &format!("{}{}{}", Key::Shift, Key::Right, Key::Null)).await;
        b.wait_text("player-title", "Open Window").await;
        b.wait_audio(15, "the next track plays", |(t, p, _)| !p && t > 0.2)
            .await;
        wait_js(
            &b,
            5,
            "the session shows the next track",
            "return navigator.mediaSession.metadata.title;",
            json!("Open Window"),
        )
        .await;
        // And so does the Next button.
        b.find("#player-next").await.click().await.unwrap();
        b.wait_text("player-title", "Tea Steam").await;
        wait_js(
            &b,
            5,
            "the session shows the track after",
            "return navigator.mediaSession.metadata.title;",
            json!("Tea Steam"),
        )
        .await;
        b.wait_audio(15, "it plays", |(t, p, _)| !p && t > 0.2).await;

        // Space on a focused button presses that button, and does not pause.
        b.find("#player-queue-toggle")
            .await
            .send_keys(" ")
            .await
            .unwrap();
        assert_eq!(
            attr(&b, "#player-queue-toggle", "aria-expanded").await,
            "true"
        );
        let (_, paused, _) = b.audio().await;
        assert!(!paused, "space on a button is that button's");

        // Typing in the search field is typing: spaces and arrows stay there.
        b.goto(&s, "/library").await;
        b.wait("#library-q").await;
        b.wait_audio(15, "playback picks up on the library page", |(t, p, _)| {
            !p && t > 0.2
        })
        .await;
        let before = current_time(&b).await;
        let field = b.find("#library-q").await;
        field
            .send_keys(&format!("tea steam{}", Key::Left))
            .await
            .unwrap();
        let value = b
            .js("return document.getElementById('library-q').value;")
            .await;
        assert_eq!(value, json!("tea steam"));
        let (after, paused, _) = b.audio().await;
        assert!(!paused, "a space in the search field does not pause");
        assert!(
            after >= before && after < before + 3.0,
            "← in the search field does not seek: {before} then {after}"
        );
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
    eprintln!("keys_and_the_media_session: {:?}", started.elapsed());
}

#[tokio::test]
async fn the_queue_opens_on_a_phone() {
    let started = Instant::now();
    let s = TestServer::with_sample_library().await;
    s.create_user("pia", PASSWORD, false).await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        viewport(&b, 390, 844).await;
        b.sign_in(&s, "pia", PASSWORD, "Phone browser").await;
        b.goto(&s, &format!("/library/albums/{}", album_id(&s, "First Light")))
            .await;
        b.find("#play-album").await.click().await.unwrap();
        b.wait_audio(15, "the album plays", |(t, paused, _)| !paused && t > 0.3)
            .await;

        let toggle = b.find("#player-queue-toggle").await;
        assert!(toggle.is_displayed().await.unwrap(), "a Queue button");
        toggle.click().await.unwrap();
        let panel = b.find("#player-queue-panel").await;
        assert!(panel.is_displayed().await.unwrap(), "the queue opens");
        let (order, now) = queue(&b).await;
        assert_eq!(order, FIRST_LIGHT);
        assert_eq!(now, "Morning Scale");

        // Nothing sideways, every control of the player on the screen.
        let fits = "return document.documentElement.scrollWidth <= innerWidth && \
                    document.body.scrollWidth <= innerWidth;";
        assert_eq!(b.js(fits).await, json!(true), "no sideways scrolling");
        let outside = b
            .js("return [...document.querySelectorAll('#player button, #player input')] \
                 .filter(e => e.offsetParent !== null) \
                 .filter(e => { const r = e.getBoundingClientRect(); \
                   return r.width === 0 || r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight; }) \
                 .map(e => e.id || e.className + ':' + e.textContent);")
            .await;
        assert_eq!(outside, json!([]), "controls outside the viewport");
        b.screenshot("player-phone").await;

        // A queued track plays when tapped; Close closes the sheet.
        b.find("#player-queue li:last-child .queue-jump")
            .await
            .click()
            .await
            .unwrap();
        b.wait_text("player-title", "Tea Steam").await;
        b.wait_audio(15, "the tapped track plays", |(t, p, _)| !p && t > 0.2)
            .await;
        let (_, now) = queue(&b).await;
        assert_eq!(now, "Tea Steam");
        b.find("#player-queue-close").await.click().await.unwrap();
        assert!(!b.find("#player-queue-panel").await.is_displayed().await.unwrap());
        assert_eq!(
            attr(&b, "#player-queue-toggle", "aria-expanded").await,
            "false"
        );
        assert_eq!(b.js(fits).await, json!(true));
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
    eprintln!("the_queue_opens_on_a_phone: {:?}", started.elapsed());
}
