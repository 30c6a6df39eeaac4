//! Segmentation in rice mode: a line predicts each weight and a Rice-coded residual, quantized to
//! steps of `2^r`, corrects it to within eps.

use crate::codec::segment::{line, zigzag, Segment};
use lc_format::{LayerParams, Q_ESC};

/// Bits of one Rice code of `u` with parameter `k`.
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
fn residual(params: &LayerParams, q: i64, p: i64) -> i64 {
    let d = q - p;
    let r = params.shift;
    if r == 0 {
        return d;
    }
    let step = 1i64 << r;
    let floor = d.div_euclid(step);
    match (d - floor * step).cmp(&(step / 2)) {
        std::cmp::Ordering::Less => floor,
        std::cmp::Ordering::Greater => floor + 1,
        std::cmp::Ordering::Equal => floor + (floor & 1),
    }
}

/// The cheapest encoding of `q` as one segment on the line `(start, slope)`, if its residuals fit
/// the escape payload. Returns the segment and its size in bits.
fn on_line(params: &LayerParams, q: &[i32], start: i64, slope: i64) -> Option<(Segment, u64)> {
    let residuals: Vec<i64> = line(start, slope, params.frac_bits)
        .zip(q)
        .map(|(p, &q)| residual(params, q as i64, p))
        .collect();
    let limit = 1u64 << params.escape_bits();
    let codes: Vec<u64> = residuals.iter().map(|&e| zigzag(e)).collect();
    if codes.iter().any(|&u| u >= limit) {
        return None;
    }
    // Rice parameter: around log2 of the mean code value, the usual estimate, refined locally.
    let mean = codes.iter().sum::<u64>() / codes.len() as u64;
    let guess = 64 - mean.leading_zeros();
    let (k, bits) = (guess.saturating_sub(1)..=guess + 1)
        .filter(|&k| k <= params.bits as u32)
        .map(|k| {
            (
                k,
                codes.iter().map(|&u| code_bits(params, u, k)).sum::<u64>(),
            )
        })
        .min_by_key(|&(_, bits)| bits)
        .expect("k = guess - 1 <= B always");
    let seg = Segment {
        len: q.len(),
        start,
        slope,
        rice_k: k,
        residuals,
    };
    Some((seg, params.header_bits() + bits))
}

/// The cheapest segment covering all of `q`: a flat line at the mean, or the least-squares line.
pub fn best_segment(params: &LayerParams, q: &[i32]) -> (Segment, u64) {
    let n = q.len() as f64;
    let mean = q.iter().map(|&v| v as f64).sum::<f64>() / n;
    let clamp = |v: f64| (v.round() as i64).clamp(params.min_value(), params.max_value());
    let flat = on_line(params, q, clamp(mean), 0).expect("a flat line in range always fits");
    if params.slope_bits == 0 || q.len() < 3 {
        return flat;
    }
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
        Some(sloped) if sloped.1 < flat.1 => sloped,
        _ => flat,
    }
}

/// Candidate segment lengths from a position: multiples of a granule up to `2^LB`.
fn granule(params: &LayerParams) -> usize {
    (params.max_len() / 16).max(1)
}

fn lengths(params: &LayerParams, left: usize) -> impl Iterator<Item = usize> {
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
        let (seg, _) = lengths(params, q.len() - i)
            .map(|l| best_segment(params, &q[i..i + l]))
            // Compare bits per weight exactly: a/la < b/lb  <=>  a*lb < b*la. Ties go longer.
            .reduce(|a, b| {
                if b.1 * (a.0.len as u64) <= a.1 * (b.0.len as u64) {
                    b
                } else {
                    a
                }
            })
            .expect("at least one candidate length");
        i += seg.len;
        out.push(seg);
    }
    out
}

/// Optimal over the same candidate lengths: fewest total bits by dynamic programming.
pub fn optimal(params: &LayerParams, q: &[i32]) -> Vec<Segment> {
    let n = q.len();
    // best[i] = (bits for q[i..], first segment); filled from the end.
    let mut best: Vec<Option<(u64, Segment)>> = vec![None; n + 1];
    let mut cost = vec![u64::MAX; n + 1];
    cost[n] = 0;
    let g = granule(params);
    // Segments start at multiples of the granule (the search space greedy draws from too).
    for i in (0..n).rev().filter(|i| i.is_multiple_of(g)) {
        for l in lengths(params, n - i) {
            if cost[i + l] == u64::MAX {
                continue;
            }
            let (seg, bits) = best_segment(params, &q[i..i + l]);
            if bits + cost[i + l] < cost[i] {
                cost[i] = bits + cost[i + l];
                best[i] = Some((bits, seg));
            }
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let (_, seg) = best[i]
            .take()
            .expect("every granule position reaches the end");
        i += seg.len;
        out.push(seg);
    }
    out
}
