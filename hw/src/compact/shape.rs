//! The constants a profile fixes for the compact lane, and the limits of that lane.

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
/// Width of the lane's weight counter.
pub const COUNT_BITS: usize = 20;
/// Width of the lane's word counter.
pub const WORDS_BITS: usize = 20;

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
        // |acc| <= 2^(B-1+F) + 2^(F-1) + 2^(MB-1) * 2^LB must fit the accumulator.
        let acc_bound = (1u64 << (shape.bits + shape.frac_bits - 1))
            + (1u64 << (shape.frac_bits - 1))
            + ((1u64 << shape.slope_bits) >> 1 << shape.len_bits);
        if acc_bound >= 1 << (super::lane::ACC_BITS - 1) {
            return Err(format!(
                "B + F and MB + LB are too wide for the {}-bit accumulator",
                super::lane::ACC_BITS
            ));
        }
        if shape.header_bits() > WINDOW_BITS as u32 || shape.max_code_bits() > WINDOW_BITS as u32 {
            return Err(format!(
                "a segment header or code is wider than the {WINDOW_BITS}-bit window"
            ));
        }
        Ok(shape)
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
