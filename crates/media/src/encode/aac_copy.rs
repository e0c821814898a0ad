//! AAC to AAC without a second generation of loss: the source's access units move into an M4A
//! of ours as they are, with the source's priming and length in the edit list and `iTunSMPB`.

use std::path::Path;

use symphonia::core::codecs::audio::well_known::CODEC_ID_AAC;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::TrackType;

use super::m4a::{M4aWriter, SampleEntry, Trim};
use crate::{MediaError, StreamSpec};

/// Frames in an AAC-LC access unit (the 960-frame variant is not copied).
const AU_FRAMES: u32 = 1024;

/// What a copy needs to know about an AAC source, when it can be copied.
pub(crate) struct AacSource {
    config: Vec<u8>,
    track_id: u32,
    /// Average bit rate of the audio in kbps.
    pub kbps: u64,
}

/// An AAC-LC source in MP4 with 1,024-frame access units, or `None`.
pub(crate) fn inspect(path: &Path, spec: &StreamSpec) -> Option<AacSource> {
    let reader = crate::decode::probe(path).ok()?;
    let track = reader.default_track(TrackType::Audio)?;
    let params = track.codec_params.as_ref()?.audio()?;
    if params.codec != CODEC_ID_AAC {
        return None;
    }
    let config = params.extra_data.as_deref()?.to_vec();
    // AudioSpecificConfig: object type 2 (AAC-LC), a rate index (15 would mean an explicit
    // rate), then the channels and the frame-length flag (0: 1,024 frames).
    let (&first, &second) = (config.first()?, config.get(1)?);
    let lc = first >> 3 == 2;
    let explicit_rate = ((first & 7) << 1 | second >> 7) == 15;
    let short_frames = (second >> 2) & 1 == 1;
    if !lc || explicit_rate || short_frames {
        return None;
    }
    let frames = spec.total_frames.filter(|&f| f > 0)?;
    let audio = mdat_bytes(path)?;
    let kbps = audio * 8 * u64::from(spec.sample_rate) / frames / 1000;
    Some(AacSource {
        config,
        track_id: track.id,
        kbps,
    })
}

/// The size of the file's `mdat` payloads: the audio of a one-track M4A.
fn mdat_bytes(path: &Path) -> Option<u64> {
    let mut file = std::fs::File::open(path).ok()?;
    let end = file.metadata().ok()?.len();
    let mut top = crate::mp4_box::Children::new(0, end);
    let mut total = 0;
    while let Some(b) = top.next(&mut file).ok()? {
        if &b.kind == b"mdat" {
            total += b.end - b.body;
        }
    }
    Some(total).filter(|&t| t > 0)
}

/// Copies the access units of `source` (checked by [`inspect`]) into a new M4A at `dest`.
/// `progress` gets the frames copied so far and may stop the copy.
pub(crate) fn copy(
    source_path: &Path,
    source: &AacSource,
    spec: &StreamSpec,
    dest: &Path,
    progress: &mut dyn FnMut(u64) -> std::ops::ControlFlow<()>,
) -> Result<(), MediaError> {
    let mut reader = crate::decode::probe(source_path)?;
    let trim = crate::mp4_gapless::read(source_path, spec.sample_rate)
        .filter(|t| t.track_id == source.track_id);
    let mut mux = M4aWriter::create(dest, spec.sample_rate, spec.channels)?;
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(crate::decode::corrupt(source_path, e)),
        };
        if packet.track_id != source.track_id {
            continue;
        }
        mux.packet(&packet.data, AU_FRAMES)?;
        if progress(mux.media_frames()).is_break() {
            return Err(MediaError::Cancelled);
        }
    }
    let media = mux.media_frames();
    let priming = trim.map_or(0, |t| t.skip);
    let frames = trim
        .and_then(|t| t.keep)
        .unwrap_or_else(|| media.saturating_sub(priming))
        .min(media.saturating_sub(priming));
    let entry = SampleEntry::Aac {
        config: source.config.clone(),
        bitrate: u32::try_from(source.kbps * 1000).unwrap_or(u32::MAX),
    };
    mux.finish(entry, Trim { priming, frames })?;
    Ok(())
}
