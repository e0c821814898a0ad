//! Clef's own FLAC encoder, in pure Rust, written from the format specification (RFC 9639).
//!
//! Each block of samples becomes one frame as soon as it is full, so memory stays at one block.
//! A channel's subframe is the smallest of constant, verbatim, the best fixed predictor and one
//! LPC predictor whose order comes from the Levinson–Durbin error ([`subframe`]); stereo
//! decorrelation is chosen from an estimate made with the order-2 fixed predictor ([`frame`]);
//! residuals are Rice coded in the partitioning their sums favour ([`rice`]). STREAMINFO is
//! written first as a placeholder and rewritten at the end with the length, the frame sizes
//! and the MD5 of the audio; so is the seek table when the length is known ([`seektable`]).

mod bits;
mod fixed;
mod frame;
mod lpc;
mod rice;
mod seektable;
mod subframe;

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use super::Encoder;
use crate::{AudioBlock, FormatSettings, MediaError, OutputSpec};
use bits::BitWriter;
use frame::FrameEncoder;
use seektable::SeekTable;

const NAME: &str = "FLAC";

/// How the two channels of a stereo block are decorrelated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Stereo {
    /// Left and right as they are.
    Independent,
    /// The pair the order-2 fixed predictor's residuals suggest.
    Estimate,
    /// The pair whose subframes, all four analysed, are smallest.
    Exhaustive,
}

/// The encoder's choices for one compression level.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    /// Samples per channel in a frame (all but the last).
    block_size: usize,
    /// The highest LPC order; 0 for fixed predictors only.
    max_lpc_order: usize,
    /// The highest Rice partition order.
    max_partition_order: u32,
    stereo: Stereo,
    /// LPC orders tried on either side of the estimated one.
    order_search: usize,
}

impl Config {
    /// The settings of a level, 0 (fastest) to 8 (smallest), after the reference encoder's
    /// presets: 1152-sample blocks and fixed predictors up to level 2, 4096-sample blocks and
    /// LPC up to order 6, 8 or 12 above.
    pub(crate) fn for_level(level: u8) -> Self {
        use Stereo::{Estimate, Exhaustive, Independent};
        let (block_size, max_lpc_order, max_partition_order, stereo, order_search) = match level {
            0 => (1152, 0, 3, Independent, 0),
            1 => (1152, 0, 3, Estimate, 0),
            2 => (1152, 0, 3, Exhaustive, 0),
            3 => (4096, 6, 4, Independent, 0),
            4 => (4096, 8, 4, Estimate, 0),
            5 => (4096, 8, 5, Estimate, 0),
            6 => (4096, 8, 6, Estimate, 1),
            7 => (4096, 12, 6, Exhaustive, 1),
            _ => (4096, 12, 6, Exhaustive, lpc::MAX_ORDER),
        };
        Self {
            block_size,
            max_lpc_order,
            max_partition_order,
            stereo,
            order_search,
        }
    }
}

/// Size of "fLaC" and the STREAMINFO block with its header.
const HEADER_BYTES: usize = 4 + 4 + 34;

/// A FLAC stream being written to `out`: blocks in, frames out, STREAMINFO (and the seek table,
/// if any) completed at the end.
pub struct FlacWriter<W: Write + Seek> {
    out: W,
    frames: FrameEncoder,
    block_size: usize,
    channels: usize,
    bits: u32,
    sample_rate: u32,
    pending: Vec<i32>,
    md5: Md5,
    md5_bytes: Vec<u8>,
    frame_number: u64,
    total_samples: u64,
    frame_sizes: Option<(u32, u32)>,
    /// Bytes of frames written so far.
    audio_bytes: u64,
    seek_table: Option<SeekTable>,
}

impl<W: Write + Seek> FlacWriter<W> {
    /// Starts a stream of `channels` (1–8) channels of `bits`-bit (8–24) samples at
    /// `sample_rate`, coded at `level` (0–8), without a seek table.
    pub fn new(
        out: W,
        level: u8,
        sample_rate: u32,
        channels: u16,
        bits: u32,
    ) -> Result<Self, String> {
        Self::start(out, level, sample_rate, channels, bits, None)
    }

