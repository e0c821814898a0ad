//! FLAC's fixed predictors: polynomial predictors of order 0 to 4 with no coefficients to
//! store. The order is chosen by the sum of absolute residuals, all five taken in one pass.

/// The highest fixed predictor order.
pub const MAX_ORDER: usize = 4;

/// The fixed predictor order (below `x.len()`) whose residual has the least absolute sum.
pub fn best_order(x: &[i32]) -> usize {
    if x.len() <= MAX_ORDER {
        return x.len().saturating_sub(1).min(1);
    }
    let mut sums = [0u64; MAX_ORDER + 1];
    for w in x.windows(MAX_ORDER + 1) {
        // Successive differences of the newest sample: orders 0 to 4.
        let e0 = i64::from(w[4]);
        let e1 = e0 - i64::from(w[3]);
        let e2 = e1 - (i64::from(w[3]) - i64::from(w[2]));
        let e3 = e2 - (i64::from(w[3]) - 2 * i64::from(w[2]) + i64::from(w[1]));
        let e4 = i64::from(w[4]) - 4 * i64::from(w[3]) + 6 * i64::from(w[2]) - 4 * i64::from(w[1])
            + i64::from(w[0]);
        for (sum, e) in sums.iter_mut().zip([e0, e1, e2, e3, e4]) {
            *sum += e.unsigned_abs();
        }
    }
    (0..=MAX_ORDER).min_by_key(|&o| sums[o]).unwrap_or(0)
}

/// The residual of the fixed predictor of `order` for `x[order..]`, into `out`.
///
/// Samples of up to 25 bits (a 24-bit side channel) leave residuals within 29 bits.
pub fn residual(x: &[i32], order: usize, out: &mut Vec<i32>) {
    out.clear();
    match order {
        0 => out.extend_from_slice(x),
        1 => out.extend(x.windows(2).map(|w| w[1] - w[0])),
        2 => out.extend(x.windows(3).map(|w| w[2] - 2 * w[1] + w[0])),
        3 => out.extend(x.windows(4).map(|w| w[3] - 3 * w[2] + 3 * w[1] - w[0])),
        _ => out.extend(
            x.windows(5)
                .map(|w| w[4] - 4 * w[3] + 6 * w[2] - 4 * w[1] + w[0]),
        ),
    }
}

/// Sum of the absolute order-2 residuals of `a`, `b`, their mean and their difference: the
/// cheap estimate of which stereo decorrelation helps.
pub fn stereo_sums(a: &[i32], b: &[i32]) -> [u64; 4] {
    let mut sums = [0u64; 4];
    for (wa, wb) in a.windows(3).zip(b.windows(3)) {
        let da = i64::from(wa[2]) - 2 * i64::from(wa[1]) + i64::from(wa[0]);
        let db = i64::from(wb[2]) - 2 * i64::from(wb[1]) + i64::from(wb[0]);
        sums[0] += da.unsigned_abs();
        sums[1] += db.unsigned_abs();
        sums[2] += ((da + db) >> 1).unsigned_abs();
        sums[3] += (da - db).unsigned_abs();
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_order_undoes_a_polynomial_of_its_degree() {
        // A cubic: order 4 leaves zeros, order 3 a constant.
        let x: Vec<i32> = (0..50)
            .map(|t: i32| t * t * t - 7 * t * t + 3 * t - 11)
            .collect();
        let mut out = Vec::new();
        residual(&x, 4, &mut out);
        assert!(out.iter().all(|&r| r == 0));
        residual(&x, 3, &mut out);
        assert_eq!(out.len(), 47);
        assert!(out.iter().all(|&r| r == 6));
        assert_eq!(best_order(&x), 4);
        let line: Vec<i32> = (0..50).map(|t| 5 * t).collect();
        assert_eq!(best_order(&line), 2);
        assert_eq!(best_order(&[3, 4]), 1);
        assert_eq!(best_order(&[3]), 0);
    }

    #[test]
    fn stereo_sums_see_identical_channels() {
        let a: Vec<i32> = (0..100).map(|t| (t * t) % 97).collect();
        let sums = stereo_sums(&a, &a);
        assert_eq!(sums[0], sums[1]);
        assert_eq!(sums[2], sums[0]);
        assert_eq!(sums[3], 0);
    }
}
