//! The first hour as a newcomer lives it: `clef serve` on an empty data folder, the printed link
//! opened in real Chromium, the admin created, signed in, and on to the sample library.

use std::io::{BufRead, BufReader};
use std::panic::AssertUnwindSafe;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::Locator;
use futures::FutureExt;

use crate::chromium::{finish, Browser, Driver};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `clef serve` as the README says (plus a fresh data folder and a free port) and returns
/// it with the lines it printed up to and including the setup link.
fn serve(data: &std::path::Path) -> (Server, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clef"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("CLEF_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
    // Reads what the server prints for as long as it runs, so it never writes into a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut printed = String::new();
    let link = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("clef serve prints a setup link");
        printed.push_str(&line);
        printed.push('\n');
        if let Some(at) = line.find("http://") {
            if line.contains("/setup?token=") {
                break line[at..].trim().to_owned();
            }
        }
    };
    (server, printed, link)
}

async fn wait_for_albums(b: &Browser, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if b.client.find(Locator::Css("ul.albums li")).await.is_ok() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the sample library shows within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        b.client.goto(&format!("{base}/library")).await.unwrap();
    }
}

#[tokio::test]
async fn the_printed_setup_link_creates_the_admin_in_chromium() {
    let data = tempfile::tempdir().unwrap();
    let (_server, printed, link) = serve(data.path());
    let base = link[..link.find("/setup").unwrap()].to_owned();
    assert!(
        printed.contains(&format!("Clef is listening on {base}")),
        "the link names the address the server listens on: {printed}"
    );
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        // Before setup, the front page says how to finish it.
        b.client.goto(&format!("{base}/")).await.unwrap();
        let steps = b.wait("#setup-steps").await.text().await.unwrap();
        assert!(
            steps.contains("clef serve") && steps.contains("clef user add NAME --admin"),
            "{steps}"
        );
        b.screenshot("first-run-home").await;

        b.client.goto(&link).await.unwrap();
        b.wait("form[action='/setup']").await;
        b.screenshot("first-run-setup").await;
        b.fill("#username", "owner").await;
        b.fill("#password", "a long owner passphrase").await;
        b.find("form[action='/setup'] button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        b.wait_path("/signin").await;
        let notice = b.wait("#notice").await.text().await.unwrap();
        assert_eq!(notice, "Admin account created. Sign in.");

        b.fill("#username", "owner").await;
        b.fill("#password", "a long owner passphrase").await;
        b.find("form[action='/signin'] button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        b.wait("body.app main h1").await;
        assert_eq!(
            b.path().await,
            "/library",
            "a listener lands on the library"
        );
        wait_for_albums(&b, &base).await;
        b.screenshot("first-run-library").await;
        let admin = b.find("header.site nav a[href='/admin/users']").await;
        assert_eq!(
            admin.text().await.unwrap(),
            "Admin",
            "the new account is the admin"
        );

        // The link works once.
        b.client.goto(&link).await.unwrap();
        let heading = b.wait("main h1").await.text().await.unwrap();
        assert_eq!(heading, "Setup link not valid");
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}
