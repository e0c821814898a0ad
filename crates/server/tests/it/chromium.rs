//! Driving Debian's Chromium through chromedriver (fantoccini): one driver process per test,
//! fresh browser profiles, helpers for pages, the player's audio element and screenshots.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clef_testkit::TestServer;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::sync::{Semaphore, SemaphorePermit};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Chromium is heavy: at most this many tests drive browsers at once, whatever the test threads.
pub static BROWSER_TESTS: Semaphore = Semaphore::const_new(2);

/// A chromedriver child process, killed with everything it started when dropped.
pub struct Driver {
    child: Child,
    url: String,
    _permit: SemaphorePermit<'static>,
}

impl Driver {
    pub async fn start() -> Driver {
        let permit = BROWSER_TESTS.acquire().await.expect("semaphore open");
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                // Its own process group, so the browsers it starts can be ended with it.
                .process_group(0)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts (Debian package chromium-driver)")
        };
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _permit: permit,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not open port {port} within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        driver
    }

    /// A new browser context: a WebDriver session with a fresh profile.
    pub async fn browser(&self) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            // No sound card here: play into a fake output, which still advances the clock.
            "--disable-audio-output".to_owned(),
            "--autoplay-policy=no-user-gesture-required".to_owned(),
            "--window-size=1280,900".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": CHROMIUM, "args": args }),
        );
        let client = ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a Chromium session");
        Browser {
            client,
            _profile: profile,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group holds chromedriver and any browser a failed test left open.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser context.
pub struct Browser {
    pub client: Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn goto(&self, server: &TestServer, path: &str) {
        self.client.goto(&server.url(path)).await.unwrap();
    }

    pub async fn wait(&self, css: &str) -> Element {
        self.wait_for(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
    }

    /// Waits for an element with exactly this text (so a stale page's element never matches).
    pub async fn wait_text(&self, id: &str, text: &str) -> Element {
        let xpath = format!("//*[@id='{id}' and normalize-space(.)='{text}']");
        self.wait_for(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("waiting for #{id} saying {text:?}: {e}"))
    }

    /// fantoccini's wait, asked again when a navigation under way aborted the look-up (Chromium
    /// answers "aborted by navigation" while a form's answer replaces the page).
    async fn wait_for(&self, locator: Locator<'_>) -> Result<Element, fantoccini::error::CmdError> {
        let mut tries = 0;
        loop {
            match self.client.wait().for_element(locator).await {
                Err(e) if tries < 20 && e.to_string().contains("aborted by navigation") => {
                    tries += 1;
                }
                other => return other,
            }
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("finding {css}: {e}"))
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.find_all(css).await {
            out.push(e.text().await.unwrap());
        }
        out
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Waits until the browser is at `path` (a form post's answer is a redirect, and the page
    /// being left may hold the same elements as the one arrived at). Panics after 30 s.
    pub async fn wait_path(&self, path: &str) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let now = self.path().await;
            if now == path {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "waiting to arrive at {path}; still at {now}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    /// Saves a PNG of the page as `test-artifacts/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Signs in through the form and waits for the Library, where a listener lands.
    pub async fn sign_in(
        &self,
        server: &TestServer,
        user: &str,
        password: &str,
        device_name: &str,
    ) {
        self.goto(server, "/signin").await;
        self.wait("form[action='/signin']").await;
        self.fill("#username", user).await;
        self.fill("#password", password).await;
        self.fill("#device_name", device_name).await;
        self.find("form[action='/signin'] button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        self.wait_path("/library").await;
        self.wait("body.app main h1").await;
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// The player's audio element: (currentTime, paused, has src).
    pub async fn audio(&self) -> (f64, bool, bool) {
        let v = self
            .js("const a = document.getElementById('player-audio'); return [a.currentTime, a.paused, a.hasAttribute('src')];")
            .await;
        (
            v[0].as_f64().unwrap_or(0.0),
            v[1].as_bool().unwrap_or(true),
            v[2].as_bool().unwrap_or(false),
        )
    }

    /// Polls `cond` on the audio element until it holds or `secs` pass.
    pub async fn wait_audio(
        &self,
        secs: u64,
        what: &str,
        cond: impl Fn((f64, bool, bool)) -> bool,
    ) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let state = self.audio().await;
            if cond(state) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what} within {secs} s; audio is (currentTime, paused, src) = {state:?}; status: {:?}",
                self.js("return document.getElementById('player-status').textContent").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of a visible element, once it is visible and not empty.
    pub async fn wait_visible_text(&self, id: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self
                .js(&format!(
                    "const e = document.getElementById('{id}'); return e && !e.hidden && e.offsetParent !== null ? e.textContent : null;"
                ))
                .await;
            if let Some(t) = v.as_str().filter(|t| !t.trim().is_empty()) {
                return t.trim().to_owned();
            }
            assert!(Instant::now() < deadline, "#{id} shown within {secs} s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens an album from the albums page and clicks Play on one of its tracks.
    pub async fn play_from_album(&self, s: &TestServer, album: &str, title: &str) {
        self.goto(s, "/library").await;
        self.wait("ul.albums").await;
        self.client
            .find(Locator::XPath(&format!(
                "//li[contains(@class,'album-card')]//a[.//span[@class='album-name' and normalize-space(.)='{album}']]"
            )))
            .await
            .unwrap_or_else(|e| panic!("a card for {album}: {e}"))
            .click()
            .await
            .unwrap();
        self.wait("#play-album").await;
        self.find(&format!("tr[data-title='{title}'] button.play-track"))
            .await
            .click()
            .await
            .unwrap();
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// Runs a test body, then closes the browsers whether it passed or not, then reports.
pub async fn finish(outcome: std::thread::Result<()>, browsers: Vec<Browser>) {
    for b in browsers {
        b.close().await;
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// The HTTP status the page shown now was answered with.
pub async fn status(b: &Browser) -> u64 {
    b.js("return performance.getEntriesByType('navigation')[0].responseStatus;")
        .await
        .as_u64()
        .unwrap()
}

pub async fn click(b: &Browser, css: &str) {
    b.find(css).await.click().await.unwrap();
}

/// The `value` attribute of the element `css` finds ("" when it has none).
pub async fn value(b: &Browser, css: &str) -> String {
    b.find(css)
        .await
        .attr("value")
        .await
        .unwrap()
        .unwrap_or_default()
}
