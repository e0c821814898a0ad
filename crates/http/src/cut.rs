//! The body of an audio stream that can be cut: it ends with an error the moment its stream is
//! stopped (a sign-out, a takeover, the server stopping), and the connection is reset so that
//! bytes already queued are thrown away.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::Extension;
use clef_accounts::{StreamHandle, StreamStop};
use futures::Stream;

use crate::connection::ConnectionAbort;

/// A file body that ends with an error the moment the stream is stopped, which makes the server
/// close the connection.
struct CutOff<S> {
    inner: S,
    stop: Pin<Box<dyn Future<Output = StreamStop> + Send>>,
    done: bool,
}

impl<S> Stream for CutOff<S>
where
    S: Stream<Item = std::io::Result<Bytes>> + Unpin,
{
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(why) = self.stop.as_mut().poll(cx) {
            self.done = true;
            tracing::info!(reason = %why.reason, "stream cut");
            return Poll::Ready(Some(Err(std::io::Error::other(format!(
                "playback stopped: {}",
                why.reason
            )))));
        }
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

/// A stopped stream resets its connection at once (see `ConnectionAbort`).
pub fn reset_when_stopped(handle: &StreamHandle, connection: Option<Extension<ConnectionAbort>>) {
    if let Some(Extension(c)) = connection {
        handle.on_stop(Box::new(move || c.abort()));
    }
}

pub fn stopped_body<S>(inner: S, mut handle: StreamHandle) -> Body
where
    S: Stream<Item = std::io::Result<Bytes>> + Unpin + Send + 'static,
{
    Body::from_stream(CutOff {
        inner,
        stop: Box::pin(async move { handle.stopped().await }),
        done: false,
    })
}
