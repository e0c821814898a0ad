//! A real SMTP server for tests: `smtp_sink.py` (Python's aiosmtpd) on 127.0.0.1 and a free
//! port, reporting every message it receives, which the test then waits for by recipient.
//!
//! Needs `python3` with `aiosmtpd` (`python3 -m pip install aiosmtpd`).

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mail_parser::{MessageParser, PartType};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::Notify;

const SCRIPT: &str = include_str!("../smtp_sink.py");
/// How long `start` waits for the sink to listen, and `next_for` for a message.
const WAIT: Duration = Duration::from_secs(20);

/// A running SMTP sink; the Python process is killed when this is dropped.
pub struct SmtpSink {
    /// The port it listens on, at 127.0.0.1 (plain SMTP, any AUTH accepted).
    pub port: u16,
    shared: Arc<Shared>,
    _child: Child,
    /// Held open: the sink exits when it closes, so it never outlives the test process.
    _stdin: ChildStdin,
}

/// One message as the sink received it, decoded.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The message as sent (RFC 5322, CRLF line ends).
    pub raw: String,
    /// The Subject header, decoded.
    pub subject: String,
    /// The text/plain part, decoded ("" if there is none).
    pub text: String,
    /// The text/html part, decoded ("" if there is none).
    pub html: String,
    /// The name the sender signed in with, if it did.
    pub login: Option<String>,
    /// The password the sender signed in with, if it did.
    pub password: Option<String>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    arrived: Notify,
}

#[derive(Default)]
struct State {
    mails: Vec<Mail>,
    /// Parallel to `mails`: handed out by `next_for` already.
    taken: Vec<bool>,
    /// Why the sink stopped reporting, once it has.
    ended: Option<String>,
    /// What the sink wrote on standard error, for failure messages.
    stderr: String,
}

impl SmtpSink {
    /// Starts the sink and waits until it listens.
    pub async fn start() -> SmtpSink {
        let mut child = Command::new("python3")
            .arg("-u")
            .arg("-c")
            .arg(SCRIPT)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("SmtpSink: cannot run python3: {e}"));
        let stdin = child.stdin.take().expect("piped stdin");
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let mut stderr = child.stderr.take().expect("piped stderr");
        let first = tokio::time::timeout(WAIT, lines.next_line()).await;
        let port = match &first {
            Ok(Ok(Some(line))) => line
                .strip_prefix("PORT ")
                .and_then(|p| p.trim().parse::<u16>().ok()),
            _ => None,
        };
        let Some(port) = port else {
            let mut err = String::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(5), stderr.read_to_string(&mut err)).await;
            panic!(
                "SmtpSink: the SMTP sink did not start (it needs aiosmtpd: python3 -m pip install aiosmtpd); first line {first:?}; its standard error:\n{err}"
            );
        };
        let shared = Arc::new(Shared::default());
        let errors = shared.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut state = errors.state.lock().unwrap();
                state.stderr.push_str(&line);
                state.stderr.push('\n');
            }
        });
        let reports = shared.clone();
        tokio::spawn(async move {
            let ended = loop {
                match lines.next_line().await {
                    Ok(Some(line)) => {
                        let mail = Mail::from_report(&line);
                        let mut state = reports.state.lock().unwrap();
                        match mail {
                            Ok(mail) => {
                                state.mails.push(mail);
                                state.taken.push(false);
                            }
                            Err(why) => state
                                .stderr
                                .push_str(&format!("unreadable report ({why}): {line}\n")),
                        }
                        drop(state);
                        reports.arrived.notify_waiters();
                    }
                    Ok(None) => break "its output ended".to_owned(),
                    Err(e) => break format!("reading its output failed: {e}"),
                }
            };
            reports.state.lock().unwrap().ended = Some(ended);
            reports.arrived.notify_waiters();
        });
        SmtpSink {
            port,
            shared,
            _child: child,
            _stdin: stdin,
        }
    }

    /// The next message delivered to `to` (messages to others are kept for their own waiters),
    /// waiting up to 20 s; panics with a clear message on timeout.
    pub async fn next_for(&self, to: &str) -> Mail {
        self.next_for_within(to, WAIT).await
    }

    async fn next_for_within(&self, to: &str, wait: Duration) -> Mail {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so a message arriving in between is not missed.
            let arrived = self.shared.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            {
                let mut state = self.shared.state.lock().unwrap();
                let found =
                    (0..state.mails.len()).find(|&i| !state.taken[i] && state.mails[i].is_for(to));
                if let Some(i) = found {
                    state.taken[i] = true;
                    return state.mails[i].clone();
                }
                if let Some(why) = &state.ended {
                    panic!(
                        "SmtpSink: the sink stopped ({why}) before a message to {to} arrived; received: {}; its standard error:\n{}",
                        summary(&state.mails),
                        state.stderr
                    );
                }
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let state = self.shared.state.lock().unwrap();
                panic!(
                    "SmtpSink: no message to {to} arrived within {wait:?}; received: {}; its standard error:\n{}",
                    summary(&state.mails),
                    state.stderr
                );
            }
        }
    }

    /// Every message delivered so far (not consumed), for assertions that something did NOT
    /// arrive.
    pub fn received(&self) -> Vec<Mail> {
        self.shared.state.lock().unwrap().mails.clone()
    }
}

