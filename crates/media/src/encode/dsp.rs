//! Arithmetic the lossless encoders (FLAC and ALAC) share.

/// The dot product of `a` and `b` over the shorter's length, summed in four lanes so the
/// compiler can keep them in vector registers.
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0f64; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a4.zip(b4) {
        for l in 0..4 {
            lanes[l] += x[l] * y[l];
        }
    }
    lanes[0] + lanes[1] + lanes[2] + lanes[3] + tail
}

#[cfg(test)]
mod tests {
    use super::dot;

    #[test]
    fn the_dot_product_counts_every_pair_once() {
        let a: Vec<f64> = (1..=11).map(f64::from).collect();
        let b = vec![2.0; 11];
        assert_eq!(dot(&a, &b), 132.0);
        assert_eq!(dot(&a[..3], &b), 12.0, "the shorter length");
        assert_eq!(dot(&[], &b), 0.0);
    }
}
