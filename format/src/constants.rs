//! Constants and field ranges of LineCompress v1 (docs/FORMAT.md sections 2 and 4).

use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;

/// Width of the Rice parameter field in rice mode.
pub const K_BITS: u32 = 4;
/// Number of leading zero bits that announces an escaped residual.
pub const Q_ESC: u32 = 12;
/// Largest segment length field width.
pub const MAX_LEN_BITS: u8 = 12;
/// Value width B.
pub const BITS_RANGE: RangeInclusive<u8> = 4..=16;
/// Fractional bits F of the slope.
pub const FRAC_BITS_RANGE: RangeInclusive<u8> = 1..=16;
/// Width LB of the segment length field.
pub const LEN_BITS_RANGE: RangeInclusive<u8> = 0..=MAX_LEN_BITS;
/// Width MB of the slope field.
pub const SLOPE_BITS_RANGE: RangeInclusive<u8> = 0..=16;

/// Residual mode of a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Pure line segments (the published form): `w = sat(p)`.
    Lines,
    /// Line prediction plus Rice-coded residuals: `w = sat(p + e * 2^r)`.
    Rice,
}

impl Mode {
    /// The code stored in the container and driven on the decompressor's `cfg_mode` pin.
    pub fn code(self) -> u8 {
        match self {
            Mode::Lines => 0,
            Mode::Rice => 1,
        }
    }

    /// Parse the container code.
    pub fn from_code(code: u8) -> Option<Mode> {
        match code {
            0 => Some(Mode::Lines),
            1 => Some(Mode::Rice),
            _ => None,
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Lines => "lines",
            Mode::Rice => "rice",
        })
    }
}
