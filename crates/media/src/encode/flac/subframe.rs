//! One channel's subframe: the cheapest of constant, verbatim, fixed-predictor and LPC coding,
//! with the wasted low bits taken out first, and its writing.

use super::bits::BitWriter;
use super::lpc::{self, MAX_ORDER};
use super::rice::{self, RicePlan};
use super::{fixed, Config};

/// How a subframe is coded.
#[derive(Default, Clone, Copy)]
enum Kind {
    /// Every sample is the same.
    #[default]
    Constant,
    /// The samples as they are.
    Verbatim,
    /// A fixed polynomial predictor of this order, then the residual.
    Fixed(usize),
    /// A quantised linear predictor, then the residual.
    Lpc {
        order: usize,
        precision: u32,
        shift: u32,
        coefs: [i32; MAX_ORDER],
    },
}

/// One channel of a frame and the coding chosen for it.
#[derive(Default)]
pub struct Subframe {
    /// The channel's samples; after [`Subframe::analyse`], shifted right by the wasted bits.
    pub samples: Vec<i32>,
    /// Bits per sample of the channel as the frame carries it (one more for a side channel).
    sample_bits: u32,
    /// Low bits that are zero in every sample, left out of the coding.
    wasted: u32,
    kind: Kind,
    residual: Vec<i32>,
    plan: RicePlan,
    /// The estimated size of the subframe in bits.
    pub bits: u64,
}

/// Buffers the analysis reuses from one subframe to the next.
#[derive(Default)]
pub struct Scratch {
    window: Vec<f64>,
    windowed: Vec<f64>,
    coefs: Vec<[f64; MAX_ORDER]>,
    errors: Vec<f64>,
    residual: Vec<i32>,
    wide_sums: Vec<i64>,
    rice_sums: Vec<u64>,
    plan: RicePlan,
}

/// The coefficient precision for `block`-sample blocks of `stream_bits`-bit audio: more bits
/// for longer blocks, where the coefficients cost less per sample, and the most for deep audio.
pub fn lpc_precision(stream_bits: u32, block: usize) -> u32 {
    if stream_bits > 16 {
        return 15;
    }
    let by_block = match block {
        0..=192 => 7,
        193..=384 => 8,
        385..=576 => 9,
        577..=1152 => 10,
        1153..=2304 => 11,
        2305..=4608 => 12,
        _ => 13,
    };
    if stream_bits < 16 {
        by_block.min(2 + stream_bits / 2).max(5)
    } else {
        by_block
    }
}

