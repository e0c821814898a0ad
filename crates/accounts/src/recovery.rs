//! "Forgot password": a single-use link mailed to the account's address, which sets a new
//! password and signs out everything.

use clef_core::{EmailAddress, Password, SecretToken, Username};
use clef_store::{EmailLink, LinkPurpose, User};

use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::notices::Message;
use crate::service::Accounts;
use crate::users::signed_out_count;

/// How long a reset link works.
pub const RESET_LINK_MINUTES: i64 = 30;

/// What became of a request to change the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailChange {
    /// A confirmation link was sent to this address; the old one stays until it is used.
    Pending(String),
    /// The address was removed.
    Removed,
    /// It is already the account's address.
    Unchanged,
}

impl Accounts {
    /// Asks for a reset link for `login`, a user name or an address. The answer is the same
    /// whether or not an account matches: finding it, storing the link and mailing it happen in
    /// the background. Throttled per typed login and per address (429 alike for both).
    #[tracing::instrument(skip_all, fields(ip = %ip))]
    pub async fn request_password_reset(&self, login: &str, ip: &str) -> AccountsResult<()> {
        let now = self.clock.now();
        let limits = self.cfg.reset_limits;
        let counted =
            crate::throttle::count_request(&self.store, now, "reset", login, ip, limits).await;
        if let Err(e @ AccountsError::Throttled { .. }) = counted {
            tracing::warn!("password reset requests throttled");
            return Err(e);
        }
        counted?;
        let (this, login, ip) = (self.clone(), login.trim().to_owned(), ip.to_owned());
        // The work for a real account (a link stored, a log entry, a message) starts a random
        // 100-355 ms after the answer, so it never competes with the answer it follows: what
        // it costs lands on whatever requests come later, of either kind.
        let mut jitter = [0u8; 1];
        self.rng.fill(&mut jitter);
        let delay = std::time::Duration::from_millis(100 + u64::from(jitter[0]));
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Err(e) = this.mail_reset_for(&login, &ip).await {
                tracing::error!(error = %e, "could not send a password reset link");
            }
        });
        Ok(())
    }

    async fn mail_reset_for(&self, login: &str, ip: &str) -> AccountsResult<()> {
        let mut user = None;
        if let Ok(address) = EmailAddress::parse(login) {
            user = self.store.user_by_email(address.as_str()).await?;
        }
        if user.is_none() {
            if let Ok(name) = Username::parse(login) {
                user = self.store.user_by_name(name.as_str()).await?;
            }
        }
        match user {
            Some(u) if !u.disabled && u.email.is_some() => {
                self.mail_reset_link(&u, Some(ip), "asked for on the sign-in page")
                    .await
            }
            // Nothing is said to the asker; the log says only that nothing was sent.
            _ => {
                tracing::info!(
                    "password reset asked for: no enabled account with an address matches"
                );
                Ok(())
            }
        }
    }

    /// Stores a new reset link for `user` (superseding any older one) and mails it.
    pub(crate) async fn mail_reset_link(
        &self,
        user: &User,
        ip: Option<&str>,
        how: &str,
    ) -> AccountsResult<()> {
        let Some(to) = user.email.clone() else {
            return Err(AccountsError::NoEmailAddress);
        };
        let now = self.clock.now();
        let token = self.rng.token();
        self.store
            .put_email_link(&EmailLink {
                token_hash: token.hash(),
                user_id: user.id.clone(),
                purpose: LinkPurpose::PasswordReset,
                email: to.clone(),
                created_at: now,
                expires_at: now.plus_secs(RESET_LINK_MINUTES * 60),
            })
            .await?;
        let detail = format!("{how}; link sent to {}", clef_core::mask_email(&to));
        self.record(
            &user.id,
            EventKind::PasswordResetRequested,
            None,
            ip,
            Some(detail),
        )
        .await?;
        let from = ip.map(|ip| format!(" from {ip}")).unwrap_or_default();
        self.mail(
            user,
            &to,
            Message {
                subject: "Reset your Clef password".into(),
                paragraphs: vec![
                    format!(
                        "Someone{from} asked to reset the password of your Clef account at {}.",
                        now.for_people()
                    ),
                    format!(
                        "The link below works once, for {RESET_LINK_MINUTES} minutes. Choosing a \
                         new password signs out every device, app and player; you then sign in \
                         with the new password."
                    ),
                ],
                action: Some(clef_mail::Action {
                    label: "Choose a new password".into(),
                    url: self.link("/password-reset", &token),
                }),
                not_you: Some(
                    "If you did not ask for this, ignore this message: your password stays as it \
                     is, and the link expires on its own."
                        .into(),
                ),
            },
        );
        Ok(())
    }

    /// Whether `token` is a reset link that can still be used (the page shows its form only
    /// then).
    pub async fn reset_link_valid(&self, token: &str) -> AccountsResult<bool> {
        let hash = SecretToken::from_presented(token).hash();
        let link = self
            .store
            .email_link(&hash, LinkPurpose::PasswordReset, self.clock.now())
            .await?;
        Ok(link.is_some())
    }

    /// Sets a new password with a mailed link and signs out every device, credential and app
    /// grant in the same transaction; open streams are cut at once. The person then signs in.
    #[tracing::instrument(skip_all, fields(ip = %ip))]
    pub async fn reset_password_with_link(
        &self,
        token: &str,
        new_password: String,
        ip: &str,
    ) -> AccountsResult<()> {
        let hash = SecretToken::from_presented(token).hash();
        let now = self.clock.now();
        // Checked before hashing, so a made-up link costs no argon2 work.
        if !self.reset_link_valid(token).await? {
            return Err(AccountsError::LinkInvalid);
        }
        let password = Password::new_password(new_password)?;
        let phc = self.hasher.hash(password.expose().to_owned()).await?;
        let Some((link, revoked)) = self.store.reset_password_by_link(&hash, &phc, now).await?
        else {
            return Err(AccountsError::LinkInvalid);
        };
        self.wake_streams();
        let mut detail = signed_out_count(revoked.devices.len());
        if !revoked.grants.is_empty() {
            let apps = crate::users::count(
                revoked.grants.len(),
                "app's access ended",
                "apps' access ended",
            );
            detail.push_str(&format!(", {apps}"));
        }
        self.record(
            &link.user_id,
            EventKind::PasswordReset,
            None,
            Some(ip),
            Some(detail),
        )
        .await?;
        tracing::info!(
            devices = revoked.devices.len(),
            "password reset with a mailed link"
        );
        Ok(())
    }

    /// An admin's "reset password" for a user with an address: the same link, mailed to them.
    pub async fn send_reset_link_by_admin(
        &self,
        actor: crate::Actor<'_>,
        username: &str,
    ) -> AccountsResult<String> {
        let user = self.user(actor, username).await?;
        let Some(to) = user.email.clone() else {
            return Err(AccountsError::NoEmailAddress);
        };
        self.mail_reset_link(&user, None, &format!("sent {}", actor.label()))
            .await?;
        Ok(clef_core::mask_email(&to))
    }
}
