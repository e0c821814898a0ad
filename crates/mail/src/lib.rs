//! Clef's e-mail: a [`Notice`] in the user's words, rendered as plain text and HTML, sent in the
//! background by a [`Mailer`] over SMTP (lettre, rustls) with retries, or written as an `.eml` file
//! into an outbox folder when no relay is configured.
//!
//! Sending never blocks or fails the caller: [`Mailer::send`] queues and returns, and what goes
//! wrong later is logged. Logs name a message's subject and its recipient's domain, never the full
//! address, and never a password.

#![warn(missing_docs)]

mod mailer;
mod notice;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

pub use mailer::Mailer;
pub use notice::{Action, Notice};

/// How the connection to the SMTP relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required (port 587 by default).
    #[default]
    StartTls,
    /// TLS from the first byte, "implicit TLS" or SMTPS (port 465 by default).
    Tls,
    /// No encryption at all: only for a relay on the same machine or a test sink (port 25 by
    /// default).
    None,
}

impl SmtpTls {
    /// The usual port for this kind of connection: 587, 465 or 25.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }

    /// The name used in configuration: `starttls`, `tls` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::StartTls => "starttls",
            SmtpTls::Tls => "tls",
            SmtpTls::None => "none",
        }
    }
}

impl fmt::Display for SmtpTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SmtpTls {
    type Err = MailError;

    /// Reads `starttls`, `tls` or `none` (any case, surrounding spaces ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            "none" => Ok(SmtpTls::None),
            _ => Err(MailError::InvalidTls(s.to_owned())),
        }
    }
}

/// Where and how to reach the SMTP relay.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// The relay's host name (checked against its certificate when TLS is used).
    pub host: String,
    /// The relay's port.
    pub port: u16,
    /// How the connection is secured.
    pub tls: SmtpTls,
    /// Signs in with this name (and `password`) when set.
    pub username: Option<String>,
    /// The password for `username`; never shown by `Debug`.
    pub password: Option<String>,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// How long to keep trying a message the relay could not take yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least one is always made).
    pub attempts: u32,
    /// The wait after the first failed attempt; each later wait doubles.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Six attempts, 2 s after the first failure, doubling up to 5 minutes (about a minute in all).
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `failed` (1-based): `first_delay` doubled
    /// `failed - 1` times, at most `max_delay`.
    pub fn delay_after(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(31);
        self.first_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }
}

/// Checks a sender address: `Name <address>` or a bare address.
pub fn check_from(from: &str) -> Result<(), MailError> {
    mailer::parse_from(from).map(|_| ())
}

/// Everything a [`Mailer`] needs.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The relay; with none, messages are written into `outbox_dir`.
    pub smtp: Option<SmtpConfig>,
    /// The sender: `Clef <clef@example.org>` or a bare address.
    pub from: String,
    /// Where messages go when no relay is configured (created with mode 0700).
    pub outbox_dir: PathBuf,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
}

impl MailConfig {
    /// Checks what can be checked without touching the disk or the network: the sender address
    /// parses and the relay's host is not empty.
    pub fn check(&self) -> Result<(), MailError> {
        mailer::parse_from(&self.from)?;
        if let Some(smtp) = &self.smtp {
            if smtp.host.trim().is_empty() {
                return Err(MailError::InvalidHost);
            }
            if smtp.port == 0 {
                return Err(MailError::InvalidPort);
            }
        }
        Ok(())
    }
}

/// What can go wrong when setting up mail. Failures while sending are logged, not returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// The TLS mode is not one of the three known.
    #[error("unknown SMTP TLS mode {0:?}: use starttls, tls or none")]
    InvalidTls(String),
    /// The sender address does not parse.
    #[error("the sender address {from:?} is not valid ({reason}); use \"Clef <clef@example.org>\" or a bare address")]
    InvalidFrom {
        /// What was given.
        from: String,
        /// Why it was refused.
        reason: String,
    },
    /// The relay's host name is empty.
    #[error("the SMTP host is empty")]
    InvalidHost,
    /// The relay's port is 0.
    #[error("the SMTP port must be between 1 and 65535")]
    InvalidPort,
    /// The outbox folder could not be created or given mode 0700.
    #[error("preparing the mail outbox {path}: {source}")]
    Outbox {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// lettre refused the relay's settings (for example a host name TLS cannot check).
    #[error("setting up SMTP to {host}: {source}")]
    Smtp {
        /// The relay's host.
        host: String,
        /// lettre's reason.
        source: lettre::transport::smtp::Error,
    },
    /// [`Mailer::start`] was called outside a tokio runtime.
    #[error("the mailer must be started inside a tokio runtime")]
    NoRuntime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_modes_parse_and_unknown_ones_are_refused_clearly() {
        assert_eq!("starttls".parse::<SmtpTls>().unwrap(), SmtpTls::StartTls);
        assert_eq!(" TLS ".parse::<SmtpTls>().unwrap(), SmtpTls::Tls);
        assert_eq!("none".parse::<SmtpTls>().unwrap(), SmtpTls::None);
        for bad in ["ssl", "", "start-tls", "yes"] {
            let e = bad.parse::<SmtpTls>().unwrap_err();
            assert!(
                matches!(e, MailError::InvalidTls(ref s) if s == bad),
                "{e:?}"
            );
            let text = e.to_string();
            assert!(text.contains("starttls, tls or none"), "{text}");
        }
        for t in [SmtpTls::StartTls, SmtpTls::Tls, SmtpTls::None] {
            assert_eq!(t.to_string().parse::<SmtpTls>().unwrap(), t);
        }
        assert_eq!(SmtpTls::StartTls.default_port(), 587);
        assert_eq!(SmtpTls::Tls.default_port(), 465);
        assert_eq!(SmtpTls::None.default_port(), 25);
    }

    #[test]
    fn the_password_never_debug_prints() {
        let c = SmtpConfig {
            host: "smtp.example.org".into(),
            port: 587,
            tls: SmtpTls::StartTls,
            username: Some("clef".into()),
            password: Some("hunter2-secret".into()),
        };
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2"), "{s}");
        assert!(
            s.contains("smtp.example.org") && s.contains("<redacted>"),
            "{s}"
        );
    }

    #[test]
    fn the_backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.attempts, 6);
        let waits: Vec<u64> = (1..=10).map(|n| p.delay_after(n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(p.delay_after(u32::MAX), Duration::from_secs(300));
    }

    #[test]
    fn the_config_check_names_what_is_wrong() {
        let mut c = MailConfig {
            smtp: None,
            from: "Clef <clef@example.org>".into(),
            outbox_dir: PathBuf::from("outbox"),
            retry: RetryPolicy::default(),
        };
        c.check().unwrap();
        c.from = "clef@example.org".into();
        c.check().unwrap();
        c.from = "Clef <not an address>".into();
        assert!(matches!(c.check(), Err(MailError::InvalidFrom { .. })));
        c.from = "clef@example.org".into();
        c.smtp = Some(SmtpConfig {
            host: " ".into(),
            port: 25,
            tls: SmtpTls::None,
            username: None,
            password: None,
        });
        assert!(matches!(c.check(), Err(MailError::InvalidHost)));
    }
}
