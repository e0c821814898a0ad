//! The Export page in headless Chromium: an album's songs ticked (one unticked), MP3 320 into the
//! folder "Car", live progress bars to 100%, the Converted tab and its ZIP; a folder outside the
//! export root is refused next to the form with every choice kept. Without script, the same form
//! starts an export and its page shows the outcome; with no export root the page says so.
//! Screenshots go to `test-artifacts/screenshots/`.

use std::io::Read;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use crate::chromium::{finish, Browser, Driver};
use crate::exports::{files_under, follow};
use clef_testkit::{Music, Options, TestServer};
use futures::FutureExt;
use reqwest::StatusCode;

pub(crate) const PASSWORD: &str = "export page password";

pub(crate) fn album_id(s: &TestServer, name: &str) -> String {
    let (_, albums) = s
        .library
        .catalog()
        .albums(clef_library::AlbumSort::Name, None, 0, 100);
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

/// Which songs' boxes are ticked, by track id, in page order.
async fn ticks(b: &Browser) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for row in b.find_all("#export-songs tbody tr").await {
        let id = row.attr("data-track-id").await.unwrap().unwrap();
        let ticked = row
            .find(fantoccini::Locator::Css("input[type=checkbox]"))
            .await
            .unwrap()
            .is_selected()
            .await
            .unwrap();
        out.push((id, ticked));
    }
    out
}

