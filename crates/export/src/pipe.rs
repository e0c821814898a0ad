//! A pipe from blocking work (an encoder, the ZIP writer) to an HTTP response body: the writer
//! side is `std::io::Write` for a blocking thread, the reader side a `Stream` of byte chunks.
//! It is bounded, so the writer runs at most a few chunks ahead of the client, and a client that
//! goes away makes the next write fail, which stops the work.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::mpsc;

/// The writing end.
pub struct PipeWriter(mpsc::Sender<std::io::Result<Vec<u8>>>);

/// The reading end: the bytes as they are written, or the error the writer ended with.
pub struct PipeStream(mpsc::Receiver<std::io::Result<Vec<u8>>>);

/// A pipe holding at most `chunks` writes in flight.
pub fn pipe(chunks: usize) -> (PipeWriter, PipeStream) {
    let (tx, rx) = mpsc::channel(chunks.max(1));
    (PipeWriter(tx), PipeStream(rx))
}

impl PipeWriter {
    /// Ends the stream with an error, so the client sees a broken transfer rather than a short
    /// one that looks complete.
    pub fn fail(&self, reason: String) {
        let _ = self.0.blocking_send(Err(std::io::Error::other(reason)));
    }

    /// Another writing end of the same pipe (to report a failure after the first was consumed).
    pub fn handle(&self) -> PipeWriter {
        PipeWriter(self.0.clone())
    }
}

impl std::io::Write for PipeWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(buf.to_vec()))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl futures::Stream for PipeStream {
    type Item = std::io::Result<Vec<u8>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}
