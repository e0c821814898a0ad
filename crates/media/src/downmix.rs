//! Folding more than two channels into stereo, for the formats that hold two (MP3 and AAC).
//!
//! Channels are taken in the WAVE/FLAC order (front left, front right, centre, LFE, back left,
//! back right, side left, side right). Centre and surrounds join both sides at −3 dB (ITU-R
//! BS.775), LFE is left out, and each side is scaled by the sum of its weights so that the mix
//! can never clip.

/// What each input channel adds to (left, right).
fn weights(channels: u16) -> Vec<(f64, f64)> {
    const H: f64 = std::f64::consts::FRAC_1_SQRT_2;
    let (l, r, c, lfe) = ((1.0, 0.0), (0.0, 1.0), (H, H), (0.0, 0.0));
    let (sl, sr) = ((H, 0.0), (0.0, H));
    match channels {
        3 => vec![l, r, c],
        4 => vec![l, r, sl, sr],
        5 => vec![l, r, c, sl, sr],
        6 => vec![l, r, c, lfe, sl, sr],
        7 => vec![l, r, c, lfe, (0.5, 0.5), sl, sr],
        8 => vec![l, r, c, lfe, sl, sr, sl, sr],
        // Layouts beyond 7.1: the front pair as it is, the rest to alternate sides.
        n => (0..n)
            .map(|i| match i {
                0 => l,
                1 => r,
                i if i % 2 == 0 => sl,
                _ => sr,
            })
            .collect(),
    }
}

/// Folds interleaved blocks of `channels` (more than two) into stereo.
#[derive(Debug)]
pub(crate) struct Downmix {
    /// Per input channel, its weight on each side, already divided by that side's total.
    weights: Vec<(f64, f64)>,
    out: Vec<i32>,
}

impl Downmix {
    pub(crate) fn new(channels: u16) -> Self {
        let w = weights(channels);
        let (sum_l, sum_r) = w.iter().fold((0.0, 0.0), |(a, b), (l, r)| (a + l, b + r));
        let weights = w
            .into_iter()
            .map(|(l, r)| (l / sum_l.max(1.0), r / sum_r.max(1.0)))
            .collect();
        Downmix {
            weights,
            out: Vec::new(),
        }
    }

    /// The stereo version of `samples` (interleaved, whole frames).
    pub(crate) fn apply(&mut self, samples: &[i32]) -> &[i32] {
        let n = self.weights.len();
        self.out.clear();
        self.out.reserve(samples.len() / n * 2);
        for frame in samples.chunks_exact(n) {
            let (mut l, mut r) = (0.0f64, 0.0f64);
            for (s, (wl, wr)) in frame.iter().zip(&self.weights) {
                l += f64::from(*s) * wl;
                r += f64::from(*s) * wr;
            }
            self.out.push(l.round() as i32);
            self.out.push(r.round() as i32);
        }
        &self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_one_folds_into_stereo_without_clipping() {
        let mut d = Downmix::new(6);
        // Left only, centre only, LFE only, then every channel at full scale.
        let max = i32::MAX;
        let frames = [
            [1000, 0, 0, 0, 0, 0],
            [0, 0, 1000, 0, 0, 0],
            [0, 0, 0, 1000, 0, 0],
            [max, max, max, max, max, max],
        ];
        let flat: Vec<i32> = frames.iter().flatten().copied().collect();
        let out = d.apply(&flat).to_vec();
        assert_eq!(out.len(), 8);
        let side_total = 1.0 + 2.0 * std::f64::consts::FRAC_1_SQRT_2;
        assert_eq!((out[0], out[1]), ((1000.0 / side_total).round() as i32, 0));
        assert_eq!(out[2], out[3], "the centre is in the middle");
        assert_eq!((out[4], out[5]), (0, 0), "no LFE");
        assert_eq!((out[6], out[7]), (max, max), "full scale stays in range");
    }

    #[test]
    fn every_layout_up_to_eight_and_beyond_gives_two_channels() {
        for channels in 3..=10u16 {
            let mut d = Downmix::new(channels);
            let out = d.apply(&vec![100; usize::from(channels) * 3]).to_vec();
            assert_eq!(out.len(), 6, "{channels} channels");
            assert!(
                out.iter().all(|s| (99..=100).contains(s)),
                "{channels}: {out:?}"
            );
        }
    }
}
