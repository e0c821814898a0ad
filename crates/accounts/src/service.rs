//! The accounts service: construction, authentication of every request, and shared helpers.

use std::sync::{Arc, Mutex};

use clef_core::{Clock, DeviceId, Random, SecretToken, Timestamp, TokenHash, UserId};
use clef_store::{Device, Liveness, SecurityEvent, Store, User};

use crate::config::AccountsConfig;
use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::password::PasswordHasher;
use crate::reason;
use crate::throttle::Throttle;

/// Who is making a request: a live device and its user.
#[derive(Debug, Clone)]
pub struct AuthContext {
    pub user: User,
    pub device: Device,
}

impl AuthContext {
    pub fn require_admin(&self) -> AccountsResult<()> {
        if self.user.is_admin {
            Ok(())
        } else {
            Err(AccountsError::Forbidden)
        }
    }
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
            event_seq: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        })
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
        let Some((device, user)) = self.store.device_by_token(&token.hash()).await? else {
            return Err(AccountsError::Unauthenticated);
        };
        if let Some(r) = &device.revoked {
            let by_device = match &r.by_device {
                Some(by) if *by != device.id => self.store.device_by_id(by).await?.map(|d| d.name),
                _ => None,
            };
            return Err(AccountsError::SignedOut {
                reason: r.reason.clone(),
                by_device,
            });
        }
        if user.disabled {
            return Err(AccountsError::SignedOut {
                reason: reason::ACCOUNT_DISABLED.into(),
                by_device: None,
            });
        }
        let live = self.liveness();
        if device.expires_at <= live.now || device.last_seen <= live.idle_cutoff {
            return Err(AccountsError::SignedOut {
                reason: reason::EXPIRED.into(),
                by_device: None,
            });
        }
        if live.now >= device.last_seen.plus_secs(self.cfg.touch_interval_secs) || device.ip != ip {
            self.store.touch_device(&device.id, live.now, ip).await?;
        }
        Ok(AuthContext { user, device })
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
