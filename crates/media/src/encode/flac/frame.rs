//! A FLAC frame: the header, the choice of stereo decorrelation, the subframes and the CRCs.

use super::bits::{crc16, crc8, BitWriter};
use super::fixed;
use super::rice::param_for;
use super::subframe::{Scratch, Subframe};
use super::{Config, Stereo};

/// How the channels of a frame are coded: independently, or one of the three stereo pairs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Assignment {
    Independent,
    LeftSide,
    SideRight,
    MidSide,
}

/// Encodes blocks into frames, reusing its buffers.
pub struct FrameEncoder {
    config: Config,
    sample_rate: u32,
    bits: u32,
    channels: usize,
    /// One per channel; in stereo modes left, right, mid, side.
    subframes: Vec<Subframe>,
    scratch: Scratch,
    writer: BitWriter,
}

impl FrameEncoder {
    /// An encoder of `channels` channels of `bits`-bit audio at `sample_rate`.
    pub fn new(config: Config, sample_rate: u32, bits: u32, channels: usize) -> Self {
        let mut subframes = Vec::new();
        subframes.resize_with(channels.max(4), Subframe::default);
        Self {
            config,
            sample_rate,
            bits,
            channels,
            subframes,
            scratch: Scratch::default(),
            writer: BitWriter::default(),
        }
    }

    /// Encodes `samples` (interleaved, whole frames) as frame number `number`; returns its bytes.
    pub fn encode(&mut self, samples: &[i32], number: u64) -> &[u8] {
        let channels = self.channels;
        let n = samples.len() / channels;
        for (c, sub) in self.subframes[..channels].iter_mut().enumerate() {
            sub.samples.clear();
            sub.samples.extend(samples.iter().skip(c).step_by(channels));
        }
        let (assignment, analysed) = if channels == 2 && n > 2 {
            self.stereo(n)
        } else {
            (Assignment::Independent, false)
        };
        let order: &[usize] = match assignment {
            Assignment::Independent => &[0, 1, 2, 3, 4, 5, 6, 7][..channels],
            Assignment::LeftSide => &[0, 3],
            Assignment::SideRight => &[3, 1],
            Assignment::MidSide => &[2, 3],
        };
        if !analysed {
            for &c in order {
                let bits = self.bits + u32::from(c == 3 && channels == 2);
                self.subframes[c].analyse(bits, self.bits, &self.config, &mut self.scratch);
            }
        }

        let w = &mut self.writer;
        w.clear();
        write_header(
            w,
            n,
            number,
            self.sample_rate,
            self.bits,
            channels,
            assignment,
        );
        let crc = crc8(w.bytes());
        w.write(u32::from(crc), 8);
        for &c in order {
            self.subframes[c].write(w);
        }
        let crc = crc16(w.bytes());
        w.write(u32::from(crc), 16);
        w.bytes()
    }

    /// Chooses the stereo coding of a two-channel block of `n` samples, filling the mid and side
    /// channels; true when it analysed all four channels on the way.
    fn stereo(&mut self, n: usize) -> (Assignment, bool) {
        if self.config.stereo == Stereo::Independent {
            return (Assignment::Independent, false);
        }
        let [left, right, mid, side, ..] = &mut self.subframes[..] else {
            unreachable!("a stereo encoder has four subframes")
        };
        let (left, right) = (&left.samples, &right.samples);
        let (mid, side) = (&mut mid.samples, &mut side.samples);
        side.clear();
        side.extend(left.iter().zip(right).map(|(&l, &r)| l - r));
        mid.clear();
        mid.extend(left.iter().zip(right).map(|(&l, &r)| (l + r) >> 1));
        let exhaustive = self.config.stereo == Stereo::Exhaustive;
        let costs = if !exhaustive {
            // Rice bits of each channel's order-2 residual (folding doubles the values), at
            // most the channel's verbatim size: noise makes a side channel a bit dearer.
            let sums = fixed::stereo_sums(left, right);
            let verbatim = n as u64 * u64::from(self.bits);
            let caps = [verbatim, verbatim, verbatim, verbatim + n as u64];
            let mut costs = sums.map(|s| param_for(2 * s, n as u64 - 2).1);
            costs
                .iter_mut()
                .zip(caps)
                .for_each(|(c, cap)| *c = (*c).min(cap));
            costs
        } else {
            for c in 0..4 {
                let bits = self.bits + u32::from(c == 3);
                self.subframes[c].analyse(bits, self.bits, &self.config, &mut self.scratch);
            }
            [0, 1, 2, 3].map(|c| self.subframes[c].bits)
        };
        let [l, r, m, s] = costs;
        [
            (l + r, Assignment::Independent),
            (l + s, Assignment::LeftSide),
            (s + r, Assignment::SideRight),
            (m + s, Assignment::MidSide),
        ]
        .into_iter()
        .min_by_key(|&(bits, _)| bits)
        .map_or((Assignment::Independent, exhaustive), |(_, a)| {
            (a, exhaustive)
        })
    }
}

