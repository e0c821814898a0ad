//! Linear prediction: the Tukey window, autocorrelation, Levinson–Durbin recursion, the choice
//! of order from the recursion's error, quantisation of the coefficients and the residual.

use crate::encode::dsp::dot;

/// The highest LPC order FLAC allows.
pub const MAX_ORDER: usize = 32;

/// A Tukey window of `len` points whose tapered part is `ratio` of the whole (0.5 at level 5).
pub fn tukey(len: usize, ratio: f64) -> Vec<f64> {
    let taper = ((ratio * len as f64) / 2.0) as usize;
    (0..len)
        .map(|i| {
            let from_edge = i.min(len - 1 - i);
            if from_edge >= taper {
                1.0
            } else {
                0.5 - 0.5 * (std::f64::consts::PI * (from_edge as f64 + 0.5) / taper as f64).cos()
            }
        })
        .collect()
}

/// Autocorrelation of `x` under `window` for lags `0..out.len()`; `windowed` is scratch space.
pub fn autocorrelation(x: &[i32], window: &[f64], windowed: &mut Vec<f64>, out: &mut [f64]) {
    windowed.clear();
    windowed.extend(x.iter().zip(window).map(|(&s, &w)| f64::from(s) * w));
    let n = windowed.len();
    for (lag, r) in out.iter_mut().enumerate() {
        if lag >= n {
            *r = 0.0;
            continue;
        }
        *r = dot(&windowed[lag..], &windowed[..n - lag]);
    }
}

/// Levinson–Durbin: from autocorrelation `r` (lags 0..=max), the predictor of every order
/// 1..=max into `coefs[order - 1][..order]` and its residual energy into `errors[order - 1]`.
/// Returns the number of orders computed (fewer when the signal is fully predicted early).
pub fn levinson(r: &[f64], coefs: &mut [[f64; MAX_ORDER]], errors: &mut [f64]) -> usize {
    let max = r.len() - 1;
    let mut err = r[0];
    if err <= 0.0 {
        return 0;
    }
    let mut a = [0.0f64; MAX_ORDER];
    for i in 0..max {
        let mut acc = r[i + 1];
        for j in 0..i {
            acc -= a[j] * r[i - j];
        }
        let k = acc / err;
        let prev = a;
        a[i] = k;
        for j in 0..i {
            a[j] = prev[j] - k * prev[i - 1 - j];
        }
        err *= 1.0 - k * k;
        coefs[i] = a;
        errors[i] = err;
        if err <= 0.0 {
            return i + 1;
        }
    }
    max
}

/// The order (1..=orders) expected to code smallest: the residual's bits, from each order's
/// error by the entropy of a Laplacian source, plus the warm-up samples and coefficients.
pub fn estimate_order(errors: &[f64], block: usize, sample_bits: u32, precision: u32) -> usize {
    let n = block as f64;
    let mut best = (f64::INFINITY, 1);
    for (i, &err) in errors.iter().enumerate() {
        let order = i + 1;
        let per_sample = if err > 0.0 {
            (0.5 * (err * 0.5 / n).log2()).max(0.0)
        } else {
            0.0
        };
        let bits =
            per_sample * (n - order as f64) + (order as u32 * (sample_bits + precision)) as f64;
        if bits < best.0 {
            best = (bits, order);
        }
    }
    best.1
}

/// Coefficients quantised to `precision` signed bits and the right shift that scales them
/// back, or `None` when the coefficients are too large for any shift FLAC allows.
///
/// Each coefficient's rounding error is carried into the next, so the quantised predictor
/// stays close to the real one as a whole.
pub fn quantize(coefs: &[f64], precision: u32, out: &mut [i32]) -> Option<u32> {
    let largest = coefs.iter().fold(0.0f64, |m, c| m.max(c.abs()));
    if largest <= 0.0 || !largest.is_finite() {
        return None;
    }
    let limit = (1i32 << (precision - 1)) - 1;
    // The shift that puts the largest coefficient just under 2^(precision - 1).
    let exponent = largest.log2().floor() as i32 + 1;
    let shift = (precision as i32 - 1 - exponent).min(15);
    if shift < 0 {
        return None;
    }
    let scale = f64::from(1u32 << shift);
    let mut carry = 0.0;
    for (q, &c) in out.iter_mut().zip(coefs) {
        let exact = c * scale + carry;
        let rounded = exact.round().clamp(f64::from(-limit - 1), f64::from(limit));
        carry = exact - rounded;
        *q = rounded as i32;
    }
    Some(shift as u32)
}

/// True when the residual of `coefs` at `precision` bits on samples of `sample_bits` can be
/// computed in 32-bit arithmetic: no sum of products can overflow.
pub fn fits_32_bits(sample_bits: u32, precision: u32, order: usize) -> bool {
    sample_bits + precision + order.ilog2() <= 32
}

