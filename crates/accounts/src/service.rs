//! The accounts service: construction, authentication of every request, and shared helpers.

use std::sync::{Arc, Mutex};

use clef_core::{
    Access, Clock, DeviceId, Random, Scope, SecretToken, Timestamp, TokenHash, UserId,
};
use clef_store::{
    Credential, Device, Liveness, Presented, Revocation, RevokeScope, Revoked, SecurityEvent,
    SignOutReason, Store, StoreError, User,
};

use crate::config::AccountsConfig;
use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::password::PasswordHasher;
use crate::throttle::Throttle;

/// Who is making a request: the credential presented, its live device and its user.
#[derive(Debug, Clone)]
pub struct AuthContext {
    pub user: User,
    pub device: Device,
    pub credential: Credential,
}

impl AuthContext {
    /// Admin rights: the account's, through a credential of the account's own (never an app's).
    pub fn require_admin(&self) -> AccountsResult<()> {
        self.require_account()?;
        if self.user.is_admin {
            Ok(())
        } else {
            Err(AccountsError::Forbidden)
        }
    }

    pub fn access(&self) -> Access {
        self.credential.access()
    }

    /// Refuses a credential without `scope`.
    pub fn require(&self, scope: Scope) -> AccountsResult<()> {
        if self.access().allows(scope) {
            Ok(())
        } else {
            Err(AccountsError::InsufficientScope(scope))
        }
    }

    /// Refuses an app's token: account and device management is the owner's alone.
    pub fn require_account(&self) -> AccountsResult<()> {
        if self.access().is_full() {
            Ok(())
        } else {
            Err(AccountsError::AccountOnly)
        }
    }
}

/// An entry for the security log, written with what a revocation ended.
pub(crate) struct Record<'a> {
    pub user: &'a UserId,
    pub kind: EventKind,
    pub device: Option<&'a Device>,
    pub ip: Option<&'a str>,
    pub detail: Option<String>,
}

/// What a client says about itself when signing in.
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    pub name: clef_core::DeviceName,
    pub device_type: clef_core::DeviceType,
    pub client: String,
}

/// A device as listed to its owner.
#[derive(Debug, Clone)]
pub struct DeviceView {
    pub device: Device,
    pub current: bool,
    /// Whether the device holds a stream slot now.
    pub playing: bool,
    /// The track it is playing, when it is.
    pub playing_track: Option<String>,
}

/// Users, devices, limits and the security log over a `Store`.
#[derive(Clone)]
pub struct Accounts {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Arc<dyn Random>,
    pub(crate) hasher: PasswordHasher,
    pub(crate) throttle: Arc<Throttle>,
    pub(crate) cfg: Arc<AccountsConfig>,
    pub(crate) setup: Arc<Mutex<Option<TokenHash>>>,
    pub(crate) streams: Arc<crate::playback::StreamRegistry>,
    pub(crate) timing: crate::playback::PlaybackTiming,
    /// Where notices and links go; `None` sends nothing (console commands).
    pub(crate) mailer: Option<clef_mail::Mailer>,
    event_seq: Arc<std::sync::atomic::AtomicU64>,
}

