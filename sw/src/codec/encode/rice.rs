//! Segmentation in rice mode: a line predicts each weight and a Rice-coded residual, quantized to
//! steps of `2^r`, corrects it to within eps.

use rayon::prelude::*;

use super::flat::FlatPlans;
use crate::codec::segment::{line, zigzag, Segment};
use lc_format::{LayerParams, Q_ESC};

/// Bits of one Rice code of `u` with parameter `k`.
#[inline]
pub fn code_bits(params: &LayerParams, u: u64, k: u32) -> u64 {
    let q = u >> k;
    if q < Q_ESC as u64 {
        q + 1 + k as u64
    } else {
        Q_ESC as u64 + params.escape_bits() as u64
    }
}

/// Residual that brings the prediction `p` to within `2^(r-1)` of `q`: `(q - p) / 2^r` rounded to
/// the nearest integer, ties to even. Ties must not all go one way: rounding them up would shift
/// every reconstructed weight by +1/2 LSB on average, a bias that accumulates in dot products.
#[inline]
pub(super) fn residual(params: &LayerParams, q: i64, p: i64) -> i64 {
    let d = q - p;
    let r = params.shift;
    if r == 0 {
        return d;
    }
    // The step is a power of two: floor division and remainder are a shift and a mask.
    let floor = d >> r;
    let rem = d & ((1i64 << r) - 1);
    let half = 1i64 << (r - 1);
    floor + (rem > half) as i64 + ((rem == half) as i64 & floor & 1)
}

/// A segment's line and Rice parameter, and its size in bits (residuals follow from them).
#[derive(Clone, Copy, Debug)]
pub(super) struct Plan {
    pub start: i64,
    pub slope: i64,
    pub k: u32,
    pub bits: u64,
}

impl Plan {
    /// The Rice parameter of `n` codes summing to `sum`: around log2 of the mean code value, the
    /// usual estimate, refined locally (the smallest k on ties); with its code bits.
    pub fn best_k(
        params: &LayerParams,
        sum: u64,
        n: usize,
        bits: impl Fn(u32) -> u64,
    ) -> (u32, u64) {
        let guess = 64 - (sum / n as u64).leading_zeros();
        (guess.saturating_sub(1)..=guess + 1)
            .filter(|&k| k <= params.bits as u32)
            .map(|k| (k, bits(k)))
            .min_by_key(|&(_, bits)| bits)
            .expect("k = guess - 1 <= B always")
    }

    /// The segment of `q` this plan encodes.
    fn segment(&self, params: &LayerParams, q: &[i32]) -> Segment {
        Segment {
            len: q.len(),
            start: self.start,
            slope: self.slope,
            rice_k: self.k,
            residuals: line(self.start, self.slope, params.frac_bits)
                .zip(q)
                .map(|(p, &q)| residual(params, q as i64, p))
                .collect(),
        }
    }
}

/// The cheapest encoding of `q` as one segment on the line `(start, slope)`, if its residuals fit
/// the escape payload.
fn on_line(params: &LayerParams, q: &[i32], start: i64, slope: i64) -> Option<Plan> {
    let codes = || {
        line(start, slope, params.frac_bits)
            .zip(q)
            .map(|(p, &q)| zigzag(residual(params, q as i64, p)))
    };
    let (sum, max) = codes().fold((0u64, 0u64), |(s, m), u| (s + u, m.max(u)));
    if max >= 1u64 << params.escape_bits() {
        return None;
    }
    let k0 = (64 - (sum / q.len() as u64).leading_zeros()).saturating_sub(1);
    let bits = codes().fold([0u64; 3], |[a, b, c], u| {
        [
            a + code_bits(params, u, k0),
            b + code_bits(params, u, k0 + 1),
            c + code_bits(params, u, k0 + 2),
        ]
    });
    let (k, bits) = Plan::best_k(params, sum, q.len(), |k| bits[(k - k0) as usize]);
    Some(Plan {
        start,
        slope,
        k,
        bits: params.header_bits() + bits,
    })
}

/// The flat line at the rounded mean of `q`.
fn flat_plan(params: &LayerParams, q: &[i32]) -> Plan {
    let mean = q.iter().map(|&v| v as i64).sum::<i64>() as f64 / q.len() as f64;
    let s = (mean.round() as i64).clamp(params.min_value(), params.max_value());
    on_line(params, q, s, 0).expect("a flat line in range always fits")
}

