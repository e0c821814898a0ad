//! The background sender: a queue, one task per message (attempts bounded by a semaphore, so a
//! message waiting out its backoff holds no one back), retries of transient failures, and the
//! two destinations, an SMTP relay or the outbox folder.

use std::collections::BTreeSet;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::{mpsc, watch, Semaphore};

use crate::{MailConfig, MailError, Notice, RetryPolicy, SmtpConfig, SmtpTls};

/// Messages waiting for a task of their own; past this, `send` drops and warns.
const QUEUE: usize = 256;
/// Messages being handled at once (in an attempt or waiting out a backoff).
const IN_FLIGHT: usize = 256;
/// Attempts under way at once (connections to the relay, or files being written).
const PARALLEL_ATTEMPTS: usize = 4;
/// How long a connection to the relay, or one of its answers, may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends in the background; cloneable handle.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("to", &self.inner.description)
            .finish_non_exhaustive()
    }
}

struct Inner {
    tx: mpsc::Sender<Job>,
    from: Mailbox,
    description: String,
    /// Writing to the outbox: the text part is kept as it is (`binary`: a link is longer than a
    /// quoted-printable line, which would fold it and write `=` as `=3D`), so that a person
    /// reading the file sees the links whole; over SMTP it is quoted-printable, which any relay
    /// takes.
    readable: bool,
    tracker: Arc<Tracker>,
}

/// The messages queued and not yet delivered or given up on, by sequence number, so that
/// `flush` can wait for those queued before it was called.
struct Tracker {
    outstanding: watch::Sender<BTreeSet<u64>>,
    next: AtomicU64,
}

/// Marks its message finished when dropped, however its life ends.
struct Pending {
    seq: u64,
    tracker: Arc<Tracker>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        let seq = self.seq;
        self.tracker.outstanding.send_modify(|s| {
            s.remove(&seq);
        });
    }
}

/// One message, ready for the wire.
struct Job {
    envelope: Envelope,
    bytes: Vec<u8>,
    subject: String,
    to_domain: String,
    /// Only to scrub it from error texts before they are logged.
    to_address: String,
    _pending: Pending,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

enum Failure {
    /// Worth another attempt: no connection, a 4xx answer, a time-out, a full disk.
    Transient(String),
    /// The relay said no for good (5xx), or the settings cannot work (no STARTTLS, no usable
    /// sign-in method).
    Permanent(String),
}

impl Mailer {
    /// Validates the config (from address parses, outbox dir can be created with mode 0700) and
    /// spawns the sending task on the current tokio runtime. The outbox folder is prepared only
    /// when no relay is configured, as only then is it used.
    pub fn start(cfg: MailConfig) -> Result<Mailer, MailError> {
        cfg.check()?;
        let from = parse_from(&cfg.from)?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| MailError::NoRuntime)?;
        let (transport, description) = match &cfg.smtp {
            Some(smtp) => (Transport::Smtp(smtp_transport(smtp)?), describe_smtp(smtp)),
            None => {
                prepare_outbox(&cfg.outbox_dir).map_err(|source| MailError::Outbox {
                    path: cfg.outbox_dir.clone(),
                    source,
                })?;
                let description = format!("outbox {}", cfg.outbox_dir.display());
                (Transport::Outbox(cfg.outbox_dir.clone()), description)
            }
        };
        let readable = matches!(transport, Transport::Outbox(_));
        let (tx, rx) = mpsc::channel(QUEUE);
        runtime.spawn(dispatch(rx, Arc::new(transport), cfg.retry));
        let (outstanding, _) = watch::channel(BTreeSet::new());
        Ok(Mailer {
            inner: Arc::new(Inner {
                tx,
                from,
                description,
                readable,
                tracker: Arc::new(Tracker {
                    outstanding,
                    next: AtomicU64::new(0),
                }),
            }),
        })
    }

