//! Flat-line plans of the rice planners without re-reading the weights for every candidate:
//! candidate segments are runs of whole granules, so the residual statistics of a flat line
//! (start value `s`, slope 0) are summed from per-granule statistics, each computed once.

use lc_format::LayerParams;

use super::rice::{code_bits, granule, lengths, residual, Plan};
use crate::codec::segment::zigzag;

/// Largest Rice parameter (k <= B <= 16).
const MAX_K: usize = 16;

/// Residual statistics of at most one segment's weights (2^12 codes of at most 29 bits, each
/// code value below 2^17, so 32-bit sums) against one flat line: everything a plan is chosen from.
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    /// Sum of the zigzagged residuals.
    sum: u32,
    /// Largest zigzagged residual.
    max: u32,
    /// Code bits for each Rice parameter `0..=B`.
    bits: [u32; MAX_K + 1],
}

impl Stats {
    fn of(params: &LayerParams, q: &[i32], s: i64) -> Stats {
        let mut st = Stats::default();
        for &v in q {
            let u = zigzag(residual(params, v as i64, s));
            st.sum += u as u32;
            st.max = st.max.max(u as u32);
            for (k, b) in st.bits[..=params.bits as usize].iter_mut().enumerate() {
                *b += code_bits(params, u, k as u32) as u32;
            }
        }
        st
    }

    fn add(&mut self, o: &Stats) {
        self.sum += o.sum;
        self.max = self.max.max(o.max);
        for (a, b) in self.bits.iter_mut().zip(&o.bits) {
            *a += b;
        }
    }
}

/// Granules kept: a candidate spans at most 16 whole granules and a partial one.
const WINDOW: usize = 32;

/// Flat plans of the candidate segments from increasing granule positions of one lane.
pub struct FlatPlans<'a> {
    params: &'a LayerParams,
    q: &'a [i32],
    g: usize,
    /// `prefix[c]` = sum of the weights before granule `c`.
    prefix: Vec<i64>,
    /// Statistics by start value of the granules of the current window, by `granule % WINDOW`.
    memo: Vec<(usize, Vec<(i64, Stats)>)>,
}

impl<'a> FlatPlans<'a> {
    /// Plans over the lane `q`.
    pub fn new(params: &'a LayerParams, q: &'a [i32]) -> Self {
        let g = granule(params);
        let mut prefix = vec![0i64];
        for chunk in q.chunks(g) {
            let last = *prefix.last().expect("starts with 0");
            prefix.push(last + chunk.iter().map(|&v| v as i64).sum::<i64>());
        }
        FlatPlans {
            params,
            q,
            g,
            prefix,
            memo: vec![(usize::MAX, Vec::new()); WINDOW],
        }
    }

    fn granule_stats(&mut self, c: usize, s: i64) -> Stats {
        let slot = &mut self.memo[c % WINDOW];
        if slot.0 != c {
            slot.0 = c;
            slot.1.clear();
        }
        if let Some((_, st)) = slot.1.iter().find(|(v, _)| *v == s) {
            return *st;
        }
        let end = ((c + 1) * self.g).min(self.q.len());
        let st = Stats::of(self.params, &self.q[c * self.g..end], s);
        slot.1.push((s, st));
        st
    }

    /// The flat plan (a line at the rounded mean) of every candidate segment from `i`, a multiple
    /// of the granule, with its length, in the order of [`lengths`]. Calls must not go back by
    /// more than 16 granules.
    pub fn from(&mut self, i: usize) -> Vec<(usize, Plan)> {
        let params = self.params;
        let c0 = i / self.g;
        // Running sums by start value: (granules summed, statistics).
        let mut runs: Vec<(i64, usize, Stats)> = Vec::new();
        lengths(params, self.q.len() - i)
            .map(|l| {
                let c_end = (i + l).div_ceil(self.g);
                let mean = (self.prefix[c_end] - self.prefix[c0]) as f64 / l as f64;
                let s = (mean.round() as i64).clamp(params.min_value(), params.max_value());
                let at = match runs.iter().position(|r| r.0 == s) {
                    Some(at) => at,
                    None => {
                        runs.push((s, c0, Stats::default()));
                        runs.len() - 1
                    }
                };
                while runs[at].1 < c_end {
                    let st = self.granule_stats(runs[at].1, s);
                    runs[at].2.add(&st);
                    runs[at].1 += 1;
                }
                let st = &runs[at].2;
                debug_assert!(
                    (st.max as u64) < 1u64 << params.escape_bits(),
                    "a flat line in range always fits"
                );
                let (k, bits) =
                    Plan::best_k(params, st.sum as u64, l, |k| st.bits[k as usize] as u64);
                let plan = Plan {
                    start: s,
                    slope: 0,
                    k,
                    bits: params.header_bits() + bits,
                };
                (l, plan)
            })
            .collect()
    }
}
