//! Test support: a real Clef server on port 0 with its own temporary data folder and database,
//! a manual clock the test moves, captured logs, and small HTTP helpers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod smtp;
mod third_party;
pub use smtp::{Mail, SmtpSink};
pub use third_party::scipy_wavs;

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};

use clef_accounts::{Accounts, Actor};
use clef_core::{Clock, ManualClock, OsRandom, SystemClock};
use clef_server::Config;
use clef_store::{SqlStore, User};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// How a test server differs from the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Pretend Clef is reached over TLS (public URL https), which changes cookie names and flags.
    pub https: bool,
    pub trusted_proxies: Vec<IpAddr>,
    /// A database URL other than the temporary SQLite file.
    pub database_url: Option<String>,
    /// Changes to the accounts settings (short timeouts, cheap hashing for bulk tests).
    pub tweak: Option<fn(&mut clef_accounts::AccountsConfig)>,
    pub music: Music,
    /// No `export_roots` configured: exports go to the server's default, `<data_dir>/exports` (by
    /// default tests configure `<dir>/exports`).
    pub no_export_root: bool,
    /// Changes to the connection caps and timeouts.
    pub listen: Option<fn(&mut clef_server::ListenLimits)>,
    /// The public URL (default: `http(s)://` and the test address).
    pub public_url: Option<String>,
    /// Name the server `http(s)://localhost:PORT` (a host name, which passkeys need: an IP
    /// address cannot be a WebAuthn relying party) unless `public_url` is given.
    pub localhost: bool,
    /// Changes to the export settings (a quota, a fixed free space).
    pub exports: Option<fn(&mut clef_export::ExportsConfig)>,
    /// Send mail over SMTP to a real SMTP server started for the test (`TestServer::mail`);
    /// without it, mail goes to the outbox folder in the data folder.
    pub smtp: bool,
}

/// The music a test server scans before it answers.
#[derive(Debug, Clone, Default)]
pub enum Music {
    /// An empty music folder.
    #[default]
    Empty,
    /// The sample library written on first run.
    Sample,
    /// These folders.
    Dirs(Vec<std::path::PathBuf>),
}

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub accounts: Accounts,
    pub library: clef_library::Library,
    pub exports: clef_export::Exports,
    pub store: Arc<SqlStore>,
    pub clock: ManualClock,
    pub config: Config,
    pub dir: tempfile::TempDir,
    /// The SMTP server the mail went to, with `Options::smtp`.
    pub mail: Option<SmtpSink>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stderr().write_all(buf)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything every test server has logged so far in this test binary.
pub fn logs() -> String {
    let buf = LOGS
        .get()
        .map(|l| l.lock().unwrap_or_else(|p| p.into_inner()).clone())
        .unwrap_or_default();
    String::from_utf8_lossy(&buf).into_owned()
}

