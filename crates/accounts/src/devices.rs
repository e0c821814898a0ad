//! What a signed-in user does with their devices and password.

use clef_core::{DeviceId, Password};
use clef_store::{RevokeScope, SignOutReason, User};

use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::service::{Accounts, AuthContext, DeviceView, Record};

impl Accounts {
    /// The caller's live devices, with this one marked.
    pub async fn devices(&self, ctx: &AuthContext) -> AccountsResult<Vec<DeviceView>> {
        let devices = self
            .store
            .live_devices(&ctx.user.id, self.liveness())
            .await?;
        let slots = self.store.slots(&ctx.user.id, self.lease_cutoff()).await?;
        Ok(devices
            .into_iter()
            .map(|d| {
                let slot = slots.iter().find(|s| s.device_id == d.id);
                DeviceView {
                    current: d.id == ctx.device.id,
                    playing: slot.is_some(),
                    playing_track: slot.map(|s| s.track_id.clone()),
                    device: d,
                }
            })
            .collect())
    }

    /// Signs this device out.
    pub async fn sign_out_current(&self, ctx: &AuthContext) -> AccountsResult<()> {
        ctx.require_account()?;
        self.revoke(
            RevokeScope::Device {
                user: &ctx.user.id,
                device: &ctx.device.id,
            },
            SignOutReason::SignedOutByUser,
            Some(&ctx.device.id),
            |_| {
                Some(Record {
                    user: &ctx.user.id,
                    kind: EventKind::SignedOut,
                    device: Some(&ctx.device),
                    ip: Some(&ctx.device.ip),
                    detail: Some("signed out on this device".into()),
                })
            },
        )
        .await?;
        Ok(())
    }

    /// Signs out one of the caller's devices. Another user's device is "not found", like an
    /// unknown one.
    #[tracing::instrument(skip_all, fields(user = %ctx.user.username, target = %id))]
    pub async fn sign_out_device(&self, ctx: &AuthContext, id: &DeviceId) -> AccountsResult<()> {
        ctx.require_account()?;
        let target = self.device_of(&ctx.user.id, id).await?;
        if !target.origin.is_listed() {
            return Err(AccountsError::NotFound("device"));
        }
        let detail = if target.id == ctx.device.id {
            "signed out on this device".to_owned()
        } else {
            format!("by {}", ctx.device.name)
        };
        let revoked = self
            .revoke(
                RevokeScope::Device {
                    user: &ctx.user.id,
                    device: id,
                },
                SignOutReason::SignedOutByUser,
                Some(&ctx.device.id),
                |r| {
                    (!r.devices.is_empty()).then(|| Record {
                        user: &ctx.user.id,
                        kind: EventKind::SignedOut,
                        device: Some(&target),
                        ip: Some(&ctx.device.ip),
                        detail: Some(detail),
                    })
                },
            )
            .await?;
        if revoked.devices.is_empty() {
            return Err(AccountsError::NotFound("device"));
        }
        Ok(())
    }

    /// Signs out every device of the caller, or every other one with `keep_current`; with
    /// `apps`, every app's access is removed too. Returns how many devices were signed out.
    #[tracing::instrument(skip_all, fields(user = %ctx.user.username, keep_current, apps))]
    pub async fn sign_out_everywhere(
        &self,
        ctx: &AuthContext,
        keep_current: bool,
        apps: bool,
    ) -> AccountsResult<usize> {
        ctx.require_account()?;
        let revoked = self
            .revoke(
                RevokeScope::Everywhere {
                    user: &ctx.user.id,
                    keep: keep_current.then_some(&ctx.device.id),
                    apps,
                },
                SignOutReason::SignedOutEverywhere,
                Some(&ctx.device.id),
                |r| {
                    let listed = r.devices.len() - r.grants.len().min(r.devices.len());
                    let detail = format!(
                        "{} by {}{}{}",
                        crate::users::count(listed, "device", "devices"),
                        ctx.device.name,
                        if keep_current { ", keeping it" } else { "" },
                        if apps {
                            "; every app's access removed"
                        } else {
                            ""
                        }
                    );
                    Some(Record {
                        user: &ctx.user.id,
                        kind: EventKind::SignedOutEverywhere,
                        device: Some(&ctx.device),
                        ip: Some(&ctx.device.ip),
                        detail: Some(detail),
                    })
                },
            )
            .await?;
        Ok(revoked.devices.len())
    }

    /// Asks for the password again before a change to how the account is reached (password,
    /// address, two-step sign-in): throttled like a sign-in; `WrongCurrentPassword` (403)
    /// when it is wrong. Returns the user as stored now.
    pub(crate) async fn confirm_password(
        &self,
        ctx: &AuthContext,
        current: &Password,
    ) -> AccountsResult<User> {
        ctx.require_account()?;
        let reserved = self
            .throttle
            .reserve(&self.store, &self.clock, &ctx.user.username, &ctx.device.ip)
            .await?;
        let stored = self
            .store
            .user_by_id(&ctx.user.id)
            .await?
            .ok_or(AccountsError::Unauthenticated)?;
        if !self
            .hasher
            .verify(
                current.expose().to_owned(),
                Some(stored.password_hash.clone()),
            )
            .await?
        {
            reserved.failed().await;
            return Err(AccountsError::WrongCurrentPassword);
        }
        reserved.succeeded().await;
        Ok(stored)
    }

    /// Changes the password after checking the current one; every other device is signed out.
    #[tracing::instrument(skip_all, fields(user = %ctx.user.username))]
    pub async fn change_password(
        &self,
        ctx: &AuthContext,
        current: Password,
        new: String,
    ) -> AccountsResult<()> {
        let stored = self.confirm_password(ctx, &current).await?;
        let new = Password::new_password(new)?;
        let hash = self.hasher.hash(new.expose().to_owned()).await?;
        self.store.set_password_hash(&ctx.user.id, &hash).await?;
        if stored.must_change_password {
            self.store
                .set_must_change_password(&ctx.user.id, false)
                .await?;
        }
        self.revoke(
            RevokeScope::Everywhere {
                user: &ctx.user.id,
                keep: Some(&ctx.device.id),
                apps: false,
            },
            SignOutReason::PasswordChanged,
            Some(&ctx.device.id),
            |r| {
                let detail = format!(
                    "on {}; {}",
                    ctx.device.name,
                    crate::users::count(
                        r.devices.len(),
                        "other device signed out",
                        "other devices signed out"
                    )
                );
                Some(Record {
                    user: &ctx.user.id,
                    kind: EventKind::PasswordChanged,
                    device: Some(&ctx.device),
                    ip: Some(&ctx.device.ip),
                    detail: Some(detail),
                })
            },
        )
        .await?;
        Ok(())
    }
}
