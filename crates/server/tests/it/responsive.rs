//! Every web page in headless Chromium at a phone's size (390×844), a tablet's (820×1180) and a
//! desktop window's (1280×800): nothing scrolls sideways (neither the page nor a table in it),
//! every visible control lies inside the viewport (and inside any box that would clip it), with
//! the disclosure menus closed and open; on narrow screens the Menu opens by mouse and by keyboard
//! and its links are then reachable; the skip link comes first and lands on the content, and the
//! dark top bar shows a visible focus ring. Each page at the phone's and the desktop's size is
//! saved as `test-artifacts/screenshots/<page>-<phone|desktop>.png`.

use std::net::Ipv4Addr;
use std::panic::AssertUnwindSafe;

use clef_accounts::Actor;
use clef_testkit::{Music, Options, TestServer};
use fantoccini::key::Key;
use fantoccini::Locator;
use futures::FutureExt;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::chromium::{finish, Browser, Driver};
use crate::exports::follow;
use crate::viewport::{
    fit, focused, luminance, press, screenshot, set_viewport, shown, DESKTOP, PHONE, TABLET,
};

const PASSWORD: &str = "responsive pages password";

/// On a narrow screen the navigation hides behind the Menu button; opened, every link and the
/// Sign out button show and fit; closed again, they hide.
async fn narrow_menu(b: &Browser, label: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let links = "header.site nav a";
    if shown(b, links).await.iter().any(|s| *s) {
        problems.push(format!(
            "{label}: the navigation shows before the menu opens"
        ));
    }
    if b.find_all("#menu-toggle").await.is_empty() {
        problems.push(format!("{label}: no Menu button"));
        return problems;
    }
    let toggle = b.find("#menu-toggle").await;
    assert!(
        toggle.is_displayed().await.unwrap(),
        "{label}: the Menu button shows"
    );
    toggle.click().await.unwrap();
    assert_eq!(
        toggle.attr("aria-expanded").await.unwrap().as_deref(),
        Some("true"),
        "{label}: the Menu button says it is open"
    );
    let now = shown(b, &format!("{links}, #sign-out")).await;
    if now.len() < 6 || now.iter().any(|s| !*s) {
        problems.push(format!(
            "{label}: with the menu open, not every link shows: {now:?}"
        ));
    }
    problems.extend(fit(b, &format!("{label} with the menu open")).await);
    toggle.click().await.unwrap();
    if shown(b, links).await.iter().any(|s| *s) {
        problems.push(format!("{label}: the menu does not close"));
    }
    problems
}

/// Visits the page, checks it at each size and saves its screenshots.
async fn visit(b: &Browser, s: &TestServer, name: &str, path: &str, problems: &mut Vec<String>) {
    b.goto(s, path).await;
    b.wait("main h1").await;
    check_here(b, name, problems).await;
}

/// Checks the page already open at each size and saves its screenshots.
async fn check_here(b: &Browser, name: &str, problems: &mut Vec<String>) {
    let has_menu = !b.find_all("header.site nav").await.is_empty();
    for v in [PHONE, TABLET, DESKTOP] {
        set_viewport(b, v).await;
        let label = format!("{name} ({})", v.name);
        problems.extend(fit(b, &label).await);
        // The disclosure menus ("More", "Add to a playlist", "Delete…"), open.
        let menus = b
            .js("const d = [...document.querySelectorAll('main details:not([open])')]; d.forEach(x => x.open = true); return d.length;")
            .await;
        if menus.as_u64() != Some(0) {
            problems.extend(fit(b, &format!("{label} with its menus open")).await);
            b.js("document.querySelectorAll('main details[open]').forEach(x => x.open = false);")
                .await;
        }
        if has_menu && v.menu {
            problems.extend(narrow_menu(b, &label).await);
        }
        if v.name != TABLET.name {
            screenshot(b, v, &format!("{name}-{}", v.name)).await;
        }
    }
}

/// Whether the focused element's ring stands out on the dark top bar.
async fn ring_on_the_bar(b: &Browser, what: &str) {
    let (_, style, width, color) = focused(b).await;
    assert!(
        style != "none" && width >= 2.0,
        "a visible focus ring on {what}: {style} {width}px"
    );
    let bar = b
        .js("return getComputedStyle(document.querySelector('header.site')).backgroundColor;")
        .await;
    let (ring, dark) = (luminance(&color), luminance(bar.as_str().unwrap()));
    let contrast = (ring + 0.05) / (dark + 0.05);
    assert!(
        contrast >= 3.0,
        "the focus ring of {what} ({color}) stands out on the bar ({bar}): contrast {contrast:.1}"
    );
}

