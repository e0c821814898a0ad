//! Stream slots and open streams. A device that plays holds one slot (a lease in the store with a
//! heartbeat); every connection it opens shares that slot. Open streams on this node are
//! registered here, and a sweeper asks the store several times a second whether their devices
//! were signed out or had their playback taken over, cutting them when so. Because the check reads
//! the store, it works the same for sign-outs made on another node or from the command line.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clef_core::{DeviceId, Timestamp};
use clef_store::{SignOutReason, Slot, SlotOutcome, SlotRequest};
use tokio::sync::watch;

use crate::error::{AccountsError, AccountsResult};
use crate::service::{Accounts, AuthContext};

/// Why an open stream was stopped, and the device that did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStop {
    pub reason: SignOutReason,
    pub by_device: Option<String>,
}

/// Timing of slots and the sweeper.
#[derive(Debug, Clone, Copy)]
pub struct PlaybackTiming {
    /// A slot without a heartbeat for this long is free (a vanished client's slot frees itself).
    pub lease_secs: i64,
    /// How often open streams renew their device's lease.
    pub renew_every: Duration,
    /// How often open streams are checked against sign-outs and takeovers.
    pub sweep_every: Duration,
}

impl Default for PlaybackTiming {
    fn default() -> Self {
        PlaybackTiming {
            lease_secs: 45,
            renew_every: Duration::from_secs(15),
            sweep_every: Duration::from_millis(200),
        }
    }
}

/// What runs the moment a stream is stopped, before anything reads its stop signal.
pub type OnStop = Box<dyn Fn() + Send + Sync>;

struct OpenStream {
    device: DeviceId,
    /// The credential that opened it: revoking that credential alone (an app's access token)
    /// cuts it too.
    credential: String,
    stop: watch::Sender<Option<StreamStop>>,
    on_stop: Option<OnStop>,
}

impl OpenStream {
    /// Stops it, unless it already was; true if it was running.
    fn stop(&self, why: &StreamStop) -> bool {
        if self.stop.borrow().is_some() {
            return false;
        }
        let _ = self.stop.send(Some(why.clone()));
        if let Some(f) = &self.on_stop {
            f();
        }
        true
    }
}

/// The streams open on this node.
#[derive(Default)]
pub(crate) struct StreamRegistry {
    next: AtomicU64,
    /// Rung after every sign-out on this node so the sweeper checks at once.
    wake: tokio::sync::Notify,
    open: Mutex<HashMap<u64, OpenStream>>,
    /// Devices whose slot the store granted a moment ago: their next requests (a player fetching
    /// ranges) skip the store. Cleared when the device is stopped, and checked by the sweeper.
    recent: Mutex<HashMap<DeviceId, std::time::Instant>>,
}

/// How long a granted slot is trusted without asking the store again.
const RECENT_GRANT: Duration = Duration::from_secs(5);

impl StreamRegistry {
    fn recently_granted(&self, device: &DeviceId) -> bool {
        self.recent
            .lock()
            .map(|r| r.get(device).is_some_and(|t| t.elapsed() < RECENT_GRANT))
            .unwrap_or(false)
    }

    fn granted(&self, device: &DeviceId) {
        if let Ok(mut r) = self.recent.lock() {
            r.retain(|_, t| t.elapsed() < RECENT_GRANT);
            r.insert(device.clone(), std::time::Instant::now());
        }
    }

    /// Devices granted a moment ago (stale entries are dropped).
    fn recent_devices(&self) -> Vec<DeviceId> {
        match self.recent.lock() {
            Ok(mut r) => {
                r.retain(|_, t| t.elapsed() < RECENT_GRANT);
                r.keys().cloned().collect()
            }
            Err(_) => Vec::new(),
        }
    }

    fn forget(&self, device: &DeviceId) {
        if let Ok(mut r) = self.recent.lock() {
            r.remove(device);
        }
    }

    fn devices(&self) -> Vec<DeviceId> {
        let open = match self.open.lock() {
            Ok(o) => o,
            Err(p) => p.into_inner(),
        };
        let mut ids: Vec<DeviceId> = open.values().map(|s| s.device.clone()).collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        ids.dedup();
        ids
    }

    fn stop(&self, device: &DeviceId, why: &StreamStop) -> usize {
        self.forget(device);
        let open = match self.open.lock() {
            Ok(o) => o,
            Err(p) => p.into_inner(),
        };
        open.values()
            .filter(|s| &s.device == device)
            .filter(|s| s.stop(why))
            .count()
    }

