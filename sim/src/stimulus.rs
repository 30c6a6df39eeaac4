//! Stimulus: random valid lane streams written field by field from FORMAT.md (independent of the
//! software encoder), CNN-like weight tensors, and the malformations used to test error handling.

use crate::check::LaneBytes;
use lc_sw::codec::{BitWriter, LayerParams, Mode, K_BITS, Q_ESC};
use rand::Rng;

/// Random layer parameters inside the format's ranges.
pub fn random_params(rng: &mut impl Rng, mode: Mode) -> LayerParams {
    let full = lc_format::Profile::shared("full").expect("the built-in full profile is valid");
    random_params_in(rng, full, mode)
}

/// Random layer parameters of `mode` within `profile`'s ranges (r below B).
pub fn random_params_in(
    rng: &mut impl Rng,
    profile: &lc_format::Profile,
    mode: Mode,
) -> LayerParams {
    let mut pick = |r: lc_format::Range| rng.gen_range(r.min..=r.max);
    let bits = pick(profile.bits);
    LayerParams {
        bits,
        mode,
        eps: 0,
        frac_bits: pick(profile.frac_bits),
        len_bits: pick(profile.len_bits),
        slope_bits: pick(profile.slope_bits),
        shift: match mode {
            Mode::Lines => 0,
            Mode::Rice => pick(profile.shift).min(bits - 1),
        },
    }
}

/// Shape of the random segments.
#[derive(Clone, Copy, Debug)]
pub struct SegmentShape {
    /// Longest segment drawn (further limited by `2^LB` and the weights left).
    pub max_len: u64,
    /// Probability that a residual is coded as an escape (when one is possible).
    pub escape_rate: f64,
}

impl Default for SegmentShape {
    fn default() -> Self {
        SegmentShape {
            max_len: 64,
            escape_rate: 0.05,
        }
    }
}

/// A valid lane stream of `count` weights with random segments, written directly with the bit
/// layout of FORMAT.md section 4.
pub fn random_lane(
    rng: &mut impl Rng,
    p: &LayerParams,
    count: u64,
    shape: SegmentShape,
) -> LaneBytes {
    let mut w = BitWriter::new();
    let mut left = count;
    let max_len = (1u64 << p.len_bits).min(shape.max_len.max(1));
    while left > 0 {
        let len = rng.gen_range(1..=max_len.min(left));
        w.put(len - 1, p.len_bits as u32);
        let half = 1i64 << (p.bits - 1);
        w.put_signed(rng.gen_range(-half..half), p.bits as u32);
        if p.slope_bits > 0 {
            let m = 1i64 << (p.slope_bits - 1);
            w.put_signed(rng.gen_range(-m..m), p.slope_bits as u32);
        }
        if p.mode == Mode::Rice {
            let k = rng.gen_range(0..=(p.bits as u32).min((1 << K_BITS) - 1));
            w.put(k as u64, K_BITS);
            for _ in 0..len {
                put_residual(rng, &mut w, k, p.bits as u32 + 1, shape.escape_rate);
            }
        }
        left -= len;
    }
    let length_bits = w.len_bits();
    LaneBytes {
        bytes: w.into_bytes(),
        length_bits,
        count,
    }
}

/// Write one random residual code with parameter `k` (regular or escape).
fn put_residual(rng: &mut impl Rng, w: &mut BitWriter, k: u32, esc_bits: u32, escape_rate: f64) {
    let lowest_escape = (Q_ESC as u64) << k;
    let escape_possible = lowest_escape < 1u64 << esc_bits;
    if escape_possible && rng.gen_bool(escape_rate) {
        let u = rng.gen_range(lowest_escape..1u64 << esc_bits);
        w.put(0, Q_ESC);
        w.put(u, esc_bits);
    } else {
        // Mostly short codes, like real residuals.
        let q = if rng.gen_bool(0.7) {
            rng.gen_range(0..3)
        } else {
            rng.gen_range(0..Q_ESC)
        };
        w.put(0, q);
        w.put_bit(true);
        w.put(rng.gen_range(0..1u64 << k), k);
    }
}

/// Per-channel int-B weights shaped like a trained CNN layer: each output channel has its own
/// Laplace-like spread, the tensor is quantized per channel to the full B-bit range (B is clamped
/// to 2..=16).
pub fn cnn_like_layer(
    rng: &mut impl Rng,
    channels: usize,
    per_channel: usize,
    bits: u8,
) -> Vec<Vec<i32>> {
    let qmax = (1i32 << (bits.clamp(2, 16) - 1)) - 1;
    (0..channels)
        .map(|_| {
            let spread: f64 = rng.gen_range(0.02..0.2);
            let w: Vec<f64> = (0..per_channel)
                .map(|_| {
                    let u: f64 = rng.gen_range(-0.5f64..0.5);
                    -spread * u.signum() * (1.0 - 2.0 * u.abs()).max(1e-12).ln()
                })
                .collect();
            let max = w.iter().fold(0f64, |a, b| a.max(b.abs()));
            let scale = if max > 0.0 { max / qmax as f64 } else { 1.0 };
            w.iter()
                .map(|x| ((x / scale).round() as i32).clamp(-qmax, qmax))
                .collect()
        })
        .collect()
}

/// Split a layer's channels into `lanes` lanes (channel c goes to lane c mod N, FORMAT.md §5).
pub fn split_lanes(channels: &[Vec<i32>], lanes: usize) -> Vec<Vec<i32>> {
    (0..lanes)
        .map(|l| {
            channels
                .iter()
                .skip(l)
                .step_by(lanes)
                .flatten()
                .copied()
                .collect()
        })
        .collect()
}

/// A malformation of a valid stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Damage {
    /// Invert one bit.
    FlipBit(u64),
    /// Drop the stream's tail, keeping this many bits.
    Truncate(u64),
    /// Append zero bits after the last weight.
    Extend(u64),
}

/// Apply a malformation; the result stays self-consistent (`length_bits <= 8 * bytes.len()`).
pub fn damage(lane: &LaneBytes, how: Damage) -> LaneBytes {
    let mut out = lane.clone();
    match how {
        Damage::FlipBit(bit) => {
            if let Some(b) = out
                .bytes
                .get_mut((bit / 8) as usize)
                .filter(|_| bit < lane.length_bits)
            {
                *b ^= 1 << (bit % 8);
            }
        }
        Damage::Truncate(keep) => {
            let keep = keep.min(lane.length_bits);
            out.length_bits = keep;
            out.bytes.truncate(keep.div_ceil(8) as usize);
            if keep % 8 != 0 {
                if let Some(b) = out.bytes.last_mut() {
                    *b &= (1u8 << (keep % 8)) - 1;
                }
            }
        }
        Damage::Extend(extra) => {
            out.length_bits += extra;
            out.bytes.resize(out.length_bits.div_ceil(8) as usize, 0);
        }
    }
    out
}
