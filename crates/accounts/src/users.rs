//! What an admin does to other accounts beyond limits: make or remove an admin, delete a user, and
//! give a temporary password that its owner must replace at the next sign-in. Every change that
//! could leave Clef without an enabled admin goes through the store's guard, which makes it only
//! when another enabled admin remains, even when two admins act at once.

use clef_core::{InputError, Password};
use clef_store::{GuardOutcome, GuardedChange, RevokeScope, SignOutReason, User};

use crate::admin::Actor;
use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::service::{Accounts, Record};

/// "1 device", "3 devices".
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// "1 device signed out", "2 devices signed out".
pub(crate) fn signed_out_count(n: usize) -> String {
    count(n, "device signed out", "devices signed out")
}

/// Refuses an admin acting on their own account where that needs another admin's hand.
fn not_yourself(
    actor: Actor<'_>,
    user: &User,
    field: &'static str,
    message: &str,
) -> AccountsResult<()> {
    match actor {
        Actor::Admin(ctx) if ctx.user.id == user.id => Err(AccountsError::Invalid(InputError {
            field,
            message: message.into(),
        })),
        _ => Ok(()),
    }
}

impl Accounts {
    /// Makes a store change that must leave an enabled admin.
    pub(crate) async fn guarded(
        &self,
        id: &clef_core::UserId,
        change: GuardedChange,
    ) -> AccountsResult<()> {
        match self.store.change_user_guarded(id, change).await? {
            GuardOutcome::Done => Ok(()),
            GuardOutcome::LastAdmin => Err(AccountsError::LastAdmin),
            GuardOutcome::NotFound => Err(AccountsError::NotFound("user")),
        }
    }

    /// Makes a user an admin, or takes it away (never from the last enabled admin).
    #[tracing::instrument(skip(self, actor))]
    pub async fn set_admin(
        &self,
        actor: Actor<'_>,
        username: &str,
        is_admin: bool,
    ) -> AccountsResult<User> {
        let user = self.user(actor, username).await?;
        if user.is_admin == is_admin {
            return Ok(user);
        }
        self.guarded(&user.id, GuardedChange::SetAdmin(is_admin))
            .await?;
        let what = if is_admin {
            "made an admin"
        } else {
            "no longer an admin"
        };
        self.record(
            &user.id,
            EventKind::AdminChanged,
            None,
            None,
            Some(format!("{what} {}", actor.label())),
        )
        .await?;
        self.user(Actor::Console, username).await
    }

    /// Deletes a user: their devices (signed out first, so open streams are cut), stream slots,
    /// playlists, export history and security log go; files they exported stay on disk. An
    /// admin cannot delete their own account, and the last enabled admin stays.
    #[tracing::instrument(skip(self, actor))]
    pub async fn delete_user(&self, actor: Actor<'_>, username: &str) -> AccountsResult<()> {
        let user = self.user(actor, username).await?;
        not_yourself(
            actor,
            &user,
            "username",
            "you cannot delete your own account; another admin can",
        )?;
        // Refused before anything is signed out when it would remove the last admin.
        if user.is_admin && !user.disabled && self.store.count_admins().await? <= 1 {
            return Err(AccountsError::LastAdmin);
        }
        let ids = self
            .revoke(
                RevokeScope::Everywhere {
                    user: &user.id,
                    keep: None,
                    apps: true,
                },
                SignOutReason::AccountDeleted,
                None,
                |_| None,
            )
            .await?
            .devices;
        // The apps this user registered go with them: everyone's access to them ends first.
        for app in self.store.apps_of(&user.id).await? {
            self.revoke(
                RevokeScope::App {
                    client: &app.client_id,
                },
                SignOutReason::AccessRemoved,
                None,
                |_| None,
            )
            .await?;
        }
        self.guarded(&user.id, GuardedChange::Delete).await?;
        // The user's own log went with them; the admin's keeps the deletion.
        if let Actor::Admin(ctx) = actor {
            self.record(
                &ctx.user.id,
                EventKind::UserDeleted,
                Some(&ctx.device),
                Some(&ctx.device.ip),
                Some(format!(
                    "{}; {}",
                    user.username,
                    signed_out_count(ids.len())
                )),
            )
            .await?;
        }
        tracing::info!(username = %user.username, devices = ids.len(), "user deleted");
        Ok(())
    }

    /// Gives a user a temporary password from the admin pages: every device of theirs is signed
    /// out (open streams cut) and, at the next sign-in, they must choose a new password before
    /// anything else. Returns how many devices were signed out.
    #[tracing::instrument(skip(self, actor, temporary))]
    pub async fn reset_password_by_admin(
        &self,
        actor: Actor<'_>,
        username: &str,
        temporary: String,
    ) -> AccountsResult<usize> {
        let user = self.user(actor, username).await?;
        not_yourself(
            actor,
            &user,
            "password",
            "change your own password on the Account page",
        )?;
        self.reset_password(
            &user,
            temporary,
            true,
            &format!(
                "reset {}, to be replaced at the next sign-in",
                actor.label()
            ),
        )
        .await
    }

    /// Sets `user`'s password (to be replaced at the next sign-in when `must_change`), signs out
    /// every device of theirs and records `how` it happened. Returns the devices signed out.
    pub(crate) async fn reset_password(
        &self,
        user: &User,
        password: String,
        must_change: bool,
        how: &str,
    ) -> AccountsResult<usize> {
        let password = Password::new_password(password)?;
        let hash = self.hasher.hash(password.expose().to_owned()).await?;
        self.store.set_password_hash(&user.id, &hash).await?;
        if must_change != user.must_change_password {
            self.store
                .set_must_change_password(&user.id, must_change)
                .await?;
        }
        let revoked = self
            .revoke(
                RevokeScope::Everywhere {
                    user: &user.id,
                    keep: None,
                    apps: false,
                },
                SignOutReason::PasswordReset,
                None,
                |r| {
                    Some(Record {
                        user: &user.id,
                        kind: EventKind::PasswordChanged,
                        device: None,
                        ip: None,
                        detail: Some(format!("{how}; {}", signed_out_count(r.devices.len()))),
                    })
                },
            )
            .await?;
        Ok(revoked.devices.len())
    }
}
