//! The requantization unit of `docs/GOLDEN_MODEL.md`: bias, multiplier and shift with
//! round-half-up, fused PReLU (second multiplier for negative accumulators) and the clamp to
//! `[lo, hi]`. A pipeline of [`LATENCY`] stages that takes one channel per clock; a tag (the
//! write flag and output address of the value) travels along with it. The multipliers and
//! shifts of a value come one clock after its accumulator and bias.
//!
//! `(acc * mult + 2^(shift-1)) >> shift` needs a 48-bit signed product. It is formed from the
//! magnitudes with two 16 x 16 unsigned multipliers (SB_MAC16 on iCE40, with their input and
//! output registers) and negated when the signs differ.
//!
//! Stages: (1) `a = acc + bias`; (2) the multiplier and shift of its sign, magnitudes; (3) the
//! two partial products; (4) the 48-bit magnitude, and the rounding term `r` decoded from the
//! shift and the sign (a one-hot `2^(shift-1)`, plus 1 for a negative sign); (5) sign and
//! rounding in one adder, `-m + r = !m + (r + 1)`; (6) the arithmetic shift, which needs only the low 8 bits and whether the shifted value fits
//! 8 bits; (7) the clamp. The bias has a stage of its own: its adder follows the parameter
//! memory's read, and the sign it yields selects the multiplier whose magnitude is a second
//! carry chain. Stage 6 shifts `z` (the value with its sign bit XORed into every
//! bit, so the shift fills with zeros) by the six bits of the shift (the shift is `1..=46`,
//! docs/GOLDEN_MODEL.md), most significant first, and each step keeps only the bits that can
//! still reach the low 8 (39, 23, 15, 11, 9, 8). The value fits 8 bits when every bit that a
//! step drops above its window, and bit 7 of the result, is zero.

use super::lane::{ACC_BITS, INDEX_BITS};
use rust_hdl::prelude::*;

/// Width of the requantization product.
pub const PROD_BITS: usize = 48;
/// Bits of the shift that the unit uses (the shift is `1..=46`).
pub const SHIFT_BITS: usize = 6;
/// Clocks from the inputs of a value to its result on `y`.
pub const LATENCY: usize = 7;

/// Bias + requantization + activation + clamp of one accumulator per clock, [`LATENCY`]
/// clocks deep.
#[derive(LogicBlock)]
pub struct RequantUnit {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// The accumulator (without bias), [`ACC_BITS`] signed bits.
    pub acc: Signal<In, Bits<ACC_BITS>>,
    /// The channel's int32 bias.
    pub bias: Signal<In, Bits<32>>,
    /// Multiplier for non-negative accumulators (signed 16-bit), one clock after `acc`.
    pub mult: Signal<In, Bits<16>>,
    /// Shift for non-negative accumulators (1..=46; the low 6 bits are used).
    pub shift: Signal<In, Bits<8>>,
    /// Multiplier for negative accumulators when `prelu` is set.
    pub nmult: Signal<In, Bits<16>>,
    /// Shift for negative accumulators when `prelu` is set (1..=46, as `shift`).
    pub nshift: Signal<In, Bits<8>>,
    /// Fused PReLU: negative accumulators use `nmult` / `nshift`.
    pub prelu: Signal<In, Bit>,
    /// Lower clamp bound (int8).
    pub lo: Signal<In, Bits<8>>,
    /// Upper clamp bound (int8).
    pub hi: Signal<In, Bits<8>>,
    /// Drop every value in the pipeline (their write flags).
    pub clear: Signal<In, Bit>,
    /// Tag of the value: write it.
    pub in_write: Signal<In, Bit>,
    /// Tag of the value: where to write it.
    pub in_addr: Signal<In, Bits<INDEX_BITS>>,
    /// The int8 result of the value that entered [`LATENCY`] clocks ago.
    pub y: Signal<Out, Bits<8>>,
    /// Its write flag.
    pub out_write: Signal<Out, Bit>,
    /// Its address.
    pub out_addr: Signal<Out, Bits<INDEX_BITS>>,
    /// A value with its write flag set will be in the pipeline or at its output after the clock
    /// edge (not registered, so that the controller's register can hold it).
    pub busy_next: Signal<Out, Bit>,

