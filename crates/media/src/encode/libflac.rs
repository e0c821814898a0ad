//! FLAC output through the system libFLAC (the `libflac` feature), by way of `clef-libflac`'s
//! safe wrapper: libFLAC holds one block, writes each frame as it fills, and at the end rewrites
//! STREAMINFO (length, MD5) and the seek table it was given room for.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use clef_libflac::{EncoderConfig, FlacStreamEncoder};

use super::Encoder;
use crate::{AudioBlock, FormatSettings, MediaError, OutputSpec};

const NAME: &str = "FLAC";

struct LibFlacEncoder {
    path: PathBuf,
    encoder: FlacStreamEncoder<BufWriter<File>>,
}

/// Creates a libFLAC encoder writing to `path`.
pub fn create(path: &Path, spec: &OutputSpec) -> Result<Box<dyn Encoder>, MediaError> {
    let FormatSettings::Flac { level, .. } = spec.format else {
        return Err(MediaError::encode(NAME, "created with non-FLAC settings"));
    };
    let config = EncoderConfig {
        channels: u32::from(spec.channels),
        bits_per_sample: spec.bits_per_sample,
        sample_rate: spec.sample_rate,
        level: u32::from(level),
        total_frames: spec.total_frames,
    };
    let encoder = FlacStreamEncoder::create(path, &config).map_err(|e| to_error(path, e))?;
    Ok(Box::new(LibFlacEncoder {
        path: path.to_path_buf(),
        encoder,
    }))
}

fn to_error(path: &Path, e: clef_libflac::Error) -> MediaError {
    match e {
        clef_libflac::Error::Io(e) => MediaError::io(path, e),
        clef_libflac::Error::Setting(reason) => {
            MediaError::UnsupportedSetting(format!("FLAC: {reason}"))
        }
        other => MediaError::encode(NAME, other),
    }
}

impl Encoder for LibFlacEncoder {
    fn write(&mut self, block: &AudioBlock) -> Result<(), MediaError> {
        self.encoder
            .process_interleaved(&block.samples)
            .map_err(|e| to_error(&self.path, e))
    }

    fn finish(self: Box<Self>) -> Result<PathBuf, MediaError> {
        let Self { path, encoder } = *self;
        encoder.finish().map_err(|e| to_error(&path, e))?;
        Ok(path)
    }
}