/// The residual of predictor `q` (with `shift`) for `x[q.len()..]`, into `out`, in 32-bit
/// arithmetic: only for [`fits_32_bits`] inputs.
pub fn residual_32(x: &[i32], q: &[i32], shift: u32, out: &mut Vec<i32>) {
    let order = q.len();
    let n = x.len();
    out.clear();
    out.resize(n - order, 0);
    // One coefficient at a time over the whole block: each pass is a plain multiply-add of two
    // slices, which the compiler turns into SIMD.
    for (j, &c) in q.iter().enumerate() {
        let past = &x[order - 1 - j..n - 1 - j];
        for (acc, &s) in out.iter_mut().zip(past) {
            *acc += c * s;
        }
    }
    for (acc, &s) in out.iter_mut().zip(&x[order..]) {
        *acc = s - (*acc >> shift);
    }
}

/// [`residual_32`] in 64-bit arithmetic for deep samples; false (and `out` unusable) when a
/// residual does not fit 32 bits, which FLAC's Rice codes cannot carry.
pub fn residual_64(
    x: &[i32],
    q: &[i32],
    shift: u32,
    sums: &mut Vec<i64>,
    out: &mut Vec<i32>,
) -> bool {
    let order = q.len();
    let n = x.len();
    sums.clear();
    sums.resize(n - order, 0);
    for (j, &c) in q.iter().enumerate() {
        let c = i64::from(c);
        let past = &x[order - 1 - j..n - 1 - j];
        for (acc, &s) in sums.iter_mut().zip(past) {
            *acc += c * i64::from(s);
        }
    }
    out.clear();
    let mut fits = true;
    out.extend(sums.iter().zip(&x[order..]).map(|(&acc, &s)| {
        let r = i64::from(s) - (acc >> shift);
        fits &= i32::try_from(r).is_ok();
        r as i32
    }));
    fits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantisation_keeps_the_precision_and_the_value() {
        let coefs = [1.8, -0.9, 0.05];
        let mut q = [0; 3];
        let shift = quantize(&coefs, 12, &mut q).unwrap();
        // 1.8 needs one integer bit and a sign: 12 bits leave a shift of 10.
        assert_eq!(shift, 10);
        assert!(q.iter().all(|&c| (-2048..2048).contains(&c)), "{q:?}");
        for (&c, &qc) in coefs.iter().zip(&q) {
            assert!(
                (f64::from(qc) / 1024.0 - c).abs() <= 1.0 / 1024.0,
                "{c} vs {qc}"
            );
        }
        // Small coefficients take the largest shift FLAC allows, 15.
        assert_eq!(quantize(&[0.001, 0.0002], 15, &mut q), Some(15));
        // Coefficients too large for a 4-bit precision at any shift.
        assert_eq!(quantize(&[100.0], 4, &mut q), None);
        assert_eq!(quantize(&[0.0, 0.0], 12, &mut q), None);
    }

    #[test]
    fn a_sine_is_predicted_by_order_two() {
        // sin(ωt) = 2cos(ω)·sin(ω(t-1)) − sin(ω(t-2)).
        let x: Vec<i32> = (0..4096)
            .map(|t| (20000.0 * (0.05 * f64::from(t)).sin()).round() as i32)
            .collect();
        let window = tukey(x.len(), 0.5);
        let (mut windowed, mut r) = (Vec::new(), [0.0; 9]);
        autocorrelation(&x, &window, &mut windowed, &mut r);
        let (mut coefs, mut errors) = ([[0.0; MAX_ORDER]; 8], [0.0; 8]);
        let orders = levinson(&r, &mut coefs, &mut errors);
        assert!(orders >= 2);
        assert!(
            (coefs[1][0] - 2.0 * 0.05f64.cos()).abs() < 1e-3,
            "{:?}",
            &coefs[1][..2]
        );
        assert!((coefs[1][1] + 1.0).abs() < 1e-3);
        assert!(errors[1] < errors[0] * 1e-3);
        assert!(estimate_order(&errors[..orders], 4096, 16, 12) >= 2);

        let mut q = [0; 2];
        let shift = quantize(&coefs[1][..2], 12, &mut q).unwrap();
        let (mut narrow, mut wide, mut sums) = (Vec::new(), Vec::new(), Vec::new());
        assert!(fits_32_bits(16, 12, 2));
        residual_32(&x, &q, shift, &mut narrow);
        assert!(residual_64(&x, &q, shift, &mut sums, &mut wide));
        assert_eq!(narrow, wide);
        assert_eq!(narrow.len(), 4094);
        let largest = narrow.iter().map(|r| r.abs()).max().unwrap();
        // Rounding of the samples and of the 12-bit coefficients only: the amplitude is 20000.
        assert!(largest <= 16, "rounding noise only, not {largest}");
        // The decoder's sum, sample by sample.
        for t in 2..x.len() {
            let prediction = (i64::from(q[0]) * i64::from(x[t - 1])
                + i64::from(q[1]) * i64::from(x[t - 2]))
                >> shift;
            assert_eq!(i64::from(narrow[t - 2]), i64::from(x[t]) - prediction);
        }
    }

    #[test]
    fn a_residual_beyond_32_bits_is_refused() {
        let x = [i32::MAX, i32::MIN, i32::MAX];
        let (mut sums, mut out) = (Vec::new(), Vec::new());
        assert!(!residual_64(&x, &[1], 0, &mut sums, &mut out));
        assert!(residual_64(&[1, 2, 3], &[1], 0, &mut sums, &mut out));
        assert_eq!(out, [1, 1]);
    }
}