    // Stage 1: the biased accumulator.
    acc32: Signal<Local, Bits<32>>,
    r1_a: DFF<Bits<32>>,
    r1_write: DFF<Bit>,
    r1_addr: DFF<Bits<INDEX_BITS>>,
    // Stage 2: the multiplier of the sign, magnitudes.
    a: Signal<Local, Bits<32>>,
    neg: Signal<Local, Bit>,
    m: Signal<Local, Bits<16>>,
    sh: Signal<Local, Bits<8>>,
    m_neg: Signal<Local, Bit>,
    mag_a: Signal<Local, Bits<32>>,
    mag_m: Signal<Local, Bits<16>>,
    r2_a_lo: DFF<Bits<16>>,
    r2_a_hi: DFF<Bits<16>>,
    r2_m: DFF<Bits<16>>,
    r2_sign: DFF<Bit>,
    r2_sh: DFF<Bits<SHIFT_BITS>>,
    r2_write: DFF<Bit>,
    r2_addr: DFF<Bits<INDEX_BITS>>,
    // Stage 3: partial products.
    r3_lo: DFF<Bits<32>>,
    r3_hi: DFF<Bits<32>>,
    r3_sign: DFF<Bit>,
    r3_sh: DFF<Bits<SHIFT_BITS>>,
    r3_write: DFF<Bit>,
    r3_addr: DFF<Bits<INDEX_BITS>>,
    // Stage 4: magnitude and rounding term.
    r4_mag: DFF<Bits<PROD_BITS>>,
    round: Signal<Local, Bits<PROD_BITS>>,
    r4_round: DFF<Bits<PROD_BITS>>,
    r4_sign: DFF<Bit>,
    r4_sh: DFF<Bits<SHIFT_BITS>>,
    r4_write: DFF<Bit>,
    r4_addr: DFF<Bits<INDEX_BITS>>,
    // Stage 5: sign and rounding.
    x: Signal<Local, Bits<PROD_BITS>>,
    r5_rnd: DFF<Bits<PROD_BITS>>,
    r5_sh: DFF<Bits<SHIFT_BITS>>,
    r5_write: DFF<Bit>,
    r5_addr: DFF<Bits<INDEX_BITS>>,
    // Stage 6: shift.
    neg5: Signal<Local, Bit>,
    z: Signal<Local, Bits<PROD_BITS>>,
    z71: Signal<Local, Bits<71>>,
    t32: Signal<Local, Bits<39>>,
    t16: Signal<Local, Bits<23>>,
    t8: Signal<Local, Bits<15>>,
    t4: Signal<Local, Bits<11>>,
    t2: Signal<Local, Bits<9>>,
    t1: Signal<Local, Bits<8>>,
    over: Signal<Local, Bit>,
    s8: Signal<Local, Bits<8>>,
    r6_s8: DFF<Bits<8>>,
    r6_over: DFF<Bit>,
    r6_neg: DFF<Bit>,
    r6_write: DFF<Bit>,
    r6_addr: DFF<Bits<INDEX_BITS>>,
    // Stage 7: clamp.
    y8: Signal<Local, Bits<8>>,
    r7_y: DFF<Bits<8>>,
    r7_write: DFF<Bit>,
    r7_addr: DFF<Bits<INDEX_BITS>>,

    zero32: Constant<Bits<32>>,
    acc_ext: Constant<Bits<32>>,
    acc_sign: Constant<Bits<8>>,
    zero16: Constant<Bits<16>>,
    one48: Constant<Bits<PROD_BITS>>,
    two48: Constant<Bits<PROD_BITS>>,
    sign8: Constant<Bits<8>>,
    one_sh: Constant<Bits<SHIFT_BITS>>,
    sixteen: Constant<Bits<8>>,
}