    fn credentials(&self) -> Vec<String> {
        let open = match self.open.lock() {
            Ok(o) => o,
            Err(p) => p.into_inner(),
        };
        let mut ids: Vec<String> = open.values().map(|s| s.credential.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    fn stop_credential(&self, credential: &str, why: &StreamStop) -> usize {
        let open = match self.open.lock() {
            Ok(o) => o,
            Err(p) => p.into_inner(),
        };
        open.values()
            .filter(|s| s.credential == credential)
            .filter(|s| s.stop(why))
            .count()
    }

    fn stop_all(&self, why: &StreamStop) -> usize {
        let open = match self.open.lock() {
            Ok(o) => o,
            Err(p) => p.into_inner(),
        };
        open.values().filter(|s| s.stop(why)).count()
    }

    pub(crate) fn open_count(&self) -> usize {
        self.open.lock().map(|o| o.len()).unwrap_or(0)
    }
}

/// One open stream; dropping it unregisters the stream (the slot stays until the lease ends or
/// the player reports it stopped).
pub struct StreamHandle {
    id: u64,
    registry: Arc<StreamRegistry>,
    stopped: watch::Receiver<Option<StreamStop>>,
}

impl StreamHandle {
    /// Runs `f` the moment the stream is stopped, from whichever task stops it: the HTTP layer
    /// resets the connection there, since a body waiting for a slow reader to take queued bytes
    /// would not see the stop until they were taken.
    pub fn on_stop(&self, f: OnStop) {
        let mut open = match self.registry.open.lock() {
            Ok(o) => o,
            Err(p) => p.into_inner(),
        };
        if let Some(s) = open.get_mut(&self.id) {
            if s.stop.borrow().is_some() {
                f();
            }
            s.on_stop = Some(f);
        }
    }

    /// Resolves when the stream must stop, with why.
    pub async fn stopped(&mut self) -> StreamStop {
        loop {
            if let Some(why) = self.stopped.borrow_and_update().clone() {
                return why;
            }
            if self.stopped.changed().await.is_err() {
                // The registry is gone (server shutting down).
                return StreamStop {
                    reason: SignOutReason::ServerStopping,
                    by_device: None,
                };
            }
        }
    }
}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        if let Ok(mut open) = self.registry.open.lock() {
            open.remove(&self.id);
        }
    }
}

impl Accounts {
    fn slot_request(
        &self,
        ctx: &AuthContext,
        track_id: &str,
        takeover: Option<DeviceId>,
    ) -> SlotRequest {
        let now = self.clock.now();
        SlotRequest {
            user_id: ctx.user.id.clone(),
            device_id: ctx.device.id.clone(),
            track_id: track_id.to_owned(),
            limit: ctx.user.max_streams,
            now,
            stale_before: now.minus_secs(self.timing.lease_secs),
            takeover,
        }
    }

    async fn grant(&self, req: SlotRequest, ctx: &AuthContext) -> AccountsResult<()> {
        match self.store.acquire_slot(&req).await? {
            SlotOutcome::Granted { took_over } => {
                if let Some(victim) = took_over {
                    tracing::info!(user = %ctx.user.username, device = %ctx.device.id, victim = %victim, "playback taken over");
                    self.streams.stop(
                        &victim,
                        &StreamStop {
                            reason: SignOutReason::TakenOver,
                            by_device: Some(ctx.device.name.clone()),
                        },
                    );
                }
                Ok(())
            }
            SlotOutcome::LimitReached(streams) => Err(AccountsError::StreamLimitReached {
                limit: req.limit,
                streams,
            }),
            SlotOutcome::TakeoverNotFound => Err(AccountsError::NotFound("playing device")),
        }
    }

