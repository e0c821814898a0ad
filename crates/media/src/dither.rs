//! Bit-depth changes: TPDF dither when reducing, exact shifts when widening.

/// A small seeded generator (SplitMix64): dither needs cheap, reproducible noise, not secrecy.
#[derive(Debug, Clone)]
pub struct DitherRng(u64);

impl DitherRng {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Converts samples from one depth to another in place.
#[derive(Debug, Clone)]
pub struct DepthConverter {
    from: u32,
    to: u32,
    rng: DitherRng,
}

impl DepthConverter {
    /// A converter from `from` to `to` bits, dithering with noise seeded by `seed`.
    pub fn new(from: u32, to: u32, seed: u64) -> Self {
        Self {
            from,
            to,
            rng: DitherRng::new(seed),
        }
    }

    /// True when samples pass through unchanged.
    pub fn is_identity(&self) -> bool {
        self.from == self.to
    }

    /// Rescales `samples`. Reducing adds triangular (TPDF) noise of ±1 target LSB before
    /// rounding, which turns quantisation distortion into a constant, signal-independent hiss.
    pub fn apply(&mut self, samples: &mut [i32]) {
        if self.to >= self.from {
            let shift = self.to - self.from;
            samples.iter_mut().for_each(|s| *s <<= shift);
            return;
        }
        let shift = self.from - self.to;
        let step = 1i64 << shift;
        let max = (1i64 << (self.to - 1)) - 1;
        let min = -(1i64 << (self.to - 1));
        for s in samples {
            let bits = self.rng.next_u64();
            // Two independent uniforms in [0, step) summed give a triangle over (-step, step).
            let r1 = (bits & 0xffff_ffff) as i64 % step;
            let r2 = (bits >> 32) as i64 % step;
            let noisy = i64::from(*s) + r1 + r2 - step + step / 2;
            *s = (noisy >> shift).clamp(min, max) as i32;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn widening_is_exact_and_reducing_stays_within_the_dither() {
        let source: Vec<i32> = (-5000..5000).map(|i| i * 837).collect();
        let mut wide = source.clone();
        DepthConverter::new(24, 24, 1).apply(&mut wide);
        assert_eq!(wide, source);

        let mut narrow = source.clone();
        DepthConverter::new(24, 16, 7).apply(&mut narrow);
        let mut errors = 0i64;
        for (n, s) in narrow.iter().zip(&source) {
            let diff = i64::from(*n) * 256 - i64::from(*s);
            assert!(diff.abs() <= 384, "{n} vs {s}");
            errors += diff;
        }
        // TPDF dither has no bias: the mean error is a small fraction of an LSB.
        assert!((errors / source.len() as i64).abs() < 16);
        let mut again = source.clone();
        DepthConverter::new(24, 16, 7).apply(&mut again);
        assert_eq!(again, narrow, "the same seed gives the same noise");
        let mut other = source;
        DepthConverter::new(24, 16, 8).apply(&mut other);
        assert_ne!(other, narrow, "another seed gives other noise");
    }

    #[test]
    fn reducing_clamps_at_full_scale() {
        let mut samples = vec![(1 << 23) - 1, -(1 << 23)];
        DepthConverter::new(24, 16, 3).apply(&mut samples);
        assert!(samples[0] <= 32767 && samples[0] >= 32766);
        assert!(samples[1] >= -32768 && samples[1] <= -32767);
    }
}
