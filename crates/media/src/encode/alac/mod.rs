//! Apple Lossless in M4A, 16- or 24-bit, 1 to 8 channels, by an encoder of our own written
//! from Apple's published description of the format.
//!
//! Packets hold 4,096 frames (the last one fewer, flagged as a partial frame). Channels go into
//! elements in Apple's standard order for each count: one channel element (SCE) per single
//! channel, one pair element (CPE) per pair, so 5.1 is C, L R, Ls Rs, LFE. In each element a
//! pair is mixed to the two channels a fixed predictor likes best (left/right, left/side,
//! right/side or mid/side); 24-bit samples keep their low byte aside, sent as it is, and the
//! 16 bits above are predicted; each channel gets linear-prediction coefficients of order 4 (or
//! 8 when that predicts clearly better) for the packet, which the decoder's adaptive predictor
//! then refines sample by sample, and its
//! residuals are Rice coded. An element that would come out larger than its samples is sent
//! uncompressed. The magic cookie (ALACSpecificConfig) in the `alac` box is written at the end,
//! when the largest packet and the average rate are known.

use std::path::{Path, PathBuf};

use super::m4a::{M4aWriter, SampleEntry, Trim};
use super::Encoder;
use crate::{AudioBlock, FormatSettings, MediaError, OutputSpec};

mod bits;
mod element;
mod predict;
mod rice;

use bits::BitWriter;
use element::{Scratch, CPE, END, SCE};

const NAME: &str = "ALAC";
/// Frames per packet (the cookie's `frameLength`).
const FRAME: usize = 4096;

/// For each channel count, the elements of a packet and, for each coded channel in element
/// order, the index of the input channel (WAV order: FL FR FC LFE BL BR …) it comes from.
fn layout(channels: u16) -> Option<(&'static [u32], &'static [usize])> {
    Some(match channels {
        1 => (&[SCE], &[0]),
        2 => (&[CPE], &[0, 1]),
        3 => (&[SCE, CPE], &[2, 0, 1]),
        4 => (&[SCE, CPE, SCE], &[2, 0, 1, 3]),
        5 => (&[SCE, CPE, CPE], &[2, 0, 1, 3, 4]),
        6 => (&[SCE, CPE, CPE, SCE], &[2, 0, 1, 4, 5, 3]),
        7 => (&[SCE, CPE, CPE, SCE, SCE], &[2, 0, 1, 5, 6, 4, 3]),
        8 => (&[SCE, CPE, CPE, CPE, SCE], &[2, 4, 5, 0, 1, 6, 7, 3]),
        _ => return None,
    })
}

struct AlacEncoder {
    mux: M4aWriter,
    bits: u32,
    sample_rate: u32,
    elements: &'static [u32],
    /// Input channel of each coded channel.
    order: &'static [usize],
    /// One plane per coded channel, filling up to a packet.
    planes: Vec<Vec<i32>>,
    writer: BitWriter,
    scratch: Scratch,
    frames: u64,
    largest: usize,
    bytes: u64,
}

pub(super) fn create(path: &Path, spec: &OutputSpec) -> Result<Box<dyn Encoder>, MediaError> {
    let FormatSettings::Alac { .. } = spec.format else {
        return Err(MediaError::encode(NAME, "created with non-ALAC settings"));
    };
    if !matches!(spec.bits_per_sample, 16 | 24) {
        return Err(MediaError::UnsupportedSetting(format!(
            "ALAC is written at 16 or 24 bits, not {}",
            spec.bits_per_sample
        )));
    }
    let Some((elements, order)) = layout(spec.channels) else {
        return Err(MediaError::UnsupportedSetting(format!(
            "ALAC holds 1 to 8 channels, the source has {}",
            spec.channels
        )));
    };
    Ok(Box::new(AlacEncoder {
        mux: M4aWriter::create(path, spec.sample_rate, spec.channels)?,
        bits: spec.bits_per_sample,
        sample_rate: spec.sample_rate,
        elements,
        order,
        planes: vec![Vec::with_capacity(FRAME); order.len()],
        writer: BitWriter::default(),
        scratch: Scratch::default(),
        frames: 0,
        largest: 0,
        bytes: 0,
    }))
}

impl AlacEncoder {
    /// Encodes the frames gathered in `planes` as one packet.
    fn packet(&mut self) -> Result<(), MediaError> {
        let n = self.planes[0].len();
        let w = &mut self.writer;
        w.clear();
        let mut next = 0;
        let mut instances = [0u32; 2];
        for &tag in self.elements {
            let width = if tag == CPE { 2 } else { 1 };
            let channels: Vec<&[i32]> = self.planes[next..next + width]
                .iter()
                .map(Vec::as_slice)
                .collect();
            let instance = &mut instances[tag as usize];
            element::write(
                w,
                tag,
                *instance,
                &channels,
                self.bits,
                n != FRAME,
                &mut self.scratch,
            );
            *instance += 1;
            next += width;
        }
        w.put(END, 3);
        let data = w.finish();
        self.largest = self.largest.max(data.len());
        self.bytes += data.len() as u64;
        self.mux.packet(data, n as u32)?;
        self.planes.iter_mut().for_each(Vec::clear);
        Ok(())
    }

    /// The ALACSpecificConfig: frame length, version 0, depth, the Rice parameters, channels,
    /// the longest run (255, as Apple's encoder writes), largest packet, average bit rate and
    /// sample rate.
    fn cookie(&self) -> Vec<u8> {
        let seconds = self.frames.max(1) as f64 / f64::from(self.sample_rate.max(1));
        let bitrate = (self.bytes as f64 * 8.0 / seconds).min(f64::from(u32::MAX)) as u32;
        let mut c = Vec::with_capacity(24);
        c.extend_from_slice(&(FRAME as u32).to_be_bytes());
        c.push(0);
        c.push(self.bits as u8);
        c.extend_from_slice(&[rice::PB as u8, rice::MB as u8, rice::KB as u8]);
        c.push(self.order.len() as u8);
        c.extend_from_slice(&255u16.to_be_bytes());
        c.extend_from_slice(&(self.largest as u32).to_be_bytes());
        c.extend_from_slice(&bitrate.to_be_bytes());
        c.extend_from_slice(&self.sample_rate.to_be_bytes());
        c
    }
}

impl Encoder for AlacEncoder {
    fn write(&mut self, block: &AudioBlock) -> Result<(), MediaError> {
        let channels = self.order.len();
        if usize::from(block.channels) != channels {
            return Err(MediaError::encode(NAME, "block channel count changed"));
        }
        let top = (1i32 << (self.bits - 1)) - 1;
        let whole = block.samples.len() - block.samples.len() % channels;
        let mut at = 0;
        while at < whole {
            let room = FRAME - self.planes[0].len();
            let take = room.min((whole - at) / channels);
            let part = &block.samples[at..at + take * channels];
            for (plane, &from) in self.planes.iter_mut().zip(self.order) {
                let samples = part[from..].iter().step_by(channels);
                plane.extend(samples.map(|&s| s.clamp(-top - 1, top)));
            }
            at += take * channels;
            if self.planes[0].len() == FRAME {
                self.packet()?;
            }
        }
        self.frames += block.frames() as u64;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<PathBuf, MediaError> {
        if !self.planes[0].is_empty() {
            self.packet()?;
        }
        let entry = SampleEntry::Alac {
            cookie: self.cookie(),
            bits: self.bits as u16,
        };
        let trim = Trim {
            priming: 0,
            frames: self.frames,
        };
        self.mux.finish(entry, trim)
    }
}
