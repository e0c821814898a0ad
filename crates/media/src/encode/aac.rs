//! AAC-LC in M4A through the Fraunhofer FDK encoder, gapless: the encoder's delay and the
//! padding of the last access unit are recorded in an edit list and in `iTunSMPB`, so players
//! (and ffmpeg) play exactly the source's frames.

use std::path::{Path, PathBuf};

use clef_fdk_aac::AacEncoder as Fdk;

use super::m4a::{M4aWriter, SampleEntry, Trim};
use super::Encoder;
use crate::{AudioBlock, FormatSettings, MediaError, OutputSpec};

const NAME: &str = "AAC";

/// FDK AAC fed with the pipeline's blocks, its access units collected until taken.
pub(super) struct Feeder {
    pub(super) fdk: Fdk,
    pcm: Vec<i16>,
    pub(super) packets: Vec<Vec<u8>>,
}

impl Feeder {
    pub(super) fn new(fdk: Fdk) -> Self {
        Feeder {
            fdk,
            pcm: Vec::new(),
            packets: Vec::new(),
        }
    }

    /// Encodes one block (16-bit samples: deeper sources are dithered by the pipeline).
    pub(super) fn write(&mut self, block: &AudioBlock) -> Result<(), MediaError> {
        self.pcm.clear();
        self.pcm
            .extend(block.samples.iter().map(|&s| s.clamp(-32768, 32767) as i16));
        let packets = &mut self.packets;
        self.fdk
            .encode(&self.pcm, &mut |au| packets.push(au.to_vec()))
            .map_err(|e| MediaError::encode(NAME, e))
    }

    /// Encodes what the encoder still holds.
    pub(super) fn flush(&mut self) -> Result<(), MediaError> {
        let packets = &mut self.packets;
        self.fdk
            .flush(&mut |au| packets.push(au.to_vec()))
            .map_err(|e| MediaError::encode(NAME, e))
    }
}

struct AacEncoder {
    feeder: Feeder,
    mux: M4aWriter,
    bitrate: u32,
    frames_in: u64,
}

pub(super) fn create(path: &Path, spec: &OutputSpec) -> Result<Box<dyn Encoder>, MediaError> {
    let FormatSettings::Aac { kbps } = spec.format else {
        return Err(MediaError::encode(NAME, "created with non-AAC settings"));
    };
    if spec.bits_per_sample != 16 {
        return Err(MediaError::encode(NAME, "the encoder takes 16-bit samples"));
    }
    let bitrate = u32::from(kbps) * 1000;
    let fdk = Fdk::new(spec.sample_rate, spec.channels, bitrate)
        .map_err(|e| MediaError::encode(NAME, e))?;
    let mux = M4aWriter::create(path, spec.sample_rate, spec.channels)?;
    Ok(Box::new(AacEncoder {
        feeder: Feeder::new(fdk),
        mux,
        bitrate,
        frames_in: 0,
    }))
}

impl AacEncoder {
    fn drain(&mut self) -> Result<(), MediaError> {
        let frames = self.feeder.fdk.frame_length() as u32;
        for packet in self.feeder.packets.drain(..) {
            self.mux.packet(&packet, frames)?;
        }
        Ok(())
    }
}

impl Encoder for AacEncoder {
    fn write(&mut self, block: &AudioBlock) -> Result<(), MediaError> {
        self.frames_in += block.frames() as u64;
        self.feeder.write(block)?;
        self.drain()
    }

    fn finish(mut self: Box<Self>) -> Result<PathBuf, MediaError> {
        self.feeder.flush()?;
        self.drain()?;
        let priming = u64::from(self.feeder.fdk.delay());
        let frames = self
            .frames_in
            .min(self.mux.media_frames().saturating_sub(priming));
        let entry = SampleEntry::Aac {
            config: self.feeder.fdk.audio_specific_config().to_vec(),
            bitrate: self.bitrate,
        };
        self.mux.finish(entry, Trim { priming, frames })
    }
}
