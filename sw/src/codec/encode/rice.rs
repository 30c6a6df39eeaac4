//! Segmentation in rice mode: a line predicts each weight and a Rice-coded residual, quantized to
//! steps of `2^r`, corrects it to within eps.

use rayon::prelude::*;

use super::fit::LaneSums;
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

    /// The segment of `q` this plan encodes. With a dead zone the Rice parameter is chosen
    /// again on the residuals it writes ([`dead_zone_k`]).
    fn segment(&self, params: &LayerParams, q: &[i32]) -> Segment {
        let k = if has_dead_zone(params) {
            dead_zone_k(params, self.start, self.slope, q, self.k)
        } else {
            self.k
        };
        Segment {
            len: q.len(),
            start: self.start,
            slope: self.slope,
            rice_k: k,
            residuals: line(self.start, self.slope, params.frac_bits)
                .zip(q)
                .map(|(p, &q)| coded_residual(params, k, q as i64, p))
                .collect(),
        }
    }
}

/// Whether eps lies strictly between half the step `2^r` and the step: then [`coded_residual`]
/// has a choice of two multiples for some weights.
pub(super) fn has_dead_zone(params: &LayerParams) -> bool {
    let (r, eps) = (params.shift, params.eps as i64);
    r > 0 && eps > 1 << (r - 1) && eps < 1 << r
}

/// Code bits of a segment's residuals as [`coded_residual`] writes them at Rice parameter `k`.
fn dead_zone_bits(params: &LayerParams, start: i64, slope: i64, q: &[i32], k: u32) -> u64 {
    line(start, slope, params.frac_bits)
        .zip(q)
        .map(|(p, &q)| code_bits(params, zigzag(coded_residual(params, k, q as i64, p)), k))
        .sum()
}

/// The Rice parameter with the fewest code bits once each residual takes the shorter code the
/// dead zone allows at that parameter: every `k` the format holds is tried, `planned` (the
/// planners' choice, sized with the nearest residuals) winning ties, so no segment grows.
pub(super) fn dead_zone_k(
    params: &LayerParams,
    start: i64,
    slope: i64,
    q: &[i32],
    planned: u32,
) -> u32 {
    // `min_by_key` keeps the first of equal minima: `planned` comes first.
    std::iter::once(planned)
        .chain((0..=params.bits as u32).filter(|&k| k != planned))
        .min_by_key(|&k| dead_zone_bits(params, start, slope, q, k))
        .unwrap_or(planned)
}

/// The residual written for `q` predicted by `p` in a segment with Rice parameter `k`: the
/// nearest multiple of the step ([`residual`]), unless eps lies strictly between half the step
/// and the step. Then eps is a dead zone: the other neighbouring multiple is written instead
/// when it is within eps too and its code is shorter at `k`. The planners size segments with
/// the nearest residuals, so a segment never grows; the choice moves reconstructions towards
/// the prediction, a bias that bias correction removes.
pub(super) fn coded_residual(params: &LayerParams, k: u32, q: i64, p: i64) -> i64 {
    let e = residual(params, q, p);
    if !has_dead_zone(params) {
        return e;
    }
    let (r, eps) = (params.shift, params.eps as i64);
    let d = q - p;
    let other = if d >= e << r { e + 1 } else { e - 1 };
    let bits = |e: i64| code_bits(params, zigzag(e), k);
    if (d - (other << r)).abs() <= eps && bits(other) < bits(e) {
        other
    } else {
        e
    }
}

/// The cheapest encoding of `q` as one segment on the line `(start, slope)`, if its residuals fit
/// the escape payload.
fn on_line(params: &LayerParams, q: &[i32], start: i64, slope: i64) -> Option<Plan> {
    let f = params.frac_bits;
    let base = (start << f) + (1i64 << (f - 1));
    let Costs { sum, k0, bits } = match Codes32::new(params, base, slope, q.len()) {
        Some(codes) => codes.costs(params, q)?,
        None => {
            // The prediction of `line`, by position.
            let code = |j: usize, v: i32| {
                zigzag(residual(params, v as i64, (base + j as i64 * slope) >> f))
            };
            Costs::of(params, q.iter().enumerate().map(|(j, &v)| code(j, v)))?
        }
    };
    let (k, bits) = Plan::best_k(params, sum, q.len(), |k| bits[(k - k0) as usize]);
    Some(Plan {
        start,
        slope,
        k,
        bits: params.header_bits() + bits,
    })
}

/// The sum of a segment's codes and their bits for the Rice parameters `k0..k0 + 3` around the
/// [`Plan::best_k`] estimate.
struct Costs {
    sum: u64,
    k0: u32,
    bits: [u64; 3],
}

