//! The SEEKTABLE metadata block (RFC 9639, section 8.5), which lets a player jump into a long
//! file without reading it from the start.
//!
//! Room for a point every 10 s is reserved in the header from the length the source announces;
//! each point is filled in as the frame holding its target sample is written, and the block is
//! rewritten with STREAMINFO at the end. Points the stream did not reach (it was shorter than
//! announced) stay placeholders; a longer stream has no points past the reserved ones.

/// Seconds between seek points, as the reference encoder's default (`flac -S 10s`).
const SPACING_SECONDS: u64 = 10;
/// The most points reserved (72 KiB); a longer announced length spaces them further apart, so a
/// damaged header claiming days of audio cannot make the table large.
const MAX_POINTS: u64 = 4096;
/// The sample number of a placeholder point.
const PLACEHOLDER: u64 = u64::MAX;
/// Bytes per point: sample number, byte offset, frame samples.
const POINT_BYTES: usize = 8 + 8 + 2;
/// Metadata block type of a SEEKTABLE.
const BLOCK_TYPE: u8 = 3;

/// One seek point: the frame holding a target sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SeekPoint {
    /// The frame's first sample.
    sample: u64,
    /// Bytes from the first frame's header to this frame's header.
    offset: u64,
    /// Samples (per channel) in the frame.
    samples: u16,
}

/// The seek table of a stream being written.
#[derive(Debug)]
pub(crate) struct SeekTable {
    /// Samples between targets.
    spacing: u64,
    /// The next sample a point should lead to.
    next_target: u64,
    reserved: usize,
    points: Vec<SeekPoint>,
}

impl SeekTable {
    /// A table for a stream of about `expected` samples per channel at `sample_rate`, or `None`
    /// for an empty one.
    pub(crate) fn reserve(sample_rate: u32, expected: u64) -> Option<Self> {
        if expected == 0 {
            return None;
        }
        let spacing = (u64::from(sample_rate) * SPACING_SECONDS)
            .max(expected.div_ceil(MAX_POINTS))
            .max(1);
        let reserved = expected.div_ceil(spacing) as usize;
        Some(Self {
            spacing,
            next_target: 0,
            reserved,
            points: Vec::with_capacity(reserved),
        })
    }

    /// Notes a frame about to be written: its first sample, its samples per channel, and its
    /// offset in bytes from the first frame.
    pub(crate) fn frame(&mut self, first: u64, samples: usize, offset: u64) {
        let end = first + samples as u64;
        if self.points.len() >= self.reserved || self.next_target >= end {
            return;
        }
        self.points.push(SeekPoint {
            sample: first,
            offset,
            // Blocks are at most 4096 samples.
            samples: samples as u16,
        });
        while self.next_target < end {
            self.next_target += self.spacing;
        }
    }

    /// The block with its header, as it stands: filled points, then placeholders.
    pub(crate) fn block(&self, last: bool) -> Vec<u8> {
        let len = self.reserved * POINT_BYTES;
        let mut out = Vec::with_capacity(4 + len);
        out.push(if last { 0x80 } else { 0 } | BLOCK_TYPE);
        out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
        for p in &self.points {
            out.extend_from_slice(&p.sample.to_be_bytes());
            out.extend_from_slice(&p.offset.to_be_bytes());
            out.extend_from_slice(&p.samples.to_be_bytes());
        }
        for _ in self.points.len()..self.reserved {
            out.extend_from_slice(&PLACEHOLDER.to_be_bytes());
            out.extend_from_slice(&[0; 10]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(block: &[u8]) -> Vec<(u64, u64, u16)> {
        block[4..]
            .chunks(POINT_BYTES)
            .map(|p| {
                (
                    u64::from_be_bytes(p[..8].try_into().unwrap()),
                    u64::from_be_bytes(p[8..16].try_into().unwrap()),
                    u16::from_be_bytes([p[16], p[17]]),
                )
            })
            .collect()
    }

    /// Frames of 4096 samples at 1 kHz, each 100 bytes, over `seconds`.
    fn table(expected_seconds: u64, seconds: u64) -> Vec<u8> {
        let mut t = SeekTable::reserve(1000, expected_seconds * 1000).unwrap();
        let total = seconds * 1000;
        let mut first = 0;
        while first < total {
            let n = (total - first).min(4096);
            t.frame(first, n as usize, first / 4096 * 100);
            first += n;
        }
        t.block(true)
    }

    #[test]
    fn a_point_every_ten_seconds_at_the_frame_holding_it() {
        let block = table(25, 25);
        assert_eq!(block[..4], [0x83, 0, 0, 54]);
        // Targets 0, 10000 and 20000 lie in frames 0, 2 (8192..) and 4 (16384..).
        assert_eq!(
            points(&block),
            [(0, 0, 4096), (8192, 200, 4096), (16384, 400, 4096)]
        );
    }

    #[test]
    fn a_shorter_stream_leaves_placeholders_and_a_longer_one_no_extra_points() {
        let block = table(35, 15);
        assert_eq!(block[0], 0x83);
        assert_eq!(
            points(&block),
            [
                (0, 0, 4096),
                (8192, 200, 4096),
                (u64::MAX, 0, 0),
                (u64::MAX, 0, 0)
            ]
        );
        assert_eq!(points(&table(15, 40)).len(), 2);
        assert!(SeekTable::reserve(44_100, 0).is_none());
    }

    #[test]
    fn a_huge_announced_length_keeps_the_table_small() {
        let t = SeekTable::reserve(44_100, u64::MAX / 2).unwrap();
        assert_eq!(t.block(false).len(), 4 + MAX_POINTS as usize * POINT_BYTES);
        assert_eq!(t.block(false)[0], BLOCK_TYPE);
    }
}