    /// Queues a message and returns at once: never blocks, never fails the caller (a full queue
    /// or a bad recipient address is logged at warn).
    pub fn send(&self, notice: Notice) {
        let subject = one_line(&notice.subject);
        let to: Mailbox = match notice.to.trim().parse() {
            Ok(to) => to,
            Err(_) => {
                tracing::warn!(subject = %subject, "mail not sent: the recipient address is not valid");
                return;
            }
        };
        let to_domain = to.email.domain().to_owned();
        let to_address = to.email.to_string();
        let built = Message::builder()
            .from(self.inner.from.clone())
            .to(to)
            .subject(subject.clone())
            .date_now()
            .message_id(None)
            .multipart(self.parts(&notice));
        let message = match built {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(subject = %subject, to_domain = %to_domain, error = %e, "mail not sent: the message could not be built");
                return;
            }
        };
        let tracker = &self.inner.tracker;
        let mut seq = 0;
        tracker.outstanding.send_modify(|s| {
            seq = tracker.next.fetch_add(1, Ordering::SeqCst);
            s.insert(seq);
        });
        let job = Job {
            envelope: message.envelope().clone(),
            bytes: message.formatted(),
            subject,
            to_domain,
            to_address,
            _pending: Pending {
                seq,
                tracker: tracker.clone(),
            },
        };
        if let Err(e) = self.inner.tx.try_send(job) {
            let (job, why) = match e {
                mpsc::error::TrySendError::Full(job) => (job, "the mail queue is full"),
                mpsc::error::TrySendError::Closed(job) => (job, "the mailer has stopped"),
            };
            tracing::warn!(subject = %job.subject, to_domain = %job.to_domain, "mail not sent: {why}");
        }
    }

    /// The text and the HTML of `notice`, as alternatives.
    fn parts(&self, notice: &Notice) -> MultiPart {
        let (text, html) = (notice.text(), notice.html());
        if !self.inner.readable {
            return MultiPart::alternative_plain_html(text, html);
        }
        let plain = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .header(ContentTransferEncoding::Binary)
            .body(text);
        MultiPart::alternative()
            .singlepart(plain)
            .singlepart(SinglePart::html(html))
    }

    /// Where mail goes, for the start-up log: "smtp host:port (starttls)" or "outbox <dir>".
    pub fn describe(&self) -> String {
        self.inner.description.clone()
    }

    /// Waits (up to `timeout`) until everything queued so far has been delivered or given up on
    /// — for graceful shutdown and for tests. True when it has.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let tracker = &self.inner.tracker;
        let target = tracker.next.load(Ordering::SeqCst);
        let mut rx = tracker.outstanding.subscribe();
        // The `Ref` wait_for returns holds the lock: it is dropped inside the block.
        let done = async {
            rx.wait_for(|s| s.first().is_none_or(|&oldest| oldest >= target))
                .await
                .is_ok()
        };
        tokio::time::timeout(timeout, done).await.unwrap_or(false)
    }
}

/// Parses the sender: `Name <address>` or a bare address.
pub(crate) fn parse_from(from: &str) -> Result<Mailbox, MailError> {
    from.trim()
        .parse::<Mailbox>()
        .map_err(|e| MailError::InvalidFrom {
            from: from.to_owned(),
            reason: e.to_string(),
        })
}

fn describe_smtp(smtp: &SmtpConfig) -> String {
    let host = smtp.host.trim();
    if host.contains(':') {
        format!("smtp [{host}]:{} ({})", smtp.port, smtp.tls)
    } else {
        format!("smtp {host}:{} ({})", smtp.port, smtp.tls)
    }
}

