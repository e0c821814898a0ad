//! Where exports go: with no settings into `<data_dir>/exports`, each user into a folder of their
//! own that nobody else can write into, list or probe; listeners never see the server's paths;
//! an unusable export folder is explained before anything is written; ZIP entries carry the
//! files' own times; exports made before users had folders still list, cancel, resume and zip.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use clef_core::{Clock, OsRandom};
use clef_export::{Exports, ExportsConfig};
use clef_store::{ExportFile, ExportJob, ExportState, ExportStore, FileOutcome, FileState};
use clef_testkit::{Music, Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::export_page::{album_id, csrf_of, page, web_session, PASSWORD};
use crate::exports::{files_under, follow};

/// Starts an export of the album "First Light" into `folder` and waits for its end.
async fn export_album(s: &TestServer, token: &str, folder: &str) -> Value {
    let album = album_id(s, "First Light");
    let (status, job) = s
        .call(
            Method::POST,
            token,
            "/api/v1/exports",
            Some(
                json!({ "album_id": album, "folder": folder, "pattern": "{title}",
                "settings": { "format": "mp3", "bitrate": 128 } }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_str().unwrap();
    let events = follow(s, token, id).await;
    assert_eq!(events.last().unwrap()["state"], "done");
    s.get(token, &format!("/api/v1/exports/{id}")).await.1
}

/// A body as text, from the API with a token.
async fn raw(s: &TestServer, token: &str, path: &str) -> String {
    s.fetch(token, path).await.text().await.unwrap()
}

/// A ZIP entry's time as Unix seconds (the entry holds UTC to two seconds).
fn entry_secs(t: zip::DateTime) -> i64 {
    let date = time::Date::from_calendar_date(
        i32::from(t.year()),
        time::Month::try_from(t.month()).unwrap(),
        t.day(),
    )
    .unwrap();
    date.with_hms(t.hour(), t.minute(), t.second())
        .unwrap()
        .assume_utc()
        .unix_timestamp()
}

fn mtime_secs(path: &Path) -> i64 {
    let m = std::fs::metadata(path).unwrap().modified().unwrap();
    m.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_settings_exports_go_to_the_data_folder_and_the_zip_keeps_file_times() {
    // As the README runs it: no export_roots.
    let s = TestServer::start_with(Options {
        music: Music::Sample,
        no_export_root: true,
        ..Options::default()
    })
    .await;
    s.create_user("anna", PASSWORD, false).await;
    s.create_user("olga", PASSWORD, true).await;
    let token = s.token("anna", PASSWORD, "laptop").await;
    let job = export_album(&s, &token, "Car").await;
    let id = job["id"].as_str().unwrap();
    let car = s.config.data_dir.join("exports/anna/Car");
    let written = files_under(&car);
    assert_eq!(
        written,
        [
            "First Light.m3u8",
            "Morning Scale.mp3",
            "Open Window.mp3",
            "Tea Steam.mp3"
        ]
    );
    assert_eq!(job["folder"], "Car");

    // A listener's answers and pages hold no path of the server.
    let secret = s.dir.path().to_str().unwrap().to_owned();
    for path in [
        "/api/v1/exports".to_owned(),
        format!("/api/v1/exports/{id}"),
    ] {
        let body = raw(&s, &token, &path).await;
        assert!(!body.contains(&secret), "{path}: {body}");
        assert!(body.contains("\"folder\":\"Car\""), "{path}: {body}");
    }
    let (_, list) = s.get(&token, "/api/v1/exports").await;
    assert_eq!(list["roots"], json!([]));
    assert_eq!(list["problem"], Value::Null);
    let web = web_session(&s, "anna").await;
    for path in [
        "/export".to_owned(),
        format!("/export?album={}", album_id(&s, "First Light")),
        "/export/history".to_owned(),
        format!("/export/{id}"),
    ] {
        let (status, body) = page(&web, &s, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!body.contains(&secret), "{path}: {body}");
    }
    let (_, mine) = page(&web, &s, &format!("/export/{id}")).await;
    assert!(mine.contains("id=\"export-folder\">Car<"), "{mine}");

    // An administrator sees where the files are.
    let admin = s.token("olga", PASSWORD, "desk").await;
    let theirs = export_album(&s, &admin, "Stick").await;
    let stick = s
        .config
        .data_dir
        .join("exports/olga/Stick")
        .canonicalize()
        .unwrap();
    assert_eq!(theirs["folder"], stick.to_str().unwrap());
    // By its absolute path too, but only inside their own folder.
    let olgas = s.config.data_dir.join("exports/olga/Abs");
    let by_path = export_album(&s, &admin, olgas.to_str().unwrap()).await;
    assert_eq!(by_path["folder"], olgas.to_str().unwrap());
    let annas = s.config.data_dir.join("exports/anna/Car");
    let (status, answer) = s
        .call(
            Method::POST,
            &admin,
            "/api/v1/exports",
            Some(
                json!({ "album_id": album_id(&s, "First Light"), "folder": annas.to_str().unwrap(),
                "settings": { "format": "mp3" } }),
            ),
        )
        .await;
    assert_eq!(
        (status, &answer["error"]),
        (StatusCode::BAD_REQUEST, &json!("outside_export_roots"))
    );
    let (_, list) = s.get(&admin, "/api/v1/exports").await;
    assert_eq!(
        list["roots"],
        json!([s.config.data_dir.join("exports").to_str().unwrap()])
    );

    // The ZIP downloads, each song with its file's time, the playlist with the export's.
    let r = s.fetch(&token, &format!("/api/v1/exports/{id}/zip")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(zip.len(), 4);
    let ended = job["finished_at"].as_i64().unwrap() / 1000;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let at = entry_secs(entry.last_modified().unwrap());
        let want = if name.ends_with(".m3u8") {
            ended
        } else {
            mtime_secs(&car.join(&name))
        };
        // ZIP times count in two-second steps.
        assert_eq!(at, want - want.rem_euclid(2), "{name}");
        assert!(at > 1_000_000_000, "{name}: not 1980");
        let mut got = Vec::new();
        entry.read_to_end(&mut got).unwrap();
        if !name.ends_with(".m3u8") {
            assert_eq!(got, std::fs::read(car.join(&name)).unwrap(), "{name}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_writes_lists_or_probes_another_users_folder() {
    let s = TestServer::with_sample_library().await;
    s.create_user("anna", PASSWORD, false).await;
    s.create_user("bert", PASSWORD, false).await;
    let anna = s.token("anna", PASSWORD, "laptop").await;
    let bert = s.token("bert", PASSWORD, "phone").await;
    let root = s.config.export_roots[0].canonicalize().unwrap();
    export_album(&s, &anna, "Car").await;
    let annas = root.join("anna/Car");
    let before: Vec<(String, Vec<u8>)> = files_under(&annas)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(annas.join(&f)).unwrap();
            (f, bytes)
        })
        .collect();
    assert_eq!(before.len(), 4);

    // A link inside bert's folder to anna's (as someone at the console might make) leads out.
    std::fs::create_dir_all(root.join("bert")).unwrap();
    std::os::unix::fs::symlink(root.join("anna"), root.join("bert/link")).unwrap();
    let abs = |p: &str| root.join(p).to_str().unwrap().to_owned();
    let album = album_id(&s, "First Light");
    let attempt = |folder: String| {
        let (s, bert, album) = (&s, &bert, &album);
        async move {
            let (status, answer) = s
                .call(
                    Method::POST,
                    bert,
                    "/api/v1/exports",
                    Some(
                        json!({ "album_id": album, "folder": folder, "pattern": "{title}",
                        "settings": { "format": "mp3", "bitrate": 128 } }),
                    ),
                )
                .await;
            // The answer names only what was typed; take that out to compare answers.
            let message = answer["message"].as_str().unwrap_or_default();
            let message = message.replace(&format!("{folder:?}"), "FOLDER");
            (status, answer["error"].clone(), message)
        }
    };
    let refused = (
        StatusCode::BAD_REQUEST,
        json!("outside_export_roots"),
        "the output folder FOLDER is not inside your export folder".to_owned(),
    );
    // The same answer whether what lies behind exists or not.
    for folder in [
        "../anna/Car".to_owned(),
        "../anna/Nothing".to_owned(),
        "../anna".to_owned(),
        "../nobody".to_owned(),
        "..".to_owned(),
        "link".to_owned(),
        "link/Car".to_owned(),
        "link/Nothing".to_owned(),
        abs("anna/Car"),
        abs("anna/Nothing"),
        abs("nobody"),
        abs(""),
        // Not even his own folder by its absolute path: listeners do not learn where it is.
        abs("bert"),
        abs("bert/Car"),
        "/etc".to_owned(),
    ] {
        assert_eq!(attempt(folder.clone()).await, refused, "{folder}");
    }
    let (_, history) = s.get(&bert, "/api/v1/exports").await;
    assert_eq!(history["exports"], json!([]), "nothing was started");

    // Bert's export into his own "Car" does not see anna's files: no name is numbered.
    let job = export_album(&s, &bert, "Car").await;
    let paths: Vec<&str> = job["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["Morning Scale.mp3", "Open Window.mp3", "Tea Steam.mp3"]
    );
    assert_eq!(files_under(&root.join("bert/Car")).len(), 4);
    // Anna's files are as she left them.
    for (f, bytes) in &before {
        assert_eq!(&std::fs::read(annas.join(f)).unwrap(), bytes, "{f}");
    }
    assert_eq!(files_under(&annas).len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_export_folder_is_explained_and_nothing_is_written() {
    let s = TestServer::with_sample_library().await;
    s.create_user("anna", PASSWORD, false).await;
    s.create_user("olga", PASSWORD, true).await;
    let token = s.token("anna", PASSWORD, "laptop").await;
    let listener = web_session(&s, "anna").await;
    let admin = web_session(&s, "olga").await;
    let root = s.config.export_roots[0].clone();
    let shown = root.to_str().unwrap().to_owned();
    let form = format!("/export?album={}", album_id(&s, "First Light"));
    let album = album_id(&s, "First Light");

    let check = |said: &'static str| {
        let (s, token, listener, admin, form, shown, album) =
            (&s, &token, &listener, &admin, &form, &shown, &album);
        async move {
            // The page says why instead of showing a form that would fail.
            let (status, body) = page(listener, s, form).await;
            assert_eq!(status, StatusCode::OK);
            assert!(body.contains("id=\"export-unavailable\""), "{body}");
            assert!(body.contains(said), "{said}: {body}");
            assert!(body.contains("Ask the administrator"), "{body}");
            assert!(!body.contains(shown.as_str()), "{body}");
            assert!(!body.contains("id=\"export-form\""));
            let (_, body) = page(admin, s, form).await;
            assert!(body.contains(said), "{said}: {body}");
            assert!(body.contains(shown.as_str()), "{body}");
            assert!(
                body.contains("export_roots") && body.contains("CLEF_EXPORT_ROOTS"),
                "{body}"
            );
            // The API refuses to start, and says the same.
            let (status, answer) = s
                .call(
                    Method::POST,
                    token,
                    "/api/v1/exports",
                    Some(json!({ "album_id": album, "folder": "Car",
                        "settings": { "format": "mp3" } })),
                )
                .await;
            assert_eq!(status, StatusCode::CONFLICT, "{answer}");
            assert_eq!(answer["error"], "export_folder_unusable");
            let message = answer["message"].as_str().unwrap();
            assert!(message.contains(said), "{message}");
            assert!(!message.contains(shown.as_str()), "{message}");
            let (_, list) = s.get(token, "/api/v1/exports").await;
            assert!(list["problem"].as_str().unwrap().contains(said), "{list}");
            assert_eq!(list["exports"], json!([]), "nothing was started");
        }
    };

    // A form opened while the folder was fine, sent after it went.
    let (_, opened) = page(&listener, &s, &form).await;
    let csrf = csrf_of(&opened);
    let source = format!("album:{album}");
    let track = s.library.catalog().album(&album).unwrap().1[0].id.clone();

    std::fs::remove_dir_all(&root).unwrap();
    check("does not exist").await;
    let r = listener
        .post(s.url("/export"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("source", source.as_str()),
            ("track", track.as_str()),
            ("format", "mp3"),
            ("mp3", "cbr:320"),
            ("folder", "Car"),
            ("pattern", "{title}"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("does not exist") && body.contains("Ask the administrator"),
        "{body}"
    );
    assert!(!root.exists(), "nothing was created");

    // Read-only: nobody may write into it (checked by its mode, as the superuser could write).
    std::fs::create_dir(&root).unwrap();
    let mode = |m| std::fs::set_permissions(&root, std::os::unix::fs::PermissionsExt::from_mode(m));
    mode(0o555).unwrap();
    check("is read-only").await;
    mode(0o755).unwrap();
    assert!(files_under(&root).is_empty(), "nothing was written");

    // A file where the folder should be.
    std::fs::remove_dir(&root).unwrap();
    std::fs::write(&root, b"not a folder").unwrap();
    check("is not a folder").await;
    assert_eq!(std::fs::read(&root).unwrap(), b"not a folder");

    // Fixed: the form is back.
    std::fs::remove_file(&root).unwrap();
    std::fs::create_dir(&root).unwrap();
    let (_, body) = page(&listener, &s, &form).await;
    assert!(body.contains("id=\"export-form\""), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_made_before_user_folders_still_list_cancel_resume_and_zip() {
    let s = TestServer::with_sample_library().await;
    let user = s.create_user("anna", PASSWORD, false).await;
    let token = s.token("anna", PASSWORD, "laptop").await;
    let root = s.config.export_roots[0].canonicalize().unwrap();
    // Rows as the previous version stored them: the canonical folder straight in the root.
    let old = root.join("Car");
    std::fs::create_dir_all(&old).unwrap();
    let catalog = s.library.catalog();
    let tracks: Vec<_> = catalog.records().take(2).map(|r| r.id.clone()).collect();
    let job = |id: &str, state| ExportJob {
        id: id.to_owned(),
        user_id: user.id.clone(),
        title: "Old".to_owned(),
        settings: r#"{"format":"mp3","bitrate":128}"#.to_owned(),
        out_dir: old.to_str().unwrap().to_owned(),
        pattern: "{title}".to_owned(),
        state,
        created_at: s.clock.now(),
        finished_at: None,
        error: None,
    };
    let file = |i: usize, name: &str| ExportFile {
        position: i as i64,
        track_id: tracks[i].clone(),
        rel_path: name.to_owned(),
        state: FileState::Pending,
        size: None,
        error: None,
    };
    let done_id = "0123456789abcdef0123456789abcde0";
    s.store
        .create_export(&job(done_id, ExportState::Running), &[file(0, "a.mp3")])
        .await
        .unwrap();
    std::fs::write(old.join("a.mp3"), b"old bytes").unwrap();
    let done = FileOutcome::Done {
        size: 9,
        rel_path: "a.mp3",
    };
    s.store.set_file_state(done_id, 0, done).await.unwrap();
    s.store
        .end_export(done_id, ExportState::Done, s.clock.now(), None)
        .await
        .unwrap();

    // Listed with the folder under the root, and zipped from where it was written.
    let (_, list) = s.get(&token, "/api/v1/exports").await;
    assert_eq!(list["exports"][0]["folder"], "Car", "{list}");
    let r = s
        .fetch(&token, &format!("/api/v1/exports/{done_id}/zip"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(r.bytes().await.unwrap())).unwrap();
    let mut got = Vec::new();
    zip.by_name("a.mp3").unwrap().read_to_end(&mut got).unwrap();
    assert_eq!(got, b"old bytes");

    // A running one cancels.
    let cancel_id = "0123456789abcdef0123456789abcde1";
    s.store
        .create_export(&job(cancel_id, ExportState::Running), &[file(1, "b.mp3")])
        .await
        .unwrap();
    let (status, cancelled) = s
        .call(
            Method::DELETE,
            &token,
            &format!("/api/v1/exports/{cancel_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["state"], "cancelled");

    // A running one resumes after a restart, into its old folder.
    let resume_id = "0123456789abcdef0123456789abcde2";
    s.store
        .create_export(&job(resume_id, ExportState::Running), &[file(1, "c.mp3")])
        .await
        .unwrap();
    let restarted = Exports::new(
        s.store.clone(),
        s.library.clone(),
        Arc::new(s.clock.clone()),
        Arc::new(OsRandom),
        ExportsConfig::new(s.config.export_roots.clone()),
    );
    assert_eq!(restarted.resume_unfinished().await.unwrap(), 1);
    let mut progress = restarted.progress(resume_id).expect("it runs on that node");
    let ended = progress
        .wait_for(|p| p.state != "running")
        .await
        .expect("the job's last state is published")
        .clone();
    assert_eq!(ended.state, "done", "{ended:?}");
    let (_, resumed) = s.get(&token, &format!("/api/v1/exports/{resume_id}")).await;
    assert_eq!(
        (&resumed["state"], &resumed["folder"]),
        (&json!("done"), &json!("Car"))
    );
    assert!(old.join("c.mp3").is_file());
    assert!(old.join("Old.m3u8").is_file());
}

/// A link planted inside the user's own folder, on the way to where a file goes, is never
/// followed: the file fails with its reason, and nothing is created where the link points.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_on_the_way_to_a_file_is_never_followed() {
    let s = TestServer::with_sample_library().await;
    s.create_user("anna", PASSWORD, false).await;
    let anna = s.token("anna", PASSWORD, "laptop").await;
    let outside = tempfile::tempdir().unwrap();
    let car = s.dir.path().join("exports/anna/Car");
    std::fs::create_dir_all(&car).unwrap();
    // The first song of the album goes to `<title>/<album>/<title>.mp3`; its first folder is a link out.
    let (_, album) = s
        .get(
            &anna,
            &format!("/api/v1/albums/{}", album_id(&s, "First Light")),
        )
        .await;
    let first = album["tracks"][0]["title"].as_str().unwrap().to_owned();
    std::os::unix::fs::symlink(outside.path(), car.join(&first)).unwrap();
    let (status, job) = s
        .call(
            Method::POST,
            &anna,
            "/api/v1/exports",
            Some(
                json!({ "album_id": album_id(&s, "First Light"), "folder": "Car",
                "pattern": "{title}/{album}/{title}", "settings": { "format": "mp3", "bitrate": 128 } }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_str().unwrap();
    let events = follow(&s, &anna, id).await;
    assert_eq!(events.last().unwrap()["state"], "done");
    let (_, done) = s.get(&anna, &format!("/api/v1/exports/{id}")).await;
    let files = done["files"].as_array().unwrap();
    let failed: Vec<&Value> = files.iter().filter(|f| f["state"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{done}");
    assert_eq!(
        failed[0]["error"],
        "a folder on the way is a link or a file, which could lead out of the export folder"
    );
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "nothing made where the link points"
    );
    assert_eq!(
        files.iter().filter(|f| f["state"] == "done").count(),
        files.len() - 1,
        "the other songs are exported"
    );
}
