//! One segment and its reconstruction arithmetic (FORMAT.md section 4.1).

use lc_format::{LayerParams, Mode};

/// A decoded or planned segment: `len` weights on the line `(start, slope)`, plus residuals in
/// rice mode (empty in lines mode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Number of weights, 1..=2^LB.
    pub len: usize,
    /// Start value s.
    pub start: i64,
    /// Slope m in units of 2^-F.
    pub slope: i64,
    /// Rice parameter k (rice mode).
    pub rice_k: u32,
    /// Residuals e_j (rice mode), one per weight.
    pub residuals: Vec<i64>,
}

/// The line prediction `p_j = (s*2^F + 2^(F-1) + j*m) >> F` of a segment, for j = 0..len.
pub fn line(start: i64, slope: i64, frac_bits: u8) -> impl Iterator<Item = i64> {
    let mut acc = (start << frac_bits) + (1i64 << (frac_bits - 1));
    std::iter::repeat_with(move || {
        let p = acc >> frac_bits;
        acc += slope;
        p
    })
}

/// Append the weights of one segment to `out`, exactly as the hardware computes them.
pub fn reconstruct(params: &LayerParams, seg: &Segment, out: &mut Vec<i32>) {
    let predictions = line(seg.start, seg.slope, params.frac_bits).take(seg.len);
    match params.mode {
        Mode::Lines => out.extend(predictions.map(|p| params.saturate(p) as i32)),
        Mode::Rice => out.extend(
            predictions
                .zip(&seg.residuals)
                .map(|(p, e)| params.saturate(p + (e << params.shift)) as i32),
        ),
    }
}

/// Zigzag map of a residual: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ...
pub fn zigzag(e: i64) -> u64 {
    ((e << 1) ^ (e >> 63)) as u64
}

/// Inverse of [`zigzag`].
pub fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}