    /// [`FlacWriter::new`] with a seek table: a point every 10 s of a stream of about
    /// `expected_frames` frames (samples per channel). The table is sized from it; if the stream
    /// turns out shorter, the points it did not reach are placeholders, and if longer, it has no
    /// points past the expected end.
    pub fn with_seek_table(
        out: W,
        level: u8,
        sample_rate: u32,
        channels: u16,
        bits: u32,
        expected_frames: u64,
    ) -> Result<Self, String> {
        let table = SeekTable::reserve(sample_rate, expected_frames);
        Self::start(out, level, sample_rate, channels, bits, table)
    }

    fn start(
        out: W,
        level: u8,
        sample_rate: u32,
        channels: u16,
        bits: u32,
        seek_table: Option<SeekTable>,
    ) -> Result<Self, String> {
        if !(1..=8).contains(&channels) {
            return Err(format!("{channels} channels: FLAC takes 1 to 8"));
        }
        if !(8..=24).contains(&bits) {
            return Err(format!(
                "{bits}-bit samples: this encoder takes 8 to 24 bits"
            ));
        }
        if sample_rate == 0 || sample_rate >= 1 << 20 {
            return Err(format!("sample rate {sample_rate} Hz"));
        }
        let config = Config::for_level(level.min(8));
        let channels = usize::from(channels);
        let mut writer = Self {
            out,
            frames: FrameEncoder::new(config, sample_rate, bits, channels),
            block_size: config.block_size,
            channels,
            bits,
            sample_rate,
            pending: Vec::with_capacity(config.block_size * channels),
            md5: Md5::new(),
            md5_bytes: Vec::new(),
            frame_number: 0,
            total_samples: 0,
            frame_sizes: None,
            audio_bytes: 0,
            seek_table,
        };
        let header = writer.header();
        writer.out.write_all(&header).map_err(|e| e.to_string())?;
        Ok(writer)
    }

