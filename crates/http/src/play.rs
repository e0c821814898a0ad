//! Playing a track for every front-end (the REST API and Subsonic's `stream` and `download`):
//! the original file with HTTP Range, or transcoded, holding the device's stream slot, and cut
//! when the device is signed out or another device takes its playback over; and a transcoded
//! body held to a length promised ahead.

use std::io::SeekFrom;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use clef_accounts::{AccountsError, AuthContext};
use clef_core::DeviceId;
use clef_formats::range::{parse_range, RangeRequest};
use clef_media::Settings;
use clef_store::TrackRecord;
use futures::Stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::{reset_when_stopped, stopped_body, AppState, ConnectionAbort};

/// Bytes read from disk at a time: 128 KiB kept 1 MiB ranges above 1.2 GB/s while holding memory
/// under load about 10 MB lower than 256 KiB (bench/library.sh).
const CHUNK: usize = 128 * 1024;

/// Why a track could not be played; each front-end says it in its own words.
#[derive(Debug)]
pub enum PlayError {
    /// The track's file is gone.
    FileMissing,
    /// A format or bit rate that cannot be served; the message says which to choose.
    BadRequest(String),
    /// No place for another transcoded stream, on this device or on the server.
    TooManyTranscodes(crate::limits::Full),
    /// The file cannot be transcoded, and why (no server path in it).
    CannotTranscode(String),
    /// The stream slot was refused (the stream limit), or the device is signed out.
    Accounts(AccountsError),
    Io(String),
}

impl From<AccountsError> for PlayError {
    fn from(e: AccountsError) -> Self {
        PlayError::Accounts(e)
    }
}

/// What to play: the original (`settings` none) or transcoded, and whose playback to take over.
#[derive(Debug, Clone, Default)]
pub struct PlayRequest {
    pub settings: Option<Settings>,
    pub takeover: Option<DeviceId>,
}

/// The media type of a file of this container.
pub fn content_type(format: &str) -> &'static str {
    match format {
        "mp3" => "audio/mpeg",
        "flac" => "audio/flac",
        "m4a" => "audio/mp4",
        "ogg" | "opus" => "audio/ogg",
        "wav" => "audio/wav",
        "aiff" => "audio/aiff",
        _ => "application/octet-stream",
    }
}

/// A cover picture, kept by the client for a day.
pub fn cover_response(c: clef_library::Cover) -> Response {
    crate::media(
        (
            [
                (header::CONTENT_TYPE, c.mime),
                (header::CACHE_CONTROL, "private, max-age=86400".to_owned()),
            ],
            c.bytes,
        )
            .into_response(),
    )
}

/// Plays `record` for `ctx`'s device: the answer's body ends when its stream is stopped.
pub async fn play(
    s: &AppState,
    ctx: &AuthContext,
    record: &TrackRecord,
    req: PlayRequest,
    headers: &HeaderMap,
    connection: Option<Extension<ConnectionAbort>>,
) -> Result<Response, PlayError> {
    if let Some(settings) = req.settings {
        tokio::fs::metadata(&record.path)
            .await
            .map_err(|_| PlayError::FileMissing)?;
        let place = s
            .limits
            .transcodes
            .take(&ctx.device.id.to_string())
            .map_err(PlayError::TooManyTranscodes)?;
        let started = crate::transcode::start(record, settings, place).await?;
        let handle = s
            .accounts
            .open_stream(ctx, &record.id, req.takeover)
            .await?;
        reset_when_stopped(&handle, connection);
        return Ok(started.respond(handle));
    }
    let mut file = tokio::fs::File::open(&record.path)
        .await
        .map_err(|_| PlayError::FileMissing)?;
    let size = file
        .metadata()
        .await
        .map_err(|e| PlayError::Io(e.to_string()))?
        .len();
    let etag = format!("\"{:x}-{:x}\"", size, record.mtime);
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    // If-Range with another validator means the client's copy is stale: send it all.
    let if_range_ok = headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v == etag);
    let range = if if_range_ok {
        parse_range(range_header, size)
    } else {
        RangeRequest::Full
    };
    if range == RangeRequest::Unsatisfiable {
        return Ok((
            StatusCode::RANGE_NOT_SATISFIABLE,
            [
                (header::CONTENT_RANGE, format!("bytes */{size}")),
                (header::ACCEPT_RANGES, "bytes".to_owned()),
            ],
        )
            .into_response());
    }
    let handle = s
        .accounts
        .open_stream(ctx, &record.id, req.takeover)
        .await?;
    reset_when_stopped(&handle, connection);
    let (status, start, len) = match range {
        RangeRequest::Partial(r) => (StatusCode::PARTIAL_CONTENT, r.start, r.end - r.start + 1),
        _ => (StatusCode::OK, 0, size),
    };
    if start > 0 {
        file.seek(SeekFrom::Start(start))
            .await
            .map_err(|e| PlayError::Io(e.to_string()))?;
    }
    let reader = ReaderStream::with_capacity(file.take(len), CHUNK);
    let mut response = Response::new(stopped_body(reader, handle));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&record.format)),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-transform"),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        let v = format!("bytes {}-{}/{size}", start, start + len - 1);
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(crate::media(response))
}

