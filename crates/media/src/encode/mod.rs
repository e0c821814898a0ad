//! Encoders behind one trait, and the registry that maps an output format to its encoder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::{AudioBlock, MediaError, OutputFormat, OutputSpec};

#[cfg(feature = "fdk-aac")]
mod aac;
#[cfg(feature = "fdk-aac")]
mod adts;
mod aiff;
mod alac;
mod dsp;
mod flac;
mod m4a;
mod m4a_copy;
mod m4a_meta;
mod mp3;
mod pcm_copy;
mod wav;

pub(crate) use m4a_copy::{copy as copy_m4a, inspect as inspect_m4a, Copied, M4aSource};
pub(crate) use m4a_meta::replace_ilst;
pub(crate) use pcm_copy::{copy as copy_pcm, copyable as pcm_copyable};

#[cfg(feature = "fdk-aac")]
pub use adts::create_stream as aac_stream_encoder;
pub use flac::{create as clef_flac_encoder, FlacWriter};
pub use mp3::{create_stream as mp3_stream_encoder, mp3_output_rate};

/// Writes PCM blocks to a file in one format.
///
/// An implementer receives blocks at [`OutputSpec::bits_per_sample`] and the spec's channels,
/// must not hold more than a bounded amount of audio (one codec frame or so), and must leave a
/// complete, playable file only once [`Encoder::finish`] returns.
pub trait Encoder {
    /// Encodes one block.
    fn write(&mut self, block: &AudioBlock) -> Result<(), MediaError>;

    /// Flushes what is buffered, completes the headers and returns the path written.
    fn finish(self: Box<Self>) -> Result<PathBuf, MediaError>;
}

/// Creates an encoder writing to a path.
pub type EncoderConstructor = fn(&Path, &OutputSpec) -> Result<Box<dyn Encoder>, MediaError>;

/// The encoders available for each output format.
pub struct EncoderRegistry {
    constructors: HashMap<OutputFormat, EncoderConstructor>,
}

impl Default for EncoderRegistry {
    /// WAV (hound), AIFF (aifc), FLAC, MP3 (LAME), ALAC (our own encoder) and, with the default
    /// `fdk-aac` feature, AAC (FDK AAC). FLAC is our own (pure Rust, `encode/flac/`).
    fn default() -> Self {
        let mut registry = Self::empty();
        registry.register(OutputFormat::Wav, wav::create);
        registry.register(OutputFormat::Aiff, aiff::create);
        registry.register(OutputFormat::Flac, flac::create);
        registry.register(OutputFormat::Mp3, mp3::create);
        registry.register(OutputFormat::Alac, alac::create);
        #[cfg(feature = "fdk-aac")]
        registry.register(OutputFormat::Aac, aac::create);
        registry
    }
}

impl EncoderRegistry {
    /// A registry with no encoders.
    pub fn empty() -> Self {
        Self {
            constructors: HashMap::new(),
        }
    }

    /// Registers (or replaces) the encoder for `format`.
    pub fn register(&mut self, format: OutputFormat, constructor: EncoderConstructor) {
        self.constructors.insert(format, constructor);
    }

    /// Creates the encoder for `spec`'s format, writing to `path`.
    pub fn create(&self, path: &Path, spec: &OutputSpec) -> Result<Box<dyn Encoder>, MediaError> {
        let format = spec.format.format();
        let constructor = self.constructors.get(&format).ok_or_else(|| {
            MediaError::UnsupportedSetting(format!("no {} encoder in this build", format.name()))
        })?;
        constructor(path, spec)
    }
}