    /// Encodes interleaved samples, whole frames of every channel. A partial frame, or a
    /// sample outside the bit depth (it would not decode as written), is refused with
    /// [`io::ErrorKind::InvalidInput`].
    pub fn write(&mut self, samples: &[i32]) -> io::Result<()> {
        let invalid = |what: String| Err(io::Error::new(io::ErrorKind::InvalidInput, what));
        if !samples.chunks_exact(self.channels).remainder().is_empty() {
            return invalid(format!(
                "{} samples: not whole {}-channel frames",
                samples.len(),
                self.channels
            ));
        }
        let (min, max) = (-(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1);
        // Or-ed comparisons rather than a min/max fold: they vectorise on baseline x86-64.
        if samples
            .iter()
            .fold(false, |out, &s| out | (s < min) | (s > max))
        {
            return invalid(format!("a sample outside {} bits", self.bits));
        }
        let full = self.block_size * self.channels;
        let mut rest = samples;
        while !rest.is_empty() {
            if self.pending.is_empty() && rest.len() >= full {
                // A whole block straight from the input.
                let (block, tail) = rest.split_at(full);
                self.encode(block)?;
                rest = tail;
                continue;
            }
            let take = (full - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == full {
                let block = std::mem::take(&mut self.pending);
                self.encode(&block)?;
                self.pending = block;
                self.pending.clear();
            }
        }
        Ok(())
    }

    fn encode(&mut self, block: &[i32]) -> io::Result<()> {
        // The MD5 is of the samples as little-endian bytes, as many as the depth needs; each
        // width has its own loop of fixed-size copies.
        self.md5_bytes.clear();
        match self.bits.div_ceil(8) {
            1 => self.md5_bytes.extend(block.iter().map(|&s| s as u8)),
            2 => block
                .iter()
                .for_each(|&s| self.md5_bytes.extend_from_slice(&(s as i16).to_le_bytes())),
            _ => block.iter().for_each(|&s| {
                let [a, b, c, _] = s.to_le_bytes();
                self.md5_bytes.extend_from_slice(&[a, b, c]);
            }),
        }
        self.md5.update(&self.md5_bytes);
        let samples = block.len() / self.channels;
        if let Some(table) = &mut self.seek_table {
            table.frame(self.total_samples, samples, self.audio_bytes);
        }
        let frame = self.frames.encode(block, self.frame_number);
        self.out.write_all(frame)?;
        self.audio_bytes += frame.len() as u64;
        let size = frame.len() as u32;
        self.frame_sizes = Some(match self.frame_sizes {
            Some((min, max)) => (min.min(size), max.max(size)),
            None => (size, size),
        });
        self.frame_number += 1;
        self.total_samples += samples as u64;
        Ok(())
    }

    /// "fLaC", STREAMINFO and the seek table, as the stream stands.
    fn header(&self) -> Vec<u8> {
        let mut w = BitWriter::default();
        for &b in b"fLaC" {
            w.write(u32::from(b), 8);
        }
        // Type 0, 34 bytes; the last metadata block unless a seek table follows (tags are added
        // afterwards).
        w.write(if self.seek_table.is_some() { 0 } else { 0x80 }, 8);
        w.write(34, 24);
        let block = self.block_size as u32;
        w.write(block, 16);
        w.write(block, 16);
        let (min, max) = self.frame_sizes.unwrap_or((0, 0));
        w.write(min, 24);
        w.write(max, 24);
        w.write(self.sample_rate, 20);
        w.write(self.channels as u32 - 1, 3);
        w.write(self.bits - 1, 5);
        w.write((self.total_samples >> 32) as u32, 4);
        w.write(self.total_samples as u32, 32);
        for b in self.md5.clone().finalize() {
            w.write(u32::from(b), 8);
        }
        let mut bytes = w.bytes().to_vec();
        debug_assert_eq!(bytes.len(), HEADER_BYTES);
        if let Some(table) = &self.seek_table {
            bytes.extend_from_slice(&table.block(true));
        }
        bytes
    }

    /// Encodes what is left as a short last frame and completes STREAMINFO and the seek
    /// table. The block sizes
    /// stay those of the full frames: a smaller minimum would mark the stream as
    /// variable-blocksize, and readers (Symphonia) would then misread the frame numbers.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.pending.is_empty() {
            let block = std::mem::take(&mut self.pending);
            self.encode(&block)?;
        }
        let header = self.header();
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&header)?;
        self.out.seek(SeekFrom::End(0))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

struct ClefFlacEncoder {
    path: PathBuf,
    writer: FlacWriter<BufWriter<File>>,
}

/// Creates Clef's FLAC encoder writing to `path`.
pub fn create(path: &Path, spec: &OutputSpec) -> Result<Box<dyn Encoder>, MediaError> {
    let FormatSettings::Flac { level, .. } = spec.format else {
        return Err(MediaError::encode(NAME, "created with non-FLAC settings"));
    };
    let file = File::create(path).map_err(|e| MediaError::io(path, e))?;
    let out = BufWriter::with_capacity(1 << 16, file);
    let (rate, channels, bits) = (spec.sample_rate, spec.channels, spec.bits_per_sample);
    // A seek table when the source announces its length (every format but Opus does).
    let writer = match spec.total_frames {
        Some(frames) => FlacWriter::with_seek_table(out, level, rate, channels, bits, frames),
        None => FlacWriter::new(out, level, rate, channels, bits),
    }
    .map_err(|e| MediaError::UnsupportedSetting(format!("FLAC: {e}")))?;
    Ok(Box::new(ClefFlacEncoder {
        path: path.to_path_buf(),
        writer,
    }))
}

impl Encoder for ClefFlacEncoder {
    fn write(&mut self, block: &AudioBlock) -> Result<(), MediaError> {
        self.writer.write(&block.samples).map_err(|e| {
            if e.kind() == io::ErrorKind::InvalidInput {
                MediaError::encode(NAME, e)
            } else {
                MediaError::io(&self.path, e)
            }
        })
    }

