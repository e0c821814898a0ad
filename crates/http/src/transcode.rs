//! Transcoded streams (MP3, or AAC in ADTS): the export pipeline encoding into the response as
//! the client reads, under the same stream slot and cut-off as the original file. A transcoded
//! stream has no length and no ranges.

use std::io::BufWriter;
use std::path::PathBuf;

use axum::body::Bytes;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use clef_accounts::StreamHandle;
use clef_media::{
    FormatSettings, Mp3Mode, OutputFormat, Settings, AAC_KBPS, MP3_CBR_KBPS, STREAM_FORMATS,
};
use clef_store::TrackRecord;
use futures::StreamExt;

use crate::play::PlayError;

/// Encoded bytes held between the encoder and the client: small, so the first bytes leave
/// early and a paused client pauses the encoder.
const BUFFER: usize = 16 * 1024;
const CHUNKS_IN_FLIGHT: usize = 4;

/// What the request asks for: `None` means the original file.
pub fn requested(
    format: Option<&str>,
    bitrate: Option<u16>,
    track: &TrackRecord,
) -> Result<Option<Settings>, PlayError> {
    let bad = PlayError::BadRequest;
    let format = match format.map(str::to_ascii_lowercase).as_deref() {
        None if bitrate.is_none() => return Ok(None),
        Some("raw") => return Ok(None),
        None | Some("mp3") => OutputFormat::Mp3,
        Some("aac") => OutputFormat::Aac,
        Some(other) => {
            return Err(bad(format!(
            "format {other:?}: streams are transcoded to mp3 or aac (format=raw for the original)"
        )))
        }
    };
    if !STREAM_FORMATS.contains(&format) {
        return Err(bad(format!(
            "format {:?}: this server was built without {} encoding",
            format.name().to_ascii_lowercase(),
            format.name()
        )));
    }
    let (kbps, allowed) = match format {
        OutputFormat::Aac => (bitrate.unwrap_or(256), &AAC_KBPS[..]),
        _ => (bitrate.unwrap_or(320), &MP3_CBR_KBPS[..]),
    };
    if !allowed.contains(&kbps) {
        return Err(bad(format!("bitrate {kbps}: choose one of {allowed:?}")));
    }
    if format == OutputFormat::Aac {
        return Ok(Some(Settings::new(FormatSettings::Aac { kbps })));
    }
    // An MP3 that is already no larger than asked is sent as it is.
    if track.format == "mp3" && track.bitrate.is_some_and(|b| b <= i64::from(kbps)) {
        return Ok(None);
    }
    Ok(Some(Settings::new(FormatSettings::Mp3(Mp3Mode::Cbr(kbps)))))
}

/// A transcoder that has decoded and encoded its first block: the stream can be answered.
pub(crate) struct Started {
    stream: clef_export::pipe::PipeStream,
    content_type: &'static str,
}

/// Starts transcoding and waits until the first block is decoded and encoded, so that a file
/// that cannot be transcoded gets a clear 422 (before it takes a stream slot) instead of a 200
/// whose body breaks off. Encoding stops when the client leaves or the stream is cut.
pub(crate) async fn start(
    track: &TrackRecord,
    settings: Settings,
    place: crate::limits::Place<String>,
) -> Result<Started, PlayError> {
    let (writer, stream) = clef_export::pipe::pipe(CHUNKS_IN_FLIGHT);
    let content_type = match settings.format {
        FormatSettings::Aac { .. } => "audio/aac",
        _ => "audio/mpeg",
    };
    let source = PathBuf::from(&track.path);
    let id = track.id.clone();
    let (started, ready) = tokio::sync::oneshot::channel::<Result<(), String>>();
    tokio::task::spawn_blocking(move || {
        // The device's transcode place is held while the encoder runs.
        let _place = place;
        let errors = writer.handle();
        let out = BufWriter::with_capacity(BUFFER, writer);
        let mut started = Some(started);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            clef_media::transcode_stream_when_ready(&source, &settings, Box::new(out), &mut || {
                if let Some(tx) = started.take() {
                    let _ = tx.send(Ok(()));
                }
            })
        }));
        let failure = match run {
            Ok(Ok(_)) => return,
            // The client left or the stream was cut: nobody is listening any more.
            Ok(Err(clef_media::MediaError::Io { .. })) if started.is_none() => return,
            Ok(Err(e)) => {
                tracing::warn!(track = %id, error = %e, "transcoding failed");
                e.reason()
            }
            Err(_) => {
                tracing::error!(track = %id, "the decoder or encoder panicked");
                "the file could not be decoded".to_owned()
            }
        };
        match started.take() {
            Some(tx) => {
                let _ = tx.send(Err(failure));
            }
            None => errors.fail(failure),
        }
    });
    match ready.await {
        Ok(Ok(())) => {}
        Ok(Err(reason)) => return Err(PlayError::CannotTranscode(reason)),
        Err(_) => {
            return Err(PlayError::CannotTranscode(
                "the conversion stopped before it began".into(),
            ))
        }
    }
    Ok(Started {
        stream,
        content_type,
    })
}

impl Started {
    /// The response, whose body ends when `handle`'s stream is stopped.
    pub(crate) fn respond(self, handle: StreamHandle) -> Response {
        let Started {
            stream,
            content_type,
        } = self;
        let body = crate::stopped_body(stream.map(|r| r.map(Bytes::from)), handle);
        let mut response = Response::new(body);
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("none"));
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-transform"),
        );
        crate::media(response)
    }
}