fn summary(mails: &[Mail]) -> String {
    if mails.is_empty() {
        return "nothing".to_owned();
    }
    mails
        .iter()
        .map(|m| format!("{:?} to {}", m.subject, m.to.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Mail {
    /// Every http(s) URL in the text part, in order (trailing punctuation left out).
    pub fn links(&self) -> Vec<String> {
        let mut links = Vec::new();
        let mut rest = self.text.as_str();
        while let Some(start) = ["https://", "http://"]
            .iter()
            .filter_map(|scheme| rest.find(scheme))
            .min()
        {
            let tail = &rest[start..];
            let end = tail
                .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
                .unwrap_or(tail.len());
            let link = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '\'']);
            links.push(link.to_owned());
            rest = &tail[end..];
        }
        links
    }

    fn is_for(&self, to: &str) -> bool {
        let to = to.trim();
        self.to.iter().any(|r| r.trim().eq_ignore_ascii_case(to))
    }

    /// Reads one JSON line of `smtp_sink.py` and decodes its message.
    fn from_report(line: &str) -> Result<Mail, String> {
        let v: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let string = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        let raw = string("data").ok_or("no data")?;
        let parsed = MessageParser::default()
            .parse(raw.as_bytes())
            .ok_or("the message does not parse")?;
        let text = parsed
            .text_part(0)
            .and_then(|p| match &p.body {
                PartType::Text(t) => Some(t.to_string()),
                _ => None,
            })
            .unwrap_or_default();
        let html = parsed
            .html_part(0)
            .and_then(|p| match &p.body {
                PartType::Html(h) => Some(h.to_string()),
                _ => None,
            })
            .unwrap_or_default();
        Ok(Mail {
            from: string("mail_from").unwrap_or_default(),
            to: v
                .get("rcpt_tos")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            subject: parsed.subject().unwrap_or_default().to_owned(),
            text,
            html,
            login: string("login"),
            password: string("password"),
            raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clef_mail::{Action, MailConfig, Mailer, Notice, RetryPolicy, SmtpConfig, SmtpTls};

    fn notice(to: &str, subject: &str, url: &str) -> Notice {
        Notice {
            to: to.into(),
            subject: subject.into(),
            greeting: "Hallo Änna,".into(),
            paragraphs: vec![
                // Non-ASCII and longer than a mail line, so lettre has to encode it.
                format!(
                    "Jemand möchte das Passwort von änna zurücksetzen — {}.",
                    "sehr lange Zeile ".repeat(8)
                ),
                "Tags like <b> & \"quotes\" stay text.".into(),
            ],
            action: Some(Action {
                label: "Neues Passwort wählen".into(),
                url: url.into(),
            }),
            not_you: Some("Warst du das nicht? Dann ignoriere diese Nachricht.".into()),
            footer: "Clef auf music.example.org".into(),
        }
    }

    #[tokio::test]
    async fn the_sink_receives_what_clef_mail_sends_and_decodes_it() {
        let sink = SmtpSink::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::start(MailConfig {
            smtp: Some(SmtpConfig {
                host: "127.0.0.1".into(),
                port: sink.port,
                tls: SmtpTls::None,
                username: Some("clef".into()),
                password: Some("relay-pass".into()),
            }),
            from: "Clef <clef@music.example.org>".into(),
            outbox_dir: dir.path().join("outbox"),
            retry: RetryPolicy {
                attempts: 2,
                first_delay: Duration::from_millis(50),
                max_delay: Duration::from_millis(50),
            },
        })
        .unwrap();
        let url = format!(
            "https://music.example.org/account/reset?token={}&lang=de",
            "0123456789abcdef".repeat(4)
        );
        mailer.send(notice(
            "anna@example.org",
            "Passwort zurücksetzen <&>",
            &url,
        ));
        mailer.send(notice("bob@example.org", "For Bob", "http://b.example/x"));
        // Asked for out of order: Anna's message waits for her.
        let bob = sink.next_for("bob@example.org").await;
        let anna = sink.next_for("ANNA@example.org").await;
        assert_eq!(bob.subject, "For Bob");
        assert_eq!(bob.links(), ["http://b.example/x"]);

        assert_eq!(anna.from, "clef@music.example.org");
        assert_eq!(anna.to, ["anna@example.org"]);
        assert_eq!(anna.subject, "Passwort zurücksetzen <&>");
        assert!(
            anna.raw.contains("From: Clef <clef@music.example.org>"),
            "{}",
            anna.raw
        );
        assert!(anna.raw.contains("Message-ID: <"), "{}", anna.raw);
        assert!(anna.text.starts_with("Hallo Änna,"), "{}", anna.text);
        assert!(anna.text.contains("Jemand möchte"), "{}", anna.text);
        assert!(
            anna.text.contains("Tags like <b> & \"quotes\""),
            "{}",
            anna.text
        );
        assert_eq!(anna.links(), vec![url.clone()]);
        assert!(anna.html.contains("Hallo Änna,"), "{}", anna.html);
        assert!(
            anna.html
                .contains("Tags like &lt;b&gt; &amp; &quot;quotes&quot;"),
            "{}",
            anna.html
        );
        assert!(
            anna.html
                .contains(&format!("href=\"{}\"", url.replace('&', "&amp;"))),
            "{}",
            anna.html
        );
        assert_eq!(anna.login.as_deref(), Some("clef"));
        assert_eq!(anna.password.as_deref(), Some("relay-pass"));

        assert!(mailer.flush(Duration::from_secs(5)).await);
        assert_eq!(sink.received().len(), 2, "received() does not consume");
        assert!(
            !dir.path().join("outbox").exists(),
            "nothing went to the outbox"
        );
    }

    #[tokio::test]
    #[should_panic(expected = "no message to carol@example.org arrived")]
    async fn waiting_for_a_message_that_never_comes_fails_clearly() {
        let sink = SmtpSink::start().await;
        sink.next_for_within("carol@example.org", Duration::from_millis(200))
            .await;
    }

    #[test]
    fn links_are_found_in_the_text_without_trailing_punctuation() {
        let mail = Mail {
            from: String::new(),
            to: Vec::new(),
            raw: String::new(),
            subject: String::new(),
            text: "Open https://a.example/x?y=1&z=2.\nOr (http://b.example/).\nNot ftp://c.example"
                .into(),
            html: String::new(),
            login: None,
            password: None,
        };
        assert_eq!(
            mail.links(),
            ["https://a.example/x?y=1&z=2", "http://b.example/"]
        );
    }
}
