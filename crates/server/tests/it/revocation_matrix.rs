//! The revocation matrix (SECURITY.md S4) over every kind of credential that exists: a web
//! session, an API token, an app's access and refresh tokens (code flow), a TV's (device grant),
//! a Subsonic app's app password and another's API key, plus another user's token. Each action kills exactly the credentials in its scope on
//! their next request, and cuts exactly their open streams within a second.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clef_store::AccountStore;
use clef_testkit::{write_wav, Music, Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::bitrate_reader;
use crate::oauth::{code, pkce, register, token_request, NATIVE_CB, PW};

/// Who holds what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Web,
    Api,
    App,
    Tv,
    /// A Subsonic app signed in with an app password.
    Pass,
    /// A Subsonic app signed in with an OpenSubsonic API key.
    Key,
    Bob,
}

const ALL: [Who; 7] = [
    Who::Web,
    Who::Api,
    Who::App,
    Who::Tv,
    Who::Pass,
    Who::Key,
    Who::Bob,
];

#[derive(Debug, Clone, Copy)]
enum Action {
    SignOutTv,
    SignOutPhone,
    EverywhereKeepingThis,
    EverywhereWithApps,
    PasswordChange,
    PasswordReset,
    /// "Forgot password": the link mailed over SMTP, used through the API.
    EmailedReset,
    AdminDisable,
    RemoveAppAccess,
    AppRevokesItsRefreshToken,
}

impl Action {
    /// Who loses access, and the reason they are told.
    fn kills(self) -> (&'static [Who], &'static str) {
        use Who::*;
        match self {
            Action::SignOutTv => (&[Tv], "signed_out_by_user"),
            Action::SignOutPhone => (&[Pass], "signed_out_by_user"),
            Action::EverywhereKeepingThis => (&[Web, Tv, Pass, Key], "signed_out_everywhere"),
            Action::EverywhereWithApps => (&[Web, Tv, App, Pass, Key], "signed_out_everywhere"),
            Action::PasswordChange => (&[Web, Tv, Pass, Key], "password_changed"),
            Action::PasswordReset => (&[Web, Api, Tv, Pass, Key], "password_reset"),
            Action::EmailedReset => (&[Web, Api, App, Tv, Pass, Key], "password_reset"),
            Action::AdminDisable => (&[Web, Api, App, Tv, Pass, Key], "account_disabled"),
            Action::RemoveAppAccess => (&[App], "access_removed"),
            Action::AppRevokesItsRefreshToken => (&[App], "token_revoked"),
        }
    }
}

struct World {
    s: TestServer,
    _music: tempfile::TempDir,
    track: String,
    web: String,
    api: String,
    app: (String, String),
    app_id: String,
    tv: (String, String),
    tv_id: String,
    /// The app password's query (`u`, `p`, `c`), and the API key's (`apiKey`).
    pass: String,
    key: String,
    bob: String,
    admin: String,
}

