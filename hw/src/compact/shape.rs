//! The constants a profile fixes for the compact lane, and the limits of that lane.

use super::lane::ACC_BITS;
use super::rebuild::PRED_BITS;
use lc_format::{Mode, Profile, K_BITS, Q_ESC};

/// Memory word width of the compact lane.
pub const WORD_BITS: usize = 32;
/// Width of the look-ahead window over the stream.
pub const WINDOW_BITS: usize = 24;
/// Largest B the compact datapath holds.
pub const MAX_BITS: u8 = 8;
/// Largest LB (the segment counter is 9 bits).
pub const MAX_LEN_BITS: u8 = 8;
/// Largest MB.
pub const MAX_SLOPE_BITS: u8 = 8;
/// Largest F.
pub const MAX_FRAC_BITS: u8 = 8;
/// Width of the lane's weight counter and `count` port.
pub const COUNT_BITS: usize = 20;
/// Width of the lane's `length_bits` port: holds any stream of fewer than 2^COUNT_BITS weights.
pub const STREAM_BITS: usize = 26;

/// The per-layer constants of a compact lane: every parameter but r is fixed by the profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompactShape {
    /// B.
    pub bits: u8,
    /// F.
    pub frac_bits: u8,
    /// LB.
    pub len_bits: u8,
    /// MB.
    pub slope_bits: u8,
    /// Smallest r.
    pub shift_min: u8,
    /// Largest r.
    pub shift_max: u8,
}

impl CompactShape {
    /// The shape of `profile`, or why the compact lane cannot be generated for it.
    pub fn from_profile(profile: &Profile) -> Result<CompactShape, String> {
        let fixed = |name: &str, r: &lc_format::Range, max: u8| match r.value() {
            Some(v) if v <= max => Ok(v),
            Some(v) => Err(format!("{name} = {v} is above the compact lane's {max}")),
            None => Err(format!("{name} {r} is not fixed")),
        };
        let shape = CompactShape {
            bits: fixed("bits", &profile.bits, MAX_BITS)?,
            frac_bits: fixed("frac_bits", &profile.frac_bits, MAX_FRAC_BITS)?,
            len_bits: fixed("len_bits", &profile.len_bits, MAX_LEN_BITS)?,
            slope_bits: fixed("slope_bits", &profile.slope_bits, MAX_SLOPE_BITS)?,
            shift_min: profile.shift.min,
            shift_max: profile.shift.max,
        };
        if profile.modes != [Mode::Rice] {
            return Err("modes must be exactly [rice]".into());
        }
        if profile.word_bits as usize != WORD_BITS {
            return Err(format!("word_bits must be {WORD_BITS}"));
        }
        if shape.shift_max >= shape.bits || shape.shift_max > 7 {
            return Err(format!("shift {} must stay below B and 8", profile.shift));
        }
        if profile.max_lane_weights >= 1 << COUNT_BITS {
            return Err(format!("max_lane_weights must be below 2^{COUNT_BITS}"));
        }
        // Every weight a code and its own segment header: the longest stream of a lane.
        let longest =
            profile.max_lane_weights * (shape.max_code_bits() + shape.header_bits()) as u64;
        if longest >= 1 << STREAM_BITS {
            return Err(format!(
                "max_lane_weights allows streams longer than the {STREAM_BITS}-bit length port"
            ));
        }
        let (acc_min, acc_max) = shape.acc_range();
        if !fits_signed(acc_min, acc_max, ACC_BITS) {
            return Err(format!(
                "B + F and MB + LB are too wide for the {ACC_BITS}-bit accumulator"
            ));
        }
        let f = shape.frac_bits as u32;
        if !fits_signed(acc_min >> f, acc_max >> f, PRED_BITS) {
            return Err(format!(
                "the line prediction of B, MB + LB - F does not fit {PRED_BITS} bits"
            ));
        }
        if shape.header_bits() > WINDOW_BITS as u32 || shape.max_code_bits() > WINDOW_BITS as u32 {
            return Err(format!(
                "a segment header or code is wider than the {WINDOW_BITS}-bit window"
            ));
        }
        Ok(shape)
    }

    /// The range of the line accumulator `s * 2^F + 2^(F-1) + j * m` over every segment the
    /// shape allows (`j < 2^LB`, FORMAT.md section 4.1).
    pub fn acc_range(&self) -> (i64, i64) {
        let (b, f) = (self.bits as u32, self.frac_bits as u32);
        let j_max = (1i64 << self.len_bits) - 1;
        let (m_min, m_max) = match self.slope_bits {
            0 => (0, 0),
            mb => (-(1i64 << (mb - 1)), (1i64 << (mb - 1)) - 1),
        };
        let half = 1i64 << (f - 1);
        (
            (-(1i64 << (b - 1)) << f) + half + j_max * m_min,
            (((1i64 << (b - 1)) - 1) << f) + half + j_max * m_max,
        )
    }

    /// Segment header width H.
    pub fn header_bits(&self) -> u32 {
        (self.len_bits + self.bits + self.slope_bits) as u32 + K_BITS
    }

    /// Escape payload width E = B + 1.
    pub fn escape_bits(&self) -> u32 {
        self.bits as u32 + 1
    }

    /// Longest residual code, `Q_ESC + E`.
    pub fn max_code_bits(&self) -> u32 {
        Q_ESC + self.escape_bits()
    }
}

/// `min..=max` is representable in `bits`-bit two's complement.
fn fits_signed(min: i64, max: i64, bits: usize) -> bool {
    min >= -(1i64 << (bits - 1)) && max < 1i64 << (bits - 1)
}
