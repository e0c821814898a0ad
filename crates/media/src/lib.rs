//! Clef's media pipeline: streaming decoders, an encoder registry, and the conversion of one
//! track to WAV, AIFF, FLAC, MP3, AAC or ALAC with its tags and cover, for offline export.
//!
//! A conversion ([`convert`]) streams: a [`Decoder`] yields blocks of interleaved PCM, an
//! optional depth change reduces 24 to 16 bits with TPDF dither (seeded, so reproducible), an
//! [`Encoder`] from the [`EncoderRegistry`] writes each block, then the tags are written. Memory
//! stays at about one codec packet or frame per stage; a job never holds a whole track. The
//! output appears at its destination only when complete (hidden temporary file, then rename).
//!
//! PCM travels as `i32` right-aligned to the stream's bit depth ([`AudioBlock`]), so lossless
//! sources stay bit-exact. Lossy sources (MP3, AAC, Vorbis) decode to floats, which are rounded
//! to 24 bits.
//!
//! Decoding is Symphonia's: FLAC, MP3, AAC and ALAC in MP4, Vorbis in Ogg, WAV and AIFF (not
//! Opus). Encoders: WAV (hound), AIFF (aifc), FLAC (our own, pure Rust, see below), MP3 (LAME
//! through mp3lame-encoder, with the LAME/Xing info frame for gapless playback), AAC-LC (FDK AAC
//! through `clef-fdk-aac`, feature `fdk-aac`, on by default) and ALAC, 16- or 24-bit, by an
//! encoder of our own (`encode/alac`), the last two in M4A files from our own muxer, AAC with an edit list and `iTunSMPB` for gapless
//! playback. Tags: Vorbis comments and a PICTURE block in FLAC, ID3v2.3 in MP3 and as a chunk in
//! WAV and AIFF, iTunes items in M4A.
//!
//! # Limits
//!
//! - MP3 and AAC keep the source's rate up to 48 kHz: MP3 sources above are halved by LAME's
//!   own resampler, AAC ones resampled to 44.1 or 48 kHz by ours. Lossless outputs take any rate
//!   of [`OUTPUT_RATES`].
//! - ALAC is written at 16 or 24 bits, up to 8 channels; a 32-bit source must choose one.
//! - AAC in MP4 decodes to its exact length only when the file says what it is: Symphonia 0.6
//!   ignores MP4 edit lists, so our own box reader finds the audio track's edit list (or,
//!   without one, iTunes' `iTunSMPB` tag) and the decoder drops the encoder's priming and stops
//!   before the padding. A file with neither, or whose boxes are damaged, decodes untrimmed.
//!   An edit list counted in a coarse movie timescale (ffmpeg writes milliseconds) is taken to
//!   run to the end of the media when it comes within a tick of it. ALAC and every other
//!   source decode to the exact length.
//! - A truncated file is detected only when its container announces its length (FLAC, WAV,
//!   AIFF, MP4, MP3 with a Xing frame); the FLAC MD5 is checked at the end.
//! - ID3v2.3 has no multi-valued frames: several artists are joined with
//!   [`ID3_ARTIST_SEPARATOR`] in one TPE1. The order of ID3 frames follows lofty's and may
//!   differ between two exports of the same track.
//!
//! # Measurements
//!
//! Release build, one 5-minute 44.1 kHz 16-bit stereo FLAC, on a shared 2-core machine
//! (`/usr/bin/time`, user CPU seconds, best of three):
//!
//! | Job                                   | Clef                 | Reference                          |
//! |---------------------------------------|----------------------|------------------------------------|
//! | FLAC → MP3 CBR 320                    | 3.96 s, 5.3 MB RSS   | `ffmpeg -threads 1 … -b:a 320k`: 4.08 s, 56 MB |
//! | FLAC → MP3 VBR V2                     | 3.01 s               | `ffmpeg … -q:a 2`: 3.11 s          |
//! | FLAC → WAV / AIFF with tags and cover | 0.40 s, 4.8 MB RSS   |                                    |
//!
//! LAME dominates the MP3 jobs, so they match ffmpeg (same LAME 3.100, same default quality);
//! both outputs decode to exactly the source's 13,230,000 frames. FLAC is measured below.
//!
//! # FLAC: our own encoder
//!
//! Clef encodes FLAC with its own encoder in `encode/flac/`, written from the format
//! specification (RFC 9639) in safe Rust: 4096-sample blocks (1152 at levels 0–2), the best
//! fixed predictor and an LPC predictor (Tukey-windowed autocorrelation, Levinson–Durbin, the
//! order estimated from its error) per channel, verbatim or constant subframes when smaller,
//! stereo decorrelation chosen from an order-2 estimate (all four channels coded and compared at
//! levels 2, 7 and 8), and Rice partitions chosen from partition sums. [`FlacWriter`] streams to
//! any seekable writer; STREAMINFO (length, frame sizes, MD5) is completed at the end, and so is
//! a seek table (a point every 10 s) when the source announces its length. Measured
//! on a 4-minute 44.1 kHz/16-bit source at level 5 (`bench/export.sh flac`,
//! docs/benchmarks.md) it takes 0.57–0.69× the CPU of `flac -5` and 0.69–0.86× ffmpeg's, with
//! files the size of libFLAC's at 16 and 24 bits. (An optional build with the system libFLAC was
//! removed once these measurements showed it saved no CPU; its seek table is now written here.)

mod convert;
mod decode;
mod decode_opus;
mod dither;
mod downmix;
mod encode;
mod error;
mod resample;
mod spec;
mod stream;
mod tags;

pub use convert::{
    convert, convert_keeping_existing, convert_with, remove_partial_files, Existing, Progress,
};
pub use decode::{open, Decoder, SymphoniaDecoder};
pub use dither::{DepthConverter, DitherRng};
pub use encode::{
    clef_flac_encoder, mp3_output_rate, Encoder, EncoderConstructor, EncoderRegistry, FlacWriter,
};
pub use error::MediaError;
pub use spec::{
    aac_output_rate, AudioBlock, BitDepth, FormatSettings, Mp3Mode, OutputFormat, OutputSpec,
    SampleRate, Settings, StreamSpec, AAC_KBPS, MP3_CBR_KBPS, OUTPUT_RATES,
};
pub use stream::{transcode_stream, transcode_stream_when_ready, STREAM_FORMATS};
pub use tags::{write_tags, Cover, TrackTags, ID3_ARTIST_SEPARATOR};
