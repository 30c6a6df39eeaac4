//! Encoders: plan segments for a lane (greedy or optimal), serialize them, and choose a layer's
//! parameters.

mod fit;
mod flat;
mod lines;
mod rice;

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use fit::LaneSums;

use super::bits::BitWriter;
use super::segment::{reconstruct, zigzag, Segment};
use lc_format::{LayerParams, Mode, K_BITS, Q_ESC};
use lc_format::{Profile, ProfileError, Range};

/// How segment boundaries are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Longest (lines) or cheapest-per-weight (rice) segment first: fast.
    Greedy,
    /// Fewest total bits by dynamic programming; never worse than greedy.
    Optimal,
}

/// An encoded lane: the packed bits, their exact length and the number of weights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaneStream {
    /// Bits packed LSB first (FORMAT.md section 3), last byte zero-padded.
    pub bytes: Vec<u8>,
    /// Exact stream length in bits.
    pub length_bits: u64,
    /// Number of weights.
    pub count: u64,
}

/// Why a lane could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The parameters are outside the format's ranges.
    #[error("invalid layer parameters: {0}")]
    BadParams(String),
    /// The planned segments miss the bound (an encoder defect, reported rather than hidden).
    #[error("internal error: reconstruction of weight {index} is outside eps")]
    Bound {
        /// Position in the lane.
        index: usize,
    },
    /// A value does not fit in B bits.
    #[error("weight {index} = {value} does not fit in {bits} bits")]
    OutOfRange {
        /// Position in the lane.
        index: usize,
        /// The value.
        value: i32,
        /// B.
        bits: u8,
    },
}

/// Plan the segments of one lane under `params` (checks every value fits in B bits).
pub fn plan_lane(
    q: &[i32],
    params: &LayerParams,
    strategy: Strategy,
) -> Result<Vec<Segment>, EncodeError> {
    params.validate().map_err(EncodeError::BadParams)?;
    if let Some((index, &value)) = q
        .iter()
        .enumerate()
        .find(|(_, &v)| (v as i64) < params.min_value() || (v as i64) > params.max_value())
    {
        return Err(EncodeError::OutOfRange {
            index,
            value,
            bits: params.bits,
        });
    }
    Ok(match (params.mode, strategy) {
        (Mode::Lines, Strategy::Greedy) => lines::greedy(params, q),
        (Mode::Lines, Strategy::Optimal) => lines::optimal(params, q),
        (Mode::Rice, Strategy::Greedy) => rice::greedy(params, q),
        (Mode::Rice, Strategy::Optimal) => rice::optimal(params, q),
    })
}

/// Encode one lane: plan, serialize, and check the reconstruction is within eps of `q`.
pub fn encode_lane(
    q: &[i32],
    params: &LayerParams,
    strategy: Strategy,
) -> Result<LaneStream, EncodeError> {
    let segments = plan_lane(q, params, strategy)?;
    let mut check = Vec::with_capacity(q.len());
    for seg in &segments {
        reconstruct(params, seg, &mut check);
    }
    let eps = params.eps as i64;
    if let Some(index) = (0..q.len()).find(|&i| (check[i] as i64 - q[i] as i64).abs() > eps) {
        return Err(EncodeError::Bound { index });
    }
    Ok(write(params, &segments, q.len() as u64))
}

/// Serialize planned segments (FORMAT.md section 4).
fn write(params: &LayerParams, segments: &[Segment], count: u64) -> LaneStream {
    let mut w = BitWriter::new();
    for seg in segments {
        w.put(seg.len as u64 - 1, params.len_bits as u32);
        w.put_signed(seg.start, params.bits as u32);
        w.put_signed(seg.slope, params.slope_bits as u32);
        if params.mode == Mode::Rice {
            w.put(seg.rice_k as u64, K_BITS);
            for &e in &seg.residuals {
                let u = zigzag(e);
                let q = u >> seg.rice_k;
                if q < Q_ESC as u64 {
                    w.put(0, q as u32);
                    w.put_bit(true);
                    w.put(u, seg.rice_k);
                } else {
                    w.put(0, Q_ESC);
                    w.put(u, params.escape_bits());
                }
            }
        }
    }
    let length_bits = w.len_bits();
    LaneStream {
        bytes: w.into_bytes(),
        length_bits,
        count,
    }
}