/// Zero bytes to follow a transcoded body that ended before its promised length.
static ZEROS: [u8; 16 * 1024] = [0; 16 * 1024];

/// Sends `response`'s body as exactly `len` bytes under `Content-Length: len`, for a transcoded
/// stream whose length is promised before it is encoded (Subsonic's `estimateContentLength`):
/// a shorter body is followed by zero bytes, a longer one is cut. A length the body breaks fails
/// the whole response instead (hyper closes the connection when a body ends early, an HTTP/2
/// proxy resets the stream, and players retry or give up), so the promise is kept. The caller
/// promises the encoder's own length where it can be known (a CBR MP3, cut only after its last
/// frame of audio) and an upper bound otherwise (ADTS readers skip the zeros while they look for
/// another frame). A body that fails (the stream cut at sign-out) still fails.
pub fn exact_length(response: Response, len: u64) -> Response {
    let (mut parts, body) = response.into_parts();
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let body = Body::from_stream(ExactLength {
        inner: body.into_data_stream(),
        left: len,
        ended: false,
    });
    Response::from_parts(parts, body)
}

struct ExactLength<S> {
    inner: S,
    left: u64,
    ended: bool,
}

impl<S, E> Stream for ExactLength<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        if !self.ended {
            match Pin::new(&mut self.inner).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(mut bytes))) => {
                    let n = bytes.len() as u64;
                    if n > self.left {
                        tracing::debug!(
                            over = n - self.left,
                            "a transcoded stream outgrew the length promised for it: its end is cut"
                        );
                        bytes.truncate(usize::try_from(self.left).unwrap_or(usize::MAX));
                    }
                    self.left -= bytes.len() as u64;
                    return Poll::Ready(Some(Ok(bytes)));
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => self.ended = true,
            }
        }
        let n = usize::try_from(self.left).map_or(ZEROS.len(), |left| left.min(ZEROS.len()));
        self.left -= n as u64;
        Poll::Ready(Some(Ok(Bytes::from_static(&ZEROS[..n]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    async fn collect(
        chunks: Vec<Result<&'static [u8], &'static str>>,
        len: u64,
    ) -> Vec<Result<Vec<u8>, &'static str>> {
        let inner = futures::stream::iter(chunks.into_iter().map(|c| c.map(Bytes::from_static)));
        ExactLength {
            inner,
            left: len,
            ended: false,
        }
        .map(|r| r.map(|b| b.to_vec()))
        .collect()
        .await
    }

    fn joined(parts: &[Result<Vec<u8>, &'static str>]) -> Vec<u8> {
        parts.iter().flat_map(|p| p.clone().unwrap()).collect()
    }

    #[tokio::test]
    async fn a_body_is_padded_with_zeros_or_cut_to_the_promised_length() {
        let short = collect(vec![Ok(b"abc"), Ok(b"de")], 40_000).await;
        let bytes = joined(&short);
        assert_eq!(bytes.len(), 40_000);
        assert_eq!(&bytes[..5], b"abcde");
        assert!(bytes[5..].iter().all(|b| *b == 0));
        assert_eq!(
            joined(&collect(vec![Ok(b"abc"), Ok(b"def")], 4).await),
            b"abcd"
        );
        assert_eq!(
            joined(&collect(vec![Ok(b"abcd"), Ok(b"ef")], 4).await),
            b"abcd"
        );
        assert_eq!(joined(&collect(vec![Ok(b"abcd")], 4).await), b"abcd");
    }

    #[tokio::test]
    async fn a_failing_body_still_fails() {
        let parts = collect(vec![Ok(b"ab"), Err("cut"), Ok(b"cd")], 100).await;
        assert_eq!(parts[1], Err("cut"));
    }
}
