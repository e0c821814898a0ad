//! Clef's media pipeline: streaming decoders, an encoder registry, and the conversion of one
//! track to WAV, AIFF, FLAC or MP3 with its tags and cover, for offline export.
//!
//! A conversion ([`convert`]) streams: a [`Decoder`] yields blocks of interleaved PCM, an
//! optional depth change reduces 24 to 16 bits with TPDF dither (seeded, so reproducible), an
//! [`Encoder`] from the [`EncoderRegistry`] writes each block, and lofty writes the tags. Memory
//! stays at about one codec packet or frame per stage; a job never holds a whole track.
//!
//! PCM travels as `i32` right-aligned to the stream's bit depth ([`AudioBlock`]), so lossless
//! sources stay bit-exact. Lossy sources (MP3, AAC, Vorbis) decode to floats, which are rounded
//! to 24 bits.
//!
//! Decoding is Symphonia's: FLAC, MP3, AAC and ALAC in MP4, Vorbis in Ogg, WAV and AIFF (not
//! Opus). Encoders: WAV (hound), AIFF (aifc), FLAC (flacenc, pure Rust, driven frame by frame)
//! and MP3 (LAME through mp3lame-encoder, with the LAME/Xing info frame for gapless playback).
//! Resampling is not available yet: only the source's sample rate is accepted, except that MP3
//! sources above 48 kHz are halved by LAME until they fit MPEG-1's rates.

mod convert;
mod decode;
mod dither;
mod encode;
mod error;
mod spec;
mod tags;

pub use convert::{convert, convert_with, Progress};
pub use decode::{open, Decoder, SymphoniaDecoder};
pub use dither::{DepthConverter, DitherRng};
pub use encode::{flac_config, mp3_output_rate, Encoder, EncoderConstructor, EncoderRegistry};
pub use error::MediaError;
pub use spec::{
    AudioBlock, BitDepth, FormatSettings, Mp3Mode, OutputFormat, OutputSpec, SampleRate, Settings,
    StreamSpec, MP3_CBR_KBPS,
};
pub use tags::{write_tags, Cover, TrackTags, ID3_ARTIST_SEPARATOR};
