//! One element of a packet: a single channel (SCE) or a pair (CPE), compressed (stereo mixing,
//! low bytes of 24-bit samples set aside, adaptive prediction, Rice coding) or, when that does
//! not pay, the samples as they are.

use super::bits::BitWriter;
use super::predict::{self, Coefs, DEN_SHIFT};
use super::rice;

/// Element tags.
pub(super) const SCE: u32 = 0;
pub(super) const CPE: u32 = 1;
pub(super) const END: u32 = 7;

/// Buffers reused from packet to packet.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    coded: [Vec<i32>; 2],
    residuals: Vec<i32>,
    window: predict::Window,
}

/// How a pair is turned into the two coded channels `u` and `v`, with the decoder's `mixBits`
/// and `mixRes`: it rebuilds `l = u + v - ((mixRes · v) >> mixBits)`, `r = l - v` (or takes `u`
/// and `v` as left and right when `mixRes` is 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mix {
    /// Left and right as they are.
    Independent,
    /// Left and left − right.
    LeftSide,
    /// Right and left − right (a weight of 1 shifted by 31 is −1 for negative `v`, else 0).
    RightSide,
    /// ⌊(left + right) / 2⌋ and left − right.
    MidSide,
}

impl Mix {
    /// `(mixBits, mixRes)`.
    fn params(self) -> (u32, u32) {
        match self {
            Mix::Independent => (0, 0),
            Mix::LeftSide => (0, 1),
            Mix::RightSide => (31, 1),
            Mix::MidSide => (1, 1),
        }
    }
}

/// The mix whose channels a fixed second-order predictor leaves the smallest residuals for.
fn choose_mix(l: &[i32], r: &[i32]) -> Mix {
    let mut cost = [0u64; 4]; // left, right, side, mid
    let mut prev = [[0i64; 2]; 4];
    for (&a, &b) in l.iter().zip(r) {
        let (a, b) = (i64::from(a), i64::from(b));
        let now = [a, b, a - b, (a + b) >> 1];
        for i in 0..4 {
            cost[i] += (now[i] - 2 * prev[i][0] + prev[i][1]).unsigned_abs();
            prev[i] = [now[i], prev[i][0]];
        }
    }
    let [left, right, side, mid] = cost;
    [
        (left + right, Mix::Independent),
        (left + side, Mix::LeftSide),
        (right + side, Mix::RightSide),
        (mid + side, Mix::MidSide),
    ]
    .into_iter()
    .min_by_key(|&(c, _)| c)
    .map_or(Mix::Independent, |(_, m)| m)
}

/// Writes an element header: tag, instance, unused bits, then the partial-frame flag (and the
/// frame count after), the bytes shifted out and the uncompressed flag.
fn header(
    w: &mut BitWriter,
    tag: u32,
    instance: u32,
    frames: Option<u32>,
    shift_bytes: u32,
    escape: bool,
) {
    w.put(tag, 3);
    w.put(instance, 4);
    w.put(0, 12);
    w.put(u32::from(frames.is_some()), 1);
    w.put(shift_bytes, 2);
    w.put(u32::from(escape), 1);
    if let Some(n) = frames {
        w.put(n, 32);
    }
}

/// Writes one element holding `channels` (one or two planes of equal length) of `bits`-bit
/// samples; `partial` when the packet is shorter than the cookie's frame length.
pub(super) fn write(
    w: &mut BitWriter,
    tag: u32,
    instance: u32,
    channels: &[&[i32]],
    bits: u32,
    partial: bool,
    scratch: &mut Scratch,
) {
    let n = channels[0].len();
    let frames = partial.then_some(n as u32);
    let start = w.mark();
    let start_bits = w.len_bits();
    let compressed = compress(w, tag, instance, channels, bits, frames, scratch);
    let verbatim_bits = 23 + 32 * usize::from(partial) + n * channels.len() * bits as usize;
    if !compressed || w.len_bits() - start_bits >= verbatim_bits {
        w.rewind(start);
        header(w, tag, instance, frames, 0, true);
        let mask = u32::MAX >> (32 - bits);
        for i in 0..n {
            for plane in channels {
                w.put(plane[i] as u32 & mask, bits);
            }
        }
    }
}

/// Writes the compressed element; false if it cannot be used (see [`predict::residuals`] and
/// [`rice::encode`]).
fn compress(
    w: &mut BitWriter,
    tag: u32,
    instance: u32,
    channels: &[&[i32]],
    bits: u32,
    frames: Option<u32>,
    scratch: &mut Scratch,
) -> bool {
    // 24-bit samples keep their low byte aside, sent as it is, and the rest is predicted;
    // unless all are zero (silence), which codes to almost nothing without that byte.
    let silent = channels.iter().all(|p| p.iter().all(|&s| s == 0));
    let shift = if bits > 16 && !silent { bits - 16 } else { 0 };
    let shift_bytes = shift / 8;
    let pair = channels.len() == 2;
    let chan_bits = bits - shift + u32::from(pair);
    let Scratch {
        coded,
        residuals,
        window,
    } = scratch;
    for (plane, coded) in channels.iter().zip(coded.iter_mut()) {
        coded.clear();
        coded.extend(plane.iter().map(|&s| s >> shift));
    }
    let mix = if pair {
        let mix = choose_mix(&coded[0], &coded[1]);
        let [u, v] = coded;
        for (u, v) in u.iter_mut().zip(v.iter_mut()) {
            let (l, r) = (*u, *v);
            (*u, *v) = match mix {
                Mix::Independent => (l, r),
                Mix::LeftSide => (l, l - r),
                Mix::RightSide => (r + ((l - r) >> 31), l - r),
                Mix::MidSide => (r + ((l - r) >> 1), l - r),
            };
        }
        mix
    } else {
        Mix::Independent
    };
    header(w, tag, instance, frames, shift_bytes, false);
    let (mix_bits, mix_res) = mix.params();
    w.put(mix_bits, 8);
    w.put(mix_res, 8);
    let mut predictors: [(Coefs, usize); 2] = [([0; predict::MAX_ORDER], 4); 2];
    for (coded, (coefs, order)) in coded.iter().zip(predictors.iter_mut()).take(channels.len()) {
        (*coefs, *order) = predict::analyse(coded, window);
        w.put(0, 4); // mode: one pass of the adaptive predictor
        w.put(DEN_SHIFT, 4);
        w.put(4, 3); // pbFactor: the cookie's pb as it is
        w.put(*order as u32, 5);
        for &c in coefs[..*order].iter().rev() {
            w.put(c as u16 as u32, 16);
        }
    }
    if shift > 0 {
        let mask = (1 << shift) - 1;
        for i in 0..coded[0].len() {
            for plane in channels {
                w.put(plane[i] as u32 & mask, shift);
            }
        }
    }
    let mut ok = true;
    for (coded, (coefs, order)) in coded.iter().zip(&predictors).take(channels.len()) {
        residuals.resize(coded.len(), 0);
        ok &= predict::residuals(coded, coefs, *order, chan_bits, residuals);
        ok &= rice::encode(w, residuals, chan_bits);
    }
    ok
}
