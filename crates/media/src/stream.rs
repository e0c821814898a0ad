//! Transcoding into a stream as the listener reads: MP3, or AAC in ADTS, with no temporary file,
//! no tags (players take those from the API) and nothing to go back to at the end.

use std::ops::ControlFlow;
use std::path::Path;

use crate::convert::pump;
use crate::{decode, Encoder, FormatSettings, MediaError, OutputFormat, Settings};

/// The formats [`transcode_stream`] writes in this build: MP3, and AAC with `fdk-aac`.
pub const STREAM_FORMATS: &[OutputFormat] = if cfg!(feature = "fdk-aac") {
    &[OutputFormat::Mp3, OutputFormat::Aac]
} else {
    &[OutputFormat::Mp3]
};

/// Transcodes `source` into `out` as it goes: MP3 (no info frame), or AAC-LC in ADTS (in builds
/// with the `fdk-aac` feature), resampled and dithered as a conversion would be. Other formats
/// are refused: they need to go back to their headers when done. Returns the source frames
/// converted; stops with `MediaError::Io` as soon as `out` fails (the listener went away).
///
/// This is blocking CPU work: call it from a blocking thread.
pub fn transcode_stream(
    source: &Path,
    settings: &Settings,
    out: Box<dyn std::io::Write + Send>,
) -> Result<u64, MediaError> {
    transcode_stream_when_ready(source, settings, out, &mut || {})
}

/// Like [`transcode_stream`], calling `ready` once the first block of audio has been decoded
/// and encoded: what can fail about the source and the settings has been tried by then, so a
/// server can wait for it before it answers, and refuse a file it cannot transcode with a clear
/// error instead of a cut body. An error returned before `ready` was called is such a refusal;
/// a source with no audio at all is one too.
pub fn transcode_stream_when_ready(
    source: &Path,
    settings: &Settings,
    out: Box<dyn std::io::Write + Send>,
    ready: &mut dyn FnMut(),
) -> Result<u64, MediaError> {
    settings.validate()?;
    let mut decoder = decode::open(source)?;
    let out_spec = settings.output_spec(decoder.spec())?;
    let mut encoder: Box<dyn Encoder> = match settings.format {
        FormatSettings::Mp3(_) => crate::encode::mp3_stream_encoder(out, &out_spec)?,
        #[cfg(feature = "fdk-aac")]
        FormatSettings::Aac { .. } => crate::encode::aac_stream_encoder(out, &out_spec)?,
        other => {
            return Err(MediaError::UnsupportedSetting(format!(
                "streams are transcoded to MP3 or AAC, not {}",
                other.format().name()
            )))
        }
    };
    let mut frames = 0u64;
    pump(
        &mut *decoder,
        &mut *encoder,
        &out_spec,
        settings,
        &mut |p| {
            if frames == 0 {
                ready();
            }
            frames = p.frames_done.max(1);
            ControlFlow::Continue(())
        },
    )?;
    if frames == 0 {
        return Err(crate::decode::corrupt(source, "no audio could be decoded"));
    }
    encoder.finish()?;
    Ok(frames)
}
