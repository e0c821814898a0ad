//! Streaming decoders: the [`Decoder`] trait and its implementation over Symphonia.

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::audio::GenericAudioBufferRef;
use symphonia::core::codecs::audio::well_known::CODEC_ID_ALAC;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

use crate::{AudioBlock, MediaError, StreamSpec};

/// Depth given to lossy sources, whose decoders produce floats: 24 bits keeps every audible bit.
pub(crate) const LOSSY_BITS: u32 = 24;

/// A source of PCM read block after block; an implementation holds at most a packet's worth of
/// audio, never the whole track.
pub trait Decoder {
    /// The stream this decoder produces, known once it is opened.
    fn spec(&self) -> &StreamSpec;

    /// The next block of interleaved samples, scaled to [`StreamSpec::bits_per_sample`], or
    /// `None` at the end of the stream. Implementations must report a stream that ends before
    /// the announced length as [`MediaError::TruncatedSource`].
    fn next_block(&mut self) -> Result<Option<&AudioBlock>, MediaError>;
}

/// Opens `path` with the decoder for it: opus-pure for Opus in Ogg, Symphonia for the rest.
pub fn open(path: &Path) -> Result<Box<dyn Decoder>, MediaError> {
    if crate::decode_opus::is_ogg_opus(path) {
        return Ok(Box::new(crate::decode_opus::OpusFileDecoder::open(path)?));
    }
    Ok(Box::new(SymphoniaDecoder::open(path)?))
}

/// Decodes FLAC, MP3, AAC and ALAC (in MP4), Vorbis (in Ogg), WAV and AIFF with Symphonia;
/// AAC in MP4 loses its priming and padding as its edit list or `iTunSMPB` tag says.
pub struct SymphoniaDecoder {
    path: PathBuf,
    reader: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    spec: StreamSpec,
    block: AudioBlock,
    /// The first block is decoded while opening (AAC only tells its layout then) and kept here.
    pending_first: bool,
    /// Frames the codec produced, and those of them given out (after the trim).
    codec_frames: u64,
    decoded_frames: u64,
    /// For AAC in MP4: the priming to drop and the frames to keep (edit list or iTunSMPB).
    skip: u64,
    keep: Option<u64>,
    finished: bool,
}

impl SymphoniaDecoder {
    /// Probes the container, picks its default audio track and decodes the first packet.
    pub fn open(path: &Path) -> Result<Self, MediaError> {
        let reader = probe(path)?;
        let unsupported = |reason: String| MediaError::UnsupportedSource {
            path: path.to_path_buf(),
            reason,
        };
        let track = reader
            .default_track(TrackType::Audio)
            .ok_or_else(|| unsupported("no audio track".into()))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| unsupported("no audio codec parameters".into()))?;
        // No MD5 verification of FLAC: it took 38% of the instructions of a FLAC → WAV export
        // (ffmpeg does not verify either). A damaged file is still refused: every frame's
        // CRC-8 and CRC-16 are checked, a frame that fails is dropped, and the length then
        // falls short of STREAMINFO's (`check_end`).
        let options = AudioDecoderOptions::default();
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &options)
            .map_err(|e| unsupported(format!("no decoder for {:?} ({e})", params.codec)))?;
        // Symphonia ignores the edit list: the trim is ours to apply.
        let trim = clef_formats::mp4_gapless::read(path, params.sample_rate.unwrap_or(0))
            .filter(|trim| trim.track_id == track.id);
        let skip = trim.map_or(0, |trim| trim.skip);
        let keep = trim.and_then(|trim| trim.keep);
        let spec = StreamSpec {
            sample_rate: params.sample_rate.unwrap_or(0),
            channels: params.channels.as_ref().map_or(0, |c| c.count() as u16),
            bits_per_sample: params
                .bits_per_sample
                .or_else(|| alac_bit_depth(params))
                .unwrap_or(0),
            total_frames: keep.or(track.num_frames.map(|n| n.saturating_sub(skip))),
            lossless: true,
        };
        let track_id = track.id;
        let mut this = Self {
            path: path.to_path_buf(),
            reader,
            decoder,
            track_id,
            spec,
            block: AudioBlock::default(),
            pending_first: false,
            codec_frames: 0,
            decoded_frames: 0,
            skip,
            keep,
            finished: false,
        };
        this.pending_first = this.decode_next()?;
        if this.spec.bits_per_sample == 0 {
            // No packet decoded and no declared depth: an empty stream, so any depth will do.
            this.spec.bits_per_sample = 16;
        }
        if this.spec.sample_rate == 0 || this.spec.channels == 0 {
            return Err(unsupported(
                "the stream has no sample rate or channels".into(),
            ));
        }
        Ok(this)
    }

    /// Decodes packets until one yields audio; false at the end of the stream.
    fn decode_next(&mut self) -> Result<bool, MediaError> {
        loop {
            if self.keep.is_some_and(|keep| self.decoded_frames >= keep) {
                return Ok(false);
            }
            let packet = match self.reader.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => return Ok(false),
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(false);
                }
                Err(e) => return Err(self.corrupt(e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let buffer = match self.decoder.decode(&packet) {
                Ok(buffer) => buffer,
                Err(e) => return Err(corrupt(&self.path, e)),
            };
            if buffer.frames() == 0 {
                continue;
            }
            let channels = buffer.spec().channels().count() as u16;
            let rate = buffer.spec().rate();
            let (bits, lossless) = sample_depth(&buffer, self.spec.bits_per_sample);
            buffer.copy_to_vec_interleaved::<i32>(&mut self.block.samples);
            self.block.channels = channels;
            if self.codec_frames == 0 {
                self.spec.channels = channels;
                self.spec.sample_rate = rate;
                self.spec.bits_per_sample = bits;
                self.spec.lossless = lossless;
            } else if channels != self.spec.channels || rate != self.spec.sample_rate {
                return Err(corrupt(
                    &self.path,
                    "the stream changes its channels or rate",
                ));
            }
            // Symphonia left-aligns samples in an i32; shift them down to the stream's depth.
            let shift = 32 - self.spec.bits_per_sample;
            if lossless {
                self.block.samples.iter_mut().for_each(|s| *s >>= shift);
            } else {
                let max = (1i64 << (shift + self.spec.bits_per_sample - 1)) - 1;
                let half = 1i64 << (shift - 1);
                for s in &mut self.block.samples {
                    *s = ((i64::from(*s) + half).min(max) >> shift) as i32;
                }
            }
            if self.trim_block() == 0 {
                continue;
            }
            self.decoded_frames += self.block.frames() as u64;
            return Ok(true);
        }
    }

    /// Drops the part of the block before `skip` or past `keep`; returns the frames left.
    fn trim_block(&mut self) -> usize {
        let frames = self.block.frames() as u64;
        let start = self.codec_frames;
        self.codec_frames += frames;
        let head = self.skip.saturating_sub(start).min(frames);
        let room = self
            .keep
            .map_or(u64::MAX, |keep| keep - self.decoded_frames);
        let kept = (frames - head).min(room);
        if kept < frames {
            let channels = usize::from(self.block.channels);
            let head = head as usize * channels;
            self.block.samples.truncate(head + kept as usize * channels);
            self.block.samples.drain(..head);
        }
        kept as usize
    }

    fn corrupt(&self, e: SymError) -> MediaError {
        corrupt(&self.path, e)
    }

    /// Checks the end of the stream against the announced length (and a checksum, for decoders
    /// that verify one).
    fn check_end(&mut self) -> Result<(), MediaError> {
        if let Some(expected) = self.spec.total_frames {
            if self.decoded_frames + end_slack(expected) < expected {
                return Err(MediaError::TruncatedSource {
                    path: self.path.clone(),
                    decoded: self.decoded_frames,
                    expected,
                });
            }
        }
        if self.decoder.finalize().verify_ok == Some(false) {
            return Err(corrupt(
                &self.path,
                "the decoded audio does not match its checksum",
            ));
        }
        Ok(())
    }
}