/// The cheapest plan covering all of `q`: the flat line at the mean (`flat`, from
/// [`flat_plan`] or [`FlatPlans`]), or the least-squares line.
fn best_plan(params: &LayerParams, q: &[i32], flat: Plan) -> Plan {
    if params.slope_bits == 0 || q.len() < 3 {
        return flat;
    }
    let n = q.len() as f64;
    let mean = q.iter().map(|&v| v as f64).sum::<f64>() / n;
    let clamp = |v: f64| (v.round() as i64).clamp(params.min_value(), params.max_value());
    let jm = (n - 1.0) / 2.0;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (j, &v) in q.iter().enumerate() {
        sxy += (j as f64 - jm) * (v as f64 - mean);
        sxx += (j as f64 - jm) * (j as f64 - jm);
    }
    let slope = sxy / sxx;
    let (lo, hi) = params.slope_range();
    let m = ((slope * (1u64 << params.frac_bits) as f64).round() as i64).clamp(lo, hi);
    let start = clamp(mean - slope * jm);
    match on_line(params, q, start, m) {
        Some(sloped) if sloped.bits < flat.bits => sloped,
        _ => flat,
    }
}

/// Candidate segment lengths from a position: multiples of a granule up to `2^LB`.
pub(super) fn granule(params: &LayerParams) -> usize {
    (params.max_len() / 16).max(1)
}

pub(super) fn lengths(params: &LayerParams, left: usize) -> impl Iterator<Item = usize> {
    let g = granule(params);
    let max = params.max_len().min(left);
    (1..=max / g)
        .map(move |i| i * g)
        .chain((!max.is_multiple_of(g)).then_some(max))
}

/// Greedy: from each position take the candidate length with the fewest bits per weight.
pub fn greedy(params: &LayerParams, q: &[i32]) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < q.len() {
        // Greedy reads few candidates from each granule: direct flat plans are cheaper here
        // than the per-granule statistics of `FlatPlans`.
        let (plan, len) = lengths(params, q.len() - i)
            .map(|l| {
                let seg = &q[i..i + l];
                (best_plan(params, seg, flat_plan(params, seg)), l)
            })
            // Compare bits per weight exactly: a/la < b/lb  <=>  a*lb < b*la. Ties go longer.
            .reduce(|a, b| {
                if b.0.bits * (a.1 as u64) <= a.0.bits * (b.1 as u64) {
                    b
                } else {
                    a
                }
            })
            .expect("at least one candidate length");
        out.push(plan.segment(params, &q[i..i + len]));
        i += len;
    }
    out
}

/// Optimal over the same candidate lengths: fewest total bits by dynamic programming.
pub fn optimal(params: &LayerParams, q: &[i32]) -> Vec<Segment> {
    let n = q.len();
    let g = granule(params);
    // The best plan of every candidate segment, by start granule: the flat ones in order, the
    // sloped ones in parallel.
    let starts: Vec<usize> = (0..n).step_by(g).collect();
    let mut flat = FlatPlans::new(params, q);
    let flat: Vec<_> = starts.iter().map(|&i| flat.from(i)).collect();
    let plans: Vec<Vec<Plan>> = starts
        .par_iter()
        .zip(flat)
        .map(|(&i, row)| {
            row.into_iter()
                .map(|(l, fp)| best_plan(params, &q[i..i + l], fp))
                .collect()
        })
        .collect();
    // best[i] = (bits for q[i..], first segment's plan and length); filled from the end.
    // Segments start at multiples of the granule (the search space greedy draws from too).
    let mut best: Vec<Option<(Plan, usize)>> = vec![None; n + 1];
    let mut cost = vec![u64::MAX; n + 1];
    cost[n] = 0;
    for (&i, row) in starts.iter().zip(&plans).rev() {
        for (l, plan) in lengths(params, n - i).zip(row) {
            if cost[i + l] == u64::MAX {
                continue;
            }
            if plan.bits + cost[i + l] < cost[i] {
                cost[i] = plan.bits + cost[i + l];
                best[i] = Some((*plan, l));
            }
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let (plan, l) = best[i].expect("every granule position reaches the end");
        out.push(plan.segment(params, &q[i..i + l]));
        i += l;
    }
    out
}
