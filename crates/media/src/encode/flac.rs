//! FLAC output through flacenc, one frame at a time so memory stays at one block.
//!
//! flacenc's `encode_with_fixed_block_size` keeps every frame of the stream in memory, so we
//! drive its frame encoder ourselves: write a STREAMINFO placeholder, append each frame as soon
//! as a block is full, and rewrite STREAMINFO (length, MD5, frame sizes) at the end.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use flacenc::bitsink::ByteSink;
use flacenc::component::{BitRepr, Stream, StreamInfo};
use flacenc::config;
use flacenc::error::{Verified, Verify};
use flacenc::source::{Context, Fill, FrameBuf};

use super::Encoder;
use crate::{AudioBlock, FormatSettings, MediaError, OutputSpec};

const NAME: &str = "FLAC";

/// flacenc settings approximating the reference encoder's levels 0..=8: small blocks and
/// fixed predictors at the low levels, 4096-sample blocks and higher LPC orders above.
pub fn flac_config(level: u8) -> config::Encoder {
    let mut config = config::Encoder::default();
    config.multithread = false;
    config.block_size = if level <= 2 { 1152 } else { 4096 };
    let stereo = !matches!(level, 0 | 3);
    config.stereo_coding.use_leftside = stereo;
    config.stereo_coding.use_rightside = stereo;
    config.stereo_coding.use_midside = stereo;
    config.subframe_coding.use_lpc = level >= 3;
    config.subframe_coding.qlpc.lpc_order = match level {
        0..=3 => 6,
        4..=6 => 8,
        _ => 12,
    };
    config
}

struct FlacEncoder {
    path: PathBuf,
    out: BufWriter<File>,
    config: Verified<config::Encoder>,
    info: StreamInfo,
    block_size: usize,
    channels: usize,
    pending: Vec<i32>,
    frame: FrameBuf,
    context: Context,
    sink: ByteSink,
}

/// Creates a flacenc encoder writing to `path`.
pub fn create(path: &Path, spec: &OutputSpec) -> Result<Box<dyn Encoder>, MediaError> {
    let FormatSettings::Flac { level, .. } = spec.format else {
        return Err(MediaError::encode(NAME, "created with non-FLAC settings"));
    };
    let config = flac_config(level)
        .into_verified()
        .map_err(|(_, e)| MediaError::encode(NAME, e))?;
    let channels = usize::from(spec.channels);
    let bits = spec.bits_per_sample as usize;
    let mut info = StreamInfo::new(spec.sample_rate as usize, channels, bits)
        .map_err(|e| MediaError::encode(NAME, e))?;
    let block_size = config.block_size;
    info.set_block_sizes(block_size, block_size)
        .map_err(|e| MediaError::encode(NAME, e))?;
    let frame =
        FrameBuf::with_size(channels, block_size).map_err(|e| MediaError::encode(NAME, e))?;
    let file = File::create(path).map_err(|e| MediaError::io(path, e))?;
    let mut encoder = FlacEncoder {
        path: path.to_path_buf(),
        out: BufWriter::new(file),
        config,
        info,
        block_size,
        channels,
        pending: Vec::with_capacity(block_size * channels),
        frame,
        context: Context::new(bits, channels),
        sink: ByteSink::new(),
    };
    encoder.write_header()?;
    Ok(Box::new(encoder))
}

impl FlacEncoder {
    /// Writes "fLaC" and STREAMINFO; the same size every time, so the end can overwrite it.
    fn write_header(&mut self) -> Result<(), MediaError> {
        self.sink.clear();
        Stream::with_stream_info(self.info.clone())
            .write(&mut self.sink)
            .map_err(|e| MediaError::encode(NAME, e))?;
        self.out
            .write_all(self.sink.as_slice())
            .map_err(|e| MediaError::io(&self.path, e))
    }

    fn encode_pending(&mut self) -> Result<(), MediaError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        (&mut self.frame, &mut self.context)
            .fill_interleaved(&self.pending)
            .map_err(|e| MediaError::encode(NAME, e))?;
        self.pending.clear();
        let number = self.context.current_frame_number().unwrap_or(0);
        let frame = flacenc::encode_fixed_size_frame(&self.config, &self.frame, number, &self.info)
            .map_err(|e| MediaError::encode(NAME, e))?;
        self.info.update_frame_info(&frame);
        self.sink.clear();
        frame
            .write(&mut self.sink)
            .map_err(|e| MediaError::encode(NAME, e))?;
        self.out
            .write_all(self.sink.as_slice())
            .map_err(|e| MediaError::io(&self.path, e))
    }
}

impl Encoder for FlacEncoder {
    fn write(&mut self, block: &AudioBlock) -> Result<(), MediaError> {
        let full = self.block_size * self.channels;
        let mut rest = block.samples.as_slice();
        while !rest.is_empty() {
            let take = (full - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == full {
                self.encode_pending()?;
            }
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<PathBuf, MediaError> {
        self.encode_pending()?;
        // The short last frame must not count as the minimum: that would mark the stream as
        // variable-blocksize, and readers (Symphonia) then misread the frame numbers.
        self.info
            .set_block_sizes(self.block_size, self.block_size)
            .map_err(|e| MediaError::encode(NAME, e))?;
        self.info.set_total_samples(self.context.total_samples());
        self.info.set_md5_digest(&self.context.md5_digest());
        self.out
            .seek(SeekFrom::Start(0))
            .map_err(|e| MediaError::io(&self.path, e))?;
        self.write_header()?;
        self.out
            .flush()
            .map_err(|e| MediaError::io(&self.path, e))?;
        Ok(self.path)
    }
}