/// From the top of a page: Tab reaches the skip link first (shown once focused); on a desktop the
/// navigation's links, on a phone the Menu button, which opens with Enter and closes with Escape,
/// show a ring that stands out on the dark bar. The skip link, followed, lands on the content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_menu_skip_link_and_focus_ring_work_by_keyboard() {
    let s = TestServer::start().await;
    s.create_user("kim", PASSWORD, false).await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        b.goto(&s, "/signin").await;
        sign_in(&b, "kim").await;
        keyboard(&b, &s).await;
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}

async fn keyboard(b: &Browser, s: &TestServer) {
    set_viewport(b, DESKTOP).await;
    b.goto(s, "/devices").await;
    b.wait("main h1").await;
    press(b, Key::Tab).await;
    assert_eq!(
        focused(b).await.0,
        "skip-link",
        "the skip link is the first stop"
    );
    press(b, Key::Tab).await;
    press(b, Key::Tab).await;
    assert_eq!(
        b.js("return document.activeElement.getAttribute('href');")
            .await,
        "/library",
        "the brand, then the first link"
    );
    ring_on_the_bar(b, "a link of the top bar").await;

    set_viewport(b, PHONE).await;
    b.goto(s, "/devices").await;
    b.wait("main h1").await;
    press(b, Key::Tab).await;
    let (id, ..) = focused(b).await;
    assert_eq!(id, "skip-link", "the skip link is the first stop");
    let rect = b
        .js("const r = document.activeElement.getBoundingClientRect(); return [r.top, r.bottom, r.left, r.right];")
        .await;
    let r: Vec<f64> = rect
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert!(
        r[0] >= 0.0 && r[1] <= 844.0 && r[2] >= 0.0 && r[3] <= 390.0,
        "the focused skip link is on screen: {r:?}"
    );
    screenshot(b, PHONE, "skip-link-phone").await;
    press(b, Key::Tab).await;
    press(b, Key::Tab).await;
    assert_eq!(
        focused(b).await.0,
        "menu-toggle",
        "the Menu button follows the brand"
    );
    ring_on_the_bar(b, "the Menu button").await;
    press(b, Key::Enter).await;
    assert_eq!(shown(b, "header.site nav a").await, vec![true; 6]);
    press(b, Key::Tab).await;
    assert_eq!(
        b.js("return document.activeElement.getAttribute('href');")
            .await,
        "/library",
        "Tab goes on into the open menu"
    );
    screenshot(b, PHONE, "menu-open-phone").await;
    press(b, Key::Escape).await;
    assert_eq!(shown(b, "header.site nav a").await, vec![false; 6]);
    let (id, ..) = focused(b).await;
    assert_eq!(
        id, "menu-toggle",
        "Escape closes the menu and returns to its button"
    );

    // Following the skip link moves the focus to the content.
    b.goto(s, "/devices").await;
    b.wait("main h1").await;
    press(b, Key::Tab).await;
    press(b, Key::Enter).await;
    let (id, ..) = focused(b).await;
    assert_eq!(id, "main", "the skip link lands on the content");

    // Where script does not run, the navigation stays in view, wrapped, and fits.
    b.js("document.documentElement.classList.remove('has-menu');")
        .await;
    assert_eq!(
        shown(b, "header.site nav a, #sign-out").await,
        vec![true; 7]
    );
    assert!(!b.find("#menu-toggle").await.is_displayed().await.unwrap());
    let problems = fit(b, "devices without script (phone)").await;
    assert!(problems.is_empty(), "{problems:#?}");
    screenshot(b, PHONE, "menu-without-script-phone").await;
}

