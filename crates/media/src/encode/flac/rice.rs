//! The partitioned Rice coding of residuals: the choice of partition order and of each
//! partition's parameter, estimated from the sums of the folded residuals, and the writing.
//!
//! The sums are taken once at the finest partition order allowed, then added pairwise for each
//! coarser order, so the search costs one pass over the residual whatever the order range.

use super::bits::{fold, BitWriter};

/// The largest parameter of the 4-bit coding method (15 is its escape code).
const MAX_PARAM_4: u32 = 14;
/// The largest parameter of the 5-bit coding method (31 is its escape code).
const MAX_PARAM_5: u32 = 30;

/// How one residual will be coded: partition order, one parameter per partition, and the
/// estimated size of the whole residual section in bits.
#[derive(Default, Clone)]
pub struct RicePlan {
    /// The partition order: 2^order partitions.
    pub order: u32,
    /// Each partition's Rice parameter.
    pub params: Vec<u32>,
    /// Estimated bits of the residual section, coding method and partition order included.
    pub bits: u64,
}

impl RicePlan {
    /// True when some parameter needs the 5-bit coding method.
    fn wide(&self) -> bool {
        self.params.iter().any(|&k| k > MAX_PARAM_4)
    }
}

/// The Rice parameter for `count` folded residuals summing to `sum`, and its estimated bits.
///
/// With parameter k a value u costs k + 1 + ⌊u / 2^k⌋ bits. Summing ⌊u / 2^k⌋ instead of
/// u / 2^k loses the fraction, (2^k − 1) / 2^(k+1) on average when the low bits are evenly
/// spread, hence the correction.
pub fn param_for(sum: u64, count: u64) -> (u32, u64) {
    if count == 0 {
        return (0, 0);
    }
    let cost = |k: u32| {
        let lost = (count * ((1 << k) - 1)) >> (k + 1);
        let quotients = (sum >> k).saturating_sub(lost);
        count * u64::from(k + 1) + quotients
    };
    let mean = sum / count;
    // The optimum is near log2(mean × ln 2): try the two parameters around log2(mean).
    let high = if mean == 0 {
        0
    } else {
        mean.ilog2().min(MAX_PARAM_5)
    };
    let low = high.saturating_sub(1);
    let (cost_low, cost_high) = (cost(low), cost(high));
    if cost_low <= cost_high {
        (low, cost_low)
    } else {
        (high, cost_high)
    }
}

/// The finest partition order that `block` samples with `predictor_order` warm-up samples
/// allow, up to `max_order`: the block must split evenly, and the first partition must hold at
/// least one residual.
pub fn max_partition_order(block: usize, predictor_order: usize, max_order: u32) -> u32 {
    let mut order = max_order;
    while order > 0 && (block & ((1 << order) - 1) != 0 || (block >> order) <= predictor_order) {
        order -= 1;
    }
    order
}

/// Chooses the partition order in `min_order..=max_order` (clamped to what the block allows)
/// and the parameters for `residual`, the residual of a block of `block` samples after
/// `predictor_order` warm-up samples. `sums` is scratch space.
pub fn plan(
    residual: &[i32],
    block: usize,
    predictor_order: usize,
    max_order: u32,
    sums: &mut Vec<u64>,
    plan: &mut RicePlan,
) {
    debug_assert_eq!(residual.len() + predictor_order, block);
    let top = max_partition_order(block, predictor_order, max_order);
    let size = block >> top;
    sums.clear();
    let mut start = 0;
    for p in 0..(1usize << top) {
        let end = (p + 1) * size - predictor_order;
        sums.push(
            residual[start..end]
                .iter()
                .map(|&r| u64::from(fold(r)))
                .sum(),
        );
        start = end;
    }
    plan.bits = u64::MAX;
    let mut order = top;
    let mut params = Vec::new();
    loop {
        let partition = (block >> order) as u64;
        let mut bits = 2 + 4;
        params.clear();
        for (p, &sum) in sums.iter().enumerate() {
            let count = if p == 0 {
                partition - predictor_order as u64
            } else {
                partition
            };
            let (k, cost) = param_for(sum, count);
            params.push(k);
            bits += 4 + u64::from(k > MAX_PARAM_4) + cost;
        }
        if params.iter().any(|&k| k > MAX_PARAM_4) {
            // The whole residual takes the 5-bit method: every parameter costs 5 bits.
            bits += params.iter().filter(|&&k| k <= MAX_PARAM_4).count() as u64;
        }
        if bits < plan.bits {
            plan.bits = bits;
            plan.order = order;
            plan.params.clone_from(&params);
        }
        if order == 0 {
            break;
        }
        order -= 1;
        for p in 0..sums.len() / 2 {
            sums[p] = sums[2 * p] + sums[2 * p + 1];
        }
        sums.truncate(sums.len() / 2);
    }
}

