//! Caps on open-ended work that one request starts: transcoded streams (per device and
//! server-wide) and export progress connections (per user). A place is taken when the work
//! starts and given back when its guard is dropped.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Counts held per key, each under a cap, with an overall cap.
#[derive(Debug)]
pub struct Counter<K: Eq + Hash + Clone> {
    per_key: usize,
    total: usize,
    held: Mutex<(usize, HashMap<K, usize>)>,
}

/// Why a place was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// This key holds `per_key` already.
    Key(usize),
    /// The server holds `total` already.
    Server(usize),
}

impl<K: Eq + Hash + Clone> Counter<K> {
    pub fn new(per_key: usize, total: usize) -> Self {
        Counter {
            per_key,
            total,
            held: Mutex::new((0, HashMap::new())),
        }
    }

    /// Takes a place for `key`, or says which cap is reached.
    pub fn take(self: &Arc<Self>, key: &K) -> Result<Place<K>, Full> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.0 >= self.total {
            return Err(Full::Server(self.total));
        }
        let n = held.1.entry(key.clone()).or_insert(0);
        if *n >= self.per_key {
            return Err(Full::Key(self.per_key));
        }
        *n += 1;
        held.0 += 1;
        Ok(Place {
            counter: self.clone(),
            key: key.clone(),
        })
    }

    /// Places held now, in all.
    pub fn held(&self) -> usize {
        self.held.lock().map(|h| h.0).unwrap_or(0)
    }
}

/// A place under a `Counter`, given back when dropped.
#[derive(Debug)]
pub struct Place<K: Eq + Hash + Clone> {
    counter: Arc<Counter<K>>,
    key: K,
}

impl<K: Eq + Hash + Clone> Drop for Place<K> {
    fn drop(&mut self) {
        let mut held = self.counter.held.lock().unwrap_or_else(|p| p.into_inner());
        held.0 = held.0.saturating_sub(1);
        if let Some(n) = held.1.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                held.1.remove(&self.key);
            }
        }
    }
}

/// The caps the HTTP layer enforces.
#[derive(Debug, Clone)]
pub struct WorkLimits {
    /// Transcoded streams by device: one playing and one fetched ahead.
    pub transcodes: Arc<Counter<String>>,
    /// Export progress (server-sent events) connections by user.
    pub progress: Arc<Counter<String>>,
}

/// Transcoded streams one device may hold: the track playing and the next, fetched ahead.
pub const TRANSCODES_PER_DEVICE: usize = 2;
/// Progress connections one user may hold (a few tabs and devices watching exports).
pub const PROGRESS_PER_USER: usize = 8;

impl Default for WorkLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        WorkLimits {
            // An MP3 or AAC encoder uses a few percent of a core in real time; eight streams a
            // core leaves room for everything else.
            transcodes: Arc::new(Counter::new(TRANSCODES_PER_DEVICE, 8 * cores)),
            progress: Arc::new(Counter::new(PROGRESS_PER_USER, 4096)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_capped_per_key_and_in_all_and_given_back() {
        let c = Arc::new(Counter::new(2, 3));
        let a1 = c.take(&"a").unwrap();
        let _a2 = c.take(&"a").unwrap();
        assert_eq!(c.take(&"a").unwrap_err(), Full::Key(2));
        let _b1 = c.take(&"b").unwrap();
        assert_eq!(c.take(&"c").unwrap_err(), Full::Server(3));
        drop(a1);
        assert_eq!(c.held(), 2);
        let _a3 = c.take(&"a").unwrap();
    }
}
