//! Segmentation in lines mode: every weight must lie on the segment's line within eps.

use crate::codec::segment::Segment;
use lc_format::LayerParams;

/// Feasible lines for a segment that starts at a fixed index: for each admissible start value `s`,
/// the interval of slopes that keeps every weight so far within eps. One fit is reused for every
/// segment of a lane, so its buffers are allocated once.
#[derive(Default)]
struct Fit {
    /// `(s, slope_lo, slope_hi)` for each start value still feasible.
    lines: Vec<(i64, i64, i64)>,
    /// The next `lines` while one more weight is tried.
    spare: Vec<(i64, i64, i64)>,
    len: usize,
}

fn floor_div(a: i64, b: i64) -> i64 {
    a.div_euclid(b)
}

fn ceil_div(a: i64, b: i64) -> i64 {
    -(-a).div_euclid(b)
}

/// Range of predictions `p` whose saturated value is within eps of `q`
/// (`None` on a side means unbounded because saturation clips there).
fn target(params: &LayerParams, q: i64) -> (Option<i64>, Option<i64>) {
    let eps = params.eps as i64;
    let lo = q - eps;
    let hi = q + eps;
    (
        (lo > params.min_value()).then_some(lo),
        (hi < params.max_value()).then_some(hi),
    )
}

impl Fit {
    /// Start a segment at the weight `q0`.
    fn start(&mut self, params: &LayerParams, q0: i64) {
        let eps = params.eps as i64;
        let lo = (q0 - eps).max(params.min_value());
        let hi = (q0 + eps).min(params.max_value());
        let (mlo, mhi) = params.slope_range();
        self.lines.clear();
        self.lines.extend((lo..=hi).map(|s| (s, mlo, mhi)));
        self.len = 1;
    }

    /// Try to add the next weight `q`; returns false (leaving `self` unchanged) if no line fits.
    fn extend(&mut self, params: &LayerParams, q: i64) -> bool {
        let k = self.len as i64;
        let f = params.frac_bits;
        let (a, b) = target(params, q);
        let narrow = |&(s, mlo, mhi): &(i64, i64, i64)| {
            let base = (s << f) + (1i64 << (f - 1));
            let lo = a.map_or(mlo, |a| mlo.max(ceil_div((a << f) - base, k)));
            let hi = b.map_or(mhi, |b| mhi.min(floor_div(((b + 1) << f) - 1 - base, k)));
            (s, lo, hi)
        };
        self.spare.clear();
        self.spare.extend(
            self.lines
                .iter()
                .map(narrow)
                .filter(|&(_, lo, hi)| lo <= hi),
        );
        if self.spare.is_empty() {
            return false;
        }
        std::mem::swap(&mut self.lines, &mut self.spare);
        self.len += 1;
        true
    }

    /// A line that fits every weight added so far: the start value closest to the first weight
    /// and, for it, the slope of smallest magnitude.
    fn segment(&self, q0: i64) -> Segment {
        let &(s, lo, hi) = self
            .lines
            .iter()
            .min_by_key(|(s, _, _)| (s - q0).abs())
            .expect("a fit always holds at least one line");
        Segment {
            len: self.len,
            start: s,
            slope: 0i64.clamp(lo, hi),
            rice_k: 0,
            residuals: vec![],
        }
    }
}

/// The longest segment that starts at `i` (at most `limit` weights).
fn longest(fit: &mut Fit, params: &LayerParams, q: &[i32], i: usize, limit: usize) -> Segment {
    fit.start(params, q[i] as i64);
    while fit.len < limit && i + fit.len < q.len() && fit.extend(params, q[i + fit.len] as i64) {}
    fit.segment(q[i] as i64)
}

/// Greedy: always take the longest feasible segment.
pub fn greedy(params: &LayerParams, q: &[i32]) -> Vec<Segment> {
    let mut fit = Fit::default();
    let mut out = Vec::new();
    let mut i = 0;
    while i < q.len() {
        let seg = longest(&mut fit, params, q, i, params.max_len());
        i += seg.len;
        out.push(seg);
    }
    out
}

/// Optimal: the fewest segments (every segment costs the same header bits), by dynamic
/// programming over all feasible lengths. Feasibility is prefix-closed, so the lengths feasible
/// from `i` are exactly `1..=longest(i)`.
pub fn optimal(params: &LayerParams, q: &[i32]) -> Vec<Segment> {
    let n = q.len();
    let mut fit = Fit::default();
    // best[i] = (segments needed for q[i..], length of the first one)
    let mut best = vec![(0usize, 0usize); n + 1];
    for i in (0..n).rev() {
        let reach = longest(&mut fit, params, q, i, params.max_len()).len;
        // Ties go to the longest first segment, as greedy would pick.
        best[i] = (1..=reach)
            .rev()
            .map(|l| (best[i + l].0 + 1, l))
            .min_by_key(|&(c, _)| c)
            .expect("reach >= 1");
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        // Feasibility is prefix-closed: the longest segment within this length has it.
        let seg = longest(&mut fit, params, q, i, best[i].1);
        i += seg.len;
        out.push(seg);
    }
    out
}