/// Bits a set of lanes takes under `params` with the greedy planner.
fn greedy_bits(lanes: &[&[i32]], params: &LayerParams) -> u64 {
    lanes
        .iter()
        .map(|q| plan_lane(q, params, Strategy::Greedy).map_or(UNUSABLE, |s| size(params, &s)))
        .sum()
}

/// The size of a lane under parameters it cannot be encoded with.
const UNUSABLE: u64 = u64::MAX / 4;

/// The lanes whose weights all fit the B of `params` (every rice grid point has the same B).
fn in_range<'a>(lanes: &[&'a [i32]], params: &LayerParams) -> Vec<&'a [i32]> {
    let range = params.min_value()..=params.max_value();
    lanes
        .iter()
        .filter(|q| q.iter().all(|&v| range.contains(&(v as i64))))
        .copied()
        .collect()
}

/// [`greedy_bits`] of the rice grid points `order` (indices into `grid`), without building
/// segments; the lanes' prefix sums are shared. The other points, and a point whose size cannot
/// reach the smallest found so far, are left unsized (`u64::MAX`): `order[0]` is sized first,
/// alone, so that it bounds the rest.
fn greedy_bits_rice(lanes: &[&[i32]], grid: &[LayerParams], order: &[usize]) -> Vec<u64> {
    let mut sizes = vec![u64::MAX; grid.len()];
    let Some((&first, rest)) = order.split_first() else {
        return sizes;
    };
    // A lane out of B's range is out for every point, and adds the same to every size; the
    // lanes in range decide.
    let sums: Vec<LaneSums> = in_range(lanes, &grid[first])
        .into_iter()
        .map(LaneSums::new)
        .collect();
    let out_of_range = UNUSABLE.saturating_mul((lanes.len() - sums.len()) as u64);
    // The smallest size of the lanes in range found so far.
    let best = AtomicU64::new(u64::MAX);
    let size = |p: &LayerParams| -> u64 {
        if p.validate().is_err() {
            return UNUSABLE.saturating_mul(lanes.len() as u64);
        }
        let floor = |lane: &LaneSums| rice::bits_floor(p, lane.weights().len());
        let mut rest: u64 = sums.iter().map(floor).sum();
        let mut spent = 0;
        for lane in &sums {
            rest -= floor(lane);
            let limit = best.load(Ordering::Relaxed);
            match rice::greedy_bits(p, lane, spent + rest, limit) {
                Some(bits) => spent += bits,
                None => return u64::MAX,
            }
        }
        best.fetch_min(spent, Ordering::Relaxed);
        spent.saturating_add(out_of_range)
    };
    sizes[first] = size(&grid[first]);
    let rest: Vec<(usize, u64)> = rest.par_iter().map(|&g| (g, size(&grid[g]))).collect();
    for (g, s) in rest {
        sizes[g] = s;
    }
    sizes
}

/// Weights of the sample the rice grid points are estimated on.
const SCREEN: usize = 2048;
/// Rice grid points with the smallest estimates that are sized in full.
const FINALISTS: usize = 3;

/// Sizes of the rice grid points on `sample`, from which [`choose_params_for`] picks the first
/// of the smallest. Every point is first estimated on [`SCREEN`] weights spread over the sample
/// in runs of the grid's longest segment length, each cut into segments of the point's longest
/// length ([`rice::fixed_bits`]); only the [`FINALISTS`] smallest estimates are sized with the
/// greedy planner on the whole sample, the others are left unsized (`u64::MAX`).
fn rice_sizes(sample: &[&[i32]], grid: &[LayerParams]) -> Vec<u64> {
    let Some(first) = grid.first() else {
        return Vec::new();
    };
    let longest = grid.iter().map(LayerParams::max_len).max().unwrap_or(1);
    let runs: Vec<LaneSums> = spread(&in_range(sample, first), SCREEN, longest)
        .into_iter()
        .map(LaneSums::new)
        .collect();
    let estimates: Vec<u64> = grid
        .par_iter()
        .map(|p| match p.validate() {
            Ok(()) => runs.iter().map(|run| rice::fixed_bits(p, run)).sum(),
            Err(_) => u64::MAX,
        })
        .collect();
    let mut order: Vec<usize> = (0..grid.len()).collect();
    order.sort_by_key(|&g| (estimates[g], g));
    order.truncate(FINALISTS);
    greedy_bits_rice(sample, grid, &order)
}

