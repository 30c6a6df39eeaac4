//! Layer parameters of a LineCompress v1 stream (FORMAT.md section 2).

use crate::constants::{
    Mode, BITS_RANGE, FRAC_BITS_RANGE, K_BITS, LEN_BITS_RANGE, SLOPE_BITS_RANGE,
};
use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;

/// Parameters shared by every lane stream of one layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LayerParams {
    /// Value width B (4..=16).
    pub bits: u8,
    /// Residual mode.
    pub mode: Mode,
    /// Error bound the encoder guaranteed (informative for the decoder).
    pub eps: u16,
    /// Fractional bits F of the slope (1..=16).
    pub frac_bits: u8,
    /// Width LB of the segment length field (0..=12); segments hold 1..=2^LB weights.
    pub len_bits: u8,
    /// Width MB of the slope field (0..=16); 0 means every slope is 0.
    pub slope_bits: u8,
    /// Residual shift r (rice mode; 0 in lines mode).
    pub shift: u8,
}

impl LayerParams {
    /// Check every field against the ranges of FORMAT.md; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        let in_range = |name: &str, v: u8, range: RangeInclusive<u8>| {
            if range.contains(&v) {
                Ok(())
            } else {
                Err(format!(
                    "{name} = {v} is outside {}..={}",
                    range.start(),
                    range.end()
                ))
            }
        };
        in_range("bits", self.bits, BITS_RANGE)?;
        in_range("frac_bits", self.frac_bits, FRAC_BITS_RANGE)?;
        in_range("len_bits", self.len_bits, LEN_BITS_RANGE)?;
        in_range("slope_bits", self.slope_bits, SLOPE_BITS_RANGE)?;
        match self.mode {
            Mode::Lines => in_range("shift", self.shift, 0..=0),
            Mode::Rice => in_range("shift", self.shift, 0..=self.bits - 1),
        }
    }

    /// Longest segment length, `2^LB`.
    pub fn max_len(&self) -> usize {
        1usize << self.len_bits
    }

    /// Smallest representable value, `-2^(B-1)`.
    pub fn min_value(&self) -> i64 {
        -(1i64 << (self.bits - 1))
    }

    /// Largest representable value, `2^(B-1) - 1`.
    pub fn max_value(&self) -> i64 {
        (1i64 << (self.bits - 1)) - 1
    }

    /// `sat_B(x)`.
    pub fn saturate(&self, x: i64) -> i64 {
        x.clamp(self.min_value(), self.max_value())
    }

    /// Slope range `[-2^(MB-1), 2^(MB-1) - 1]` (just 0 when MB = 0).
    pub fn slope_range(&self) -> (i64, i64) {
        if self.slope_bits == 0 {
            (0, 0)
        } else {
            (
                -(1i64 << (self.slope_bits - 1)),
                (1i64 << (self.slope_bits - 1)) - 1,
            )
        }
    }

    /// Bits of one segment header (length, start, slope and, in rice mode, the Rice parameter).
    pub fn header_bits(&self) -> u64 {
        let k = if self.mode == Mode::Rice {
            K_BITS as u64
        } else {
            0
        };
        self.len_bits as u64 + self.bits as u64 + self.slope_bits as u64 + k
    }

    /// Width E of an escaped residual payload, `B + 1`.
    pub fn escape_bits(&self) -> u32 {
        self.bits as u32 + 1
    }

    /// Largest residual shift that still keeps `|w - q| <= eps` (`2^(r-1) <= eps`).
    pub fn shift_for_eps(bits: u8, eps: u16) -> u8 {
        let mut r = 0u8;
        while r + 1 < bits && (1u32 << r) <= eps as u32 {
            r += 1;
        }
        r
    }
}
