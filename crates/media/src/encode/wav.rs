//! WAV output through hound: 16- or 24-bit integer PCM.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::Encoder;
use crate::{AudioBlock, MediaError, OutputSpec};

const NAME: &str = "WAV";

struct WavEncoder {
    path: PathBuf,
    writer: hound::WavWriter<BufWriter<File>>,
}

pub(super) fn create(path: &Path, spec: &OutputSpec) -> Result<Box<dyn Encoder>, MediaError> {
    let wav_spec = hound::WavSpec {
        channels: spec.channels,
        sample_rate: spec.sample_rate,
        bits_per_sample: spec.bits_per_sample as u16,
        sample_format: hound::SampleFormat::Int,
    };
    let writer = hound::WavWriter::create(path, wav_spec).map_err(|e| to_error(path, e))?;
    Ok(Box::new(WavEncoder {
        path: path.to_path_buf(),
        writer,
    }))
}

fn to_error(path: &Path, e: hound::Error) -> MediaError {
    match e {
        hound::Error::IoError(e) => MediaError::io(path, e),
        other => MediaError::encode(NAME, other),
    }
}

impl Encoder for WavEncoder {
    fn write(&mut self, block: &AudioBlock) -> Result<(), MediaError> {
        if self.writer.spec().bits_per_sample == 16 {
            // hound's 16-bit block writer skips the per-sample format checks (a third of the
            // time of a FLAC → WAV export).
            let n = u32::try_from(block.samples.len())
                .map_err(|_| MediaError::encode("WAV", "block too large"))?;
            let mut w = self.writer.get_i16_writer(n);
            for &sample in &block.samples {
                // Samples are already 16-bit here; the cast only changes the container type.
                w.write_sample(sample as i16);
            }
            return w.flush().map_err(|e| to_error(&self.path, e));
        }
        for &sample in &block.samples {
            self.writer
                .write_sample(sample)
                .map_err(|e| to_error(&self.path, e))?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<PathBuf, MediaError> {
        let Self { path, writer } = *self;
        writer.finalize().map_err(|e| to_error(&path, e))?;
        Ok(path)
    }
}