/// A web session's token, as the sign-in form sets it in the cookie.
async fn web_session(s: &TestServer) -> String {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let b = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = b
        .get(s.url("/signin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = b
        .post(s.url("/signin"))
        .form(&[
            ("username", "anna"),
            ("password", PW),
            ("device_name", "Kitchen browser"),
            ("csrf", &crate::oauth::hidden(&page, "csrf")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    use reqwest::cookie::CookieStore;
    let cookies = jar.cookies(&s.url("/").parse().unwrap()).unwrap();
    cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("clef_session="))
        .unwrap()
        .to_owned()
}

async fn world(smtp: bool) -> World {
    let music = tempfile::tempdir().unwrap();
    write_wav(&music.path().join("long.wav"), 120, "Long");
    let s = TestServer::start_with(Options {
        music: Music::Dirs(vec![music.path().to_path_buf()]),
        smtp,
        ..Options::default()
    })
    .await;
    let anna = s.create_user("anna", PW, false).await;
    s.set_email(&anna, "anna@example.org").await;
    s.create_user("bob", PW, false).await;
    s.create_user("root", PW, true).await;
    let api = s.token("anna", PW, "anna's laptop").await;
    // Room for every holder: laptop, two browsers, the TV, the phone and the player.
    let anna = s.store.user_by_name("anna").await.unwrap().unwrap();
    s.store.set_limits(&anna.id, Some(10), None).await.unwrap();
    let web = web_session(&s).await;
    let bob = s.token("bob", PW, "bob's phone").await;
    let admin = s.token("root", PW, "admin console").await;
    let (app_id, _) = register(&s, &api, "Party queue", &[NATIVE_CB], false).await;
    let (tv_id, _) = register(&s, &api, "Clef TV", &[NATIVE_CB], false).await;
    // The app: a code approved in the browser.
    let b = crate::oauth::browser(&s, "anna").await;
    let (verifier, challenge) = pkce();
    let c = code(
        &s,
        &b,
        &app_id,
        NATIVE_CB,
        "library:read stream",
        &challenge,
    )
    .await;
    let t: Value = token_request(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &c),
            ("redirect_uri", NATIVE_CB),
            ("client_id", &app_id),
            ("code_verifier", &verifier),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    let app = (
        t["access_token"].as_str().unwrap().to_owned(),
        t["refresh_token"].as_str().unwrap().to_owned(),
    );
    // The TV: a device code approved from the web session.
    let started: Value = s
        .client()
        .post(s.url("/oauth/device_authorization"))
        .form(&[
            ("client_id", tv_id.as_str()),
            ("scope", "library:read stream"),
            ("device_name", "Living room TV"),
            ("device_type", "tv"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let phone = crate::oauth::browser(&s, "anna").await;
    let page = phone
        .get(s.url(&format!(
            "/device?code={}",
            started["user_code"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = phone
        .post(s.url("/device"))
        .form(&[
            ("code", crate::oauth::hidden(&page, "code")),
            ("csrf", crate::oauth::hidden(&page, "csrf")),
            ("decision", "approve".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = token_request(
        &s,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", started["device_code"].as_str().unwrap()),
            ("client_id", &tv_id),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    let tv = (
        t["access_token"].as_str().unwrap().to_owned(),
        t["refresh_token"].as_str().unwrap().to_owned(),
    );
    let pass = crate::subsonic::app_password(&s, &api, "anna's phone", "app_password").await;
    let key = crate::subsonic::app_password(&s, &api, "anna's player", "api_key").await;
    let pass = format!("u=anna&p={pass}&c=DSub");
    let key = format!("apiKey={key}&c=Feishin");
    let track = s
        .library
        .catalog()
        .records()
        .find(|r| r.title == "Long")
        .unwrap()
        .id
        .clone();
    World {
        s,
        _music: music,
        track,
        web,
        api,
        app,
        app_id,
        tv,
        tv_id,
        pass,
        key,
        bob,
        admin,
    }
}

impl World {
    fn access(&self, who: Who) -> &str {
        match who {
            Who::Web => &self.web,
            Who::Api => &self.api,
            Who::App => &self.app.0,
            Who::Tv => &self.tv.0,
            Who::Pass => &self.pass,
            Who::Key => &self.key,
            Who::Bob => &self.bob,
        }
    }

    /// Whether `who` still has access: its next request, and the reason it is told if not.
    async fn next_request(&self, who: Who) -> Result<(), String> {
        if matches!(who, Who::Pass | Who::Key) {
            let (ok, code, message) =
                crate::subsonic::rest(&self.s, &format!("/rest/ping?f=json&{}", self.access(who)))
                    .await;
            return match ok {
                true => Ok(()),
                false => {
                    assert_eq!(code, if who == Who::Key { 44 } else { 40 }, "{message}");
                    assert!(message.contains("Create a new app password"), "{message}");
                    Err(message)
                }
            };
        }
        let (status, body) = self.s.get(self.access(who), "/api/v1/albums").await;
        match status {
            StatusCode::OK => Ok(()),
            StatusCode::UNAUTHORIZED => Err(body["reason"].as_str().unwrap_or("").to_owned()),
            other => panic!("{who:?}: {other} {body}"),
        }
    }

    /// The stream `who` plays `track` through.
    fn stream_path(&self, who: Who) -> String {
        match who {
            Who::Pass | Who::Key => format!("/rest/stream?id={}&{}", self.track, self.access(who)),
            _ => format!("/api/v1/tracks/{}/stream", self.track),
        }
    }

    async fn act(&self, action: Action) {
        let s = &self.s;
        let status = match action {
            Action::SignOutTv | Action::SignOutPhone => {
                let name = match action {
                    Action::SignOutTv => "Living room TV",
                    _ => "anna's phone",
                };
                let tv = crate::player::device_id(s, &self.api, name).await;
                s.call(Method::DELETE, &self.api, &format!("/api/v1/devices/{tv}"), None).await.0
            }
            Action::EverywhereKeepingThis | Action::EverywhereWithApps => {
                let apps = matches!(action, Action::EverywhereWithApps);
                s.call(
                    Method::POST,
                    &self.api,
                    "/api/v1/devices/sign-out-everywhere",
                    Some(json!({ "keep_current": true, "remove_apps": apps })),
                )
                .await
                .0
            }
            Action::PasswordChange => {
                s.call(
                    Method::PUT,
                    &self.api,
                    "/api/v1/me/password",
                    Some(json!({ "current_password": PW, "new_password": "another fine passphrase" })),
                )
                .await
                .0
            }
            Action::PasswordReset => {
                s.accounts
                    .reset_password_from_console("anna", "reset from the console".into())
                    .await
                    .unwrap();
                StatusCode::OK
            }
            Action::EmailedReset => {
                let asked = s
                    .client()
                    .post(s.url("/api/v1/password-resets"))
                    .json(&json!({ "login": "anna@example.org" }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(asked.status(), StatusCode::ACCEPTED);
                // Anna was told of each device and app set up before; the link comes after.
                let mut mail = s.smtp().next_for("anna@example.org").await;
                let mut before = Vec::new();
                while mail.subject != "Reset your Clef password" {
                    before.push(mail.subject);
                    mail = s.smtp().next_for("anna@example.org").await;
                }
                // Among them, the app's and the TV's access were each told of.
                let apps = before
                    .iter()
                    .filter(|s| *s == "An app was given access to your Clef account")
                    .count();
                assert_eq!(apps, 2, "{before:?}");
                let link = mail.links().into_iter().find(|l| l.contains("token=")).unwrap();
                let token = link.split("token=").nth(1).unwrap().to_owned();
                s.client()
                    .post(s.url("/api/v1/password-resets/complete"))
                    .json(&json!({ "token": token, "new_password": "a brand new passphrase" }))
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
            Action::AdminDisable => {
                s.call(
                    Method::PATCH,
                    &self.admin,
                    "/api/v1/admin/users/anna",
                    Some(json!({ "disabled": true })),
                )
                .await
                .0
            }
            Action::RemoveAppAccess => {
                let (_, apps) = s.get(&self.api, "/api/v1/me/apps").await;
                let grant = apps
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["name"] == "Party queue")
                    .unwrap()["grant_id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                s.call(Method::DELETE, &self.api, &format!("/api/v1/me/apps/{grant}"), None).await.0
            }
            Action::AppRevokesItsRefreshToken => {
                s.client()
                    .post(s.url("/oauth/revoke"))
                    .form(&[("token", self.app.1.as_str()), ("client_id", self.app_id.as_str())])
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        assert!(status.is_success(), "{action:?}: {status}");
    }
}

async fn check(action: Action) {
    let w = world(matches!(action, Action::EmailedReset)).await;
    let mut readers = Vec::new();
    for who in [Who::Web, Who::Api, Who::App, Who::Tv, Who::Pass, Who::Key] {
        let (_, task) = bitrate_reader::open(
            w.s.addr,
            w.access(who),
            &w.stream_path(who),
            176_400,
            Duration::from_secs(3),
        )
        .await;
        readers.push((who, task));
    }
    w.act(action).await;
    let cut_at = Instant::now();
    let (dead, reason) = action.kills();
    for who in ALL {
        match w.next_request(who).await {
            Err(told) if dead.contains(&who) => {
                if !matches!(who, Who::Pass | Who::Key) {
                    assert_eq!(told, reason, "{action:?}: {who:?}");
                }
            }
            Ok(()) if !dead.contains(&who) => {}
            Ok(()) => panic!("{action:?}: {who:?} still works"),
            Err(told) => panic!("{action:?}: {who:?} should still work: {told}"),
        }
    }
    // Refresh tokens: dead with their grant or device, alive otherwise.
    for (who, client, rt) in [
        (Who::App, &w.app_id, &w.app.1),
        (Who::Tv, &w.tv_id, &w.tv.1),
    ] {
        let r = crate::oauth::refresh(&w.s, client, rt).await;
        let expect = if dead.contains(&who) {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        assert_eq!(r.status(), expect, "{action:?}: {who:?}'s refresh token");
    }
    for (who, task) in readers {
        let reading = task.await.unwrap();
        let late = reading.after(cut_at + Duration::from_secs(1));
        if dead.contains(&who) {
            assert!(
                reading.cut && late == 0,
                "{action:?}: {who:?}'s stream was not cut ({late} bytes late)"
            );
        } else {
            assert!(
                !reading.cut && late > 0,
                "{action:?}: {who:?}'s stream stopped"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_action_kills_exactly_its_credentials_and_streams() {
    for action in [
        Action::SignOutTv,
        Action::SignOutPhone,
        Action::EverywhereKeepingThis,
        Action::EverywhereWithApps,
        Action::PasswordChange,
        Action::PasswordReset,
        Action::EmailedReset,
        Action::AdminDisable,
        Action::RemoveAppAccess,
        Action::AppRevokesItsRefreshToken,
    ] {
        check(action).await;
    }
}
