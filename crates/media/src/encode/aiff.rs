//! AIFF output through the aifc crate: 16- or 24-bit big-endian PCM.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::Encoder;
use crate::{AudioBlock, MediaError, OutputSpec};

const NAME: &str = "AIFF";

struct AiffEncoder {
    path: PathBuf,
    writer: aifc::AifcWriter<BufWriter<File>>,
    bits: u32,
    narrow: Vec<i16>,
}

pub(super) fn create(path: &Path, spec: &OutputSpec) -> Result<Box<dyn Encoder>, MediaError> {
    let sample_format = match spec.bits_per_sample {
        16 => aifc::SampleFormat::I16,
        24 => aifc::SampleFormat::I24,
        bits => return Err(MediaError::encode(NAME, format!("{bits}-bit output"))),
    };
    let info = aifc::AifcWriteInfo {
        file_format: aifc::FileFormat::Aiff,
        channels: spec.channels as i16,
        sample_rate: f64::from(spec.sample_rate),
        sample_format,
    };
    let file = File::create(path).map_err(|e| MediaError::io(path, e))?;
    let writer =
        aifc::AifcWriter::new(BufWriter::new(file), &info).map_err(|e| to_error(path, e))?;
    Ok(Box::new(AiffEncoder {
        path: path.to_path_buf(),
        writer,
        bits: spec.bits_per_sample,
        narrow: Vec::new(),
    }))
}

fn to_error(path: &Path, e: aifc::AifcError) -> MediaError {
    match e {
        aifc::AifcError::StdIoError(e) => MediaError::io(path, e),
        other => MediaError::encode(NAME, format!("{other:?}")),
    }
}

impl Encoder for AiffEncoder {
    fn write(&mut self, block: &AudioBlock) -> Result<(), MediaError> {
        let result = if self.bits == 16 {
            self.narrow.clear();
            // Samples are already 16-bit here; the cast only changes the container type.
            self.narrow.extend(block.samples.iter().map(|&s| s as i16));
            self.writer.write_samples_i16(&self.narrow)
        } else {
            self.writer.write_samples_i24(&block.samples)
        };
        result.map_err(|e| to_error(&self.path, e))
    }

    fn finish(self: Box<Self>) -> Result<PathBuf, MediaError> {
        let Self {
            path, mut writer, ..
        } = *self;
        writer.finalize().map_err(|e| to_error(&path, e))?;
        let mut inner = writer.into_inner();
        inner.flush().map_err(|e| MediaError::io(&path, e))?;
        Ok(path)
    }
}
