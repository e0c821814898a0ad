//! What an admin does to other accounts over the API: a temporary password that must be
//! replaced before anything else, admin rights given and taken (never from the last admin), and
//! deleting a user, whose exported files stay.

use reqwest::{Method, StatusCode};
use serde_json::json;

use clef_testkit::TestServer;

const PW: &str = "admin test password";

/// Every file below `dir`, sorted.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn a_temporary_password_must_be_replaced_before_anything_else() {
    let s = TestServer::start().await;
    s.create_user("root", PW, true).await;
    s.create_user("anna", PW, false).await;
    let root = s.token("root", PW, "Admin laptop").await;
    let phone = s.token("anna", PW, "Anna's phone").await;

    let (st, v) = s
        .call(
            Method::POST,
            &root,
            "/api/v1/admin/users/anna/password-reset",
            Some(json!({ "password": "temporary pass 1" })),
        )
        .await;
    assert_eq!(
        (st, v["devices_signed_out"].as_i64()),
        (StatusCode::OK, Some(1))
    );
    let (st, v) = s.get(&phone, "/api/v1/devices").await;
    assert_eq!(
        (st, v["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("password_reset"))
    );
    assert_eq!(
        s.sign_in(&s.client(), "anna", PW, "again").await.status(),
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );

    let temp = s.token("anna", "temporary pass 1", "Anna's laptop").await;
    let (st, me) = s.get(&temp, "/api/v1/me").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["must_change_password"], true);
    for path in ["/api/v1/devices", "/api/v1/albums", "/api/v1/playlists"] {
        let (st, v) = s.get(&temp, path).await;
        assert_eq!(
            (st, v["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("password_change_required")),
            "{path}"
        );
    }
    let (st, _) = s
        .call(
            Method::PUT,
            &temp,
            "/api/v1/me/password",
            Some(json!({ "current_password": "temporary pass 1", "new_password": "anna's own passphrase" })),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(s.get(&temp, "/api/v1/devices").await.0, StatusCode::OK);
    let (_, me) = s.get(&temp, "/api/v1/me").await;
    assert_eq!(me["must_change_password"], false);

    // Her log says what happened, in words.
    let (_, events) = s.get(&temp, "/api/v1/security-events").await;
    let details: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "password_changed")
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert!(
        details.iter().any(|d| d.starts_with(
            "reset by admin root, to be replaced at the next sign-in; 1 device signed out"
        )),
        "{details:?}"
    );

    // Admins only, and not on themselves.
    let (st, _) = s
        .call(
            Method::POST,
            &temp,
            "/api/v1/admin/users/root/password-reset",
            Some(json!({ "password": "whatever pass" })),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = s
        .call(
            Method::POST,
            &root,
            "/api/v1/admin/users/root/password-reset",
            Some(json!({ "password": "whatever pass" })),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = s
        .call(
            Method::POST,
            &root,
            "/api/v1/admin/users/nobody/password-reset",
            Some(json!({ "password": "whatever pass" })),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = s
        .call(
            Method::POST,
            &root,
            "/api/v1/admin/users/anna/password-reset",
            Some(json!({ "password": "short" })),
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_input"))
    );
}

#[tokio::test]
async fn admin_rights_come_and_go_but_the_last_admin_stays() {
    let s = TestServer::start().await;
    s.create_user("root", PW, true).await;
    s.create_user("bob", PW, false).await;
    let root = s.token("root", PW, "Admin laptop").await;
    let bob = s.token("bob", PW, "Bob's phone").await;
    let patch = |who: &'static str, body: serde_json::Value| {
        let s = &s;
        let token = if who == "root" {
            root.clone()
        } else {
            bob.clone()
        };
        async move {
            s.call(
                Method::PATCH,
                &token,
                "/api/v1/admin/users/root",
                Some(body),
            )
            .await
        }
    };

    // The only admin can neither step down nor be disabled.
    let (st, v) = patch("root", json!({ "is_admin": false })).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::CONFLICT, Some("last_admin"))
    );
    let (st, _) = patch("bob", json!({ "is_admin": false })).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "a listener cannot");

    let (st, v) = s
        .call(
            Method::PATCH,
            &root,
            "/api/v1/admin/users/bob",
            Some(json!({ "is_admin": true })),
        )
        .await;
    assert_eq!((st, v["is_admin"].as_bool()), (StatusCode::OK, Some(true)));
    assert_eq!(
        s.get(&bob, "/api/v1/admin/users").await.0,
        StatusCode::OK,
        "bob is an admin now"
    );
    // With two admins, bob can take root's rights; then bob is the last one.
    let (st, v) = patch("bob", json!({ "is_admin": false })).await;
    assert_eq!((st, v["is_admin"].as_bool()), (StatusCode::OK, Some(false)));
    assert_eq!(
        s.get(&root, "/api/v1/admin/users").await.0,
        StatusCode::FORBIDDEN
    );
    let (st, v) = s
        .call(
            Method::PATCH,
            &bob,
            "/api/v1/admin/users/bob",
            Some(json!({ "is_admin": false })),
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::CONFLICT, Some("last_admin"))
    );
    let (st, _) = s
        .call(
            Method::PATCH,
            &bob,
            "/api/v1/admin/users/nobody",
            Some(json!({ "is_admin": true })),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_user_takes_their_account_and_leaves_their_files() {
    let s = TestServer::with_sample_library().await;
    s.create_user("root", PW, true).await;
    s.create_user("cleo", PW, false).await;
    let root = s.token("root", PW, "Admin laptop").await;
    let cleo = s.token("cleo", PW, "Cleo's phone").await;
    let (_, albums) = s.get(&cleo, "/api/v1/albums?sort=name").await;
    let album_id = albums["albums"][0]["id"].as_str().unwrap().to_owned();
    let (st, _) = s
        .call(
            Method::POST,
            &cleo,
            "/api/v1/playlists",
            Some(json!({ "name": "Mine", "track_ids": [] })),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, job) = s
        .call(
            Method::POST,
            &cleo,
            "/api/v1/exports",
            Some(json!({ "album_id": album_id, "folder": "Car", "settings": { "format": "wav" } })),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{job}");
    let events = crate::exports::follow(&s, &cleo, job["id"].as_str().unwrap()).await;
    assert_eq!(events.last().unwrap()["state"], "done");
    let folder = s.config.export_roots[0]
        .canonicalize()
        .unwrap()
        .join("cleo")
        .join("Car");
    let files_before = files_under(&folder);
    assert!(!files_before.is_empty());

    // Not yourself; not someone unknown; not by a listener.
    let (st, _) = s
        .call(Method::DELETE, &root, "/api/v1/admin/users/root", None)
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = s
        .call(Method::DELETE, &root, "/api/v1/admin/users/nobody", None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s
        .call(Method::DELETE, &cleo, "/api/v1/admin/users/root", None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    let (st, _) = s
        .call(Method::DELETE, &root, "/api/v1/admin/users/cleo", None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(s.get(&cleo, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let (_, users) = s.get(&root, "/api/v1/admin/users").await;
    assert!(users
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["username"] != "cleo"));
    assert_eq!(files_under(&folder), files_before, "her files stay");
    // The name is free again, with nothing of the old account.
    s.create_user("cleo", PW, false).await;
    let again = s.token("cleo", PW, "New phone").await;
    let (_, lists) = s.get(&again, "/api/v1/playlists").await;
    assert_eq!(
        lists["playlists"].as_array().map(Vec::len),
        Some(0),
        "{lists}"
    );
    let (_, exports) = s.get(&again, "/api/v1/exports").await;
    assert_eq!(
        exports["exports"].as_array().map(Vec::len),
        Some(0),
        "{exports}"
    );
    // The admin's log keeps the deletion.
    let (_, log) = s.get(&root, "/api/v1/security-events").await;
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "user_deleted"
            && e["detail"]
                .as_str()
                .unwrap()
                .starts_with("cleo; 1 device signed out")));
}
