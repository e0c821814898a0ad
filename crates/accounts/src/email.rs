//! The account's e-mail address: changed by its owner after typing the password again, confirmed
//! by a link sent to the new address; the old address is told.

use clef_core::{EmailAddress, Password, SecretToken};
use clef_store::{EmailLink, LinkPurpose, StoreError};

use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::notices::Message;
use crate::recovery::EmailChange;
use crate::service::{Accounts, AuthContext};

/// How long a confirmation link works.
const CONFIRM_LINK_HOURS: i64 = 24;

impl Accounts {
    /// Changes the address after the password is typed again (403 otherwise): a new address
    /// gets a confirmation link and replaces the old one when it is used; `None` removes it at
    /// once. The old address is told either way.
    #[tracing::instrument(skip_all, fields(user = %ctx.user.username))]
    pub async fn change_email(
        &self,
        ctx: &AuthContext,
        current: Password,
        email: Option<&str>,
    ) -> AccountsResult<EmailChange> {
        let address = email
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(EmailAddress::parse)
            .transpose()?;
        let user = self.confirm_password(ctx, &current).await?;
        let now = self.clock.now();
        let Some(address) = address else {
            let Some(old) = user.email.clone() else {
                return Ok(EmailChange::Unchanged);
            };
            self.store.set_email(&user.id, None).await?;
            self.record(
                &user.id,
                EventKind::EmailChanged,
                Some(&ctx.device),
                Some(&ctx.device.ip),
                Some(format!("{old} removed")),
            )
            .await?;
            self.mail_address_changed(&user, &old, None, now);
            return Ok(EmailChange::Removed);
        };
        if user
            .email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(address.as_str()))
        {
            return Ok(EmailChange::Unchanged);
        }
        let token = self.rng.token();
        self.store
            .put_email_link(&EmailLink {
                token_hash: token.hash(),
                user_id: user.id.clone(),
                purpose: LinkPurpose::ConfirmEmail,
                email: address.as_str().to_owned(),
                created_at: now,
                expires_at: now.plus_secs(CONFIRM_LINK_HOURS * 3600),
            })
            .await?;
        self.mail(
            &user,
            address.as_str(),
            Message {
                subject: "Confirm your e-mail address for Clef".into(),
                paragraphs: vec![format!(
                    "Someone signed in as {} asked to use this address for their Clef account. \
                     Confirm it within {CONFIRM_LINK_HOURS} hours to receive notices and \
                     password-reset links here.",
                    user.username
                )],
                action: Some(clef_mail::Action {
                    label: "Confirm this address".into(),
                    url: self.link("/account/email/confirm", &token),
                }),
                not_you: Some("If this was not you, ignore this message: nothing changes.".into()),
            },
        );
        Ok(EmailChange::Pending(address.as_str().to_owned()))
    }

    /// The address a confirmation link would set, if the link can still be used.
    pub async fn email_confirmation(&self, token: &str) -> AccountsResult<Option<String>> {
        let hash = SecretToken::from_presented(token).hash();
        let link = self
            .store
            .email_link(&hash, LinkPurpose::ConfirmEmail, self.clock.now())
            .await?;
        Ok(link.map(|l| l.email))
    }

    /// Uses a confirmation link: its address becomes the account's, and the old one is told.
    pub async fn confirm_email(&self, token: &str, ip: &str) -> AccountsResult<String> {
        let hash = SecretToken::from_presented(token).hash();
        let now = self.clock.now();
        let Some(pending) = self
            .store
            .email_link(&hash, LinkPurpose::ConfirmEmail, now)
            .await?
        else {
            return Err(AccountsError::LinkInvalid);
        };
        let before = self
            .store
            .user_by_id(&pending.user_id)
            .await?
            .ok_or(AccountsError::LinkInvalid)?;
        let link = match self.store.confirm_email(&hash, now).await {
            Ok(Some(link)) => link,
            Ok(None) => return Err(AccountsError::LinkInvalid),
            Err(StoreError::Conflict(_)) => return Err(AccountsError::Conflict("email")),
            Err(e) => return Err(e.into()),
        };
        // The owner's own log: the addresses in full, so two alike ones can be told apart.
        let detail = match &before.email {
            Some(old) => format!("from {old} to {}", link.email),
            None => format!("set to {}", link.email),
        };
        self.record(
            &before.id,
            EventKind::EmailChanged,
            None,
            Some(ip),
            Some(detail),
        )
        .await?;
        if let Some(old) = &before.email {
            self.mail_address_changed(&before, old, Some(&link.email), now);
        }
        Ok(link.email)
    }

    /// Turns the e-mail on sign-in from a new device on or off (the security notices always go).
    pub async fn set_new_device_notices(&self, ctx: &AuthContext, on: bool) -> AccountsResult<()> {
        ctx.require_account()?;
        self.store.set_notify_new_device(&ctx.user.id, on).await?;
        Ok(())
    }
}