/// The [`Plan::best_k`] estimate less one: where the candidate Rice parameters start.
fn first_k(sum: u64, n: usize) -> u32 {
    (64 - (sum / n as u64).leading_zeros()).saturating_sub(1)
}

impl Costs {
    /// The costs of `codes` (cloned to read them twice); `None` if one does not fit the escape
    /// payload.
    fn of(params: &LayerParams, codes: impl Iterator<Item = u64> + Clone) -> Option<Costs> {
        let (sum, max, n) = codes.clone().fold((0u64, 0u64, 0usize), |(s, m, n), u| {
            (s + u, m.max(u), n + 1)
        });
        if max >= 1u64 << params.escape_bits() {
            return None;
        }
        let k0 = first_k(sum, n);
        let bits = codes.fold([0u64; 3], |[a, b, c], u| {
            [
                a + code_bits(params, u, k0),
                b + code_bits(params, u, k0 + 1),
                c + code_bits(params, u, k0 + 2),
            ]
        });
        Some(Costs { sum, k0, bits })
    }
}

/// The residual codes of a line whose predictions stay well inside 32 bits, computed in 32-bit
/// lanes (the common case; the loops vectorize). Equal to [`residual`] and [`zigzag`] there.
struct Codes32 {
    base: i32,
    slope: i32,
    frac_bits: u32,
    shift: u32,
    /// `2^r - 1`, and `2^(r-1)` (`i32::MAX` for r = 0, where no remainder is a tie or above it).
    mask: i32,
    half: i32,
}

impl Codes32 {
    fn new(params: &LayerParams, base: i64, slope: i64, len: usize) -> Option<Codes32> {
        let reach = base.abs() + slope.abs() * len as i64;
        let shift = params.shift as u32;
        (reach < 1 << 28).then_some(Codes32 {
            base: base as i32,
            slope: slope as i32,
            frac_bits: params.frac_bits as u32,
            shift,
            mask: (1i32 << shift) - 1,
            half: if shift == 0 {
                i32::MAX
            } else {
                1 << (shift - 1)
            },
        })
    }

    /// The code of weight `v` at position `j`.
    #[inline(always)]
    fn code(&self, j: usize, v: i32) -> u32 {
        let p = (self.base + j as i32 * self.slope) >> self.frac_bits;
        let d = v - p;
        let floor = d >> self.shift;
        let rem = d & self.mask;
        let e = floor + (rem > self.half) as i32 + ((rem == self.half) as i32 & floor & 1);
        ((e << 1) ^ (e >> 31)) as u32
    }

    /// [`Costs::of`] the codes of `q` (at most `2^12` weights).
    fn costs(&self, params: &LayerParams, q: &[i32]) -> Option<Costs> {
        let (mut sum, mut max) = (0u32, 0u32);
        for (j, &v) in q.iter().enumerate() {
            let u = self.code(j, v);
            // Wraps only if some code escapes, which the check below catches.
            sum = sum.wrapping_add(u);
            max = max.max(u);
        }
        if max as u64 >= 1u64 << params.escape_bits() {
            return None;
        }
        let k0 = first_k(sum as u64, q.len());
        let escaped = Q_ESC + params.escape_bits();
        let bits_k = |u: u32, k: u32| {
            let u = u >> k;
            if u < Q_ESC {
                u + 1 + k
            } else {
                escaped
            }
        };
        let (mut a, mut b, mut c) = (0u32, 0u32, 0u32);
        for (j, &v) in q.iter().enumerate() {
            let u = self.code(j, v);
            a += bits_k(u, k0);
            b += bits_k(u, k0 + 1);
            c += bits_k(u, k0 + 2);
        }
        Some(Costs {
            sum: sum as u64,
            k0,
            bits: [a as u64, b as u64, c as u64],
        })
    }
}

/// The flat line at the rounded mean of `q[i..i + l]`.
fn flat_plan(params: &LayerParams, lane: &LaneSums, i: usize, l: usize) -> Plan {
    let mean = lane.sum(i, l) as f64 / l as f64;
    let s = (mean.round() as i64).clamp(params.min_value(), params.max_value());
    on_line(params, &lane.weights()[i..i + l], s, 0).expect("a flat line in range always fits")
}

