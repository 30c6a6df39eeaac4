//! Segment sums of a lane from prefix sums, and the least-squares line of a segment in constant
//! time. The rice planners define that line by a floating-point loop over the segment; here it is
//! computed exactly from integer sums, and the loop runs only where its rounding errors could
//! change the rounded result.

use lc_format::{LayerParams, MAX_LEN_BITS};

/// A lane's weights with prefix sums of `v` and `x * v` (position `x`).
pub(super) struct LaneSums<'a> {
    q: &'a [i32],
    /// `s0[x]` = sum of `q[..x]`.
    s0: Vec<i64>,
    /// `s1[x]` = sum of `y * q[y]` for `y < x`, wrapping (differences of nearby entries fit).
    s1: Vec<i64>,
}

impl<'a> LaneSums<'a> {
    /// The sums of the lane `q`.
    pub fn new(q: &'a [i32]) -> Self {
        let mut s0 = Vec::with_capacity(q.len() + 1);
        let mut s1 = Vec::with_capacity(q.len() + 1);
        let (mut a, mut b) = (0i64, 0i64);
        s0.push(a);
        s1.push(b);
        for (x, &v) in q.iter().enumerate() {
            a += v as i64;
            b = b.wrapping_add((x as i64).wrapping_mul(v as i64));
            s0.push(a);
            s1.push(b);
        }
        LaneSums { q, s0, s1 }
    }

    /// The weights.
    pub fn weights(&self) -> &'a [i32] {
        self.q
    }

    /// Sum of `q[i..i + l]`.
    pub fn sum(&self, i: usize, l: usize) -> i64 {
        self.s0[i + l] - self.s0[i]
    }

    /// The least-squares line of `q[i..i + l]` (`l >= 3`), rounded: the slope in units of
    /// `2^-F` and the start value, before they are clamped to their fields. Equal to
    /// [`fit_by_loop`] on the segment.
    pub fn fit(&self, params: &LayerParams, i: usize, l: usize) -> (i64, i64) {
        let seg = &self.q[i..i + l];
        exact_fit(params, self.sum(i, l), self.index_sum(i, l), l)
            .unwrap_or_else(|| fit_by_loop(params, seg))
    }

    /// Sum of `j * q[i + j]` for `j < l`.
    fn index_sum(&self, i: usize, l: usize) -> i64 {
        self.s1[i + l]
            .wrapping_sub(self.s1[i])
            .wrapping_sub((i as i64).wrapping_mul(self.sum(i, l)))
    }
}

/// The least-squares line of `q` (at least 3 weights) as the planners define it, by a loop in
/// floating point: slope in units of `2^-F` and start value, rounded, before clamping.
fn fit_by_loop(params: &LayerParams, q: &[i32]) -> (i64, i64) {
    let n = q.len() as f64;
    let mean = q.iter().map(|&v| v as f64).sum::<f64>() / n;
    let jm = (n - 1.0) / 2.0;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (j, &v) in q.iter().enumerate() {
        sxy += (j as f64 - jm) * (v as f64 - mean);
        sxx += (j as f64 - jm) * (j as f64 - jm);
    }
    let slope = sxy / sxx;
    (
        (slope * (1u64 << params.frac_bits) as f64).round() as i64,
        (mean - slope * jm).round() as i64,
    )
}

/// `round(num / den)` (`den > 0`) and the distance of `num / den` from the nearest half-integer,
/// where rounding could go either way.
fn round_exact(num: i64, den: i64) -> (i64, f64) {
    // num/den + 1/2 = r + rem / (2 den), 0 <= rem < 2 den.
    let (a, b) = (2 * num + den, 2 * den);
    let r = a.div_euclid(b);
    let rem = a.rem_euclid(b);
    (r, rem.min(b - rem) as f64 / b as f64)
}

