//! Managing users: from the admin pages and API, and from the command line on the server.

use clef_core::{EmailAddress, Password, UserId, Username};
use clef_store::{Device, GuardedChange, Liveness, RevokeScope, SignOutReason, StoreError, User};

use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::service::{Accounts, AuthContext, Record};
use crate::users::signed_out_count;

/// Who is acting: an admin's device, or the server's own command line.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Admin(&'a AuthContext),
    Console,
}

impl Actor<'_> {
    pub(crate) fn check(&self) -> AccountsResult<()> {
        match self {
            Actor::Admin(ctx) => ctx.require_admin(),
            Actor::Console => Ok(()),
        }
    }
    pub(crate) fn label(&self) -> String {
        match self {
            Actor::Admin(ctx) => format!("by admin {}", ctx.user.username),
            Actor::Console => "from the server console".to_owned(),
        }
    }
}

impl Accounts {
    /// Creates a user with the default limits.
    pub async fn create_user(
        &self,
        actor: Actor<'_>,
        username: &str,
        password: String,
        is_admin: bool,
    ) -> AccountsResult<User> {
        self.create_user_with_email(actor, username, password, is_admin, None)
            .await
    }

    /// Creates a user with the default limits and, when given, an e-mail address (taken as
    /// confirmed: the admin vouches for it).
    pub async fn create_user_with_email(
        &self,
        actor: Actor<'_>,
        username: &str,
        password: String,
        is_admin: bool,
        email: Option<&str>,
    ) -> AccountsResult<User> {
        actor.check()?;
        let username = Username::parse(username)?;
        let email = email
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(EmailAddress::parse)
            .transpose()?;
        let password = Password::new_password(password)?;
        let user = User {
            id: UserId(self.rng.id()),
            username: username.as_str().to_owned(),
            password_hash: self.hasher.hash(password.expose().to_owned()).await?,
            is_admin,
            disabled: false,
            max_devices: self.cfg.default_max_devices,
            max_streams: self.cfg.default_max_streams,
            created_at: self.clock.now(),
            must_change_password: false,
            email: email.map(|e| e.as_str().to_owned()),
            notify_new_device: true,
            totp_enabled_at: None,
        };
        match self.store.create_user(&user).await {
            Err(StoreError::Conflict(what)) => return Err(AccountsError::Conflict(what)),
            r => r?,
        }
        tracing::info!(username = %user.username, is_admin, "user created");
        Ok(user)
    }

    pub async fn user(&self, actor: Actor<'_>, username: &str) -> AccountsResult<User> {
        actor.check()?;
        let name = Username::parse(username).map_err(|_| AccountsError::NotFound("user"))?;
        self.store
            .user_by_name(name.as_str())
            .await?
            .ok_or(AccountsError::NotFound("user"))
    }

    pub async fn list_users(&self, actor: Actor<'_>) -> AccountsResult<Vec<User>> {
        actor.check()?;
        Ok(self.store.list_users().await?)
    }

    /// Disables (signing out every device) or re-enables a user.
    pub async fn set_disabled(
        &self,
        actor: Actor<'_>,
        username: &str,
        disabled: bool,
    ) -> AccountsResult<User> {
        let user = self.user(actor, username).await?;
        if let Actor::Admin(ctx) = actor {
            if ctx.user.id == user.id && disabled {
                return Err(AccountsError::Invalid(clef_core::InputError {
                    field: "disabled",
                    message: "you cannot disable your own account".into(),
                }));
            }
        }
        self.guarded(&user.id, GuardedChange::SetDisabled(disabled))
            .await?;
        if disabled {
            self.revoke(
                RevokeScope::Everywhere {
                    user: &user.id,
                    keep: None,
                    apps: true,
                },
                SignOutReason::AccountDisabled,
                None,
                |r| {
                    Some(Record {
                        user: &user.id,
                        kind: EventKind::AccountDisabled,
                        device: None,
                        ip: None,
                        detail: Some(format!(
                            "{}; {}",
                            actor.label(),
                            signed_out_count(r.devices.len())
                        )),
                    })
                },
            )
            .await?;
        } else {
            self.record(
                &user.id,
                EventKind::AccountEnabled,
                None,
                None,
                Some(actor.label()),
            )
            .await?;
        }
        self.user(Actor::Console, username).await
    }

    /// Sets a user's device and stream limits (1–1000 each).
    pub async fn set_limits(
        &self,
        actor: Actor<'_>,
        username: &str,
        max_devices: Option<i64>,
        max_streams: Option<i64>,
    ) -> AccountsResult<User> {
        let user = self.user(actor, username).await?;
        for (field, v) in [("max_devices", max_devices), ("max_streams", max_streams)] {
            if let Some(n) = v {
                if !(1..=1000).contains(&n) {
                    return Err(AccountsError::Invalid(clef_core::InputError {
                        field,
                        message: "must be between 1 and 1000".into(),
                    }));
                }
            }
        }
        self.store
            .set_limits(&user.id, max_devices, max_streams)
            .await?;
        let detail = [
            max_devices.map(|n| format!("devices {n}")),
            max_streams.map(|n| format!("streams {n}")),
            Some(actor.label()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        self.record(&user.id, EventKind::LimitsChanged, None, None, Some(detail))
            .await?;
        self.user(Actor::Console, username).await
    }

    /// Sets a new password from the console and signs out every device of that user.
    pub async fn reset_password_from_console(
        &self,
        username: &str,
        password: String,
    ) -> AccountsResult<usize> {
        let user = self.user(Actor::Console, username).await?;
        self.reset_password(&user, password, false, "reset from the server console")
            .await
    }

    /// A user's live devices, for the console and admins.
    pub async fn devices_of(
        &self,
        actor: Actor<'_>,
        username: &str,
    ) -> AccountsResult<Vec<Device>> {
        let user = self.user(actor, username).await?;
        let live: Liveness = self.liveness();
        Ok(self.store.live_devices(&user.id, live).await?)
    }

    /// Signs out one device of a user from the console.
    pub async fn revoke_from_console(
        &self,
        username: &str,
        id: &clef_core::DeviceId,
    ) -> AccountsResult<()> {
        let user = self.user(Actor::Console, username).await?;
        let device = self.device_of(&user.id, id).await?;
        let revoked = self
            .revoke(
                RevokeScope::Device {
                    user: &user.id,
                    device: id,
                },
                SignOutReason::SignedOutByUser,
                None,
                |r| {
                    (!r.devices.is_empty()).then(|| Record {
                        user: &user.id,
                        kind: EventKind::SignedOut,
                        device: Some(&device),
                        ip: None,
                        detail: Some("from the server console".into()),
                    })
                },
            )
            .await?;
        if revoked.devices.is_empty() {
            return Err(AccountsError::NotFound("device"));
        }
        Ok(())
    }
}
