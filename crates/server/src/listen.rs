//! Accepting HTTP connections without letting slow or idle clients hold the server.
//!
//! Connections are capped in all and per source address (beyond either cap a new connection is
//! closed at once, so the listen queue keeps draining); a request's headers must arrive within
//! `header_timeout`, and a keep-alive connection idle for as long is closed (hyper starts the
//! same clock when it waits for the next request). Every request carries its connection's
//! `ConnectionAbort`: an audio stream cut by a sign-out aborts it, and the connection is dropped
//! with a reset at that moment, so what already sits in the socket's send buffer is thrown away
//! instead of reaching the signed-out device. Stopping closes the listener, asks every
//! connection to finish its request, and stops waiting after `drain`.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use clef_http::ConnectionAbort;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How many connections, and how long a client may take.
#[derive(Debug, Clone)]
pub struct ListenLimits {
    /// Open connections in all.
    pub max_connections: usize,
    /// Open connections from one address (a household behind one router, browsers opening six
    /// each, stays far below it).
    pub max_per_address: usize,
    /// Addresses not held to `max_per_address`: the trusted reverse proxies, through which
    /// every client arrives.
    pub unlimited: Vec<IpAddr>,
    /// Time to send a request's headers, and how long an idle keep-alive connection stays.
    pub header_timeout: Duration,
    /// How long stopping waits for the requests under way.
    pub drain: Duration,
}

impl Default for ListenLimits {
    fn default() -> Self {
        ListenLimits {
            max_connections: 4096,
            max_per_address: 256,
            unlimited: Vec::new(),
            header_timeout: Duration::from_secs(10),
            drain: Duration::from_secs(5),
        }
    }
}

/// Raises this process's open-file limit to its hard limit (at most 65,536), so that the
/// connection cap, not a service manager's default of 1,024 descriptors, decides how many
/// clients are served. Returns the limit now in force.
pub fn raise_open_file_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    let want = limit.maximum.map_or(65_536, |m| m.min(65_536));
    if limit.current.is_some_and(|c| c < want) {
        limit.current = Some(want);
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::warn!(error = %e, "could not raise the open-file limit");
        }
    }
    getrlimit(Resource::Nofile).current
}

/// Serves `router` on `listener` until `stop` completes.
pub async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: ListenLimits,
    stop: impl Future<Output = ()> + Send,
) {
    let total = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Arc::new(Mutex::new(HashMap::new()));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors, most likely: give connections time to close.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = total.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection refused: the server's connection cap is reached");
            continue;
        };
        let slot = if limits.unlimited.contains(&peer.ip()) {
            None
        } else {
            match AddressSlot::take(&per_address, peer.ip(), limits.max_per_address) {
                Some(s) => Some(s),
                None => {
                    tracing::warn!(%peer, "connection refused: too many from this address");
                    continue;
                }
            }
        };
        let abort = ConnectionAbort::default();
        let io = TokioIo::new(Resettable {
            inner: stream,
            abort: abort.clone(),
        });
        let router = router.clone();
        let on_request = abort.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req.extensions_mut().insert(on_request.clone());
            router.clone().oneshot(req.map(Body::new))
        });
        let conn = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            tokio::select! {
                r = conn => if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                },
                // Dropping the connection drops the socket, which resets it.
                () = abort.aborted() => tracing::debug!(%peer, "connection reset: its stream was cut"),
            }
            drop((permit, slot));
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.drain) => {
            tracing::warn!("requests still under way after {:?}; closing them", limits.drain);
        }
    }
}

/// One connection's place under its address's cap.
struct AddressSlot {
    map: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl AddressSlot {
    fn take(map: &Arc<Mutex<HashMap<IpAddr, usize>>>, ip: IpAddr, max: usize) -> Option<Self> {
        let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            map: map.clone(),
            ip,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// A TCP stream that, once marked, closes with a reset (`SO_LINGER` 0): the kernel then drops
/// what is still queued for the peer instead of delivering it.
struct Resettable {
    inner: TcpStream,
    abort: ConnectionAbort,
}

impl Drop for Resettable {
    fn drop(&mut self) {
        if self.abort.is_aborted() {
            if let Err(e) = self.inner.set_zero_linger() {
                tracing::debug!(error = %e, "could not arm the connection reset");
            }
        }
    }
}

impl AsyncRead for Resettable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Resettable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.abort.is_aborted() {
            // No orderly close for a cut response: the drop resets the connection.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