/// How far short of its announced length a stream may end and still count as whole. Encoders
/// and taggers get the count a frame or two wrong (an MP3 whose Xing header counts one MPEG frame,
/// 1,152 samples, more than it holds decodes cleanly everywhere); a file cut short misses far
/// more. Two MPEG frames, or a thousandth of the length when that is more.
pub(crate) fn end_slack(expected: u64) -> u64 {
    (2 * 1152).max(expected / 1000)
}

pub(crate) fn corrupt(path: &Path, reason: impl ToString) -> MediaError {
    MediaError::CorruptSource {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Symphonia 0.6's ALAC decoder does not report the depth, so read it from the
/// ALACSpecificConfig ("magic cookie", Apple's ALAC spec): a 24-byte record, possibly behind
/// `frma` and `alac` atom headers, whose sixth byte is the bit depth.
fn alac_bit_depth(params: &AudioCodecParameters) -> Option<u32> {
    if params.codec != CODEC_ID_ALAC {
        return None;
    }
    let mut cookie = params.extra_data.as_deref()?;
    for atom in [b"frma", b"alac"] {
        if cookie.len() >= 12 && &cookie[4..8] == atom {
            cookie = &cookie[12..];
        }
    }
    cookie
        .get(5)
        .map(|&bits| u32::from(bits))
        .filter(|bits| (8..=32).contains(bits))
}

/// The depth of a decoded buffer and whether it is exact integer PCM.
fn sample_depth(buffer: &GenericAudioBufferRef<'_>, declared: u32) -> (u32, bool) {
    let width = match buffer {
        GenericAudioBufferRef::U8(_) | GenericAudioBufferRef::S8(_) => 8,
        GenericAudioBufferRef::U16(_) | GenericAudioBufferRef::S16(_) => 16,
        GenericAudioBufferRef::U24(_) | GenericAudioBufferRef::S24(_) => 24,
        GenericAudioBufferRef::U32(_) | GenericAudioBufferRef::S32(_) => 32,
        GenericAudioBufferRef::F32(_) | GenericAudioBufferRef::F64(_) => {
            return (LOSSY_BITS, false);
        }
    };
    match declared {
        0 => (width, true),
        bits => (bits.min(width), true),
    }
}

impl Decoder for SymphoniaDecoder {
    fn spec(&self) -> &StreamSpec {
        &self.spec
    }

    fn next_block(&mut self) -> Result<Option<&AudioBlock>, MediaError> {
        if self.pending_first {
            self.pending_first = false;
            return Ok(Some(&self.block));
        }
        if self.finished {
            return Ok(None);
        }
        if self.decode_next()? {
            return Ok(Some(&self.block));
        }
        self.finished = true;
        self.check_end()?;
        Ok(None)
    }
}

/// Opens `path` with Symphonia's probe: a clear "not a readable audio file" for anything else.
pub(crate) fn probe(path: &Path) -> Result<Box<dyn FormatReader>, MediaError> {
    let file = File::open(path).map_err(|e| MediaError::io(path, e))?;
    let stream = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let unsupported = |reason: String| MediaError::UnsupportedSource {
        path: path.to_path_buf(),
        reason,
    };
    symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymError::IoError(e) if e.kind() != std::io::ErrorKind::UnexpectedEof => {
                MediaError::io(path, e)
            }
            other => unsupported(format!("not a readable audio file ({other})")),
        })
}