/// [`fit_by_loop`] from the exact sums `s0 = sum q[j]`, `s1 = sum j q[j]` of `l >= 3` weights,
/// when the loop's rounding errors provably cannot move either rounded value; else `None`.
/// Segments are at most `2^12` weights of at most 16 bits, so every product below fits 64 bits
/// (`|t| < 2^41`, `|t 2^F| < 2^57`).
fn exact_fit(params: &LayerParams, s0: i64, s1: i64, l: usize) -> Option<(i64, i64)> {
    debug_assert!(l <= 1 << MAX_LEN_BITS && params.bits <= 16);
    let n = l as i64;
    // slope = sxy / sxx with 2 sxy = 2 s1 - (l - 1) s0 = t and 2 sxx = l (l^2 - 1) / 6 = d.
    let t = 2 * s1 - (n - 1) * s0;
    let d = n * (n * n - 1) / 6;
    let scale = 1i64 << params.frac_bits;
    let (m, m_margin) = round_exact(t * scale, d);
    // start = mean - slope (l - 1) / 2 = (s0 (l + 1) - 3 t) / (l (l + 1)).
    let (start, s_margin) = round_exact(s0 * (n + 1) - 3 * t, n * (n + 1));

    // Error bounds of the loop (unit roundoff u): each term of sxy is off by at most
    // 5 u M |j - jm| (M bounds |v| and |mean|), the sum adds (l - 1) u 2 M sum |j - jm|; sxx
    // is exact (sums of quarter-integers far below 2^53). Four times that, for safety.
    let u = f64::EPSILON / 2.0;
    let nf = l as f64;
    let big_m = (1u64 << (params.bits - 1)) as f64 + 1.0;
    let abs_j = nf * nf / 4.0;
    let err_sxy = u * big_m * abs_j * (2.0 * nf + 3.0);
    let sxx = d as f64 / 2.0;
    let slope = t as f64 / d as f64;
    let err_slope = 4.0 * (err_sxy / sxx + u * (slope.abs() + err_sxy / sxx));
    let err_m = err_slope * scale as f64;
    let mean = s0 as f64 / nf;
    let jm = (nf - 1.0) / 2.0;
    let err_start = 4.0
        * (u * mean.abs()
            + jm * err_slope
            + u * (slope.abs() + err_slope) * jm
            + u * (mean.abs() + (slope * jm).abs() + 1.0));
    (m_margin > err_m && s_margin > err_start).then_some((m, start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lc_format::Mode;
    use proptest::prelude::*;

    fn params(bits: u8, frac_bits: u8) -> LayerParams {
        LayerParams {
            bits,
            mode: Mode::Rice,
            eps: 0,
            frac_bits,
            len_bits: 12,
            slope_bits: 16,
            shift: 0,
        }
    }

    proptest! {
        /// The constant-time fit returns exactly what the loop computes, on random segments
        /// (also long and far from the lane start) and on lines with ties.
        #[test]
        fn fit_matches_the_loop(
            bits in 4u8..=16,
            frac_bits in 1u8..=16,
            raw in proptest::collection::vec(any::<i32>(), 3..4400),
            offset in 0usize..300,
            line in any::<bool>(),
        ) {
            let p = params(bits, frac_bits);
            let (lo, hi) = (p.min_value(), p.max_value());
            let q: Vec<i32> = raw
                .iter()
                .enumerate()
                .map(|(j, &v)| {
                    let v = if line { (j as i64 / 2) + (v as i64 % 3) } else { v as i64 };
                    v.rem_euclid(hi - lo + 1) as i32 + lo as i32
                })
                .collect();
            let sums = LaneSums::new(&q);
            let i = offset.min(q.len() - 3);
            let l = (q.len() - i).min(1 << MAX_LEN_BITS);
            prop_assert_eq!(sums.fit(&p, i, l), fit_by_loop(&p, &q[i..i + l]));
        }
    }

    /// Where the exact value is a half-integer the loop decides: 0, 1, 1, 0 is flat at 1/2.
    #[test]
    fn ties_fall_back_to_the_loop() {
        let p = params(8, 4);
        let q = [0, 1, 1, 0];
        assert_eq!(exact_fit(&p, 2, 3, 4), None);
        assert_eq!(LaneSums::new(&q).fit(&p, 0, 4), fit_by_loop(&p, &q));
    }
}