impl Default for RequantUnit {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            acc: Default::default(),
            bias: Default::default(),
            mult: Default::default(),
            shift: Default::default(),
            nmult: Default::default(),
            nshift: Default::default(),
            prelu: Default::default(),
            lo: Default::default(),
            hi: Default::default(),
            clear: Default::default(),
            in_write: Default::default(),
            in_addr: Default::default(),
            y: Default::default(),
            out_write: Default::default(),
            out_addr: Default::default(),
            busy_next: Default::default(),
            acc32: Default::default(),
            r1_a: Default::default(),
            r1_write: Default::default(),
            r1_addr: Default::default(),
            a: Default::default(),
            neg: Default::default(),
            m: Default::default(),
            sh: Default::default(),
            m_neg: Default::default(),
            mag_a: Default::default(),
            mag_m: Default::default(),
            r2_a_lo: Default::default(),
            r2_a_hi: Default::default(),
            r2_m: Default::default(),
            r2_sign: Default::default(),
            r2_sh: Default::default(),
            r2_write: Default::default(),
            r2_addr: Default::default(),
            r3_lo: Default::default(),
            r3_hi: Default::default(),
            r3_sign: Default::default(),
            r3_sh: Default::default(),
            r3_write: Default::default(),
            r3_addr: Default::default(),
            r4_mag: Default::default(),
            round: Default::default(),
            r4_round: Default::default(),
            r4_sign: Default::default(),
            r4_sh: Default::default(),
            r4_write: Default::default(),
            r4_addr: Default::default(),
            x: Default::default(),
            r5_rnd: Default::default(),
            r5_sh: Default::default(),
            r5_write: Default::default(),
            r5_addr: Default::default(),
            neg5: Default::default(),
            z: Default::default(),
            z71: Default::default(),
            t32: Default::default(),
            t16: Default::default(),
            t8: Default::default(),
            t4: Default::default(),
            t2: Default::default(),
            t1: Default::default(),
            over: Default::default(),
            s8: Default::default(),
            y8: Default::default(),
            r6_s8: Default::default(),
            r6_over: Default::default(),
            r6_neg: Default::default(),
            r6_write: Default::default(),
            r6_addr: Default::default(),
            r7_y: Default::default(),
            r7_write: Default::default(),
            r7_addr: Default::default(),
            zero32: Constant::new(0.into()),
            acc_ext: Constant::new(((u32::MAX << ACC_BITS) as u64).into()),
            acc_sign: Constant::new(((ACC_BITS - 1) as u64).into()),
            zero16: Constant::new(0.into()),
            one48: Constant::new(1.into()),
            two48: Constant::new(2.into()),
            sign8: Constant::new(0x80.into()),
            one_sh: Constant::new(1.into()),
            sixteen: Constant::new(16.into()),
        }
    }
}

