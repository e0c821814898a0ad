//! FLAC's fixed predictors: polynomial predictors of order 0 to 4 with no coefficients to
//! store. The order is chosen by the sum of absolute residuals, all five taken in one pass.

/// The highest fixed predictor order.
pub const MAX_ORDER: usize = 4;

/// The fixed predictor order (below `x.len()`) whose residual has the least absolute sum.
///
/// Samples of up to 25 bits keep every difference within 29 bits, so eight of them add up in
/// 32 bits; the sums run in 32-bit lanes, eight samples at a time, and gather in 64 bits.
pub fn best_order(x: &[i32]) -> usize {
    if x.len() <= MAX_ORDER {
        return x.len().saturating_sub(1).min(1);
    }
    let n = x.len() - MAX_ORDER;
    let mut sums = [0u64; MAX_ORDER + 1];
    let mut start = 0;
    while start < n {
        let end = (start + 8).min(n);
        let mut part = [0u32; MAX_ORDER + 1];
        let taps = x[start + 4..end + 4]
            .iter()
            .zip(&x[start + 3..end + 3])
            .zip(&x[start + 2..end + 2])
            .zip(&x[start + 1..end + 1])
            .zip(&x[start..end]);
        for ((((&s4, &s3), &s2), &s1), &s0) in taps {
            // Successive differences of the newest sample: orders 0 to 4.
            let e = [
                s4,
                s4 - s3,
                s4 - 2 * s3 + s2,
                s4 - 3 * s3 + 3 * s2 - s1,
                s4 - 4 * s3 + 6 * s2 - 4 * s1 + s0,
            ];
            for (p, e) in part.iter_mut().zip(e) {
                *p += e.unsigned_abs();
            }
        }
        for (sum, p) in sums.iter_mut().zip(part) {
            *sum += u64::from(p);
        }
        start = end;
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

/// The order-2 residuals of `x[start + 2..end + 2]`.
fn second(x: &[i32], start: usize, end: usize) -> impl Iterator<Item = i32> + '_ {
    x[start + 2..end + 2]
        .iter()
        .zip(&x[start + 1..end + 1])
        .zip(&x[start..end])
        .map(|((&s2, &s1), &s0)| s2 - 2 * s1 + s0)
}

/// Sum of the absolute order-2 residuals of `a`, `b`, their mean and their difference: the
/// cheap estimate of which stereo decorrelation helps.
///
/// For samples of up to 24 bits each term is within 27 bits, so 32 of them add up in 32 bits.
pub fn stereo_sums(a: &[i32], b: &[i32]) -> [u64; 4] {
    let n = a.len().min(b.len()).saturating_sub(2);
    let mut sums = [0u64; 4];
    let mut start = 0;
    while start < n {
        let end = (start + 32).min(n);
        let mut part = [0u32; 4];
        for (da, db) in second(a, start, end).zip(second(b, start, end)) {
            part[0] += da.unsigned_abs();
            part[1] += db.unsigned_abs();
            part[2] += ((da + db) >> 1).unsigned_abs();
            part[3] += (da - db).unsigned_abs();
        }
        for (sum, p) in sums.iter_mut().zip(part) {
            *sum += u64::from(p);
        }
        start = end;
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