/// About `total` weights of `lanes` (at least one run) in runs of at most `run`, spread evenly
/// over them; all of them if they are fewer.
fn spread<'a>(lanes: &[&'a [i32]], total: usize, run: usize) -> Vec<&'a [i32]> {
    let n: usize = lanes.iter().map(|q| q.len()).sum();
    if n <= total {
        return lanes.to_vec();
    }
    let runs = (total / run).max(1);
    let (mut lane, mut lane_start) = (0, 0);
    let mut out = Vec::with_capacity(runs);
    for r in 0..runs {
        let at = r * n / runs;
        while at >= lane_start + lanes[lane].len() {
            lane_start += lanes[lane].len();
            lane += 1;
        }
        let q = lanes[lane];
        let from = at - lane_start;
        out.push(&q[from..q.len().min(from + run)]);
    }
    out
}

/// Size in bits of planned segments.
pub fn size(params: &LayerParams, segments: &[Segment]) -> u64 {
    segments
        .iter()
        .map(|seg| {
            params.header_bits()
                + seg
                    .residuals
                    .iter()
                    .map(|&e| rice::code_bits(params, zigzag(e), seg.rice_k))
                    .sum::<u64>()
        })
        .sum()
}

/// Choose F, LB and MB for a layer by trying a small grid with the greedy planner on a sample of
/// the lanes (at most 16 Ki weights; in rice mode only the grid points estimated smallest, see
/// `rice_sizes`); B, mode and eps are given. Every v1 parameter is allowed.
pub fn choose_params(lanes: &[&[i32]], bits: u8, mode: Mode, eps: u16) -> LayerParams {
    let full = Profile::shared("full").expect("the built-in full profile is valid");
    choose_params_for(full, lanes, bits, mode, eps)
        .expect("the full profile accepts every B and mode")
}

/// [`choose_params`] restricted to what `profile`'s hardware decodes: grid values outside a
/// parameter's range move to its nearest end, and the residual shift is capped at the profile's.
/// Fails, naming the field, when B or the mode is outside the profile.
pub fn choose_params_for(
    profile: &Profile,
    lanes: &[&[i32]],
    bits: u8,
    mode: Mode,
    eps: u16,
) -> Result<LayerParams, ProfileError> {
    const SAMPLE: usize = 16 * 1024;
    let per_lane = (SAMPLE / lanes.len().max(1)).max(64);
    let sample: Vec<&[i32]> = lanes.iter().map(|q| &q[..q.len().min(per_lane)]).collect();
    let grid = grid(profile, bits, mode, eps)?;
    if let [only] = grid[..] {
        // A profile that fixes every parameter: nothing to size.
        return Ok(only);
    }
    // The first of the smallest wins (a point left part way by the rice sizing is not one).
    let sizes: Vec<u64> = match mode {
        Mode::Rice => rice_sizes(&sample, &grid),
        Mode::Lines => grid.par_iter().map(|p| greedy_bits(&sample, p)).collect(),
    };
    let best = (0..grid.len())
        .min_by_key(|&i| (sizes[i], i))
        .expect("the grid is not empty");
    Ok(grid[best])
}