/// Signs in through the form already open, to whichever page follows.
async fn sign_in(b: &Browser, user: &str) {
    b.wait("form[action='/signin']").await;
    b.fill("#username", user).await;
    b.fill("#password", PASSWORD).await;
    b.find("form[action='/signin'] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.wait("#sign-out").await;
}

fn album_id(s: &TestServer, name: &str) -> String {
    let catalog = s.library.catalog();
    let (_, albums) = catalog.albums(clef_library::AlbumSort::Name, None, 0, 100);
    albums.into_iter().find(|a| a.name == name).unwrap().id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_phone_and_a_desktop() {
    // Loopback is a trusted proxy, so a device can sign in from a long IPv6 address.
    let s = TestServer::start_with(Options {
        music: Music::Sample,
        trusted_proxies: vec![Ipv4Addr::LOCALHOST.into()],
        ..Options::default()
    })
    .await;
    let setup = s
        .accounts
        .issue_setup_token()
        .await
        .unwrap()
        .expect("no admin yet");
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        let mut problems = Vec::new();
        visit(
            &b,
            &s,
            "setup",
            &format!("/setup?token={}", setup.expose()),
            &mut problems,
        )
        .await;

        // An admin, and a listener with a playlist, an export and two devices at a limit of two.
        s.create_user("ada", PASSWORD, true).await;
        s.create_user("lena", PASSWORD, false).await;
        s.accounts
            .set_limits(Actor::Console, "lena", Some(2), None)
            .await
            .unwrap();
        let speaker = s.token("lena", PASSWORD, "Kitchen speaker").await;
        let r = s
            .client()
            .post(s.url("/api/v1/sessions"))
            .header("X-Forwarded-For", "2001:db8:85a3:8d3:1319:8a2e:370:7348")
            .json(&json!({ "username": "lena", "password": PASSWORD, "device": {
                "name": "Old phone in the drawer by the front door", "type": "phone",
                "client": "Clef for Android 2.14.1 (Pixel 7a; Android 15; AP4A.250105.002)" } }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        // A file the scan cannot read, deep in folders, for the admin's library page.
        let deep = s.config.data_dir.join(
            "sample-music/An Artist With Quite A Long Name/An Album Whose Title Goes On And On",
        );
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("01 Not really a FLAC file.flac"), b"not audio").unwrap();
        s.library.scan().await.unwrap();
        let ids: Vec<String> = s
            .library
            .catalog()
            .records()
            .map(|r| r.id.clone())
            .collect();
        let (status, playlist) = s
            .call(
                Method::POST,
                &speaker,
                "/api/v1/playlists",
                Some(json!({ "name": "Songs for a long drive home", "track_ids": ids })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{playlist}");
        let playlist = playlist["id"].as_str().unwrap().to_owned();
        let (status, job) = s
            .call(
                Method::POST,
                &speaker,
                "/api/v1/exports",
                Some(json!({ "playlist_id": playlist, "folder": "Car",
                    "settings": { "format": "mp3", "bitrate": 128 } })),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{job}");
        let job = job["id"].as_str().unwrap().to_owned();
        follow(&s, &speaker, &job).await;

        b.goto(&s, "/signin").await;
        b.wait("form[action='/signin']").await;
        check_here(&b, "signin", &mut problems).await;

        // Signing in at the limit: the device-limit page, whose buttons a phone can press.
        b.fill("#username", "lena").await;
        b.fill("#password", PASSWORD).await;
        b.fill("#device_name", "Phone browser").await;
        b.find("form[action='/signin'] button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        b.wait("#device-limit").await;
        check_here(&b, "device-limit", &mut problems).await;
        set_viewport(&b, PHONE).await;
        b.client
            .find(Locator::XPath(
                "//tr[td[@class='name' and .='Kitchen speaker']]//button[contains(@class,'replace')]",
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.wait_path("/library").await;
        b.wait("#sign-out").await;

        let album = album_id(&s, "First Light");
        let artist = s.library.catalog().artists()[0].id.clone();
        let pages = [
            ("devices", "/devices".to_owned()),
            ("account", "/account".to_owned()),
            ("security", "/security".to_owned()),
            ("library-albums", "/library".to_owned()),
            ("library-artists", "/library/artists".to_owned()),
            ("library-artist", format!("/library/artists/{artist}")),
            ("library-album", format!("/library/albums/{album}")),
            ("library-search", "/library/search?q=a".to_owned()),
            ("library-missing-album", "/library/albums/nothing".to_owned()),
            ("playlists", "/library/playlists".to_owned()),
            ("playlist", format!("/library/playlists/{playlist}")),
            ("export", "/export".to_owned()),
            ("export-playlist", format!("/export?playlist={playlist}")),
            ("export-converted", "/export/history".to_owned()),
            ("export-job", format!("/export/{job}")),
        ];
        for (name, path) in &pages {
            visit(&b, &s, name, path, &mut problems).await;
        }
        visit(&b, &s, "page-not-found", "/no/such/page", &mut problems).await;
        // A confirmation step, as one of the destructive buttons shows it.
        b.goto(&s, "/devices").await;
        b.wait("table#devices").await;
        b.find("table#devices tbody tr:not(.current) button.sign-out-device")
            .await
            .click()
            .await
            .unwrap();
        b.wait("#confirm-title").await;
        check_here(&b, "devices-confirm", &mut problems).await;

        set_viewport(&b, DESKTOP).await;
        b.find("#sign-out").await.click().await.unwrap();
        b.wait("form[action='/signin']").await;
        sign_in(&b, "ada").await;
        for (name, path) in [
            ("admin-users", "/admin/users"),
            ("admin-security", "/admin/security"),
            ("admin-library", "/admin/library"),
        ] {
            visit(&b, &s, name, path, &mut problems).await;
        }
        assert!(
            problems.is_empty(),
            "{} problems:\n{}",
            problems.len(),
            problems.join("\n")
        );
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}
