//! Fixed-point requantization: a real multiplier `M` becomes an integer `mult` and a right
//! shift `shift` with `M ~= mult / 2^shift`, applied with round-half-up (see
//! `docs/GOLDEN_MODEL.md`, section "Requantization").

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Magnitude bits of a multiplier: `|mult| < 2^MULT_BITS` (a signed 16-bit value).
pub const MULT_BITS: u32 = 15;
/// Largest allowed shift.
pub const MAX_SHIFT: u32 = 46;

/// A fixed-point multiplier and shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requant {
    /// Signed multiplier, `|mult| < 2^15`; normalised to `2^14 <= |mult|` unless the shift hit
    /// [`MAX_SHIFT`].
    pub mult: i32,
    /// Right shift, `1..=MAX_SHIFT`.
    pub shift: u32,
}

/// A real multiplier that cannot be represented.
#[derive(Debug, Error, Clone, PartialEq)]
#[error("requantization multiplier {0} is not finite or too large (must be < 2^14)")]
pub struct RequantError(pub f64);

/// Split `|m|` into `f * 2^e` with `f` in `[0.5, 1)`; `m` must be finite and non-zero.
fn frexp(m: f64) -> (f64, i32) {
    let (mut f, mut e) = (m.abs(), 0i32);
    while f >= 1.0 {
        f /= 2.0;
        e += 1;
    }
    while f < 0.5 {
        f *= 2.0;
        e -= 1;
    }
    (f, e)
}

/// The exponent `shift` such that `|m| * 2^shift` lies in `[2^14, 2^15)`, clamped to
/// `1..=MAX_SHIFT`; an error when `|m| >= 2^14`.
fn shift_for(m: f64) -> Result<u32, RequantError> {
    if !m.is_finite() {
        return Err(RequantError(m));
    }
    if m == 0.0 {
        return Ok(MAX_SHIFT);
    }
    let (_, e) = frexp(m);
    let s = MULT_BITS as i32 - e;
    if s < 1 {
        return Err(RequantError(m));
    }
    Ok((s as u32).min(MAX_SHIFT))
}

impl Requant {
    /// Represent the real multiplier `m` (any sign; `m = 0` gives `mult = 0`).
    pub fn from_real(m: f64) -> Result<Self, RequantError> {
        let mut shift = shift_for(m)?;
        let mut mult = (m * (1u64 << shift) as f64).round();
        if mult.abs() >= (1u64 << MULT_BITS) as f64 {
            // Rounding carried into bit 15: one bit less of shift.
            shift -= 1;
            if shift == 0 {
                return Err(RequantError(m));
            }
            mult = (m * (1u64 << shift) as f64).round();
        }
        Ok(Self {
            mult: mult as i32,
            shift,
        })
    }

    /// `floor((acc * mult + 2^(shift-1)) / 2^shift)`, computed exactly and saturated to the i32
    /// range, so a later clamp to int8 bounds equals clamping the exact value (as the RTL does).
    #[inline]
    pub fn apply(self, acc: i32) -> i32 {
        let p = acc as i64 * self.mult as i64 + (1i64 << (self.shift - 1));
        saturate_i32(p >> self.shift)
    }

    /// The real value this multiplier represents.
    pub fn real(self) -> f64 {
        self.mult as f64 / (1u64 << self.shift) as f64
    }
}

/// Two multipliers sharing one shift, for adding two int8 tensors of different scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddRequant {
    /// Multiplier of the first input.
    pub mult_a: i32,
    /// Multiplier of the second input.
    pub mult_b: i32,
    /// Common right shift.
    pub shift: u32,
}

impl AddRequant {
    /// Represent `ma` and `mb` (both non-negative) with a common shift.
    pub fn from_real(ma: f64, mb: f64) -> Result<Self, RequantError> {
        let mut shift = shift_for(ma.abs().max(mb.abs()))?;
        loop {
            let s = (1u64 << shift) as f64;
            let (a, b) = ((ma * s).round(), (mb * s).round());
            let lim = (1u64 << MULT_BITS) as f64;
            if a.abs() < lim && b.abs() < lim {
                return Ok(Self {
                    mult_a: a as i32,
                    mult_b: b as i32,
                    shift,
                });
            }
            shift -= 1;
            if shift == 0 {
                return Err(RequantError(ma.max(mb)));
            }
        }
    }

    /// `floor((a * mult_a + b * mult_b + 2^(shift-1)) / 2^shift)`, saturated to the i32 range.
    #[inline]
    pub fn apply(self, a: i32, b: i32) -> i32 {
        let p = a as i64 * self.mult_a as i64
            + b as i64 * self.mult_b as i64
            + (1i64 << (self.shift - 1));
        saturate_i32(p >> self.shift)
    }
}

fn saturate_i32(v: i64) -> i32 {
    v.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// Round-half-up integer mean: `floor((2 * sum + n) / (2 * n))`, `n >= 1`.
#[inline]
pub fn rounded_mean(sum: i32, n: i32) -> i32 {
    let n = n.max(1) as i64;
    (2 * sum as i64 + n).div_euclid(2 * n) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplier_is_close_and_normalised() {
        for &m in &[1e-6, 0.0037, 0.5, 0.75, 0.999_99, 1.0, 3.3, 1000.0] {
            let r = Requant::from_real(m).unwrap();
            assert!((r.real() - m).abs() <= m * 2f64.powi(-14), "{m} -> {r:?}");
            assert!(r.mult.abs() < 1 << 15 && (r.mult.abs() >= 1 << 14 || r.shift == MAX_SHIFT));
        }
        assert!(Requant::from_real(20000.0).is_err());
        assert!(Requant::from_real(f64::NAN).is_err());
        assert_eq!(Requant::from_real(0.0).unwrap().apply(12345), 0);
    }

    #[test]
    fn rounding_is_half_up() {
        let half = Requant {
            mult: 1 << 14,
            shift: 15,
        }; // exactly 0.5
        let got: Vec<i32> = [-3, -2, -1, 0, 1, 2, 3]
            .iter()
            .map(|&a| half.apply(a))
            .collect();
        assert_eq!(got, vec![-1, -1, 0, 0, 1, 1, 2]);
        assert_eq!(
            [-3, -2, 2, 3, 5].map(|s| rounded_mean(s, 2)),
            [-1, -1, 1, 2, 3]
        );
    }

    #[test]
    fn add_requant_shares_shift() {
        let r = AddRequant::from_real(0.9, 0.3).unwrap();
        assert!((r.mult_a as f64 / (1u64 << r.shift) as f64 - 0.9).abs() < 1e-4);
        assert!((r.mult_b as f64 / (1u64 << r.shift) as f64 - 0.3).abs() < 1e-4);
        assert_eq!(r.apply(100, 100), 120);
    }

    #[test]
    fn large_products_saturate_instead_of_wrapping() {
        let r = Requant::from_real(8000.0).unwrap();
        assert_eq!(r.apply(i32::MAX), i32::MAX);
        assert_eq!(r.apply(i32::MIN), i32::MIN);
    }
}
