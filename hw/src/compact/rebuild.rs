//! The second stage of a compact lane: the weight `sat_B(p + e * 2^r)` from the line prediction
//! `p`, the zigzag-mapped residual `u` and the layer's residual shift `r` (FORMAT.md section 4.2).
//!
//! `e * 2^r` is clamped to `RESID_BITS`: once its magnitude reaches `2^(RESID_BITS-1)` the
//! weight saturates to the sign of `e` whatever `p` is (`|p| < 2^(PRED_BITS-1)` and
//! `2^(RESID_BITS-1) - 2^(PRED_BITS-1) >= 2^(B-1)`), so a narrow shifter and adder suffice.

use super::rice::U_BITS;
use super::shape::MAX_BITS;
use rust_hdl::prelude::*;

/// Width of the line prediction `p` (signed).
pub const PRED_BITS: usize = 9;
/// Width of `e * 2^r` where it is not clamped (signed).
pub const RESID_BITS: usize = 10;
/// Width of `p + e * 2^r` for unclamped operands (signed, cannot overflow).
const SUM_BITS: usize = 11;
/// Width of `h = u >> 1`.
const HALF_BITS: usize = U_BITS - 1;

const _: () = assert!(
    (1 << (RESID_BITS - 1)) - (1 << (PRED_BITS - 1)) >= 1 << (MAX_BITS - 1),
    "a clamped residual must saturate every weight"
);
// The sign bits are spelled as literals in the update code (the generated Verilog needs numbers).
const _: () = assert!(PRED_BITS == 9 && SUM_BITS == 11);

/// `sat_B(p + zigzag^-1(u) * 2^r)`, combinational.
#[derive(LogicBlock)]
pub struct CompactRebuild {
    /// Line prediction p, two's complement.
    pub pred: Signal<In, Bits<PRED_BITS>>,
    /// Zigzag-mapped residual u.
    pub u: Signal<In, Bits<U_BITS>>,
    /// Residual shift r.
    pub shift: Signal<In, Bits<3>>,
    /// The weight, B bits in two's complement (sign-extended to 8).
    pub weight: Signal<Out, Bits<8>>,

    half: Signal<Local, Bits<HALF_BITS>>,
    e: Signal<Local, Bits<RESID_BITS>>,
    resid: Signal<Local, Bits<RESID_BITS>>,
    big: Signal<Local, Bit>,
    resid_wide: Signal<Local, Bits<SUM_BITS>>,
    pred_wide: Signal<Local, Bits<SUM_BITS>>,
    sum: Signal<Local, Bits<SUM_BITS>>,
    high: Signal<Local, Bits<SUM_BITS>>,
    sat: Signal<Local, Bits<SUM_BITS>>,

    one: Constant<Bits<U_BITS>>,
    e_ones: Constant<Bits<RESID_BITS>>,
    shifts: [Constant<Bits<3>>; 8],
    big_masks: [Constant<Bits<HALF_BITS>>; 8],
    zero_half: Constant<Bits<HALF_BITS>>,
    pred_ext: Constant<Bits<SUM_BITS>>,
    resid_ext: Constant<Bits<SUM_BITS>>,
    sat_max: Constant<Bits<SUM_BITS>>,
    sat_min: Constant<Bits<SUM_BITS>>,
    zero_sum: Constant<Bits<SUM_BITS>>,
}

impl CompactRebuild {
    /// The second stage for weights of `bits` (B <= 8) bits.
    pub fn new(bits: u8) -> Self {
        assert!(
            (2..=MAX_BITS).contains(&bits),
            "B = {bits} is outside 2..={MAX_BITS}"
        );
        let b = bits as u64;
        let sum_mask = (1u64 << SUM_BITS) - 1;
        let resid_mask = (1u64 << RESID_BITS) - 1;
        let half_mask = (1u64 << HALF_BITS) - 1;
        Self {
            pred: Default::default(),
            u: Default::default(),
            shift: Default::default(),
            weight: Default::default(),
            half: Default::default(),
            e: Default::default(),
            resid: Default::default(),
            big: Default::default(),
            resid_wide: Default::default(),
            pred_wide: Default::default(),
            sum: Default::default(),
            high: Default::default(),
            sat: Default::default(),
            one: Constant::new(1.into()),
            e_ones: Constant::new(resid_mask.into()),
            shifts: std::array::from_fn(|r| Constant::new((r as u64).into())),
            // e * 2^r leaves [-2^(RESID_BITS-1), 2^(RESID_BITS-1)) exactly when h has a one at
            // bit RESID_BITS - 1 - r or above (for e = h and for e = -(h + 1) alike).
            big_masks: std::array::from_fn(|r| {
                Constant::new((half_mask & !((1u64 << (RESID_BITS - 1 - r)) - 1)).into())
            }),
            zero_half: Constant::new(0.into()),
            pred_ext: Constant::new((sum_mask & !((1u64 << PRED_BITS) - 1)).into()),
            resid_ext: Constant::new((sum_mask & !resid_mask).into()),
            sat_max: Constant::new(((1u64 << (b - 1)) - 1).into()),
            sat_min: Constant::new((sum_mask & (sum_mask << (b - 1))).into()),
            zero_sum: Constant::new(0.into()),
        }
    }
}

impl Logic for CompactRebuild {
    #[hdl_gen]
    fn update(&mut self) {
        // e = h or -(h + 1) = !h for u odd; its low RESID_BITS bits, shifted by r.
        self.half.next = bit_cast::<HALF_BITS, U_BITS>(self.u.val() >> self.one.val());
        self.e.next = bit_cast::<RESID_BITS, HALF_BITS>(self.half.val());
        if self.u.val().get_bit(0) {
            self.e.next = self.e.val() ^ self.e_ones.val();
        }
        self.resid.next = self.e.val() << self.shift.val();
        self.big.next = false;
        for r in 0..8 {
            if (self.shift.val() == self.shifts[r].val())
                & ((self.half.val() & self.big_masks[r].val()) != self.zero_half.val())
            {
                self.big.next = true;
            }
        }
        self.resid_wide.next = bit_cast::<SUM_BITS, RESID_BITS>(self.resid.val());
        if self.u.val().get_bit(0) {
            self.resid_wide.next = self.resid_wide.val() | self.resid_ext.val();
        }
        self.pred_wide.next = bit_cast::<SUM_BITS, PRED_BITS>(self.pred.val());
        if self.pred.val().get_bit(8) {
            self.pred_wide.next = self.pred_wide.val() | self.pred_ext.val();
        }
        self.sum.next = self.pred_wide.val() + self.resid_wide.val();
        // In range exactly when every bit from B-1 up equals the sign.
        self.sat.next = self.sum.val();
        self.high.next = self.sum.val() & self.sat_min.val();
        if self.big.val() {
            self.sat.next = self.sat_max.val();
            if self.u.val().get_bit(0) {
                self.sat.next = self.sat_min.val();
            }
        } else if (self.high.val() != self.zero_sum.val()) & (self.high.val() != self.sat_min.val())
        {
            self.sat.next = self.sat_max.val();
            if self.sum.val().get_bit(10) {
                self.sat.next = self.sat_min.val();
            }
        }
        self.weight.next = bit_cast::<8, SUM_BITS>(self.sat.val());
    }
}