    /// Takes (or shares) this device's stream slot and registers an open stream.
    pub async fn open_stream(
        &self,
        ctx: &AuthContext,
        track_id: &str,
        takeover: Option<DeviceId>,
    ) -> AccountsResult<StreamHandle> {
        if takeover.is_some() || !self.streams.recently_granted(&ctx.device.id) {
            let req = self.slot_request(ctx, track_id, takeover);
            self.grant(req, ctx).await?;
            self.streams.granted(&ctx.device.id);
        }
        let (tx, rx) = watch::channel(None);
        let id = self.streams.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut open) = self.streams.open.lock() {
            open.insert(
                id,
                OpenStream {
                    device: ctx.device.id.clone(),
                    credential: ctx.credential.id.clone(),
                    stop: tx,
                    on_stop: None,
                },
            );
        }
        Ok(StreamHandle {
            id,
            registry: self.streams.clone(),
            stopped: rx,
        })
    }

    /// The player's report: `playing` renews (or takes) the slot, otherwise it is given up. A
    /// device whose playback was taken over hears about it here until it starts a new stream.
    pub async fn report_playback(
        &self,
        ctx: &AuthContext,
        track_id: &str,
        playing: bool,
    ) -> AccountsResult<()> {
        if !playing {
            self.streams.forget(&ctx.device.id);
            self.store.release_slot(&ctx.device.id).await?;
            return Ok(());
        }
        let status = self
            .store
            .stream_status(std::slice::from_ref(&ctx.device.id))
            .await?;
        if let Some((why, by)) = status.into_iter().find_map(|s| s.stopped) {
            // The notice stays until this device plays again (a new stream takes a slot afresh)
            // or reports it stopped, so every report until then hears the same answer.
            self.streams.forget(&ctx.device.id);
            let by_device = match by {
                Some(id) => self.store.device_by_id(&id).await?.map(|d| d.name),
                None => None,
            };
            return Err(AccountsError::PlaybackStopped {
                reason: why,
                by_device,
            });
        }
        let req = self.slot_request(ctx, track_id, None);
        self.grant(req, ctx).await
    }

    /// The user's devices that are playing now.
    pub async fn playing(&self, ctx: &AuthContext) -> AccountsResult<Vec<Slot>> {
        let stale = self.clock.now().minus_secs(self.timing.lease_secs);
        Ok(self.store.slots(&ctx.user.id, stale).await?)
    }

    /// Streams open on this node (for metrics and tests).
    /// Stops every stream open on this node (the server is stopping); returns how many.
    pub fn stop_all_streams(&self) -> usize {
        self.streams.stop_all(&StreamStop {
            reason: SignOutReason::ServerStopping,
            by_device: None,
        })
    }

    pub fn open_streams(&self) -> usize {
        self.streams.open_count()
    }

    /// One pass of the sweeper: cuts streams of signed-out or taken-over devices and renews the
    /// leases of the others when due. Returns how many streams it stopped.
    pub async fn sweep_streams(&self, renew: bool) -> AccountsResult<usize> {
        let open = self.streams.devices();
        let mut devices = open.clone();
        for d in self.streams.recent_devices() {
            if !devices.contains(&d) {
                devices.push(d);
            }
        }
        if devices.is_empty() {
            return Ok(0);
        }
        let mut stopped = 0;
        let mut alive = Vec::new();
        let statuses = self.store.stream_status(&devices).await?;
        // A device the store no longer has belonged to a deleted account.
        for gone in open
            .iter()
            .filter(|d| !statuses.iter().any(|s| s.device_id == **d))
        {
            let why = StreamStop {
                reason: SignOutReason::AccountDeleted,
                by_device: None,
            };
            stopped += self.streams.stop(gone, &why);
        }
        for s in statuses {
            let why = if let Some(r) = &s.revoked {
                let by_device = match &r.by_device {
                    Some(by) if *by != s.device_id => {
                        self.store.device_by_id(by).await?.map(|d| d.name)
                    }
                    _ => None,
                };
                Some(StreamStop {
                    reason: r.reason,
                    by_device,
                })
            } else if s.user_disabled {
                Some(StreamStop {
                    reason: SignOutReason::AccountDisabled,
                    by_device: None,
                })
            } else {
                s.stopped.as_ref().map(|(why, _)| StreamStop {
                    reason: *why,
                    by_device: None,
                })
            };
            match why {
                Some(why) => stopped += self.streams.stop(&s.device_id, &why),
                // Leases are renewed for devices with streams open here; a device that only
                // fetched a moment ago renews its own by playing on (or lets it lapse).
                None if open.contains(&s.device_id) => alive.push(s.device_id.clone()),
                None => {}
            }
        }
        // A credential revoked on its own (an app's token, RFC 7009) leaves its device signed in.
        for (credential, r) in self
            .store
            .revoked_credentials(&self.streams.credentials())
            .await?
        {
            let by_device = match &r.by_device {
                Some(by) => self.store.device_by_id(by).await?.map(|d| d.name),
                None => None,
            };
            let why = StreamStop {
                reason: r.reason,
                by_device,
            };
            stopped += self.streams.stop_credential(&credential, &why);
        }
        if renew && !alive.is_empty() {
            self.store.refresh_slots(&alive, self.clock.now()).await?;
        }
        Ok(stopped)
    }

    /// Asks the sweeper to check open streams now (after a sign-out on this node).
    pub(crate) fn wake_streams(&self) {
        self.streams.wake.notify_one();
    }

    /// Runs the sweeper until the process ends.
    pub async fn run_stream_sweeper(self) {
        let mut tick = tokio::time::interval(self.timing.sweep_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_renew = std::time::Instant::now();
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = self.streams.wake.notified() => {}
            }
            let renew = last_renew.elapsed() >= self.timing.renew_every;
            if renew {
                last_renew = std::time::Instant::now();
            }
            if let Err(e) = self.sweep_streams(renew).await {
                tracing::warn!(error = %e, "stream sweep failed");
            }
        }
    }

    pub(crate) fn lease_cutoff(&self) -> Timestamp {
        self.clock.now().minus_secs(self.timing.lease_secs)
    }
}