async fn value_of(b: &Browser, css: &str) -> String {
    b.find(css)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_album_exports_from_the_page_with_live_progress_and_a_zip() {
    let started = Instant::now();
    // Started as the README runs it: no export settings at all.
    let s = TestServer::start_with(Options {
        music: Music::Sample,
        no_export_root: true,
        ..Options::default()
    })
    .await;
    s.create_user("pia", PASSWORD, false).await;
    let album = album_id(&s, "First Light");
    let skipped = track_id(&s, "Open Window");
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        b.sign_in(&s, "pia", PASSWORD, "Export browser").await;
        b.find("header.site nav a[href='/export']")
            .await
            .click()
            .await
            .unwrap();
        b.wait("#choose-source").await;

        // Choosing the album shows its songs, all ticked.
        b.find("#source")
            .await
            .select_by_value(&format!("album:{album}"))
            .await
            .unwrap();
        b.wait_text("export-title", "First Light").await;
        let all = ticks(&b).await;
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(all.iter().all(|(_, t)| *t), "all ticked at first: {all:?}");
        b.find("#tick-none").await.click().await.unwrap();
        assert!(ticks(&b).await.iter().all(|(_, t)| !*t), "Tick none");
        b.find("#tick-all").await.click().await.unwrap();
        b.find(&format!("tr[data-track-id='{skipped}'] input"))
            .await
            .click()
            .await
            .unwrap();
        let wanted: Vec<(String, bool)> = all
            .iter()
            .map(|(id, _)| (id.clone(), *id != skipped))
            .collect();
        assert_eq!(ticks(&b).await, wanted);

        // MP3 settings only while MP3 is chosen.
        assert_eq!(value_of(&b, "#format").await, "mp3");
        assert!(b.find("#mp3").await.is_displayed().await.unwrap());
        assert!(!b.find("#compression").await.is_displayed().await.unwrap());
        b.find("#mp3")
            .await
            .select_by_value("cbr:320")
            .await
            .unwrap();
        assert_eq!(
            value_of(&b, "#pattern").await,
            "{album_artist}/{album}/{track:02} {title}"
        );

        // A folder outside the export root: refused beside the form, choices kept.
        b.fill("#folder", "../x").await;
        b.js("window.scrollTo(0, 0)").await;
        b.screenshot("export-form").await;
        b.js("document.getElementById('export-settings').scrollIntoView()")
            .await;
        b.screenshot("export-form-settings").await;
        b.find("#start-export").await.click().await.unwrap();
        let error = b.wait("#export-error").await.text().await.unwrap();
        assert!(
            error.contains("“../x” is not inside your export folder"),
            "{error}"
        );
        assert_eq!(ticks(&b).await, wanted, "the ticks are kept");
        assert_eq!(value_of(&b, "#mp3").await, "cbr:320");
        assert_eq!(value_of(&b, "#folder").await, "../x");
        b.screenshot("export-form-error").await;
        assert!(files_under(&s.config.data_dir.join("exports")).is_empty());

        // Into "Car": the export's page follows its progress to the end.
        b.fill("#folder", "Car").await;
        b.find("#start-export").await.click().await.unwrap();
        b.wait("#export-progress").await;
        let page = b.path().await;
        let id = page.strip_prefix("/export/").unwrap().to_owned();
        b.screenshot("export-progress").await;
        b.wait_text("overall-bar", "100%").await;
        // The script reloads the page once the events say the export ended.
        b.wait("#export-progress[data-state='done']").await;
        assert_eq!(b.path().await, page);
        assert_eq!(
            b.texts("#export-files td.file-state").await,
            ["Done", "Done"]
        );
        assert!(b.find_all(".cancel-export").await.is_empty());
        // Saved in pia's own folder, named as she typed it: no path of the server shows.
        assert_eq!(b.texts("#export-folder").await, ["Car"]);
        let html = b.js("return document.documentElement.outerHTML").await;
        let secret = s.dir.path().to_str().unwrap();
        assert!(!html.as_str().unwrap().contains(secret), "{html}");
        b.screenshot("export-done").await;

        // The Converted tab lists it; its ZIP holds exactly the ticked songs and the M3U8.
        b.find("a[href='/export/history']")
            .await
            .click()
            .await
            .unwrap();
        b.wait("table#exports").await;
        let row = format!("#exports tr[data-export-id='{id}']");
        let cells = b.texts(&format!("{row} td")).await;
        assert_eq!(
            cells[..4],
            ["First Light", "MP3 320 kbps", "Done", "2"],
            "{cells:?}"
        );
        assert!(
            cells[4].ends_with(" kB") || cells[4].ends_with(" MB"),
            "a size: {cells:?}"
        );
        assert_eq!(
            cells[5], "Car",
            "the folder, inside the export folder: {cells:?}"
        );
        b.screenshot("export-converted").await;
        // The history fits a 1280-pixel window without scrolling sideways.
        let overflow = b
            .js("const w = document.querySelector('.table-wrap'); return w.scrollWidth - w.clientWidth;")
            .await;
        assert_eq!(overflow, 0, "the Converted table scrolls sideways");
        let href = b
            .find(&format!("{row} a.download-zip"))
            .await
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(href, format!("/api/v1/exports/{id}/zip"));
        let cookies = b
            .client
            .get_all_cookies()
            .await
            .unwrap()
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ");
        let r = s
            .client()
            .get(s.url(&href))
            .header("cookie", cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
        names.sort();
        let expected = [
            "First Light.m3u8",
            "The Placeholders/First Light/01 Morning Scale.mp3",
            "The Placeholders/First Light/03 Tea Steam.mp3",
        ];
        assert_eq!(names, expected);
        // Into pia's own folder of the default export folder, in the data folder.
        let car = s.config.data_dir.join("exports/pia/Car");
        assert_eq!(files_under(&car), expected);
        for name in expected {
            let mut got = Vec::new();
            zip.by_name(name).unwrap().read_to_end(&mut got).unwrap();
            assert_eq!(got, std::fs::read(car.join(name)).unwrap(), "{name}");
        }

        // Removing it from the history keeps the files.
        b.find(&format!("{row} .remove-export"))
            .await
            .click()
            .await
            .unwrap();
        b.wait("#notice").await;
        assert!(b.find_all(&row).await.is_empty());
        assert_eq!(files_under(&car), expected);
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
    eprintln!(
        "an_album_exports_from_the_page_with_live_progress_and_a_zip: {:?}",
        started.elapsed()
    );
}

/// The value of the first hidden `csrf` field in a page.
pub(crate) fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).expect("a form with a CSRF field") + marker.len();
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

/// A browser without script: a cookie-keeping client signed in through the form.
pub(crate) async fn web_session(s: &TestServer, user: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(s.url("/signin")).send().await.unwrap();
    let page = page.text().await.unwrap();
    let r = client
        .post(s.url("/signin"))
        .form(&[
            ("username", user),
            ("password", PASSWORD),
            ("device_name", "Plain browser"),
            ("csrf", &csrf_of(&page)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "web sign-in");
    client
}

pub(crate) async fn page(
    client: &reqwest::Client,
    s: &TestServer,
    path: &str,
) -> (StatusCode, String) {
    let r = client.get(s.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_form_works_without_script() {
    let s = TestServer::with_sample_library().await;
    s.create_user("quinn", PASSWORD, false).await;
    let web = web_session(&s, "quinn").await;
    let album = album_id(&s, "Signal Garden");
    let (status, form) = page(&web, &s, &format!("/export?album={album}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("id=\"export-form\""), "{form}");
    let csrf = csrf_of(&form);
    let source = format!("album:{album}");
    let (wave, relay) = (track_id(&s, "Carrier Wave"), track_id(&s, "Quiet Relay"));

    // Nothing ticked: refused, with the settings kept.
    let base = [
        ("csrf", csrf.as_str()),
        ("source", source.as_str()),
        ("format", "flac"),
        ("mp3", "cbr:320"),
        ("compression", "8"),
        ("bit_depth", "16"),
        ("folder", "Stick"),
        ("pattern", "{track:02} - {title}"),
    ];
    let r = web.post(s.url("/export")).form(&base).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = r.text().await.unwrap();
    assert!(
        refused.contains("Nothing to export: tick at least one song."),
        "{refused}"
    );
    assert!(refused.contains("value=\"Stick\""), "the folder is kept");
    assert!(
        refused.contains("<option value=\"flac\" selected>"),
        "the format is kept"
    );
    assert!(
        refused.contains("<option value=\"8\" selected>"),
        "the level is kept"
    );
    assert!(
        !refused.contains("checked"),
        "nothing was ticked, nothing is ticked"
    );

    // Two songs ticked: started, and its page shows it.
    let mut fields = base.to_vec();
    fields.extend([("track", wave.as_str()), ("track", relay.as_str())]);
    let r = web
        .post(s.url("/export"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let id = location.strip_prefix("/export/").unwrap().to_owned();
    let token = s.token("quinn", PASSWORD, "Watcher").await;
    let events = follow(&s, &token, &id).await;
    assert_eq!(events.last().unwrap()["state"], "done", "{events:?}");
    let (status, done) = page(&web, &s, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(done.contains("data-state=\"done\""), "{done}");
    assert!(done.contains("FLAC level 8, 16-bit"), "{done}");
    assert!(done.contains("01 - Carrier Wave.flac") && done.contains("02 - Quiet Relay.flac"));
    assert!(
        !done.contains("http-equiv=\"refresh\""),
        "an ended export does not reload"
    );
    let stick = s.config.export_roots[0].join("quinn/Stick");
    assert_eq!(
        files_under(&stick),
        [
            "01 - Carrier Wave.flac",
            "02 - Quiet Relay.flac",
            "Signal Garden.m3u8"
        ]
    );
    let (_, history) = page(&web, &s, "/export/history").await;
    assert!(
        history.contains(&format!("data-export-id=\"{id}\"")),
        "{history}"
    );

    // The album's and a playlist's pages link here; a playlist lists its own songs in order.
    let (_, album_page) = page(&web, &s, &format!("/library/albums/{album}")).await;
    assert!(album_page.contains(&format!("href=\"/export?album={album}\"")));
    let tea = track_id(&s, "Tea Steam");
    let (status, list) = s
        .call(
            reqwest::Method::POST,
            &token,
            "/api/v1/playlists",
            Some(serde_json::json!({ "name": "Drive", "track_ids": [tea, wave] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{list}");
    let list_id = list["id"].as_str().unwrap();
    let (_, list_page) = page(&web, &s, &format!("/library/playlists/{list_id}")).await;
    assert!(list_page.contains(&format!("href=\"/export?playlist={list_id}\"")));
    let (_, form) = page(&web, &s, &format!("/export?playlist={list_id}")).await;
    assert!(
        form.contains("<h2 id=\"export-title\">Drive</h2>"),
        "{form}"
    );
    let (at_tea, at_wave) = (
        form.find(&format!("value=\"{tea}\" checked")).unwrap(),
        form.find(&format!("value=\"{wave}\" checked")).unwrap(),
    );
    assert!(at_tea < at_wave, "in the playlist's order");
}