fn init_logs() {
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(buf.clone());
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,sqlx=warn,lofty=error",
            ))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        buf
    });
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(Options::default()).await
    }

    /// A server over the sample library, with the other options at their defaults.
    pub async fn with_sample_library() -> TestServer {
        TestServer::start_with(Options {
            music: Music::Sample,
            ..Options::default()
        })
        .await
    }

    pub async fn start_with(opts: Options) -> TestServer {
        init_logs();
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let scheme = if opts.https { "https" } else { "http" };
        let music_dirs = match &opts.music {
            Music::Empty => {
                let empty = dir.path().join("music");
                std::fs::create_dir_all(&empty).unwrap();
                vec![empty]
            }
            Music::Sample => Vec::new(),
            Music::Dirs(d) => d.clone(),
        };
        let export_roots = if opts.no_export_root {
            Vec::new()
        } else {
            let root = dir.path().join("exports");
            std::fs::create_dir_all(&root).unwrap();
            vec![root]
        };
        let mail = if opts.smtp {
            Some(SmtpSink::start().await)
        } else {
            None
        };
        let config = Config {
            smtp_host: mail.as_ref().map(|_| "127.0.0.1".to_owned()),
            smtp_port: mail.as_ref().map(|m| m.port),
            smtp_tls: clef_mail::SmtpTls::None,
            music_dirs,
            export_roots,
            data_dir: dir.path().join("data"),
            listen: addr,
            public_url: Some(
                opts.public_url
                    .clone()
                    .unwrap_or_else(|| match opts.localhost {
                        true => format!("{scheme}://localhost:{}", addr.port()),
                        false => format!("{scheme}://{addr}"),
                    }),
            ),
            database_url: opts.database_url.clone(),
            trusted_proxies: opts.trusted_proxies.clone(),
            ..Config::default()
        };
        let clock = ManualClock::new(SystemClock.now());
        let tweak = opts.tweak.unwrap_or(|_| {});
        let app = clef_server::build_app_with(
            &config,
            Arc::new(clock.clone()),
            Arc::new(OsRandom),
            tweak,
            opts.exports.unwrap_or(|_| {}),
        )
        .await
        .unwrap();
        let mut app = app;
        if let Some(change) = opts.listen {
            change(&mut app.listen);
        }
        let (accounts, store, library, exports) = (
            app.accounts.clone(),
            app.store.clone(),
            app.library.clone(),
            app.exports.clone(),
        );
        library.scan().await.unwrap();
        let task = tokio::spawn(async move {
            let _ = clef_server::serve(app, listener).await;
        });
        TestServer {
            addr,
            accounts,
            library,
            exports,
            store,
            clock,
            config,
            dir,
            mail,
            task,
        }
    }

    /// The SMTP server of `Options::smtp`.
    pub fn smtp(&self) -> &SmtpSink {
        self.mail
            .as_ref()
            .expect("started with Options { smtp: true }")
    }

    /// Gives a user an e-mail address, as the admin would when creating them.
    pub async fn set_email(&self, user: &User, email: &str) {
        use clef_store::EmailStore;
        self.store.set_email(&user.id, Some(email)).await.unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Creates a user from the server console.
    pub async fn create_user(&self, name: &str, password: &str, admin: bool) -> User {
        self.accounts
            .create_user(Actor::Console, name, password.to_owned(), admin)
            .await
            .unwrap()
    }

    /// A client without a cookie jar.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// A client whose connections come from `ip` (any 127.0.0.0/8 address works on loopback).
    pub fn client_from(&self, ip: IpAddr) -> reqwest::Client {
        reqwest::Client::builder()
            .local_address(ip)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// `POST /api/v1/sessions` with a device name.
    pub async fn sign_in(
        &self,
        client: &reqwest::Client,
        user: &str,
        password: &str,
        device: &str,
    ) -> reqwest::Response {
        self.sign_in_body(client, json!({ "username": user, "password": password, "device": { "name": device, "type": "phone", "client": "testkit" } })).await
    }

    pub async fn sign_in_body(&self, client: &reqwest::Client, body: Value) -> reqwest::Response {
        client
            .post(self.url("/api/v1/sessions"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the bearer token, failing the test otherwise.
    pub async fn token(&self, user: &str, password: &str, device: &str) -> String {
        let r = self.sign_in(&self.client(), user, password, device).await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "sign-in as {user} failed: {}",
            r.text().await.unwrap_or_default()
        );
        let v: Value = r.json().await.unwrap();
        v["token"].as_str().unwrap().to_owned()
    }

    /// `GET path` with a bearer token; returns status and JSON body (Null if none).
    /// A GET with the bearer token, the response as it comes (for bodies that are not JSON).
    pub async fn fetch(&self, token: &str, path: &str) -> reqwest::Response {
        self.client()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r = self
            .client()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Any method with a bearer token and optional JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client()
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// Writes a valid, silent 16-bit stereo 44.1 kHz WAV of `seconds` (about 176 KB a second) with a
/// title in its RIFF INFO list, for tests that need a large file or many small ones.
pub fn write_wav(path: &std::path::Path, seconds: u32, title: &str) {
    let data_len = seconds * 44_100 * 4;
    let mut info = Vec::new();
    info.extend_from_slice(b"INFO");
    let mut name = title.as_bytes().to_vec();
    name.push(0);
    if name.len() % 2 == 1 {
        name.push(0);
    }
    info.extend_from_slice(b"INAM");
    info.extend_from_slice(&(name.len() as u32).to_le_bytes());
    info.extend_from_slice(&name);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let riff_len = 4 + (8 + 16) + (8 + info.len() as u32) + (8 + data_len);
    f.write_all(b"RIFF").unwrap();
    f.write_all(&riff_len.to_le_bytes()).unwrap();
    f.write_all(b"WAVEfmt ").unwrap();
    f.write_all(&16u32.to_le_bytes()).unwrap();
    f.write_all(&1u16.to_le_bytes()).unwrap();
    f.write_all(&2u16.to_le_bytes()).unwrap();
    f.write_all(&44_100u32.to_le_bytes()).unwrap();
    f.write_all(&(44_100u32 * 4).to_le_bytes()).unwrap();
    f.write_all(&4u16.to_le_bytes()).unwrap();
    f.write_all(&16u16.to_le_bytes()).unwrap();
    f.write_all(b"LIST").unwrap();
    f.write_all(&(info.len() as u32).to_le_bytes()).unwrap();
    f.write_all(&info).unwrap();
    f.write_all(b"data").unwrap();
    f.write_all(&data_len.to_le_bytes()).unwrap();
    // A ramp rather than silence, so byte-exact comparisons are meaningful.
    let chunk: Vec<u8> = (0..65_536u32).map(|i| (i * 31 % 251) as u8).collect();
    let mut left = data_len as usize;
    while left > 0 {
        let n = left.min(chunk.len());
        f.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    f.flush().unwrap();
}
