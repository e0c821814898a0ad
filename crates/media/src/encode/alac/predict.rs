//! Prediction: linear-prediction coefficients for a packet (autocorrelation of a windowed copy,
//! Levinson-Durbin recursion, quantized to ALAC's 16-bit coefficients), and the residuals of
//! ALAC's adaptive predictor, which nudges each coefficient by one after every sample in the
//! direction that would have shrunk the residual, exactly as the decoder will.

use crate::encode::dsp::dot;

/// Coefficients are fixed point with this many fractional bits (the `denShift` sent).
pub(super) const DEN_SHIFT: u32 = 9;
/// The most coefficients a channel uses.
pub(super) const MAX_ORDER: usize = 8;
/// Decoders keep coefficients in 16 bits and each sample moves them by at most one, so the
/// starting values stay this far inside that range for a packet of up to 4,096 samples.
const COEF_LIMIT: f64 = (i16::MAX as i32 - 4096) as f64;

/// Coefficients, oldest sample first: `c[i]` weighs `x[j - order + i]` (the reverse of the
/// order they are sent in).
pub(super) type Coefs = [i32; MAX_ORDER];

/// A Welch window and a buffer for the windowed samples, kept from packet to packet.
#[derive(Debug, Default)]
pub(super) struct Window {
    weights: Vec<f64>,
    samples: Vec<f64>,
}

/// Order 8 is used only when it leaves this much less prediction error than order 4 (about
/// 0.08 bits a sample), as it costs twice the time.
const ORDER_8_GAIN: f64 = 0.9;

/// Linear-prediction coefficients for `x`, windowed by a Welch window, and their order: 4, or 8
/// when that predicts clearly better. Silence gets zeros.
pub(super) fn analyse(x: &[i32], window: &mut Window) -> (Coefs, usize) {
    let mut coefs = [0; MAX_ORDER];
    let n = x.len();
    if n <= MAX_ORDER {
        return (coefs, 4);
    }
    if window.weights.len() != n {
        let half = (n as f64 - 1.0) / 2.0;
        window.weights.clear();
        window.weights.extend((0..n).map(|i| {
            let t = (i as f64 - half) / (half + 1.0);
            1.0 - t * t
        }));
    }
    let Window { weights, samples } = window;
    samples.clear();
    samples.extend(x.iter().zip(weights.iter()).map(|(&s, w)| f64::from(s) * w));
    let window = samples;
    let mut r = [0.0f64; MAX_ORDER + 1];
    for (lag, r) in r.iter_mut().enumerate() {
        *r = dot(&window[lag..], &window[..n - lag]);
    }
    if r[0] <= 0.0 {
        return (coefs, 4);
    }
    // A little lag windowing keeps the recursion stable on pure tones.
    r[0] *= 1.0 + 1e-9;
    for (lag, r) in r.iter_mut().enumerate().skip(1) {
        let g = 0.0005 * lag as f64;
        *r *= (-0.5 * g * g).exp();
    }
    let ([a4, a8], [e4, e8]) = levinson(&r);
    let (a, order) = if e8 < e4 * ORDER_8_GAIN {
        (a8, 8)
    } else {
        (a4, 4)
    };
    for i in 0..order {
        // a[k] weighs x[j - 1 - k]; coefs[i] weighs x[j - order + i].
        let q = (a[order - 1 - i] * f64::from(1u32 << DEN_SHIFT)).round();
        coefs[i] = q.clamp(-COEF_LIMIT, COEF_LIMIT) as i32;
    }
    (coefs, order)
}

/// Levinson-Durbin: predictors `a` (x̂[j] = Σ a[k]·x[j-1-k]) of orders 4 and 8 from
/// autocorrelation `r`, with their prediction errors.
fn levinson(r: &[f64; MAX_ORDER + 1]) -> ([[f64; MAX_ORDER]; 2], [f64; 2]) {
    let mut a = [0.0f64; MAX_ORDER];
    let mut err = r[0];
    let (mut a4, mut e4) = (a, err);
    for m in 0..MAX_ORDER {
        let acc = r[m + 1] - (0..m).map(|k| a[k] * r[m - k]).sum::<f64>();
        let refl = acc / err;
        let prev = a;
        a[m] = refl;
        for k in 0..m {
            a[k] = prev[k] - refl * prev[m - 1 - k];
        }
        err *= 1.0 - refl * refl;
        if m == 3 {
            (a4, e4) = (a, err);
        }
        if err <= 0.0 {
            break;
        }
    }
    ([a4, a], [e4, err])
}

/// Writes into `out` the residuals of the adaptive predictor of `order` (4 or 8) starting from
/// `coefs`, for `x` whose values fit in `chan_bits` (16 or 17, or more for silence, whose
/// residuals are all zero whatever the width) signed bits. Returns false if a
/// prediction sum left 32 bits, where decoders' arithmetic differs: the caller must then not use
/// the residuals.
pub(super) fn residuals(
    x: &[i32],
    coefs: &Coefs,
    order: usize,
    chan_bits: u32,
    out: &mut [i32],
) -> bool {
    match (order, chan_bits) {
        (4, 16) => run::<4, 16>(x, coefs, out),
        (4, _) => run::<4, 17>(x, coefs, out),
        (_, 16) => run::<8, 16>(x, coefs, out),
        _ => run::<8, 17>(x, coefs, out),
    }
}

fn run<const P: usize, const BITS: u32>(x: &[i32], start: &Coefs, out: &mut [i32]) -> bool {
    let n = x.len();
    let wrap = |v: i32| (v << (32 - BITS)) >> (32 - BITS);
    let mut c = [0i32; P];
    c.copy_from_slice(&start[..P]);
    let half = 1i64 << (DEN_SHIFT - 1);
    let mut ok = true;
    let Some(first) = x.first() else {
        return true;
    };
    out[0] = *first;
    // The first `P` samples after the first are sent as differences.
    for j in 1..n.min(P + 1) {
        out[j] = wrap(x[j].wrapping_sub(x[j - 1]));
    }
    for j in P + 1..n {
        let top = x[j - P - 1];
        let past: &[i32; P] = x[j - P..j].try_into().unwrap_or(&[0; P]);
        let mut sum = 0i64;
        for i in 0..P {
            sum += i64::from(c[i]) * i64::from(past[i] - top);
        }
        ok &= sum >= i64::from(i32::MIN) && sum + half <= i64::from(i32::MAX);
        let prediction = top.wrapping_add(((sum + half) >> DEN_SHIFT) as i32);
        let e = wrap(x[j].wrapping_sub(prediction));
        out[j] = e;
        if e != 0 {
            adapt(&mut c, past, top, e);
        }
    }
    ok
}

/// The decoder's adaptation after a residual `e` (not 0): from the oldest sample on, each
/// coefficient moves by one towards shrinking `e`, and the residual is worn down by the
/// sample's distance from `top` (shifted, weighted 1, 2, …); it stops once the sign of what
/// is left turns. Written without branches: every step is computed and masked off once done.
#[inline(always)]
fn adapt<const P: usize>(c: &mut [i32; P], past: &[i32; P], top: i32, e: i32) {
    let sign = e.signum();
    // For a negative residual the decoder shifts −|d|, which rounds away from zero.
    let round = ((1 << DEN_SHIFT) - 1) & (e >> 31);
    let mut left = e.abs();
    for i in 0..P {
        let d = top - past[i];
        let active = -i32::from(left > 0);
        c[i] -= (d.signum() * sign) & active;
        left -= (i as i32 + 1) * ((d.abs() + round) >> DEN_SHIFT);
    }
}
