//! What a signed-in user does with their devices and password.

use clef_core::{DeviceId, Password};

use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::reason;
use crate::service::{Accounts, AuthContext, DeviceView};

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
        let now = self.clock.now();
        self.store
            .revoke_device(
                &ctx.user.id,
                &ctx.device.id,
                reason::SIGNED_OUT_BY_USER,
                Some(&ctx.device.id),
                now,
            )
            .await?;
        self.wake_streams();
        self.record(
            &ctx.user.id,
            EventKind::SignedOut,
            Some(&ctx.device),
            Some(&ctx.device.ip),
            Some("signed out on this device".into()),
        )
        .await?;
        Ok(())
    }

    /// Signs out one of the caller's devices. Another user's device is "not found", like an
    /// unknown one.
    #[tracing::instrument(skip_all, fields(user = %ctx.user.username, target = %id))]
    pub async fn sign_out_device(&self, ctx: &AuthContext, id: &DeviceId) -> AccountsResult<()> {
        let target = self.device_of(&ctx.user.id, id).await?;
        let now = self.clock.now();
        if !self
            .store
            .revoke_device(
                &ctx.user.id,
                id,
                reason::SIGNED_OUT_BY_USER,
                Some(&ctx.device.id),
                now,
            )
            .await?
        {
            return Err(AccountsError::NotFound("device"));
        }
        self.wake_streams();
        let detail = if target.id == ctx.device.id {
            "signed out on this device".to_owned()
        } else {
            format!("by {}", ctx.device.name)
        };
        self.record(
            &ctx.user.id,
            EventKind::SignedOut,
            Some(&target),
            Some(&ctx.device.ip),
            Some(detail),
        )
        .await?;
        Ok(())
    }

    /// Signs out every device of the caller, or every other one with `keep_current`.
    /// Returns how many were signed out.
    #[tracing::instrument(skip_all, fields(user = %ctx.user.username, keep_current))]
    pub async fn sign_out_everywhere(
        &self,
        ctx: &AuthContext,
        keep_current: bool,
    ) -> AccountsResult<usize> {
        let keep = keep_current.then_some(&ctx.device.id);
        let now = self.clock.now();
        let ids = self
            .store
            .revoke_all(
                &ctx.user.id,
                keep,
                reason::SIGNED_OUT_EVERYWHERE,
                Some(&ctx.device.id),
                now,
            )
            .await?;
        self.wake_streams();
        let detail = format!(
            "{} by {}{}",
            crate::users::count(ids.len(), "device", "devices"),
            ctx.device.name,
            if keep_current { ", keeping it" } else { "" }
        );
        self.record(
            &ctx.user.id,
            EventKind::SignedOutEverywhere,
            Some(&ctx.device),
            Some(&ctx.device.ip),
            Some(detail),
        )
        .await?;
        Ok(ids.len())
    }

    /// Changes the password after checking the current one; every other device is signed out.
    #[tracing::instrument(skip_all, fields(user = %ctx.user.username))]
    pub async fn change_password(
        &self,
        ctx: &AuthContext,
        current: Password,
        new: String,
    ) -> AccountsResult<()> {
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
            .verify(current.expose().to_owned(), Some(stored.password_hash))
            .await?
        {
            reserved.failed().await;
            return Err(AccountsError::WrongCurrentPassword);
        }
        reserved.succeeded().await;
        let now = self.clock.now();
        let new = Password::new_password(new)?;
        let hash = self.hasher.hash(new.expose().to_owned()).await?;
        self.store.set_password_hash(&ctx.user.id, &hash).await?;
        if stored.must_change_password {
            self.store
                .set_must_change_password(&ctx.user.id, false)
                .await?;
        }
        let ids = self
            .store
            .revoke_all(
                &ctx.user.id,
                Some(&ctx.device.id),
                reason::PASSWORD_CHANGED,
                Some(&ctx.device.id),
                now,
            )
            .await?;
        self.wake_streams();
        let detail = format!(
            "on {}; {}",
            ctx.device.name,
            crate::users::count(
                ids.len(),
                "other device signed out",
                "other devices signed out"
            )
        );
        self.record(
            &ctx.user.id,
            EventKind::PasswordChanged,
            Some(&ctx.device),
            Some(&ctx.device.ip),
            Some(detail),
        )
        .await?;
        Ok(())
    }
}