fn smtp_transport(smtp: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    type Smtp = AsyncSmtpTransport<Tokio1Executor>;
    let host = smtp.host.trim();
    let builder = match smtp.tls {
        SmtpTls::StartTls => Smtp::starttls_relay(host),
        SmtpTls::Tls => Smtp::relay(host),
        SmtpTls::None => Ok(Smtp::builder_dangerous(host)),
    }
    .map_err(|source| MailError::Smtp {
        host: host.to_owned(),
        source,
    })?;
    let mut builder = builder.port(smtp.port).timeout(Some(SMTP_TIMEOUT));
    if let Some(user) = &smtp.username {
        let password = smtp.password.clone().unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// Creates the outbox (its parents as usual, itself with mode 0700) and makes sure it is 0700.
fn prepare_outbox(dir: &Path) -> io::Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match builder.create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
        Err(e) => return Err(e),
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Subjects are one line: a line break could otherwise start a header of its own.
fn one_line(s: &str) -> String {
    s.split(['\r', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Hands each queued message to a task of its own, at most `IN_FLIGHT` at once.
async fn dispatch(mut rx: mpsc::Receiver<Job>, transport: Arc<Transport>, retry: RetryPolicy) {
    let attempts = Arc::new(Semaphore::new(PARALLEL_ATTEMPTS));
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(job) = rx.recv().await {
        let Ok(slot) = in_flight.clone().acquire_owned().await else {
            break;
        };
        let transport = transport.clone();
        let attempts = attempts.clone();
        tokio::spawn(async move {
            deliver(&transport, retry, &attempts, job).await;
            drop(slot);
        });
    }
}

/// Tries one message until it is delivered, refused for good, or out of attempts.
async fn deliver(transport: &Transport, retry: RetryPolicy, attempts: &Semaphore, job: Job) {
    let total = retry.attempts.max(1);
    for attempt in 1..=total {
        let result = {
            let _permit = attempts.acquire().await;
            transport.attempt(&job).await
        };
        match result {
            Ok(()) => return,
            Err(Failure::Permanent(error)) => {
                tracing::warn!(subject = %job.subject, to_domain = %job.to_domain, error = %scrub(&error, &job), "mail refused; not sending it again");
                return;
            }
            Err(Failure::Transient(error)) if attempt < total => {
                let wait = retry.delay_after(attempt);
                tracing::info!(subject = %job.subject, to_domain = %job.to_domain, attempt, retry_in = ?wait, error = %scrub(&error, &job), "mail not sent yet; will try again");
                tokio::time::sleep(wait).await;
            }
            Err(Failure::Transient(error)) => {
                tracing::warn!(subject = %job.subject, to_domain = %job.to_domain, attempts = total, error = %scrub(&error, &job), "mail not sent; gave up");
            }
        }
    }
}

/// Error texts may quote the recipient (a relay's "550 anna@example.org: no such user"); logs
/// name only the domain.
fn scrub(error: &str, job: &Job) -> String {
    if job.to_address.is_empty() {
        return error.to_owned();
    }
    error.replace(&job.to_address, &format!("<recipient>@{}", job.to_domain))
}

impl Transport {
    async fn attempt(&self, job: &Job) -> Result<(), Failure> {
        match self {
            Transport::Smtp(smtp) => match smtp.send_raw(&job.envelope, &job.bytes).await {
                Ok(_) => {
                    tracing::info!(subject = %job.subject, to_domain = %job.to_domain, "mail sent");
                    Ok(())
                }
                Err(e) if e.is_permanent() || e.is_client() => {
                    Err(Failure::Permanent(e.to_string()))
                }
                Err(e) => Err(Failure::Transient(error_chain(&e))),
            },
            Transport::Outbox(dir) => {
                let dir = dir.clone();
                let bytes = job.bytes.clone();
                let written = tokio::task::spawn_blocking(move || write_eml(&dir, &bytes))
                    .await
                    .map_err(|e| Failure::Transient(e.to_string()))?;
                match written {
                    Ok(path) => {
                        tracing::info!(path = %path.display(), subject = %job.subject, to_domain = %job.to_domain, "mail written to the outbox");
                        Ok(())
                    }
                    Err(e) => Err(Failure::Transient(format!("writing to the outbox: {e}"))),
                }
            }
        }
    }
}

/// An error with its causes ("network error: Connection refused"), which lettre's own text omits.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Writes one message as `<dir>/<yyyymmddThhmmssZ>-<8 hex>.eml`, mode 0600, under a hidden
/// temporary name first so that nothing reading the folder sees half a message.
fn write_eml(dir: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let now = time::OffsetDateTime::now_utc();
    let mut random = [0u8; 4];
    getrandom::fill(&mut random).map_err(|e| io::Error::other(e.to_string()))?;
    let name = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z-{}.eml",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let temporary = dir.join(format!(".{name}.tmp"));
    let path = dir.join(&name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    let renamed = written.and_then(|()| std::fs::rename(&temporary, &path));
    if let Err(e) = renamed {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Action;
    use std::time::Instant;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// As long as a real link's token (256 bits in base64url).
    const TOKEN: &str = "ZBTO9cbAHpKwhFgA_jnYG_ApaDrvef8rypAZ7wtnsMA";

    fn notice(to: &str) -> Notice {
        Notice {
            to: to.into(),
            subject: "Reset your Clef password".into(),
            greeting: "Hello anna,".into(),
            paragraphs: vec!["Someone asked to reset the password of anna.".into()],
            action: Some(Action {
                label: "Choose a new password".into(),
                url: format!("https://music.example.org/password-reset?token={TOKEN}"),
            }),
            not_you: Some("If it was not you, ignore this message.".into()),
            footer: "Clef at music.example.org".into(),
        }
    }

    fn tiny_retry(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts,
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
        }
    }

    fn config(smtp: Option<SmtpConfig>, outbox: PathBuf, attempts: u32) -> MailConfig {
        MailConfig {
            smtp,
            from: "Clef <clef@music.example.org>".into(),
            outbox_dir: outbox,
            retry: tiny_retry(attempts),
        }
    }

    fn plain_smtp(port: u16) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            username: None,
            password: None,
        }
    }

    /// Captures this thread's logs (a `#[tokio::test]` runs every task on its one thread).
    #[derive(Clone, Default)]
    struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

    impl Logs {
        fn start() -> (Logs, tracing::subscriber::DefaultGuard) {
            let logs = Logs::default();
            let subscriber = tracing_subscriber::fmt()
                .with_writer(logs.clone())
                .with_ansi(false)
                .with_max_level(tracing::Level::INFO)
                .finish();
            (logs.clone(), tracing::subscriber::set_default(subscriber))
        }

        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    impl std::io::Write for Logs {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
        type Writer = Logs;
        fn make_writer(&'a self) -> Logs {
            self.clone()
        }
    }

    fn eml_files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
    }

    #[tokio::test]
    async fn the_outbox_gets_a_private_eml_with_both_parts_and_the_headers() {
        let (logs, _guard) = Logs::start();
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("data").join("outbox");
        let mailer = Mailer::start(config(None, outbox.clone(), 3)).unwrap();
        assert_eq!(mailer.describe(), format!("outbox {}", outbox.display()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&outbox).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        mailer.send(notice("anna@example.org"));
        assert!(mailer.flush(Duration::from_secs(10)).await, "flushed");
        let files = eml_files(&outbox);
        assert_eq!(files.len(), 1, "{files:?}");
        let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
        // yyyymmddThhmmssZ-xxxxxxxx.eml
        assert_eq!(name.len(), 16 + 1 + 8 + 4, "{name}");
        assert_eq!(&name[8..9], "T");
        assert_eq!(&name[15..17], "Z-");
        assert!(name[..8].bytes().all(|b| b.is_ascii_digit()), "{name}");
        assert!(
            name[17..25].bytes().all(|b| b.is_ascii_hexdigit()),
            "{name}"
        );
        assert!(name.ends_with(".eml"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let raw = std::fs::read_to_string(&files[0]).unwrap();
        let headers = raw.split("\r\n\r\n").next().unwrap();
        for header in [
            "From: Clef <clef@music.example.org>\r\n",
            "To: anna@example.org\r\n",
            "Subject: Reset your Clef password\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: multipart/alternative;",
        ] {
            assert!(headers.contains(header), "{header}: {headers}");
        }
        assert!(headers.contains("\r\nDate: "), "{headers}");
        assert!(headers.contains("\r\nMessage-ID: <"), "{headers}");
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8"),
            "{raw}"
        );
        assert!(
            raw.contains("Content-Type: text/html; charset=utf-8"),
            "{raw}"
        );
        // In the outbox the text part is kept as it is (binary), so a person reading the file
        // finds the link whole, real token length and all; the HTML part is quoted-printable
        // (`=` as `=3D`, long lines folded).
        let url = format!("https://music.example.org/password-reset?token={TOKEN}");
        assert!(url.len() > 76, "longer than a quoted-printable line");
        assert!(raw.contains("Content-Transfer-Encoding: binary"), "{raw}");
        assert!(
            raw.contains(&format!("Choose a new password:\r\n{url}\r\n")),
            "{raw}"
        );
        assert!(
            raw.contains("Content-Transfer-Encoding: quoted-printable"),
            "{raw}"
        );
        assert!(raw.contains("token=3D"), "{raw}");
        let logs = logs.text();
        assert!(logs.contains("mail written to the outbox"), "{logs}");
        assert!(
            logs.contains(&format!("path={}", files[0].display())),
            "{logs}"
        );
        assert!(logs.contains("to_domain=example.org"), "{logs}");
        assert!(
            !logs.contains("anna@") && !logs.contains("token="),
            "{logs}"
        );
    }

    #[tokio::test]
    async fn several_messages_each_get_a_file_and_bad_recipients_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::start(config(None, dir.path().join("outbox"), 3)).unwrap();
        mailer.send(notice("not an address"));
        for _ in 0..5 {
            mailer.send(notice("anna@example.org"));
        }
        assert!(mailer.flush(Duration::from_secs(10)).await);
        assert_eq!(eml_files(&dir.path().join("outbox")).len(), 5);
        // Nothing left behind under a temporary name.
        assert!(eml_files(&dir.path().join("outbox"))
            .iter()
            .all(|p| p.extension().unwrap() == "eml"));
    }

    #[tokio::test]
    async fn a_bad_sender_or_host_is_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(None, dir.path().join("outbox"), 1);
        cfg.from = "Clef <nope>".into();
        let e = Mailer::start(cfg).unwrap_err();
        assert!(e.to_string().contains("Clef <nope>"), "{e}");
        let blocked = dir.path().join("file");
        std::fs::write(&blocked, "").unwrap();
        let e = Mailer::start(config(None, blocked.join("outbox"), 1)).unwrap_err();
        assert!(matches!(e, MailError::Outbox { .. }), "{e:?}");
        let cfg = config(Some(plain_smtp(0)), dir.path().join("o"), 1);
        assert!(matches!(Mailer::start(cfg), Err(MailError::InvalidPort)));
    }

    #[tokio::test]
    async fn the_tls_modes_build_their_transports() {
        // Building the TLS settings picks the rustls crypto provider and loads the roots: it must
        // work here, where other crates compile rustls with its providers too.
        let dir = tempfile::tempdir().unwrap();
        for (tls, expected) in [
            (SmtpTls::StartTls, "smtp smtp.example.org:587 (starttls)"),
            (SmtpTls::Tls, "smtp smtp.example.org:465 (tls)"),
        ] {
            let smtp = SmtpConfig {
                host: "smtp.example.org".into(),
                port: tls.default_port(),
                tls,
                username: Some("clef".into()),
                password: Some("pw".into()),
            };
            let mailer = Mailer::start(config(Some(smtp), dir.path().join("o"), 1)).unwrap();
            assert_eq!(mailer.describe(), expected);
        }
        let v6 = SmtpConfig {
            host: "::1".into(),
            ..plain_smtp(2525)
        };
        let mailer = Mailer::start(config(Some(v6), dir.path().join("o"), 1)).unwrap();
        assert_eq!(mailer.describe(), "smtp [::1]:2525 (none)");
    }

    #[test]
    fn start_outside_a_runtime_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let e = Mailer::start(config(None, dir.path().join("outbox"), 1)).unwrap_err();
        assert!(matches!(e, MailError::NoRuntime), "{e:?}");
    }

    #[tokio::test]
    async fn smtp_to_a_closed_port_is_retried_then_given_up_without_blocking_send() {
        // A port nothing listens on.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let (logs, _guard) = Logs::start();
        let dir = tempfile::tempdir().unwrap();
        let mailer =
            Mailer::start(config(Some(plain_smtp(port)), dir.path().join("o"), 3)).unwrap();
        assert_eq!(mailer.describe(), format!("smtp 127.0.0.1:{port} (none)"));
        assert!(!dir.path().join("o").exists(), "no outbox with a relay");
        let started = Instant::now();
        for _ in 0..3 {
            mailer.send(notice("anna@example.org"));
        }
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "send never waits"
        );
        assert!(
            mailer.flush(Duration::from_secs(20)).await,
            "given up in time"
        );
        let logs = logs.text();
        // Each of the three messages: attempts 1 and 2 fail and are retried, the third gives up.
        assert_eq!(logs.matches("will try again").count(), 6, "{logs}");
        assert_eq!(logs.matches("attempt=1 ").count(), 3, "{logs}");
        assert_eq!(logs.matches("attempt=2 ").count(), 3, "{logs}");
        assert_eq!(logs.matches("mail not sent; gave up").count(), 3, "{logs}");
        assert!(logs.contains("attempts=3"), "{logs}");
        assert!(logs.contains("Connection refused"), "{logs}");
        assert!(!logs.contains("anna@"), "{logs}");
    }

    /// A relay that answers every connection with `greeting` and hangs up, counting connections.
    async fn scripted_relay(greeting: &'static str) -> (u16, Arc<AtomicU64>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(AtomicU64::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                let _ = socket.write_all(greeting.as_bytes()).await;
                let mut buf = [0u8; 512];
                let _ =
                    tokio::time::timeout(Duration::from_millis(50), socket.read(&mut buf)).await;
            }
        });
        (port, count)
    }

    #[tokio::test]
    async fn a_transient_refusal_is_retried_attempts_times() {
        let (port, connections) = scripted_relay("421 busy, try later\r\n").await;
        let dir = tempfile::tempdir().unwrap();
        let mailer =
            Mailer::start(config(Some(plain_smtp(port)), dir.path().join("o"), 4)).unwrap();
        mailer.send(notice("anna@example.org"));
        assert!(mailer.flush(Duration::from_secs(20)).await);
        assert_eq!(connections.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_permanent_refusal_is_not_retried() {
        let (port, connections) = scripted_relay("554 no mail from you\r\n").await;
        let dir = tempfile::tempdir().unwrap();
        let mailer =
            Mailer::start(config(Some(plain_smtp(port)), dir.path().join("o"), 4)).unwrap();
        mailer.send(notice("anna@example.org"));
        assert!(mailer.flush(Duration::from_secs(20)).await);
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn flush_waits_for_what_was_queued_and_times_out_honestly() {
        let (port, _) = scripted_relay("421 busy\r\n").await;
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(Some(plain_smtp(port)), dir.path().join("o"), 3);
        cfg.retry.first_delay = Duration::from_secs(30);
        cfg.retry.max_delay = Duration::from_secs(30);
        let mailer = Mailer::start(cfg).unwrap();
        assert!(
            mailer.flush(Duration::from_millis(10)).await,
            "nothing queued"
        );
        mailer.send(notice("anna@example.org"));
        assert!(
            !mailer.flush(Duration::from_millis(200)).await,
            "still retrying"
        );
    }

    #[test]
    fn subjects_stay_on_one_line_and_recipients_are_scrubbed_from_errors() {
        assert_eq!(
            one_line("Hello\r\nBcc: x@y\n there"),
            "Hello Bcc: x@y there"
        );
        let job = Job {
            envelope: Envelope::new(None, vec!["anna@example.org".parse().unwrap()]).unwrap(),
            bytes: Vec::new(),
            subject: String::new(),
            to_domain: "example.org".into(),
            to_address: "anna@example.org".into(),
            _pending: Pending {
                seq: 0,
                tracker: Arc::new(Tracker {
                    outstanding: watch::channel(BTreeSet::new()).0,
                    next: AtomicU64::new(0),
                }),
            },
        };
        assert_eq!(
            scrub("550 anna@example.org: no such user", &job),
            "550 <recipient>@example.org: no such user"
        );
    }
}
