//! Apple Lossless in M4A through the pure-Rust `alac-encoder`, 16-bit (the encoder's only
//! depth), packets of 4,096 frames; the cookie the `alac` box carries is taken at the end, when
//! the encoder knows the largest packet and the average rate.

use std::path::{Path, PathBuf};

use alac_encoder::{AlacEncoder as Alac, FormatDescription, DEFAULT_FRAME_SIZE};

use super::m4a::{M4aWriter, SampleEntry, Trim};
use super::Encoder;
use crate::{AudioBlock, FormatSettings, MediaError, OutputSpec};

const NAME: &str = "ALAC";

struct AlacEncoder {
    alac: Alac,
    input: FormatDescription,
    mux: M4aWriter,
    channels: usize,
    /// Interleaved 16-bit little-endian PCM waiting for a full packet.
    pending: Vec<u8>,
    packet: Vec<u8>,
    frames: u64,
}

pub(super) fn create(path: &Path, spec: &OutputSpec) -> Result<Box<dyn Encoder>, MediaError> {
    let FormatSettings::Alac = spec.format else {
        return Err(MediaError::encode(NAME, "created with non-ALAC settings"));
    };
    if spec.bits_per_sample != 16 {
        return Err(MediaError::encode(
            NAME,
            "the encoder writes 16-bit ALAC only",
        ));
    }
    if !(1..=8).contains(&spec.channels) {
        return Err(MediaError::UnsupportedSetting(format!(
            "ALAC holds 1 to 8 channels, the source has {}",
            spec.channels
        )));
    }
    let rate = f64::from(spec.sample_rate);
    let channels = u32::from(spec.channels);
    let output = FormatDescription::alac(rate, DEFAULT_FRAME_SIZE as u32, channels);
    let packet = vec![0; output.max_packet_size()];
    Ok(Box::new(AlacEncoder {
        alac: Alac::new(&output),
        input: FormatDescription::pcm::<i16>(rate, channels),
        mux: M4aWriter::create(path, spec.sample_rate, spec.channels)?,
        channels: usize::from(spec.channels),
        pending: Vec::with_capacity(DEFAULT_FRAME_SIZE * usize::from(spec.channels) * 2),
        packet,
        frames: 0,
    }))
}

impl AlacEncoder {
    fn packet_bytes(&self) -> usize {
        DEFAULT_FRAME_SIZE * self.channels * 2
    }

    fn encode(&mut self, bytes: usize) -> Result<(), MediaError> {
        let frames = bytes / (self.channels * 2);
        let size = self
            .alac
            .encode(&self.input, &self.pending[..bytes], &mut self.packet);
        self.mux.packet(&self.packet[..size], frames as u32)?;
        self.pending.drain(..bytes);
        Ok(())
    }
}

impl Encoder for AlacEncoder {
    fn write(&mut self, block: &AudioBlock) -> Result<(), MediaError> {
        self.frames += block.frames() as u64;
        let full = self.packet_bytes();
        for &s in &block.samples {
            self.pending
                .extend_from_slice(&(s.clamp(-32768, 32767) as i16).to_le_bytes());
            if self.pending.len() == full {
                self.encode(full)?;
            }
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<PathBuf, MediaError> {
        if !self.pending.is_empty() {
            let rest = self.pending.len();
            self.encode(rest)?;
        }
        let entry = SampleEntry::Alac {
            cookie: self.alac.magic_cookie(),
            bits: 16,
        };
        let trim = Trim {
            priming: 0,
            frames: self.frames,
        };
        self.mux.finish(entry, trim)
    }
}
