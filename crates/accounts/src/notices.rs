//! E-mails about the account, in the user's words: the security notices, which are always sent,
//! the new-device notice, which the user may turn off, and the mailed links.
//!
//! A notice follows the security-log entry it tells of: `Accounts::record` hands each entry here,
//! and the message is composed and queued in the background, so mail never delays or changes an
//! answer.

use clef_core::{SecretToken, Timestamp};
use clef_mail::{Action, Notice};
use clef_store::{SecurityEvent, User};

use crate::events::EventKind;
use crate::service::Accounts;

/// What a notice says: its subject, its paragraphs, what to do, and what to do if it was not them.
pub(crate) struct Message {
    pub subject: String,
    pub paragraphs: Vec<String>,
    pub action: Option<Action>,
    pub not_you: Option<String>,
}

impl Accounts {
    /// An address on this server, built from the configured public URL (never from a request's
    /// `Host`), with a token in its query string (which the access log never records).
    pub(crate) fn link(&self, path: &str, token: &SecretToken) -> String {
        format!(
            "{}{path}?token={}",
            self.cfg.public_url.trim_end_matches('/'),
            token.expose()
        )
    }

    pub(crate) fn page(&self, path: &str) -> String {
        format!("{}{path}", self.cfg.public_url.trim_end_matches('/'))
    }

    /// Queues `message` to `to` for `user`.
    pub(crate) fn mail(&self, user: &User, to: &str, message: Message) {
        let Some(mailer) = &self.mailer else {
            tracing::debug!(subject = %message.subject, "no mailer: notice not sent");
            return;
        };
        mailer.send(Notice {
            to: to.to_owned(),
            subject: message.subject,
            greeting: format!("Hello {},", user.username),
            paragraphs: message.paragraphs,
            action: message.action,
            not_you: message.not_you,
            footer: format!(
                "This message was sent by the Clef server at {} to the address of the account {}.",
                self.cfg.public_url, user.username
            ),
        });
    }

