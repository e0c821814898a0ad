//! A handle on the connection a request came in on, put in every request's extensions by the
//! listener: a cut audio stream resets its connection at once, so that bytes already queued for
//! a signed-out device are thrown away rather than delivered.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

#[derive(Debug, Clone, Default)]
pub struct ConnectionAbort {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    aborted: AtomicBool,
    wake: Notify,
}

impl ConnectionAbort {
    /// Asks the listener to drop the connection with a reset.
    pub fn abort(&self) {
        self.inner.aborted.store(true, Ordering::Release);
        self.inner.wake.notify_one();
    }

    pub fn is_aborted(&self) -> bool {
        self.inner.aborted.load(Ordering::Acquire)
    }

    /// Completes once `abort` has been called.
    pub async fn aborted(&self) {
        while !self.is_aborted() {
            self.inner.wake.notified().await;
        }
    }
}