/// Writes the residual section: coding method, partition order, then each partition's
/// parameter and Rice codes.
pub fn write(
    w: &mut BitWriter,
    residual: &[i32],
    block: usize,
    predictor_order: usize,
    plan: &RicePlan,
) {
    let wide = plan.wide();
    let param_bits = if wide { 5 } else { 4 };
    w.write(u32::from(wide), 2);
    w.write(plan.order, 4);
    let size = block >> plan.order;
    let mut start = 0;
    for (p, &k) in plan.params.iter().enumerate() {
        let end = (p + 1) * size - predictor_order;
        w.write(k, param_bits);
        for &r in &residual[start..end] {
            w.write_rice(fold(r), k);
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact bits of Rice-coding `values` with parameter `k`.
    fn exact(values: &[i32], k: u32) -> u64 {
        values
            .iter()
            .map(|&r| u64::from(fold(r) >> k) + u64::from(k) + 1)
            .sum()
    }

    #[test]
    fn the_parameter_is_the_best_or_next_to_it() {
        let mut seed = 12345u32;
        for scale in [1, 3, 40, 1000, 70_000, 3_000_000] {
            let values: Vec<i32> = (0..4096)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    ((seed >> 8) % (2 * scale + 1)) as i32 - scale as i32
                })
                .collect();
            let sum = values.iter().map(|&r| u64::from(fold(r))).sum();
            let (k, estimate) = param_for(sum, values.len() as u64);
            let best = (0..=30).min_by_key(|&k| exact(&values, k)).unwrap();
            assert!(k.abs_diff(best) <= 1, "scale {scale}: {k} vs best {best}");
            // Within 2 % of the best exact size, and the estimate near the exact size.
            let (chosen, optimum) = (exact(&values, k), exact(&values, best));
            assert!(
                chosen * 50 <= optimum * 51,
                "scale {scale}: {chosen} vs {optimum}"
            );
            assert!(
                estimate.abs_diff(chosen) * 50 <= chosen,
                "scale {scale}: {estimate} vs {chosen}"
            );
        }
        assert_eq!(param_for(0, 100), (0, 100));
        assert_eq!(param_for(5, 0), (0, 0));
    }

    #[test]
    fn partition_orders_respect_the_block_and_the_warm_up() {
        assert_eq!(max_partition_order(4096, 8, 5), 5);
        assert_eq!(max_partition_order(4096, 8, 15), 8);
        assert_eq!(max_partition_order(1000, 2, 5), 3);
        assert_eq!(max_partition_order(1001, 0, 5), 0);
        assert_eq!(max_partition_order(16, 4, 5), 1);
    }

    /// Reads back what [`write`] wrote, the way a decoder does.
    fn read(bytes: &[u8], block: usize, predictor_order: usize) -> Vec<i32> {
        let bit = |i: usize| u32::from(bytes[i / 8] >> (7 - i % 8) & 1);
        let mut at = 0;
        let mut take = |n: u32| {
            let mut v = 0;
            for _ in 0..n {
                v = v << 1 | bit(at);
                at += 1;
            }
            v
        };
        let param_bits = if take(2) == 1 { 5 } else { 4 };
        let order = take(4);
        let mut out = Vec::new();
        for p in 0..1usize << order {
            let k = take(param_bits);
            let count = (block >> order) - if p == 0 { predictor_order } else { 0 };
            for _ in 0..count {
                let mut q = 0;
                while take(1) == 0 {
                    q += 1;
                }
                let u = q << k | take(k);
                out.push((u >> 1) as i32 ^ -((u & 1) as i32));
            }
        }
        out
    }

    #[test]
    fn a_planned_residual_reads_back() {
        // Quiet, louder, loud enough for the 5-bit method, quiet again with one huge value.
        let mut residual: Vec<i32> = (0..1024).map(|i| (i % 7) - 3).collect();
        residual.extend((0..1024).map(|i| (i * 7919 % 20011) - 10005));
        residual.extend((0..1024).map(|i| ((i % 256) - 128) << 14));
        residual.extend((0..1023).map(|i| i % 3));
        residual.push(-(1 << 28));
        for predictor_order in [0, 4] {
            let residual = &residual[predictor_order..];
            let block = residual.len() + predictor_order;
            let (mut sums, mut p) = (Vec::new(), RicePlan::default());
            plan(residual, block, predictor_order, 6, &mut sums, &mut p);
            assert!(p.order >= 2, "split into partitions");
            assert!(p.params.iter().any(|&k| k > MAX_PARAM_4), "5-bit method");
            let mut w = BitWriter::default();
            write(&mut w, residual, block, predictor_order, &p);
            let written = w.bit_len() as u64;
            assert_eq!(read(w.bytes(), block, predictor_order), residual);
            assert!(
                written.abs_diff(p.bits) * 50 <= written,
                "{written} vs {}",
                p.bits
            );
        }
    }
}
