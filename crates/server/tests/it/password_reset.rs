//! "Forgot password" over real SMTP (SECURITY.md P5): the mailed link names the configured
//! host, works once, for 30 minutes, and only while it is the newest; using it signs out every
//! credential of every kind with the reason `password_reset`, cuts open streams within a second
//! and mails a notice. Without SMTP the message lands in the outbox folder.

use std::time::{Duration, Instant};

use clef_testkit::{write_wav, Mail, Music, Options, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::bitrate_reader;
use crate::oauth::PW;

const PUBLIC: &str = "http://clef.example.test";
const NEW_PW: &str = "a brand new passphrase";

async fn server(music: Music) -> TestServer {
    let s = TestServer::start_with(Options {
        smtp: true,
        public_url: Some(PUBLIC.into()),
        music,
        ..Options::default()
    })
    .await;
    let anna = s.create_user("anna", PW, false).await;
    s.set_email(&anna, "anna@example.org").await;
    s
}

async fn ask(s: &TestServer, login: &str) -> reqwest::Response {
    s.client()
        .post(s.url("/api/v1/password-resets"))
        .json(&json!({ "login": login }))
        .send()
        .await
        .unwrap()
}

/// The token of the reset link in `mail`, checking the link's host.
fn token_in(mail: &Mail) -> String {
    let link = mail
        .links()
        .into_iter()
        .find(|l| l.contains("/password-reset?token="))
        .unwrap_or_else(|| panic!("no reset link in: {}", mail.text));
    assert!(
        link.starts_with(&format!("{PUBLIC}/password-reset?token=")),
        "{link}"
    );
    link.split("token=").nth(1).unwrap().to_owned()
}

async fn next_link(s: &TestServer) -> String {
    let mail = s.smtp().next_for("anna@example.org").await;
    assert_eq!(mail.subject, "Reset your Clef password");
    assert!(mail.html.contains("Choose a new password"), "{}", mail.html);
    token_in(&mail)
}

async fn complete(s: &TestServer, token: &str, password: &str) -> (StatusCode, Value) {
    let r = s
        .client()
        .post(s.url("/api/v1/password-resets/complete"))
        .json(&json!({ "token": token, "new_password": password }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_works_once_while_newest_and_fresh_and_names_the_configured_host() {
    let s = server(Music::Empty).await;

    // A stranger's Host header never reaches the link: the request is not even answered.
    let evil = s
        .client()
        .post(s.url("/api/v1/password-resets"))
        .header("host", "evil.test")
        .json(&json!({ "login": "anna" }))
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::MISDIRECTED_REQUEST);
    // Asked through the server's address, the link still names the configured host.
    assert_eq!(ask(&s, "anna").await.status(), StatusCode::ACCEPTED);
    let first = next_link(&s).await;
    // S1: 256 random bits, and only their hash is stored.
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&first)
        .unwrap();
    assert_eq!(raw.len(), 32);
    let stored = s
        .store
        .raw_strings("SELECT token_hash || ' ' || email FROM email_links")
        .await
        .unwrap()
        .join("\n");
    assert!(
        !stored.contains(&first),
        "a raw reset token is in the database"
    );
    assert!(stored.contains(&clef_core::SecretToken::from_presented(&first).hash().0));
    let page = s
        .client()
        .get(s.url(&format!("/password-reset?token={first}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");

    // A newer link supersedes it (asked for by address this time, in other letter case).
    assert_eq!(
        ask(&s, "Anna@Example.org").await.status(),
        StatusCode::ACCEPTED
    );
    let second = next_link(&s).await;
    let (status, body) = complete(&s, &first, NEW_PW).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::GONE, Some("link_invalid"))
    );

    // A weak password is refused and the link stays usable.
    let (status, body) = complete(&s, &second, "password").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = complete(&s, &second, NEW_PW).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let notice = s.smtp().next_for("anna@example.org").await;
    assert_eq!(notice.subject, "Your Clef password was reset");
    let (status, _) = complete(&s, &second, "yet another passphrase").await;
    assert_eq!(status, StatusCode::GONE, "a link works once");

    // Thirty minutes: a link is refused once they have passed.
    assert_eq!(ask(&s, "anna").await.status(), StatusCode::ACCEPTED);
    let third = next_link(&s).await;
    s.clock.advance_secs(30 * 60);
    let (status, _) = complete(&s, &third, "one more new passphrase").await;
    assert_eq!(status, StatusCode::GONE, "expired");
    let page = s
        .client()
        .get(s.url(&format!("/password-reset?token={third}")))
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("expired"));

    // No address, no account: the same answer, and no mail for either.
    s.create_user("bob", PW, false).await;
    for login in ["bob", "nobody", "nobody@example.org"] {
        let r = ask(&s, login).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED, "{login}");
    }
    // One more for anna marks the end of the queue: everything before it was handled.
    assert_eq!(ask(&s, "anna").await.status(), StatusCode::ACCEPTED);
    let _ = next_link(&s).await;
    let sent: Vec<String> = s
        .smtp()
        .received()
        .iter()
        .flat_map(|m| m.to.clone())
        .collect();
    assert_eq!(
        sent,
        vec!["anna@example.org"; 5],
        "four links and one notice"
    );

    // The new password is the one that works, and a new device is told of by mail.
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, "anna", PW, "laptop").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.sign_in(&c, "anna", NEW_PW, "laptop").await.status(),
        StatusCode::CREATED
    );
    let notice = s.smtp().next_for("anna@example.org").await;
    assert_eq!(notice.subject, "New sign-in to your Clef account");
    assert!(notice.text.contains("laptop"), "{}", notice.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_reset_every_credential_is_refused_with_the_reason_and_a_notice_arrives() {
    let music = tempfile::tempdir().unwrap();
    write_wav(&music.path().join("long.wav"), 120, "Long");
    let s = server(Music::Dirs(vec![music.path().to_path_buf()])).await;
    let laptop = s.token("anna", PW, "anna's laptop").await;
    let phone = s.token("anna", PW, "anna's phone").await;
    let pass = crate::subsonic::app_password(&s, &laptop, "DSub", "app_password").await;
    let key = crate::subsonic::app_password(&s, &laptop, "Symfonium", "api_key").await;
    // Each of those was told by mail: two new devices, an app password and an API key.
    let mut told = Vec::new();
    for _ in 0..4 {
        told.push(s.smtp().next_for("anna@example.org").await.subject);
    }
    told.sort();
    assert_eq!(
        told,
        [
            "An API key was created for your Clef account",
            "An app password was created for your Clef account",
            "New sign-in to your Clef account",
            "New sign-in to your Clef account",
        ]
    );
    let (_, found) = s.get(&laptop, "/api/v1/search?q=long").await;
    let track = found["tracks"][0]["id"].as_str().unwrap().to_owned();
    let (_, reading) = bitrate_reader::open(
        s.addr,
        &phone,
        &format!("/api/v1/tracks/{track}/stream"),
        176_400,
        Duration::from_secs(5),
    )
    .await;

    assert_eq!(ask(&s, "anna").await.status(), StatusCode::ACCEPTED);
    let token = next_link(&s).await;
    let (status, _) = complete(&s, &token, NEW_PW).await;
    let reset_at = Instant::now();
    assert_eq!(status, StatusCode::NO_CONTENT);

    for (who, t) in [("laptop", &laptop), ("phone", &phone)] {
        let (status, body) = s.get(t, "/api/v1/me").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{who}");
        assert_eq!(body["reason"], "password_reset", "{who}: {body}");
    }
    for auth in [format!("u=anna&p={pass}"), format!("apiKey={key}")] {
        let r: Value = s
            .client()
            .get(s.url(&format!("/rest/ping?v=1.16.1&c=test&f=json&{auth}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let answer = &r["subsonic-response"];
        assert_eq!(answer["status"], "failed", "{r}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains("password was reset"), "{message}");
    }
    let reading = reading.await.unwrap();
    let last = reading.reads.last().map(|(at, _)| *at).unwrap_or(reset_at);
    let cut_after = last.saturating_duration_since(reset_at);
    eprintln!(
        "stream: last bytes {} ms after the reset",
        cut_after.as_millis()
    );
    assert!(reading.cut, "the stream was cut");
    assert!(reading.after(reset_at + Duration::from_secs(1)) == 0);

    let notice = s.smtp().next_for("anna@example.org").await;
    assert_eq!(notice.subject, "Your Clef password was reset");
    assert!(notice.text.contains("signed out"), "{}", notice.text);
    assert!(
        notice.text.contains("If this was not you"),
        "{}",
        notice.text
    );

    let fresh = s.token("anna", NEW_PW, "anna's new laptop").await;
    let (_, events) = s.get(&fresh, "/api/v1/security-events").await;
    let resets: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "password_reset")
        .collect();
    assert_eq!(resets.len(), 1, "{events}");
    assert!(resets[0]["detail"]
        .as_str()
        .unwrap()
        .contains("4 devices signed out"));
}

#[tokio::test]
async fn reset_requests_are_throttled_per_account_without_telling_whether_it_exists() {
    let s = server(Music::Empty).await;
    for login in ["anna", "nobody"] {
        for _ in 0..5 {
            assert_eq!(
                ask(&s, login).await.status(),
                StatusCode::ACCEPTED,
                "{login}"
            );
        }
        let r = ask(&s, login).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{login}");
        assert!(r.headers().contains_key("retry-after"));
    }
    // Another account from the same address is still served, and the window passes.
    let bob = s.create_user("bob", PW, false).await;
    s.set_email(&bob, "bob@example.org").await;
    assert_eq!(ask(&s, "bob").await.status(), StatusCode::ACCEPTED);
    s.smtp().next_for("bob@example.org").await;
    s.clock.advance_secs(15 * 60);
    assert_eq!(ask(&s, "anna").await.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn without_smtp_the_message_is_written_to_the_outbox() {
    let s = TestServer::start().await;
    let anna = s.create_user("anna", PW, false).await;
    s.set_email(&anna, "anna@example.org").await;
    let r = s
        .client()
        .post(s.url("/api/v1/password-resets"))
        .json(&json!({ "login": "anna" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let outbox = s.config.data_dir.join("outbox");
    let eml = wait_for_file(&outbox).await;
    let text = std::fs::read_to_string(&eml).unwrap();
    assert!(text.contains("To: anna@example.org"), "{text}");
    assert!(text.contains("Subject: Reset your Clef password"), "{text}");
    assert!(text.contains("multipart/alternative"), "{text}");
    // A person reading the file finds the link whole on its line, to open in a browser.
    let link = text
        .lines()
        .find(|l| l.starts_with("http") && l.contains("/password-reset?token="))
        .unwrap_or_else(|| panic!("no whole link in: {text}"));
    assert_eq!(link.split("token=").nth(1).unwrap().len(), 43, "{link}");
    let page = s.client().get(link).send().await.unwrap();
    assert!(
        page.text().await.unwrap().contains("new password"),
        "the link opens the form"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&eml).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the outbox holds reset links");
    }
    assert!(clef_testkit::logs().contains("mail written to the outbox"));
}

/// The first `.eml` in `dir`, waiting (up to 20 s) for the background sender to write it.
async fn wait_for_file(dir: &std::path::Path) -> std::path::PathBuf {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = std::fs::read_dir(dir).ok().and_then(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "eml"))
        });
        if let Some(p) = found {
            return p;
        }
        assert!(Instant::now() < deadline, "no message in {}", dir.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