impl Subframe {
    /// Chooses the coding of `samples` at `sample_bits` bits per sample.
    pub fn analyse(
        &mut self,
        sample_bits: u32,
        stream_bits: u32,
        config: &Config,
        scratch: &mut Scratch,
    ) {
        let x = &mut self.samples;
        let n = x.len();
        self.sample_bits = sample_bits;
        self.wasted = 0;
        let first = x[0];
        if x.iter().all(|&s| s == first) {
            self.kind = Kind::Constant;
            self.bits = 8 + u64::from(sample_bits);
            return;
        }
        let wasted = x.iter().fold(0, |or, &s| or | s).trailing_zeros();
        if wasted > 0 {
            x.iter_mut().for_each(|s| *s >>= wasted);
        }
        self.wasted = wasted;
        let bps = sample_bits - wasted;
        let header = 8 + u64::from(wasted);
        self.kind = Kind::Verbatim;
        self.bits = header + n as u64 * u64::from(bps);

        let order = fixed::best_order(x);
        fixed::residual(x, order, &mut self.residual);
        rice::plan(
            &self.residual,
            n,
            order,
            config.max_partition_order,
            &mut scratch.rice_sums,
            &mut self.plan,
        );
        let bits = header + order as u64 * u64::from(bps) + self.plan.bits;
        if bits < self.bits {
            self.kind = Kind::Fixed(order);
            self.bits = bits;
        }

        let max_order = config.max_lpc_order.min(n - 1);
        if max_order == 0 {
            return;
        }
        if scratch.window.len() != n {
            scratch.window = lpc::tukey(n, 0.5);
        }
        let mut r = [0.0f64; MAX_ORDER + 1];
        lpc::autocorrelation(
            x,
            &scratch.window,
            &mut scratch.windowed,
            &mut r[..=max_order],
        );
        scratch.coefs.resize(max_order, [0.0; MAX_ORDER]);
        scratch.errors.resize(max_order, 0.0);
        let orders = lpc::levinson(&r[..=max_order], &mut scratch.coefs, &mut scratch.errors);
        if orders == 0 {
            return;
        }
        let precision = lpc_precision(stream_bits, n);
        let estimate = lpc::estimate_order(&scratch.errors[..orders], n, bps, precision);
        let candidates = match config.order_search {
            0 => estimate..=estimate,
            wide => estimate.saturating_sub(wide).max(1)..=(estimate + wide).min(orders),
        };
        for order in candidates {
            let mut precision = precision;
            if bps <= 17 {
                // Keep 16-bit audio in 32-bit arithmetic, as decoders prefer.
                precision = precision.min(32 - bps - order.ilog2()).max(5);
            }
            let mut q = [0i32; MAX_ORDER];
            let Some(shift) = lpc::quantize(
                &scratch.coefs[order - 1][..order],
                precision,
                &mut q[..order],
            ) else {
                continue;
            };
            if lpc::fits_32_bits(bps, precision, order) {
                lpc::residual_32(x, &q[..order], shift, &mut scratch.residual);
            } else if !lpc::residual_64(
                x,
                &q[..order],
                shift,
                &mut scratch.wide_sums,
                &mut scratch.residual,
            ) {
                continue;
            }
            rice::plan(
                &scratch.residual,
                n,
                order,
                config.max_partition_order,
                &mut scratch.rice_sums,
                &mut scratch.plan,
            );
            let coef_bits = 4 + 5 + order as u64 * u64::from(precision);
            let bits = header + order as u64 * u64::from(bps) + coef_bits + scratch.plan.bits;
            if bits < self.bits {
                self.bits = bits;
                self.kind = Kind::Lpc {
                    order,
                    precision,
                    shift,
                    coefs: q,
                };
                std::mem::swap(&mut self.residual, &mut scratch.residual);
                std::mem::swap(&mut self.plan, &mut scratch.plan);
            }
        }
    }

    /// Writes the subframe as [`Subframe::analyse`] chose it.
    pub fn write(&self, w: &mut BitWriter) {
        let x = &self.samples;
        let n = x.len();
        let bps = self.sample_bits - self.wasted;
        let kind_code = match self.kind {
            Kind::Constant => 0,
            Kind::Verbatim => 1,
            Kind::Fixed(order) => 0b001000 | order as u32,
            Kind::Lpc { order, .. } => 0b100000 | (order as u32 - 1),
        };
        w.write(kind_code, 7);
        if self.wasted > 0 {
            w.write(1, 1);
            w.write_unary(self.wasted - 1);
        } else {
            w.write(0, 1);
        }
        match self.kind {
            Kind::Constant => w.write_signed(x[0], bps),
            Kind::Verbatim => x.iter().for_each(|&s| w.write_signed(s, bps)),
            Kind::Fixed(order) => {
                x[..order].iter().for_each(|&s| w.write_signed(s, bps));
                rice::write(w, &self.residual, n, order, &self.plan);
            }
            Kind::Lpc {
                order,
                precision,
                shift,
                coefs,
            } => {
                x[..order].iter().for_each(|&s| w.write_signed(s, bps));
                w.write(precision - 1, 4);
                w.write(shift, 5);
                coefs[..order]
                    .iter()
                    .for_each(|&c| w.write_signed(c, precision));
                rice::write(w, &self.residual, n, order, &self.plan);
            }
        }
    }
}