    fn finish(self: Box<Self>) -> Result<PathBuf, MediaError> {
        let Self { path, writer } = *self;
        writer.finish().map_err(|e| MediaError::io(&path, e))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    #[test]
    fn streaminfo_is_completed_at_the_end() {
        let mut w = FlacWriter::new(Cursor::new(Vec::new()), 5, 44_100, 2, 16).unwrap();
        let samples: Vec<i32> = (0..2 * 5000).map(|i| (i * 37 % 1001) - 500).collect();
        w.write(&samples[..999]).unwrap_err();
        w.write(&samples[..1000]).unwrap();
        w.write(&samples[1000..]).unwrap();
        let bytes = w.finish().unwrap().into_inner();
        let info = &bytes[8..42];
        assert_eq!(&bytes[..8], b"fLaC\x80\0\0\x22");
        // Block sizes 4096 and 4096; 20-bit rate, 3-bit channels - 1, 5-bit depth - 1.
        assert_eq!(info[..4], [0x10, 0x00, 0x10, 0x00]);
        assert_eq!(info[10..14], [0x0a, 0xc4, 0x42, 0xf0]);
        assert_eq!(u32::from_be_bytes(info[14..18].try_into().unwrap()), 5000);
        let mut md5 = Md5::new();
        samples
            .iter()
            .for_each(|&s| md5.update((s as i16).to_le_bytes()));
        assert_eq!(info[18..], md5.finalize()[..]);
        // Two frames: the frame sizes are their lengths, and the bytes end with the second.
        let (min, max) = (
            u32::from_be_bytes([0, info[4], info[5], info[6]]) as usize,
            u32::from_be_bytes([0, info[7], info[8], info[9]]) as usize,
        );
        assert_eq!(min + max, bytes.len() - HEADER_BYTES);
        assert_eq!(bytes[HEADER_BYTES..HEADER_BYTES + 2], [0xff, 0xf8]);
    }

    #[test]
    fn the_seek_table_points_at_frame_headers() {
        // 25 s of mono at 8 kHz announced as 35 s: points at 0, 10 and 20 s and a placeholder.
        let samples: Vec<i32> = (0..25 * 8000).map(|i| (i * 37 % 1001) - 500).collect();
        let out = Cursor::new(Vec::new());
        let mut w = FlacWriter::with_seek_table(out, 5, 8000, 1, 16, 35 * 8000).unwrap();
        w.write(&samples).unwrap();
        let bytes = w.finish().unwrap().into_inner();
        assert_eq!(bytes[4], 0, "STREAMINFO is not the last block");
        assert_eq!(bytes[HEADER_BYTES..HEADER_BYTES + 4], [0x83, 0, 0, 4 * 18]);
        let audio = HEADER_BYTES + 4 + 4 * 18;
        let points: Vec<_> = bytes[HEADER_BYTES + 4..audio].chunks(18).collect();
        for (i, p) in points[..3].iter().enumerate() {
            let sample = u64::from_be_bytes(p[..8].try_into().unwrap());
            let offset = u64::from_be_bytes(p[8..16].try_into().unwrap()) as usize;
            let target = i as u64 * 10 * 8000;
            assert!(sample <= target && target < sample + 4096, "point {i}");
            assert_eq!(sample % 4096, 0, "point {i} starts a frame");
            assert_eq!(p[16..], 4096u16.to_be_bytes());
            // The frame header: sync code, then (after the block size and rate codes and the
            // channel and depth codes) the frame number, here below 128 so one byte.
            assert_eq!(bytes[audio + offset..audio + offset + 2], [0xff, 0xf8]);
            assert_eq!(u64::from(bytes[audio + offset + 4]), sample / 4096);
        }
        assert_eq!(points[3][..8], [0xff; 8], "a placeholder");
    }

    #[test]
    fn samples_beyond_the_depth_and_bad_settings_are_refused() {
        let mut w = FlacWriter::new(Cursor::new(Vec::new()), 5, 44_100, 1, 16).unwrap();
        assert_eq!(
            w.write(&[0, 32_768]).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        assert_eq!(
            w.write(&[-32_769]).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        w.write(&[32_767, -32_768]).unwrap();
        let out = Cursor::new(Vec::new());
        assert!(FlacWriter::new(out.clone(), 5, 44_100, 9, 16).is_err());
        assert!(FlacWriter::new(out.clone(), 5, 44_100, 2, 32).is_err());
        assert!(FlacWriter::new(out, 5, 0, 2, 16).is_err());
    }
}
