//! Settings the accounts service runs with.

use crate::password::HashParams;
use crate::throttle::ThrottlePolicy;

#[derive(Clone)]
pub struct AccountsConfig {
    /// A device unused for this long is signed out (default 30 days).
    pub idle_timeout_secs: i64,
    /// A sign-in ends after this long whatever its use (default 30 days, NIST's AAL1 ceiling).
    pub absolute_lifetime_secs: i64,
    pub default_max_devices: i64,
    pub default_max_streams: i64,
    /// Server-side secret mixed into every password hash.
    pub pepper: Vec<u8>,
    pub hash_params: HashParams,
    /// How many password hashes may run at once; the rest wait, so hashing never starves requests.
    pub hash_concurrency: usize,
    /// Last-seen is written at most this often per device, keeping reads read-only.
    pub touch_interval_secs: i64,
    pub throttle: ThrottlePolicy,
    pub playback: crate::playback::PlaybackTiming,
    /// The key app passwords are sealed with (kept outside the database).
    pub subsonic_key: crate::subsonic::SealKey,
    /// How people reach the server: mailed links are built from it, never from a request.
    pub public_url: String,
    /// How many password-reset e-mails may be asked for, per typed account and per address.
    pub reset_limits: RequestLimits,
}

/// A cap on requests in a window, per typed account and per source address.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    pub per_account: i64,
    pub per_address: i64,
    pub window_secs: i64,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            per_account: 5,
            per_address: 20,
            window_secs: 15 * 60,
        }
    }
}

impl std::fmt::Debug for AccountsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountsConfig")
            .field("idle_timeout_secs", &self.idle_timeout_secs)
            .field("absolute_lifetime_secs", &self.absolute_lifetime_secs)
            .field("default_max_devices", &self.default_max_devices)
            .field("pepper", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl AccountsConfig {
    pub fn with_pepper(pepper: Vec<u8>) -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        AccountsConfig {
            idle_timeout_secs: 30 * 24 * 3600,
            absolute_lifetime_secs: 30 * 24 * 3600,
            default_max_devices: 6,
            default_max_streams: 6,
            pepper,
            hash_params: HashParams::default(),
            hash_concurrency: cores.saturating_sub(1).max(1),
            touch_interval_secs: 60,
            throttle: ThrottlePolicy::default(),
            playback: crate::playback::PlaybackTiming::default(),
            // A key for this process only; the server reads its own from the key file.
            subsonic_key: crate::subsonic::SealKey::generate(&clef_core::OsRandom),
            public_url: "http://127.0.0.1:4533".into(),
            reset_limits: RequestLimits::default(),
        }
    }
}