/// Writes the frame header up to (not including) its CRC-8.
fn write_header(
    w: &mut BitWriter,
    n: usize,
    number: u64,
    sample_rate: u32,
    bits: u32,
    channels: usize,
    assignment: Assignment,
) {
    // Sync code, a reserved zero bit, and 0 for fixed-blocksize streams.
    w.write(0xfff8, 16);
    let block_code = match n {
        192 => 1,
        576 | 1152 | 2304 | 4608 => 2 + (n / 576).ilog2(),
        256 | 512 | 1024 | 2048 | 4096 | 8192 | 16384 | 32768 => 8 + (n / 256).ilog2(),
        1..=256 => 6,
        _ => 7,
    };
    w.write(block_code, 4);
    let (rate_code, rate_extra, rate_bits) = rate_code(sample_rate);
    w.write(rate_code, 4);
    let channel_code = match assignment {
        Assignment::Independent => channels as u32 - 1,
        Assignment::LeftSide => 8,
        Assignment::SideRight => 9,
        Assignment::MidSide => 10,
    };
    w.write(channel_code, 4);
    let depth_code = match bits {
        8 => 1,
        12 => 2,
        16 => 4,
        20 => 5,
        24 => 6,
        32 => 7,
        _ => 0,
    };
    w.write(depth_code, 3);
    w.write(0, 1);
    write_coded_number(w, number);
    match block_code {
        6 => w.write(n as u32 - 1, 8),
        7 => w.write(n as u32 - 1, 16),
        _ => {}
    }
    w.write(rate_extra, rate_bits);
}

/// The frame header's sample rate code, and the value and width of its trailing field.
fn rate_code(rate: u32) -> (u32, u32, u32) {
    match rate {
        88_200 => (1, 0, 0),
        176_400 => (2, 0, 0),
        192_000 => (3, 0, 0),
        8_000 => (4, 0, 0),
        16_000 => (5, 0, 0),
        22_050 => (6, 0, 0),
        24_000 => (7, 0, 0),
        32_000 => (8, 0, 0),
        44_100 => (9, 0, 0),
        48_000 => (10, 0, 0),
        96_000 => (11, 0, 0),
        r if r % 1000 == 0 && r / 1000 <= 255 => (12, r / 1000, 8),
        r if r <= 65_535 => (13, r, 16),
        r if r % 10 == 0 && r / 10 <= 65_535 => (14, r / 10, 16),
        // Taken from STREAMINFO.
        _ => (0, 0, 0),
    }
}

/// Writes the frame number in FLAC's extension of UTF-8 (up to 36 bits in 7 bytes).
fn write_coded_number(w: &mut BitWriter, number: u64) {
    if number < 0x80 {
        w.write(number as u32, 8);
        return;
    }
    // Bytes after the first, each carrying 6 bits; the first carries 7 - bytes bits.
    let mut more = 1;
    while more < 6 && number >> (6 * more) >= 1 << (6 - more) {
        more += 1;
    }
    let lead = (0xff00u32 >> (more + 1)) & 0xff;
    w.write(lead | (number >> (6 * more)) as u32, 8);
    for i in (0..more).rev() {
        w.write(0x80 | ((number >> (6 * i)) & 0x3f) as u32, 8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coded(number: u64) -> Vec<u8> {
        let mut w = BitWriter::default();
        write_coded_number(&mut w, number);
        w.bytes().to_vec()
    }

    #[test]
    fn frame_numbers_are_coded_like_utf8() {
        assert_eq!(coded(0x41), [0x41]);
        // U+00E9 and U+20AC in UTF-8.
        assert_eq!(coded(0xe9), [0xc3, 0xa9]);
        assert_eq!(coded(0x20ac), [0xe2, 0x82, 0xac]);
        assert_eq!(coded(0x7ff), [0xdf, 0xbf]);
        assert_eq!(coded(0x800), [0xe0, 0xa0, 0x80]);
        assert_eq!(coded(0x10000), [0xf0, 0x90, 0x80, 0x80]);
        assert_eq!(coded(0x7fff_ffff), [0xfd, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf]);
        assert_eq!(coded(1 << 31), [0xfe, 0x82, 0x80, 0x80, 0x80, 0x80, 0x80]);
    }

    #[test]
    fn headers_carry_the_block_rate_channels_and_depth_codes() {
        let mut w = BitWriter::default();
        write_header(&mut w, 4096, 0, 44_100, 16, 2, Assignment::MidSide);
        assert_eq!(w.bytes(), [0xff, 0xf8, 0xc9, 0xa8, 0x00]);
        let mut w = BitWriter::default();
        write_header(&mut w, 1000, 1, 192_000, 24, 1, Assignment::Independent);
        // A 16-bit block size after the frame number: 999.
        assert_eq!(w.bytes(), [0xff, 0xf8, 0x73, 0x0c, 0x01, 0x03, 0xe7]);
        let mut w = BitWriter::default();
        write_header(&mut w, 1152, 2, 12_345, 16, 8, Assignment::Independent);
        assert_eq!(w.bytes(), [0xff, 0xf8, 0x3d, 0x78, 0x02, 0x30, 0x39]);
    }
}
