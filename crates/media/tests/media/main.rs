//! Integration tests of the media pipeline against real files made and checked by ffmpeg.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod aac;
mod alac;
mod common;
mod convert;
mod errors;
mod flac;
mod flac_roundtrip;
mod odd_sources;
mod opus;
mod pcm_copy;
mod resample;
mod stream;