/// The cheapest plan covering all of `q[i..i + l]`: the flat line at the mean (`flat`, from
/// [`flat_plan`] or [`FlatPlans`]), or the least-squares line.
fn best_plan(params: &LayerParams, lane: &LaneSums, i: usize, l: usize, flat: Plan) -> Plan {
    if params.slope_bits == 0 || l < 3 {
        return flat;
    }
    let (m, start) = lane.fit(params, i, l);
    let (lo, hi) = params.slope_range();
    let m = m.clamp(lo, hi);
    let start = start.clamp(params.min_value(), params.max_value());
    if (start, m) == (flat.start, 0) {
        // The flat line itself: not fewer bits.
        return flat;
    }
    match on_line(params, &lane.weights()[i..i + l], start, m) {
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

/// Greedy: from each position take the candidate length with the fewest bits per weight; `take`
/// gets each segment's position, length and plan, in order, and stops the walk by returning false.
fn greedy_walk(
    params: &LayerParams,
    lane: &LaneSums,
    mut take: impl FnMut(usize, usize, Plan) -> bool,
) {
    let n = lane.weights().len();
    let mut i = 0;
    while i < n {
        let (plan, len) = lengths(params, n - i)
            .map(|l| {
                (
                    best_plan(params, lane, i, l, flat_plan(params, lane, i, l)),
                    l,
                )
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
        if !take(i, len, plan) {
            return;
        }
        i += len;
    }
}

/// The greedy segmentation of `q`.
pub fn greedy(params: &LayerParams, q: &[i32]) -> Vec<Segment> {
    let mut out = Vec::new();
    greedy_walk(params, &LaneSums::new(q), |i, l, plan| {
        out.push(plan.segment(params, &q[i..i + l]));
        true
    });
    out
}

/// Fewest bits any segmentation of `n` weights can take under `params`: the headers of
/// `ceil(n / 2^LB)` segments and one bit per code.
pub fn bits_floor(params: &LayerParams, n: usize) -> u64 {
    n.div_ceil(params.max_len()) as u64 * params.header_bits() + n as u64
}

/// Size in bits of the greedy segmentation of a lane, without building its segments; `None` as
/// soon as `others` (bits counted elsewhere) plus the bits so far plus the [`bits_floor`] of the
/// rest of the lane exceed `limit`.
pub fn greedy_bits(params: &LayerParams, lane: &LaneSums, others: u64, limit: u64) -> Option<u64> {
    let n = lane.weights().len();
    let mut bits = 0;
    let mut within = true;
    greedy_walk(params, lane, |i, l, plan| {
        bits += plan.bits;
        within = others + bits + bits_floor(params, n - i - l) <= limit;
        within
    });
    within.then_some(bits)
}

/// Size in bits of the lane cut into segments of the longest length `2^LB`, each planned as the
/// planners plan a segment: a quick estimate of [`greedy_bits`], which usually takes that length.
pub fn fixed_bits(params: &LayerParams, lane: &LaneSums) -> u64 {
    let n = lane.weights().len();
    (0..n)
        .step_by(params.max_len())
        .map(|i| {
            let l = params.max_len().min(n - i);
            best_plan(params, lane, i, l, flat_plan(params, lane, i, l)).bits
        })
        .sum()
}

/// Optimal over the same candidate lengths: fewest total bits by dynamic programming.
pub fn optimal(params: &LayerParams, q: &[i32]) -> Vec<Segment> {
    let n = q.len();
    let g = granule(params);
    // The best plan of every candidate segment, by start granule: the flat ones in order, the
    // sloped ones in parallel.
    let starts: Vec<usize> = (0..n).step_by(g).collect();
    let lane = LaneSums::new(q);
    let mut flat = FlatPlans::new(params, q);
    let flat: Vec<_> = starts.iter().map(|&i| flat.from(i)).collect();
    let plans: Vec<Vec<Plan>> = starts
        .par_iter()
        .zip(flat)
        .map(|(&i, row)| {
            row.into_iter()
                .map(|(l, fp)| best_plan(params, &lane, i, l, fp))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::segment::reconstruct;
    use lc_format::Mode;
    use proptest::prelude::*;

    proptest! {
        /// The 32-bit codes give exactly the sums and bits of the general ones, wherever they
        /// apply.
        #[test]
        fn codes32_match_the_general_codes(
            bits in 4u8..=16,
            frac_bits in 1u8..=16,
            shift in 0u8..=15,
            raw in proptest::collection::vec(any::<i32>(), 1..300),
            start in any::<i64>(),
            slope in -300i64..300,
        ) {
            let params = LayerParams {
                bits,
                mode: Mode::Rice,
                eps: 0,
                frac_bits,
                len_bits: 12,
                slope_bits: 16,
                shift: shift.min(bits - 1),
            };
            let (lo, hi) = (params.min_value(), params.max_value());
            let q: Vec<i32> = raw.iter().map(|&v| (v as i64).rem_euclid(hi - lo + 1) as i32 + lo as i32).collect();
            let start = start.rem_euclid(hi - lo + 1) + lo;
            let base = (start << frac_bits) + (1i64 << (frac_bits - 1));
            let codes = Codes32::new(&params, base, slope, q.len());
            prop_assume!(codes.is_some());
            let general = Costs::of(
                &params,
                q.iter().enumerate().map(|(j, &v)| {
                    zigzag(residual(&params, v as i64, (base + j as i64 * slope) >> frac_bits))
                }),
            );
            let fast = codes.expect("assumed").costs(&params, &q);
            prop_assert_eq!(
                general.map(|c| (c.sum, c.k0, c.bits)),
                fast.map(|c| (c.sum, c.k0, c.bits))
            );
        }

        /// The written residual against a plain model: of every multiple of the step within
        /// eps of `q - p`, the nearest (ties to the even multiple) at eps = half the step; with
        /// a dead zone (half the step < eps < the step) the one with the shortest code at `k`,
        /// the nearest of those.
        #[test]
        fn coded_residual_matches_a_plain_model(
            shift in 1u8..=7,
            d in -300i64..300,
            p in -128i64..128,
            dead in 0i64..64,
            k in 0u32..=8,
        ) {
            let step = 1i64 << shift;
            let half = step / 2;
            let eps = half + dead % half;
            let params = LayerParams {
                bits: 8,
                mode: Mode::Rice,
                eps: eps as u16,
                frac_bits: 4,
                len_bits: 4,
                slope_bits: 4,
                shift,
            };
            let err = |e: i64| (d - e * step).abs();
            let within: Vec<i64> = (-400..=400).filter(|&e| err(e) <= eps).collect();
            let nearest = |c: &[i64]| {
                *c.iter()
                    .min_by_key(|&&e| (err(e), e.rem_euclid(2)))
                    .expect("a multiple is within half a step")
            };
            let model = if eps == half {
                nearest(&within)
            } else {
                let bits = |e: i64| code_bits(&params, zigzag(e), k);
                let fewest = within.iter().map(|&e| bits(e)).min().expect("not empty");
                let cheapest: Vec<i64> = within.into_iter().filter(|&e| bits(e) == fewest).collect();
                nearest(&cheapest)
            };
            prop_assert_eq!(coded_residual(&params, k, p + d, p), model);
        }

        /// With a dead zone a segment's Rice parameter is the one with the fewest code bits
        /// among all the format holds, against a plain model (each residual the multiple of
        /// the step within eps with the shortest code at that parameter), so never more than
        /// at the planned one; every reconstruction is within eps.
        #[test]
        fn dead_zone_segments_take_the_cheapest_k(
            shift in 2u8..=5,
            dead in 0i64..64,
            q in proptest::collection::vec(-127i32..=127, 1..200),
            start in -127i64..=127,
            slope in -40i64..=40,
            planned in 0u32..=8,
        ) {
            let step = 1i64 << shift;
            let half = step / 2;
            let eps = half + 1 + dead % (half - 1);
            let params = LayerParams {
                bits: 8,
                mode: Mode::Rice,
                eps: eps as u16,
                frac_bits: 4,
                len_bits: 8,
                slope_bits: 8,
                shift,
            };
            let preds: Vec<i64> = line(start, slope, params.frac_bits).take(q.len()).collect();
            let model_bits = |k: u32| -> u64 {
                preds
                    .iter()
                    .zip(&q)
                    .map(|(&p, &v)| {
                        (-300..=300)
                            .filter(|&e| (v as i64 - p - e * step).abs() <= eps)
                            .map(|e| code_bits(&params, zigzag(e), k))
                            .min()
                            .expect("a multiple is within half a step")
                    })
                    .sum()
            };
            let fewest = (0..=8).map(model_bits).min().expect("nine parameters");
            let plan = Plan { start, slope, k: planned, bits: 0 };
            let seg = plan.segment(&params, &q);
            let bits: u64 = seg
                .residuals
                .iter()
                .map(|&e| code_bits(&params, zigzag(e), seg.rice_k))
                .sum();
            prop_assert_eq!(bits, fewest);
            prop_assert!(bits <= model_bits(planned));
            let mut out = Vec::new();
            reconstruct(&params, &seg, &mut out);
            for (&r, &v) in out.iter().zip(&q) {
                prop_assert!((r - v).abs() as i64 <= eps, "{} vs {} at eps {}", r, v, eps);
            }
        }
    }
}
