//! A small safe wrapper over the system libFLAC's stream encoder.
//!
//! [`FlacStreamEncoder`] takes interleaved PCM a block at a time and writes a complete FLAC
//! stream into any `Write + Seek` sink: "fLaC", STREAMINFO, a SEEKTABLE (a point every ten
//! seconds) when the length is known ahead, a VORBIS_COMMENT holding libFLAC's vendor string,
//! then the frames. [`FlacStreamEncoder::finish`] rewrites STREAMINFO with the real sample count
//! and the MD5 of the audio, and fills in the seek points. libFLAC buffers one block (at most a
//! few thousand frames), so memory does not grow with the stream.
//!
//! Only clef-media's optional `libflac` feature uses this crate; Clef's default build encodes FLAC
//! in pure Rust and needs no C library.
//!
//! # Why this crate allows `unsafe`
//!
//! The workspace forbids `unsafe_code`, but calling a C library cannot be done without it. So
//! the FFI is kept here (as the AAC encoder's is in `clef-fdk-aac`), in one private module
//! (`encoder`) that alone is allowed to use `unsafe`: the crate denies it everywhere else, every unsafe block carries a `// SAFETY:`
//! comment (clippy's `undocumented_unsafe_blocks` checks that), and the public API is safe. It
//! upholds libFLAC's rules itself: the encoder is configured only before it is initialised,
//! samples are a whole number of frames within the bit depth, the sink that libFLAC's callbacks
//! write to outlives the encoder, and a panic in the sink never unwinds through C.
//!
//! # Linking
//!
//! `libflac-sys` is used without its default features, so it links the system's shared libFLAC
//! (Debian: `libflac-dev`) rather than building one with cmake.

use std::io;

// The only module allowed to use `unsafe`: the calls into libFLAC and its callbacks.
#[allow(unsafe_code)]
mod encoder;

pub use encoder::FlacStreamEncoder;

/// The stream to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderConfig {
    /// Interleaved channels, 1 to 8.
    pub channels: u32,
    /// Significant bits of each sample (16 or 24 in Clef; libFLAC takes 4 to 32).
    pub bits_per_sample: u32,
    /// Frames per second.
    pub sample_rate: u32,
    /// Compression level 0 to 8, as `flac -0` … `flac -8`.
    pub level: u32,
    /// Frames the stream will hold, when known ahead. It sizes the seek table and the first
    /// STREAMINFO; `finish` writes the real count whatever this says.
    pub total_frames: Option<u64>,
}

impl EncoderConfig {
    /// A stream of `channels` × `bits_per_sample` at `sample_rate`, level 5, length unknown.
    pub fn new(channels: u32, bits_per_sample: u32, sample_rate: u32) -> Self {
        Self {
            channels,
            bits_per_sample,
            sample_rate,
            level: 5,
            total_frames: None,
        }
    }
}

/// What can go wrong while encoding.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is outside what libFLAC (or this wrapper) accepts.
    #[error("invalid setting: {0}")]
    Setting(String),
    /// The samples given are not a whole number of frames, or one is outside the bit depth.
    #[error("invalid input: {0}")]
    Input(String),
    /// The sink failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// libFLAC failed (its state, as it describes it).
    #[error("libFLAC: {0}")]
    Encoder(String),
}