impl Logic for RequantUnit {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, r1_a, r1_write, r1_addr, r2_a_lo, r2_a_hi, r2_m, r2_sign, r2_sh, r2_write,
            r2_addr, r3_lo, r3_hi, r3_sign, r3_sh, r3_write, r3_addr, r4_mag, r4_round, r4_sign,
            r4_sh, r4_write, r4_addr, r5_rnd, r5_sh, r5_write, r5_addr, r6_s8, r6_over, r6_neg,
            r6_write, r6_addr, r7_y, r7_write, r7_addr
        );
        // ---- Stage 1: bias.
        self.acc32.next = bit_cast::<32, ACC_BITS>(self.acc.val());
        if (self.acc.val() >> self.acc_sign.val()).any() {
            self.acc32.next = bit_cast::<32, ACC_BITS>(self.acc.val()) | self.acc_ext.val();
        }
        self.r1_a.d.next = self.acc32.val() + self.bias.val();
        self.r1_write.d.next = self.in_write.val();
        self.r1_addr.d.next = self.in_addr.val();

        // ---- Stage 2: the multiplier of the sign, magnitudes.
        self.a.next = self.r1_a.q.val();
        self.neg.next = self.a.val().get_bit(31);
        self.m.next = self.mult.val();
        self.sh.next = self.shift.val();
        if self.prelu.val() && self.neg.val() {
            self.m.next = self.nmult.val();
            self.sh.next = self.nshift.val();
        }
        self.m_neg.next = self.m.val().get_bit(15);
        self.mag_a.next = self.a.val();
        if self.neg.val() {
            self.mag_a.next = self.zero32.val() - self.a.val();
        }
        self.mag_m.next = self.m.val();
        if self.m_neg.val() {
            self.mag_m.next = self.zero16.val() - self.m.val();
        }
        self.r2_a_lo.d.next = bit_cast::<16, 32>(self.mag_a.val());
        self.r2_a_hi.d.next = bit_cast::<16, 32>(self.mag_a.val() >> self.sixteen.val());
        self.r2_m.d.next = self.mag_m.val();
        self.r2_sign.d.next = self.neg.val() != self.m_neg.val();
        self.r2_sh.d.next = bit_cast::<SHIFT_BITS, 8>(self.sh.val());
        self.r2_write.d.next = self.r1_write.q.val();
        self.r2_addr.d.next = self.r1_addr.q.val();

        // ---- Stage 3: the partial products.
        self.r3_lo.d.next = self.r2_a_lo.q.val() * self.r2_m.q.val();
        self.r3_hi.d.next = self.r2_a_hi.q.val() * self.r2_m.q.val();
        self.r3_sign.d.next = self.r2_sign.q.val();
        self.r3_sh.d.next = self.r2_sh.q.val();
        self.r3_write.d.next = self.r2_write.q.val();
        self.r3_addr.d.next = self.r2_addr.q.val();

        // ---- Stage 4: the 48-bit magnitude, and the rounding term of its sign and shift:
        // `2^(shift-1)`, plus the 1 of the negation `-m = !m + 1` when the sign is negative.
        self.r4_mag.d.next = (bit_cast::<PROD_BITS, 32>(self.r3_hi.q.val()) << self.sixteen.val())
            + bit_cast::<PROD_BITS, 32>(self.r3_lo.q.val());
        self.round.next = self.one48.val() << (self.r3_sh.q.val() - self.one_sh.val());
        if self.r3_sign.q.val() {
            if self.r3_sh.q.val() == self.one_sh.val() {
                self.round.next = self.two48.val();
            } else {
                self.round.next = (self.one48.val() << (self.r3_sh.q.val() - self.one_sh.val()))
                    | self.one48.val();
            }
        }
        self.r4_round.d.next = self.round.val();
        self.r4_sign.d.next = self.r3_sign.q.val();
        self.r4_sh.d.next = self.r3_sh.q.val();
        self.r4_write.d.next = self.r3_write.q.val();
        self.r4_addr.d.next = self.r3_addr.q.val();

        // ---- Stage 5: sign and rounding in one adder: -m + r = !m + (r + 1).
        self.x.next = self.r4_mag.q.val();
        if self.r4_sign.q.val() {
            self.x.next = !self.r4_mag.q.val();
        }
        self.r5_rnd.d.next = self.x.val() + self.r4_round.q.val();
        self.r5_sh.d.next = self.r4_sh.q.val();
        self.r5_write.d.next = self.r4_write.q.val();
        self.r5_addr.d.next = self.r4_addr.q.val();

        // ---- Stage 6: arithmetic shift.
        self.neg5.next = self.r5_rnd.q.val().get_bit(47);
        self.z.next = self.r5_rnd.q.val();
        if self.neg5.val() {
            self.z.next = !self.r5_rnd.q.val();
        }
        self.z71.next = bit_cast::<71, PROD_BITS>(self.z.val());
        self.t32.next = self.z71.val().get_bits::<39>(0);
        if self.r5_sh.q.val().get_bit(5) {
            self.t32.next = self.z71.val().get_bits::<39>(32);
        }
        self.t16.next = self.t32.val().get_bits::<23>(0);
        if self.r5_sh.q.val().get_bit(4) {
            self.t16.next = self.t32.val().get_bits::<23>(16);
        }
        self.t8.next = self.t16.val().get_bits::<15>(0);
        if self.r5_sh.q.val().get_bit(3) {
            self.t8.next = self.t16.val().get_bits::<15>(8);
        }
        self.t4.next = self.t8.val().get_bits::<11>(0);
        if self.r5_sh.q.val().get_bit(2) {
            self.t4.next = self.t8.val().get_bits::<11>(4);
        }
        self.t2.next = self.t4.val().get_bits::<9>(0);
        if self.r5_sh.q.val().get_bit(1) {
            self.t2.next = self.t4.val().get_bits::<9>(2);
        }
        self.t1.next = self.t2.val().get_bits::<8>(0);
        if self.r5_sh.q.val().get_bit(0) {
            self.t1.next = self.t2.val().get_bits::<8>(1);
        }
        self.over.next = (!self.r5_sh.q.val().get_bit(5)
            && self.z71.val().get_bits::<32>(39).any())
            || (!self.r5_sh.q.val().get_bit(4) && self.t32.val().get_bits::<16>(23).any())
            || (!self.r5_sh.q.val().get_bit(3) && self.t16.val().get_bits::<8>(15).any())
            || (!self.r5_sh.q.val().get_bit(2) && self.t8.val().get_bits::<4>(11).any())
            || (!self.r5_sh.q.val().get_bit(1) && self.t4.val().get_bits::<2>(9).any())
            || (!self.r5_sh.q.val().get_bit(0) && self.t2.val().get_bit(8))
            || self.t1.val().get_bit(7);
        self.s8.next = self.t1.val();
        if self.neg5.val() {
            self.s8.next = !self.t1.val();
        }
        self.r6_s8.d.next = self.s8.val();
        self.r6_over.d.next = self.over.val();
        self.r6_neg.d.next = self.neg5.val();
        self.r6_write.d.next = self.r5_write.q.val();
        self.r6_addr.d.next = self.r5_addr.q.val();

        // ---- Stage 7: clamp. A value that does not fit 8 bits lies beyond both int8 bounds on
        // the side of its sign.
        self.y8.next = self.r6_s8.q.val();
        if self.r6_over.q.val() {
            if self.r6_neg.q.val() {
                self.y8.next = self.lo.val();
            } else {
                self.y8.next = self.hi.val();
            }
        } else {
            if (self.r6_s8.q.val() ^ self.sign8.val()) < (self.lo.val() ^ self.sign8.val()) {
                self.y8.next = self.lo.val();
            }
            if (self.r6_s8.q.val() ^ self.sign8.val()) > (self.hi.val() ^ self.sign8.val()) {
                self.y8.next = self.hi.val();
            }
        }
        self.r7_y.d.next = self.y8.val();
        self.r7_write.d.next = self.r6_write.q.val();
        self.r7_addr.d.next = self.r6_addr.q.val();

        if self.clear.val() {
            self.r1_write.d.next = false;
            self.r2_write.d.next = false;
            self.r3_write.d.next = false;
            self.r4_write.d.next = false;
            self.r5_write.d.next = false;
            self.r6_write.d.next = false;
            self.r7_write.d.next = false;
        }
        self.y.next = self.r7_y.q.val();
        self.out_write.next = self.r7_write.q.val();
        self.out_addr.next = self.r7_addr.q.val();
        self.busy_next.next = self.r1_write.d.val()
            || self.r2_write.d.val()
            || self.r3_write.d.val()
            || self.r4_write.d.val()
            || self.r5_write.d.val()
            || self.r6_write.d.val()
            || self.r7_write.d.val();
    }
}