    /// Sends the notice for a security-log entry, if its kind has one and the user has an
    /// address (and, for a new device, wants it). Runs in the background.
    pub(crate) fn notify(&self, event: &SecurityEvent) {
        let Some(kind) = EventKind::parse(&event.kind) else {
            return;
        };
        if !kind.has_notice() {
            return;
        }
        let this = self.clone();
        let event = event.clone();
        tokio::spawn(async move {
            let user = match this.store.user_by_id(&event.user_id).await {
                Ok(Some(u)) => u,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "notice not sent: could not read the user");
                    return;
                }
            };
            let Some(to) = user.email.clone() else {
                return;
            };
            if kind == EventKind::NewDevice && !user.notify_new_device {
                return;
            }
            if let Some(message) = this.compose(kind, &event) {
                this.mail(&user, &to, message);
            }
        });
    }

    fn compose(&self, kind: EventKind, e: &SecurityEvent) -> Option<Message> {
        let when = e.at.for_people();
        let device = e.device_name.as_deref().unwrap_or("a device");
        let ip = e.ip.as_deref().unwrap_or("an unknown address");
        let detail = e.detail.as_deref().unwrap_or("");
        let secure = format!(
            "If this was not you, reset your password at {}: that signs out every device and app. \
             Then look at your security log.",
            self.page("/password-reset")
        );
        let review = |label: &str, path: &str| {
            Some(Action {
                label: label.to_owned(),
                url: self.page(path),
            })
        };
        let m = match kind {
            EventKind::NewDevice => Message {
                subject: "New sign-in to your Clef account".into(),
                paragraphs: vec![
                    format!("A new device signed in to your Clef account: {device}, {ip}, {when}."),
                    format!("Client and type: {detail}."),
                    "You can turn these notices off on your Account page.".into(),
                ],
                action: review("See your devices", "/devices"),
                not_you: Some(format!(
                    "If this was not you, sign that device out on the Devices page, then change \
                     your password. {secure}"
                )),
            },
            EventKind::PasswordChanged => Message {
                subject: "Your Clef password was changed".into(),
                paragraphs: vec![
                    format!("The password of your Clef account was changed at {when}, from {ip}."),
                    format!("Details: {detail}."),
                ],
                action: review("See your security log", "/security"),
                not_you: Some(secure),
            },
            EventKind::PasswordReset => Message {
                subject: "Your Clef password was reset".into(),
                paragraphs: vec![
                    format!(
                        "The password of your Clef account was reset with the link sent to this \
                         address, at {when}, from {ip}."
                    ),
                    format!(
                        "Every device, app and player was signed out ({detail}). Sign in again \
                         with the new password."
                    ),
                ],
                action: review("Sign in", "/signin"),
                not_you: Some(format!(
                    "If this was not you, someone can read your e-mail: secure your mailbox first, \
                     then ask for a new link at {} and choose another password.",
                    self.page("/password-reset")
                )),
            },
            EventKind::TwoStepEnabled | EventKind::TwoStepDisabled => {
                let on = kind == EventKind::TwoStepEnabled;
                Message {
                    subject: if on {
                        "Two-step sign-in was turned on".into()
                    } else {
                        "Two-step sign-in was turned off".into()
                    },
                    paragraphs: vec![format!(
                        "Two-step sign-in for your Clef account was turned {} at {when}, from \
                         {ip}. {detail}",
                        if on { "on" } else { "off" }
                    )],
                    action: review("See your account", "/account"),
                    not_you: Some(secure),
                }
            }
            EventKind::AppAuthorized | EventKind::DeviceAuthorized => Message {
                subject: "An app was given access to your Clef account".into(),
                paragraphs: vec![format!(
                    "An app was given access to your Clef account at {when}, from {device} \
                     ({ip}): {detail}."
                )],
                action: review("See your apps", "/apps"),
                not_you: Some(format!(
                    "If this was not you, remove the app's access on the Apps page. {secure}"
                )),
            },
            EventKind::AppPasswordCreated | EventKind::ApiKeyCreated => Message {
                subject: if kind == EventKind::AppPasswordCreated {
                    "An app password was created for your Clef account".into()
                } else {
                    "An API key was created for your Clef account".into()
                },
                paragraphs: vec![format!(
                    "{} was created for {device} at {when}, from {ip}.",
                    if kind == EventKind::AppPasswordCreated {
                        "An app password"
                    } else {
                        "An API key"
                    }
                )],
                action: review("See your devices", "/devices"),
                not_you: Some(format!(
                    "If this was not you, sign that device out on the Devices page. {secure}"
                )),
            },
            EventKind::PasskeyAdded | EventKind::PasskeyRemoved => {
                let added = kind == EventKind::PasskeyAdded;
                Message {
                    subject: if added {
                        "A passkey was added to your Clef account".into()
                    } else {
                        "A passkey was removed from your Clef account".into()
                    },
                    paragraphs: vec![format!(
                        "The passkey {detail} was {} your Clef account at {when}, from {device} \
                         ({ip}).",
                        if added { "added to" } else { "removed from" }
                    )],
                    action: review("See your account", "/account"),
                    not_you: Some(if added {
                        format!(
                            "If this was not you, remove the passkey on your Account page: it \
                             signs in without your password. {secure}"
                        )
                    } else {
                        secure
                    }),
                }
            }
            _ => return None,
        };
        Some(m)
    }

    /// Tells the old address that the account's address changed (it is not the one the event's
    /// notice would reach any more).
    pub(crate) fn mail_address_changed(
        &self,
        user: &User,
        old: &str,
        new: Option<&str>,
        at: Timestamp,
    ) {
        let what = match new {
            Some(new) => format!(
                "The e-mail address of your Clef account was changed to {} at {}.",
                clef_core::mask_email(new),
                at.for_people()
            ),
            None => format!(
                "The e-mail address of your Clef account was removed at {}. Notices and reset \
                 links will no longer be sent to this address.",
                at.for_people()
            ),
        };
        self.mail(
            user,
            old,
            Message {
                subject: "Your Clef e-mail address was changed".into(),
                paragraphs: vec![what],
                action: None,
                not_you: Some(format!(
                    "If this was not you, sign in at {} and change it back, then change your \
                     password. If you cannot sign in, ask the admin of this Clef server.",
                    self.page("/signin")
                )),
            },
        );
    }
}
