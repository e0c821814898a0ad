//! The `clef` binary as the README promises it: `serve` prints a one-time setup link that creates
//! the admin, and the user and device commands work on the same data folder.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::{json, Value};

pub(crate) fn clef(
    data: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clef"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("CLEF_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_prints_a_setup_link_that_creates_the_admin_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_clef"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path())
        .env("CLEF_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    let link = BufReader::new(stdout)
        .lines()
        .map(Result::unwrap)
        .find_map(|l| {
            l.trim()
                .strip_prefix(&format!("http://127.0.0.1:{port}/setup?token="))
                .map(str::to_owned)
        })
        .expect("the setup link is printed");
    assert!(dir.path().join("clef.db").exists() && dir.path().join("pepper").exists());

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let page = client
        .get(format!("{base}/setup?token={link}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let set_cookie: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let html = page.text().await.unwrap();
    let csrf = {
        let at = html.find("name=\"csrf\"").unwrap();
        let tag = &html[html[..at].rfind('<').unwrap()..at + html[at..].find('>').unwrap()];
        let v = tag.find("value=\"").unwrap() + 7;
        tag[v..v + tag[v..].find('"').unwrap()].to_owned()
    };
    let cookie = set_cookie
        .iter()
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let form = [
        ("token", link.as_str()),
        ("username", "owner"),
        ("password", "owner password here"),
        ("csrf", csrf.as_str()),
    ];
    let r = client
        .post(format!("{base}/setup"))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = client
        .post(format!("{base}/setup"))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "the link works once");

    let r = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({ "username": "owner", "password": "owner password here", "device": { "name": "curl" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me: Value = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (me["username"].as_str(), me["is_admin"].as_bool()),
        (Some("owner"), Some(true))
    );
}

#[tokio::test]
async fn user_and_device_commands_work_on_the_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, out, err) = clef(
        d,
        &["user", "add", "Anna", "--admin", "--password-stdin"],
        Some("anna's password\n"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("created anna (admin)"), "{out}");
    let (ok, _, err) = clef(
        d,
        &["user", "add", "anna", "--password-stdin"],
        Some("another password\n"),
    );
    assert!(
        !ok && err.contains("already exists"),
        "duplicate refused clearly: {err}"
    );
    let (ok, _, err) = clef(
        d,
        &["user", "add", "bob", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!ok && err.contains("at least 8"), "{err}");
    // An address for reset links: checked, and one account's only.
    let add = |name: &'static str, email: &'static str| {
        clef(
            d,
            &["user", "add", name, "--email", email, "--password-stdin"],
            Some("a good long password\n"),
        )
    };
    let (ok, out, err) = add("bob", "bob@example.org");
    assert!(ok && out.contains("created bob"), "{err}");
    let (ok, _, err) = add("carl", "not an address");
    assert!(!ok && err.contains("email"), "{err}");
    let (ok, _, err) = add("dora", "BOB@example.org");
    assert!(!ok && err.contains("email already exists"), "{err}");
    let (ok, out, _) = clef(d, &["user", "limits", "anna", "--devices", "3"], None);
    assert!(ok && out.contains("up to 3 devices"), "{out}");
    let (ok, out, _) = clef(d, &["user", "list"], None);
    assert!(
        ok && out
            .lines()
            .any(|l| l.starts_with("anna") && l.contains("yes") && l.contains(" 3 ")),
        "{out}"
    );

    // A device signed in through the services shows in `devices list` and can be revoked.
    let cfg = clef_server::Config {
        data_dir: d.to_path_buf(),
        ..Default::default()
    };
    let (_store, accounts) = clef_server::open_services(
        &cfg,
        std::sync::Arc::new(clef_core::SystemClock),
        std::sync::Arc::new(clef_core::OsRandom),
    )
    .await
    .unwrap();
    let signed = accounts
        .sign_in(clef_accounts::SignIn {
            username: "anna".into(),
            password: clef_core::Password::presented("anna's password".into()),
            device: clef_accounts::DeviceInfo {
                name: clef_core::DeviceName::parse("Anna's phone").unwrap(),
                device_type: clef_core::DeviceType::Phone,
                client: "cli test".into(),
            },
            credential: clef_store::CredentialKind::ApiToken,
            ip: "127.0.0.1".into(),
            replace: None,
        })
        .await
        .unwrap();
    let (ok, out, _) = clef(d, &["devices", "list", "anna"], None);
    assert!(
        ok && out.contains("Anna's phone") && out.contains(signed.device_id.as_str()),
        "{out}"
    );
    let (ok, out, err) = clef(
        d,
        &["devices", "revoke", "anna", signed.device_id.as_str()],
        None,
    );
    assert!(ok, "{err}");
    assert!(out.contains("signed out"));
    let err = accounts
        .authenticate(&signed.token, "127.0.0.1")
        .await
        .unwrap_err();
    assert!(
        matches!(err, clef_accounts::AccountsError::SignedOut { .. }),
        "{err:?}"
    );
    let (ok, _, err) = clef(d, &["devices", "revoke", "anna", "not-an-id"], None);
    assert!(!ok && err.contains("32 hexadecimal"), "{err}");
    // The last admin stays: disabling anna needs another admin first.
    let (ok, _, err) = clef(d, &["user", "disable", "anna"], None);
    assert!(!ok && err.contains("last enabled admin"), "{err}");
    let (ok, _, err) = clef(
        d,
        &["user", "add", "bea", "--admin", "--password-stdin"],
        Some("bea's long password\n"),
    );
    assert!(ok, "{err}");
    let (ok, out, _) = clef(d, &["user", "disable", "anna"], None);
    assert!(ok && out.contains("disabled"), "{out}");
}

/// `clef scan` from the command line, on the data folder of a running server: the server's
/// catalog follows within its refresh period, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clef_scan_beside_a_running_server_updates_its_library() {
    let music = tempfile::tempdir().unwrap();
    clef_testkit::write_wav(&music.path().join("first.wav"), 1, "First");
    let s = clef_testkit::TestServer::start_with(clef_testkit::Options {
        music: clef_testkit::Music::Dirs(vec![music.path().to_path_buf()]),
        ..Default::default()
    })
    .await;
    s.create_user("ann", "cli scan password", false).await;
    let t = s.token("ann", "cli scan password", "laptop").await;
    let (_, found) = s.get(&t, "/api/v1/search?q=second").await;
    assert_eq!(found["tracks"].as_array().unwrap().len(), 0);

    clef_testkit::write_wav(&music.path().join("second.wav"), 1, "Second");
    let out = Command::new(env!("CARGO_BIN_EXE_clef"))
        .args(["scan", "--data-dir"])
        .arg(&s.config.data_dir)
        .env("CLEF_LOG", "warn")
        .env("CLEF_MUSIC_DIRS", music.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 added"), "{stdout}");

    // The server checks for changes every 5 s; poll the API until the new track shows.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let (_, found) = s.get(&t, "/api/v1/search?q=second").await;
        if found["tracks"].as_array().unwrap().len() == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not pick up the scan"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
