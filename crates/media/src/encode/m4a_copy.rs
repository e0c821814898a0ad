//! AAC to AAC, and ALAC to ALAC, without encoding again: the source's packets move into an M4A
//! of ours as they are. AAC keeps its priming and length (edit list and `iTunSMPB`), so there is
//! no second generation of loss; ALAC is bit-exact either way, and a copy is many times faster.

use std::path::Path;

use symphonia::core::codecs::audio::well_known::{CODEC_ID_AAC, CODEC_ID_ALAC};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::TrackType;

use super::m4a::{M4aWriter, SampleEntry, Trim};
use crate::{MediaError, StreamSpec};

/// Frames in an AAC-LC access unit (the 960-frame variant is not copied).
const AU_FRAMES: u32 = 1024;

/// The codec of a source that can be copied, with what its sample entry needs.
pub(crate) enum Copied {
    /// AAC-LC with 1,024-frame access units: its AudioSpecificConfig and average rate in kbps.
    Aac { config: Vec<u8>, kbps: u64 },
    /// ALAC: its magic cookie and bit depth.
    Alac { cookie: Vec<u8>, bits: u16 },
}

/// What a copy needs to know about a source in MP4, when it can be copied.
pub(crate) struct M4aSource {
    pub codec: Copied,
    track_id: u32,
}

/// An AAC-LC (1,024-frame access units) or ALAC source in MP4, or `None`.
pub(crate) fn inspect(path: &Path, spec: &StreamSpec) -> Option<M4aSource> {
    let reader = crate::decode::probe(path).ok()?;
    let track = reader.default_track(TrackType::Audio)?;
    let params = track.codec_params.as_ref()?.audio()?;
    let extra = params.extra_data.as_deref()?.to_vec();
    let codec = if params.codec == CODEC_ID_AAC {
        aac(extra, path, spec)?
    } else if params.codec == CODEC_ID_ALAC {
        // ALACSpecificConfig: frame length (4 bytes), compatible version, then the bit depth.
        let bits = u16::from(*extra.get(5)?);
        Copied::Alac {
            cookie: extra,
            bits,
        }
    } else {
        return None;
    };
    Some(M4aSource {
        codec,
        track_id: track.id,
    })
}

fn aac(config: Vec<u8>, path: &Path, spec: &StreamSpec) -> Option<Copied> {
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
    Some(Copied::Aac { config, kbps })
}

/// The size of the file's `mdat` payloads: the audio of a one-track M4A.
fn mdat_bytes(path: &Path) -> Option<u64> {
    let mut file = std::fs::File::open(path).ok()?;
    let end = file.metadata().ok()?.len();
    let mut top = clef_formats::mp4_box::Children::new(0, end);
    let mut total = 0;
    while let Some(b) = top.next(&mut file).ok()? {
        if &b.kind == b"mdat" {
            total += b.end - b.body;
        }
    }
    Some(total).filter(|&t| t > 0)
}

/// Copies the packets of `source` (checked by [`inspect`]) into a new M4A at `dest`.
/// `progress` gets the frames copied so far and may stop the copy.
pub(crate) fn copy(
    source_path: &Path,
    source: &M4aSource,
    spec: &StreamSpec,
    dest: &Path,
    progress: &mut dyn FnMut(u64) -> std::ops::ControlFlow<()>,
) -> Result<(), MediaError> {
    let mut reader = crate::decode::probe(source_path)?;
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
        let frames = match source.codec {
            Copied::Aac { .. } => AU_FRAMES,
            Copied::Alac { .. } => u32::try_from(packet.dur.get())
                .map_err(|_| crate::decode::corrupt(source_path, "an ALAC packet too long"))?,
        };
        mux.packet(&packet.data, frames)?;
        if progress(mux.media_frames()).is_break() {
            return Err(MediaError::Cancelled);
        }
    }
    let media = mux.media_frames();
    let (entry, trim) = match &source.codec {
        Copied::Aac { config, kbps } => {
            let trim = clef_formats::mp4_gapless::read(source_path, spec.sample_rate)
                .filter(|t| t.track_id == source.track_id);
            let priming = trim.map_or(0, |t| t.skip);
            let frames = trim
                .and_then(|t| t.keep)
                .unwrap_or_else(|| media.saturating_sub(priming))
                .min(media.saturating_sub(priming));
            let entry = SampleEntry::Aac {
                config: config.clone(),
                bitrate: u32::try_from(kbps * 1000).unwrap_or(u32::MAX),
            };
            (entry, Trim { priming, frames })
        }
        Copied::Alac { cookie, bits } => {
            let entry = SampleEntry::Alac {
                cookie: cookie.clone(),
                bits: *bits,
            };
            let frames = spec.total_frames.unwrap_or(media).min(media);
            (entry, Trim { priming: 0, frames })
        }
    };
    mux.finish(entry, trim)?;
    Ok(())
}