impl Accounts {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Random>,
        cfg: AccountsConfig,
    ) -> AccountsResult<Self> {
        let hasher =
            PasswordHasher::new(cfg.pepper.clone(), cfg.hash_params, cfg.hash_concurrency)?;
        let timing = cfg.playback;
        Ok(Accounts {
            store,
            clock,
            rng,
            hasher,
            throttle: Arc::new(Throttle::new(cfg.throttle)),
            cfg: Arc::new(cfg),
            setup: Arc::new(Mutex::new(None)),
            streams: Arc::default(),
            timing,
            mailer: None,
            event_seq: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        })
    }

    /// Sends notices and mailed links through `mailer`.
    pub fn with_mailer(mut self, mailer: clef_mail::Mailer) -> Self {
        self.mailer = Some(mailer);
        self
    }

    pub fn mailer(&self) -> Option<&clef_mail::Mailer> {
        self.mailer.as_ref()
    }

    pub fn config(&self) -> &AccountsConfig {
        &self.cfg
    }

    /// How many passwords this node has checked since start, right or wrong.
    pub fn password_checks(&self) -> u64 {
        self.hasher.checked()
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn liveness(&self) -> Liveness {
        let now = self.clock.now();
        Liveness {
            now,
            idle_cutoff: now.minus_secs(self.cfg.idle_timeout_secs),
        }
    }

    /// Checks a presented credential against the store on every request, so a sign-out holds on
    /// the very next one.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, token: &SecretToken, ip: &str) -> AccountsResult<AuthContext> {
        let found = self.store.credential_by_token(&token.hash()).await;
        let found = match found {
            // A kind, reason or scope this build does not know grants nothing.
            Err(StoreError::UnknownValue { what, value }) => {
                tracing::warn!(what, value = %value, "credential of an unknown kind refused");
                return Err(AccountsError::Unauthenticated);
            }
            r => r?,
        };
        match found {
            Some(p) if p.credential.kind.is_bearer() => self.check_presented(p, ip).await,
            _ => Err(AccountsError::Unauthenticated),
        }
    }

    /// The checks every presented credential passes, whatever carried it: not revoked, its user
    /// enabled, not expired, not idle too long; records its use.
    pub(crate) async fn check_presented(
        &self,
        presented: Presented,
        ip: &str,
    ) -> AccountsResult<AuthContext> {
        let Presented {
            credential,
            device,
            user,
        } = presented;
        if let Some(r) = credential.revoked.as_ref().or(device.revoked.as_ref()) {
            return Err(self.signed_out(r, &device.id).await?);
        }
        if user.disabled {
            return Err(AccountsError::SignedOut {
                reason: SignOutReason::AccountDisabled,
                by_device: None,
            });
        }
        let live = self.liveness();
        if device.expires_at <= live.now
            || credential.expires_at <= live.now
            || device.last_seen <= live.idle_cutoff
        {
            return Err(AccountsError::SignedOut {
                reason: SignOutReason::Expired,
                by_device: None,
            });
        }
        if live.now >= device.last_seen.plus_secs(self.cfg.touch_interval_secs)
            || live.now >= credential.last_used.plus_secs(self.cfg.touch_interval_secs)
            || device.ip != ip
        {
            self.store
                .touch(&credential.id, &device.id, live.now, ip)
                .await?;
        }
        Ok(AuthContext {
            user,
            device,
            credential,
        })
    }

    /// The error for a revoked credential: its reason and, when another device did it, that
    /// device's name.
    pub(crate) async fn signed_out(
        &self,
        r: &Revocation,
        own: &DeviceId,
    ) -> AccountsResult<AccountsError> {
        let by_device = match &r.by_device {
            Some(by) if by != own => self.store.device_by_id(by).await?.map(|d| d.name),
            _ => None,
        };
        Ok(AccountsError::SignedOut {
            reason: r.reason,
            by_device,
        })
    }

    /// The one way anything is revoked: every device, credential and grant in `scope` in one
    /// transaction, then their open streams on this node are cut (the sweeper is woken; other
    /// nodes find the revocation within their next sweep), then the security log entry that
    /// `record` writes for what was ended.
    pub(crate) async fn revoke<'a>(
        &self,
        scope: RevokeScope<'_>,
        reason: SignOutReason,
        by: Option<&DeviceId>,
        record: impl FnOnce(&Revoked) -> Option<Record<'a>>,
    ) -> AccountsResult<Revoked> {
        let revoked = self
            .store
            .revoke(scope, reason, by, self.clock.now())
            .await?;
        if !revoked.is_empty() {
            self.wake_streams();
        }
        if let Some(r) = record(&revoked) {
            self.record(r.user, r.kind, r.device, r.ip, r.detail)
                .await?;
        }
        Ok(revoked)
    }

    pub(crate) async fn record(
        &self,
        user: &UserId,
        kind: EventKind,
        device: Option<&Device>,
        ip: Option<&str>,
        detail: Option<String>,
    ) -> AccountsResult<()> {
        let at = self.clock.now();
        let event = SecurityEvent {
            id: self.event_id(at),
            user_id: user.clone(),
            at,
            kind: kind.as_str().to_owned(),
            device_id: device.map(|d| d.id.clone()),
            device_name: device.map(|d| d.name.clone()),
            ip: ip.map(str::to_owned),
            detail,
        };
        self.store.add_event(&event).await?;
        self.notify(&event);
        Ok(())
    }

    /// Event ids sort in the order events happened: the time, then a sequence number for events in
    /// the same millisecond, then randomness so ids from different nodes never collide.
    fn event_id(&self, at: Timestamp) -> String {
        let seq = self
            .event_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            & 0xff_ffff;
        let random = self.rng.id();
        format!("{:012x}{seq:06x}{}", at.0.max(0), &random[..14])
    }

    /// The caller's security log, newest first.
    pub async fn security_events(
        &self,
        ctx: &AuthContext,
        limit: i64,
    ) -> AccountsResult<Vec<SecurityEvent>> {
        Ok(self
            .store
            .events(Some(&ctx.user.id), limit.clamp(1, 500))
            .await?)
    }

    /// Every user's events, for admins.
    pub async fn all_security_events(
        &self,
        ctx: &AuthContext,
        limit: i64,
    ) -> AccountsResult<Vec<SecurityEvent>> {
        ctx.require_admin()?;
        Ok(self.store.events(None, limit.clamp(1, 1000)).await?)
    }

    pub(crate) async fn device_of(&self, user: &UserId, id: &DeviceId) -> AccountsResult<Device> {
        match self.store.device_by_id(id).await? {
            Some(d) if &d.user_id == user => Ok(d),
            _ => Err(AccountsError::NotFound("device")),
        }
    }
}