/// The grid points [`choose_params_for`] tries, in order.
fn grid(
    profile: &Profile,
    bits: u8,
    mode: Mode,
    eps: u16,
) -> Result<Vec<LayerParams>, ProfileError> {
    let shift = match mode {
        Mode::Lines => 0,
        Mode::Rice => profile.shift.clamp(LayerParams::shift_for_eps(bits, eps)),
    };
    let (fracs, slopes, lens): (&[u8], &[u8], &[u8]) = match mode {
        Mode::Lines => (
            &[2, 4, 6, 8],
            &[0, 2, 4, 6, 8, 10],
            &[0, 1, 2, 3, 4, 5, 6, 8],
        ),
        Mode::Rice => (&[4, 8], &[0, 4, 8], &[3, 4, 5, 6, 7, 8]),
    };
    let within = |grid: &[u8], range: &Range| {
        let mut v: Vec<u8> = grid.iter().map(|&g| range.clamp(g)).collect();
        v.dedup();
        v
    };
    let (fracs, slopes, lens) = (
        within(fracs, &profile.frac_bits),
        within(slopes, &profile.slope_bits),
        within(lens, &profile.len_bits),
    );
    let mut grid = Vec::new();
    for &frac_bits in &fracs {
        for &slope_bits in &slopes {
            if slope_bits == 0 && frac_bits != fracs[0] {
                // Without a slope field F has no effect: one F suffices.
                continue;
            }
            for &len_bits in &lens {
                let params = LayerParams {
                    bits,
                    mode,
                    eps,
                    frac_bits,
                    len_bits,
                    slope_bits,
                    shift,
                };
                profile.check(&params)?;
                grid.push(params);
            }
        }
    }
    Ok(grid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The rice sizing of the grid (shared sums, points left part way) keeps every size it
        /// finishes exact and the winner of sizing every point by its planned segments, also
        /// with a lane out of range; the screened sizing finishes a few points, its winner's
        /// size exact.
        #[test]
        fn rice_sizing_keeps_the_winner(
            steps in proptest::collection::vec(proptest::collection::vec(-12i32..=12, 1..700), 1..3),
            // eps of nearest rounding: with a dead zone (eps 3, 5..7) the written residuals
            // code shorter than the planners size them, and the sizing is an upper bound.
            eps in prop::sample::select(vec![0u16, 1, 2, 4, 8]),
            compact in any::<bool>(),
            out_of_range in any::<bool>(),
        ) {
            // Random walks inside the 8-bit range: runs that lines and flat segments both fit;
            // and maybe a lane no grid point can encode.
            let mut lanes: Vec<Vec<i32>> = steps
                .iter()
                .map(|s| s.iter().scan(0i32, |w, d| { *w = (*w + d).clamp(-128, 127); Some(*w) }).collect())
                .collect();
            if out_of_range {
                lanes.push(vec![0, 300, 0]);
            }
            let lanes: Vec<&[i32]> = lanes.iter().map(Vec::as_slice).collect();
            let profile = Profile::shared(if compact { "compact" } else { "full" }).expect("built in");
            let grid = grid(profile, 8, Mode::Rice, eps).expect("8-bit rice fits both profiles");
            let order: Vec<usize> = (0..grid.len()).rev().collect();
            let fast = greedy_bits_rice(&lanes, &grid, &order);
            let full: Vec<u64> = grid.iter().map(|p| greedy_bits(&lanes, p)).collect();
            for (f, s) in fast.iter().zip(&full) {
                prop_assert!(*f == u64::MAX || f == s, "{} against {}", f, s);
            }
            let winner = |sizes: &[u64]| (0..sizes.len()).min_by_key(|&i| (sizes[i], i));
            prop_assert_eq!(winner(&fast), winner(&full));

            let screened = rice_sizes(&lanes, &grid);
            let sized = screened.iter().filter(|&&s| s != u64::MAX).count();
            prop_assert!((1..=FINALISTS).contains(&sized), "{} points sized", sized);
            let w = winner(&screened).expect("a grid point");
            prop_assert_eq!(screened[w], full[w]);
        }

        /// The screening sample: disjoint runs of at most `run` weights inside the lanes, in
        /// order, `total / run` of them; or all the lanes when they hold no more than `total`.
        #[test]
        fn spread_takes_disjoint_runs_in_order(
            lens in proptest::collection::vec(0usize..3000, 1..6),
            total in 1usize..4000,
            run in 1usize..600,
        ) {
            let lanes: Vec<Vec<i32>> = lens.iter().map(|&n| vec![0; n]).collect();
            let lanes: Vec<&[i32]> = lanes.iter().map(Vec::as_slice).collect();
            let runs = spread(&lanes, total, run);
            let n: usize = lens.iter().sum();
            if n <= total {
                prop_assert_eq!(runs.len(), lanes.len());
                for (r, l) in runs.iter().zip(&lanes) {
                    prop_assert_eq!(r.as_ptr_range(), l.as_ptr_range());
                }
                return Ok(());
            }
            prop_assert_eq!(runs.len(), (total / run).max(1));
            // (lane, first, end) of every run, by address inside its lane.
            let place = |r: &[i32]| {
                let at = r.as_ptr_range();
                lanes.iter().enumerate().find_map(|(i, l)| {
                    let lane = l.as_ptr_range();
                    (lane.start <= at.start && at.start < lane.end && at.end <= lane.end).then(|| {
                        let first = (at.start as usize - lane.start as usize) / size_of::<i32>();
                        (i, first, first + r.len())
                    })
                })
            };
            let mut last = (0, 0);
            for r in &runs {
                prop_assert!(!r.is_empty() && r.len() <= run);
                let (lane, first, end) = place(r).expect("every run lies inside a lane");
                prop_assert!((lane, first) >= last, "runs overlap or go back");
                last = (lane, end);
            }
        }
    }
}
