//! Sample-rate conversion between the decoder and the encoder, with rubato's FFT resampler in
//! fixed input chunks: its start-up delay is dropped and its tail flushed, so a track of n
//! frames comes out with exactly ⌈n × out / in⌉ frames, lined up with the source.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::MediaError;

/// Input frames per resampler call.
const CHUNK: usize = 1024;

pub(crate) struct RateConverter {
    fft: Fft<f64>,
    channels: usize,
    /// Full scale of the samples, 2^(bits − 1).
    scale: f64,
    from: u64,
    to: u64,
    /// Interleaved input not yet resampled.
    pending: Vec<f64>,
    out: Vec<f64>,
    ready: Vec<i32>,
    /// Output frames of start-up delay still to drop.
    to_skip: usize,
    frames_in: u64,
    frames_out: u64,
}

fn failed(e: impl std::fmt::Display) -> MediaError {
    MediaError::encode("resampler", e)
}

impl RateConverter {
    pub(crate) fn new(from: u32, to: u32, channels: u16, bits: u32) -> Result<Self, MediaError> {
        let channels = usize::from(channels.max(1));
        let fft = Fft::<f64>::new(
            from as usize,
            to as usize,
            CHUNK,
            channels,
            FixedSync::Input,
        )
        .map_err(failed)?;
        let to_skip = fft.output_delay();
        let out = vec![0.0; fft.output_frames_max() * channels];
        Ok(RateConverter {
            fft,
            channels,
            scale: f64::from(1u32 << (bits - 1)),
            from: u64::from(from),
            to: u64::from(to),
            pending: Vec::with_capacity(CHUNK * channels * 2),
            out,
            ready: Vec::new(),
            to_skip,
            frames_in: 0,
            frames_out: 0,
        })
    }

    /// Resamples what it can of `samples` (interleaved, at the source's depth) and returns the
    /// output ready so far, at the same depth.
    pub(crate) fn push(&mut self, samples: &[i32]) -> Result<&[i32], MediaError> {
        self.frames_in += (samples.len() / self.channels) as u64;
        let scale = self.scale;
        self.pending
            .extend(samples.iter().map(|&s| f64::from(s) / scale));
        self.ready.clear();
        let mut used = 0;
        while self.pending.len() - used >= CHUNK * self.channels {
            self.run(used, CHUNK, u64::MAX)?;
            used += CHUNK * self.channels;
        }
        self.pending.drain(..used);
        Ok(&self.ready)
    }

    /// Resamples the rest and returns the last output: exactly enough for the whole input.
    pub(crate) fn finish(&mut self) -> Result<&[i32], MediaError> {
        self.ready.clear();
        let wanted = (self.frames_in * self.to).div_ceil(self.from);
        let left = self.pending.len() / self.channels;
        self.pending.resize(CHUNK * self.channels, 0.0);
        self.run(0, left, wanted)?;
        // The tail still inside the resampler comes out as silence is fed in.
        self.pending.fill(0.0);
        // The delay is a few chunks at most; a resampler that never gets there is broken.
        for _ in 0..64 {
            if self.frames_out >= wanted {
                return Ok(&self.ready);
            }
            self.run(0, 0, wanted)?;
        }
        Err(failed("the resampler did not flush"))
    }

    /// Resamples `frames` input frames at `pending[start..]` (zeros after them), keeping at
    /// most `limit` output frames in all.
    fn run(&mut self, start: usize, frames: usize, limit: u64) -> Result<(), MediaError> {
        let input = InterleavedSlice::new(
            &self.pending[start..start + CHUNK * self.channels],
            self.channels,
            CHUNK,
        )
        .map_err(failed)?;
        let capacity = self.out.len() / self.channels;
        let mut output =
            InterleavedSlice::new_mut(&mut self.out, self.channels, capacity).map_err(failed)?;
        let indexing = Indexing {
            input_offset: 0,
            output_offset: 0,
            partial_len: (frames < CHUNK).then_some(frames),
            active_channels_mask: None,
        };
        let (_, produced) = self
            .fft
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(failed)?;
        let skip = self.to_skip.min(produced);
        self.to_skip -= skip;
        let room = usize::try_from(limit.saturating_sub(self.frames_out)).unwrap_or(usize::MAX);
        let keep = (produced - skip).min(room);
        let max = self.scale - 1.0;
        let scale = self.scale;
        self.ready.extend(
            self.out[skip * self.channels..(skip + keep) * self.channels]
                .iter()
                .map(|&x| (x * scale).round().clamp(-scale, max) as i32),
        );
        self.frames_out += keep as u64;
        Ok(())
    }
}
