//! ALAC's adaptive Golomb-Rice coding of prediction residuals.
//!
//! A running mean of the folded residuals picks each value's parameter `k`; a value is coded as
//! a quotient by `2^k - 1` in unary (at most eight ones, then a zero) and the remainder in `k`
//! bits, or `k - 1` when it is zero. A prefix of nine ones escapes to the value written whole.
//! When the mean falls low, a run of zeros is coded as one count, and the value after the run,
//! which cannot be zero, is coded less one.

use super::bits::BitWriter;

/// The mean's weight (the cookie's `pb`) times the channel's `pbFactor` (4) over 4.
pub(super) const PB: u32 = 40;
/// The mean's starting value (the cookie's `mb`).
pub(super) const MB: u32 = 10;
/// The largest `k` (the cookie's `kb`).
pub(super) const KB: u32 = 14;
/// The longest zero run coded as one count; decoders disagree about 65,535, so stay below.
const MAX_RUN: usize = 65_534;

/// Writes `value` with parameter `k`, escaping to `escape_bits` bits when the quotient is nine
/// or more.
#[inline]
fn put_value(w: &mut BitWriter, value: u32, k: u32, escape_bits: u32) {
    let m = (1u32 << k) - 1;
    if value >= 9 * m {
        w.put(0x1ff, 9);
        w.put(value, escape_bits);
        return;
    }
    let q = value / m;
    let r = value - q * m;
    // q ones and a zero.
    let prefix = ((1u32 << q) - 1) << 1;
    if r == 0 {
        w.put(prefix << (k - 1), q + k);
    } else {
        w.put((prefix << k) | (r + 1), q + 1 + k);
    }
}

/// Codes `residuals`, whose values fit in `chan_bits` signed bits. Returns false when the
/// stream reaches the one case decoders read differently (a value of 65,536 after a zero run),
/// so the caller must not use what was written.
pub(super) fn encode(w: &mut BitWriter, residuals: &[i32], chan_bits: u32) -> bool {
    let n = residuals.len();
    let mut mean = MB;
    let mut after_run = 0u32;
    let mut ok = true;
    let mut i = 0;
    while i < n {
        let k = (31 - ((mean >> 9) + 3).leading_zeros()).min(KB);
        let d = residuals[i];
        let folded = ((d << 1) ^ (d >> 31)) as u32;
        ok &= !(after_run == 1 && folded == 0x1_0000);
        put_value(w, folded - after_run, k, chan_bits);
        mean = if folded > 0xffff {
            0xffff
        } else {
            mean + PB * folded - ((PB * mean) >> 9)
        };
        after_run = 0;
        i += 1;
        if mean < 128 && i < n {
            let run = residuals[i..]
                .iter()
                .take(MAX_RUN)
                .take_while(|&&r| r == 0)
                .count();
            let k = (mean.leading_zeros() - 24 + ((mean + 16) >> 6)).min(KB);
            put_value(w, run as u32, k, 16);
            i += run;
            after_run = 1;
            mean = 0;
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader and decoder written from the format, independent of the encoder above.
    struct Reader<'a> {
        bytes: &'a [u8],
        pos: usize,
    }

    impl Reader<'_> {
        fn bit(&mut self) -> u32 {
            let b = u32::from(self.bytes[self.pos / 8] >> (7 - self.pos % 8) & 1);
            self.pos += 1;
            b
        }

        fn bits(&mut self, n: u32) -> u32 {
            (0..n).fold(0, |v, _| (v << 1) | self.bit())
        }

        fn value(&mut self, k: u32, escape_bits: u32) -> u32 {
            let mut ones = 0;
            while ones < 9 && self.bit() == 1 {
                ones += 1;
            }
            if ones == 9 {
                return self.bits(escape_bits);
            }
            let m = (1 << k) - 1;
            let top = self.bits(k - 1);
            if top == 0 {
                ones * m
            } else {
                ones * m + ((top << 1) | self.bit()) - 1
            }
        }

        fn residuals(&mut self, n: usize, chan_bits: u32) -> Vec<i32> {
            let (mut out, mut mean, mut toggle) = (Vec::new(), MB, 0);
            while out.len() < n {
                let k = (31 - ((mean >> 9) + 3).leading_zeros()).min(KB);
                let v = self.value(k, chan_bits) + toggle;
                out.push((v >> 1) as i32 ^ -((v & 1) as i32));
                mean = if v > 0xffff {
                    0xffff
                } else {
                    mean + PB * v - PB * mean / 512
                };
                toggle = 0;
                if mean < 128 && out.len() < n {
                    let k = (mean.leading_zeros() - 24 + ((mean + 16) >> 6)).min(KB);
                    let run = self.value(k, 16) as usize;
                    assert!(out.len() + run < n || out.len() + run == n);
                    out.extend(std::iter::repeat_n(0, run));
                    toggle = u32::from(run < 0xffff);
                    mean = 0;
                }
            }
            out
        }
    }

    fn round_trip(residuals: &[i32], chan_bits: u32) -> usize {
        let mut w = BitWriter::default();
        assert!(encode(&mut w, residuals, chan_bits));
        let bits = w.len_bits();
        let bytes = w.finish().to_vec();
        let mut r = Reader {
            bytes: &bytes,
            pos: 0,
        };
        assert_eq!(r.residuals(residuals.len(), chan_bits), residuals);
        assert_eq!(r.pos, bits, "the decoder reads exactly what was written");
        bits
    }

    fn noise(n: usize, amplitude: i32) -> Vec<i32> {
        let mut x = 0x9e37_79b9u32;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 8) as i32 % (2 * amplitude) - amplitude
            })
            .collect()
    }

    #[test]
    fn small_values_code_short_and_large_ones_escape() {
        round_trip(&[0], 16);
        round_trip(
            &[-1, 1, -2, 2, 3, -3, 100, -100, 32767, -32768, 0, 0, 5],
            16,
        );
        round_trip(&[65_535, -65_536, 0, 1, 0, 0, 0, 0, -65_536], 17);
        let quiet = noise(4096, 4);
        let loud = noise(4096, 30_000);
        let quiet_bits = round_trip(&quiet, 16);
        let loud_bits = round_trip(&loud, 16);
        assert!(
            quiet_bits < 4096 * 4,
            "{quiet_bits} bits for values within ±4"
        );
        assert!(
            loud_bits > 4096 * 14 && loud_bits < 4096 * 18,
            "{loud_bits}"
        );
    }

    #[test]
    fn zero_runs_cost_little() {
        let mut v = vec![0; 4096];
        assert!(round_trip(&v, 16) < 64, "silence is a few runs");
        v[1000] = 7;
        v[1001] = -1;
        v[4095] = 3;
        round_trip(&v, 16);
        let mut bursts = noise(4096, 50);
        bursts[100..3000].fill(0);
        round_trip(&bursts, 17);
    }

    #[test]
    fn the_ambiguous_value_after_a_run_is_reported() {
        let mut w = BitWriter::default();
        // 32,768 folds to 65,536; the first value drives the mean down to start a run.
        assert!(!encode(&mut w, &[0, 0, 32_768, 5], 17));
        w.clear();
        assert!(encode(&mut w, &[0, 0, 32_767, 5], 17));
    }
}
