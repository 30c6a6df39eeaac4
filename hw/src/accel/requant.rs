//! The requantization unit of `docs/GOLDEN_MODEL.md`: bias, multiplier and shift with
//! round-half-up, fused PReLU (second multiplier for negative accumulators) and the clamp to
//! `[lo, hi]`. A pipeline of [`LATENCY`] stages that takes one channel per clock; a tag (the
//! write flag and output address of the value) travels along with it.
//!
//! `(acc * mult + 2^(shift-1)) >> shift` needs a 48-bit signed product. It is formed from the
//! magnitudes with two 16 x 16 unsigned multipliers (SB_MAC16 on iCE40, with their input and
//! output registers) and negated when the signs differ.
//!
//! Stages: (1) `a = acc + bias`, the multiplier and shift of its sign, magnitudes; (2) the two
//! partial products; (3) the 48-bit magnitude; (4) sign and rounding, `-m + r = !m + (r + 1)`;
//! (5) the arithmetic shift and the clamp, which needs only the low 8 bits and whether the
//! shifted value fits 8 bits.

use super::lane::INDEX_BITS;
use rust_hdl::prelude::*;

/// Width of the requantization product.
pub const PROD_BITS: usize = 48;
/// Clocks from the inputs of a value to its result on `y`.
pub const LATENCY: usize = 5;

/// Bias + requantization + activation + clamp of one accumulator per clock, [`LATENCY`]
/// clocks deep.
#[derive(LogicBlock)]
pub struct RequantUnit {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// The int32 accumulator (without bias).
    pub acc: Signal<In, Bits<32>>,
    /// The channel's int32 bias.
    pub bias: Signal<In, Bits<32>>,
    /// Multiplier for non-negative accumulators (signed 16-bit).
    pub mult: Signal<In, Bits<16>>,
    /// Shift for non-negative accumulators (1..=46).
    pub shift: Signal<In, Bits<8>>,
    /// Multiplier for negative accumulators when `prelu` is set.
    pub nmult: Signal<In, Bits<16>>,
    /// Shift for negative accumulators when `prelu` is set.
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
    /// A value is in the pipeline (stages 1 to [`LATENCY`] - 1) with its write flag set.
    pub busy: Signal<Out, Bit>,

    // Stage 1 (combinational from the inputs).
    a: Signal<Local, Bits<32>>,
    neg: Signal<Local, Bit>,
    m: Signal<Local, Bits<16>>,
    sh: Signal<Local, Bits<8>>,
    m_neg: Signal<Local, Bit>,
    mag_a: Signal<Local, Bits<32>>,
    mag_m: Signal<Local, Bits<16>>,
    r1_a_lo: DFF<Bits<16>>,
    r1_a_hi: DFF<Bits<16>>,
    r1_m: DFF<Bits<16>>,
    r1_sign: DFF<Bit>,
    r1_sh: DFF<Bits<8>>,
    r1_write: DFF<Bit>,
    r1_addr: DFF<Bits<INDEX_BITS>>,
    // Stage 2: partial products.
    r2_lo: DFF<Bits<32>>,
    r2_hi: DFF<Bits<32>>,
    r2_sign: DFF<Bit>,
    r2_sh: DFF<Bits<8>>,
    r2_write: DFF<Bit>,
    r2_addr: DFF<Bits<INDEX_BITS>>,
    // Stage 3: magnitude.
    r3_mag: DFF<Bits<PROD_BITS>>,
    r3_sign: DFF<Bit>,
    r3_sh: DFF<Bits<8>>,
    r3_write: DFF<Bit>,
    r3_addr: DFF<Bits<INDEX_BITS>>,
    // Stage 4: sign and rounding.
    x: Signal<Local, Bits<PROD_BITS>>,
    round: Signal<Local, Bits<PROD_BITS>>,
    r4_rnd: DFF<Bits<PROD_BITS>>,
    r4_sh: DFF<Bits<8>>,
    r4_write: DFF<Bit>,
    r4_addr: DFF<Bits<INDEX_BITS>>,
    // Stage 5: shift and clamp.
    sr: Signal<Local, Bits<PROD_BITS>>,
    top: Signal<Local, Bits<PROD_BITS>>,
    fits: Signal<Local, Bit>,
    s8: Signal<Local, Bits<8>>,
    y8: Signal<Local, Bits<8>>,
    r5_y: DFF<Bits<8>>,
    r5_write: DFF<Bit>,
    r5_addr: DFF<Bits<INDEX_BITS>>,

    zero32: Constant<Bits<32>>,
    zero16: Constant<Bits<16>>,
    zero48: Constant<Bits<PROD_BITS>>,
    one48: Constant<Bits<PROD_BITS>>,
    two48: Constant<Bits<PROD_BITS>>,
    ones48: Constant<Bits<PROD_BITS>>,
    top_ones: Constant<Bits<PROD_BITS>>,
    sign8: Constant<Bits<8>>,
    one8: Constant<Bits<8>>,
    seven: Constant<Bits<8>>,
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
            busy: Default::default(),
            a: Default::default(),
            neg: Default::default(),
            m: Default::default(),
            sh: Default::default(),
            m_neg: Default::default(),
            mag_a: Default::default(),
            mag_m: Default::default(),
            r1_a_lo: Default::default(),
            r1_a_hi: Default::default(),
            r1_m: Default::default(),
            r1_sign: Default::default(),
            r1_sh: Default::default(),
            r1_write: Default::default(),
            r1_addr: Default::default(),
            r2_lo: Default::default(),
            r2_hi: Default::default(),
            r2_sign: Default::default(),
            r2_sh: Default::default(),
            r2_write: Default::default(),
            r2_addr: Default::default(),
            r3_mag: Default::default(),
            r3_sign: Default::default(),
            r3_sh: Default::default(),
            r3_write: Default::default(),
            r3_addr: Default::default(),
            x: Default::default(),
            round: Default::default(),
            r4_rnd: Default::default(),
            r4_sh: Default::default(),
            r4_write: Default::default(),
            r4_addr: Default::default(),
            sr: Default::default(),
            top: Default::default(),
            fits: Default::default(),
            s8: Default::default(),
            y8: Default::default(),
            r5_y: Default::default(),
            r5_write: Default::default(),
            r5_addr: Default::default(),
            zero32: Constant::new(0.into()),
            zero16: Constant::new(0.into()),
            zero48: Constant::new(0.into()),
            one48: Constant::new(1.into()),
            two48: Constant::new(2.into()),
            ones48: Constant::new(Bits::<PROD_BITS>::mask()),
            top_ones: Constant::new((Bits::<PROD_BITS>::mask().to_u64() >> 7).into()),
            sign8: Constant::new(0x80.into()),
            one8: Constant::new(1.into()),
            seven: Constant::new(7.into()),
            sixteen: Constant::new(16.into()),
        }
    }
}

impl Logic for RequantUnit {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, r1_a_lo, r1_a_hi, r1_m, r1_sign, r1_sh, r1_write, r1_addr, r2_lo, r2_hi,
            r2_sign, r2_sh, r2_write, r2_addr, r3_mag, r3_sign, r3_sh, r3_write, r3_addr, r4_rnd,
            r4_sh, r4_write, r4_addr, r5_y, r5_write, r5_addr
        );
        // ---- Stage 1: bias, the multiplier of the sign, magnitudes.
        self.a.next = self.acc.val() + self.bias.val();
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
        self.r1_a_lo.d.next = bit_cast::<16, 32>(self.mag_a.val());
        self.r1_a_hi.d.next = bit_cast::<16, 32>(self.mag_a.val() >> self.sixteen.val());
        self.r1_m.d.next = self.mag_m.val();
        self.r1_sign.d.next = self.neg.val() != self.m_neg.val();
        self.r1_sh.d.next = self.sh.val();
        self.r1_write.d.next = self.in_write.val();
        self.r1_addr.d.next = self.in_addr.val();

        // ---- Stage 2: the partial products.
        self.r2_lo.d.next = self.r1_a_lo.q.val() * self.r1_m.q.val();
        self.r2_hi.d.next = self.r1_a_hi.q.val() * self.r1_m.q.val();
        self.r2_sign.d.next = self.r1_sign.q.val();
        self.r2_sh.d.next = self.r1_sh.q.val();
        self.r2_write.d.next = self.r1_write.q.val();
        self.r2_addr.d.next = self.r1_addr.q.val();

        // ---- Stage 3: the 48-bit magnitude.
        self.r3_mag.d.next = (bit_cast::<PROD_BITS, 32>(self.r2_hi.q.val()) << self.sixteen.val())
            + bit_cast::<PROD_BITS, 32>(self.r2_lo.q.val());
        self.r3_sign.d.next = self.r2_sign.q.val();
        self.r3_sh.d.next = self.r2_sh.q.val();
        self.r3_write.d.next = self.r2_write.q.val();
        self.r3_addr.d.next = self.r2_addr.q.val();

        // ---- Stage 4: sign and rounding in one adder: -m + r = !m + (r + 1).
        self.x.next = self.r3_mag.q.val();
        self.round.next = self.one48.val() << (self.r3_sh.q.val() - self.one8.val());
        if self.r3_sign.q.val() {
            self.x.next = !self.r3_mag.q.val();
            if self.r3_sh.q.val() == self.one8.val() {
                self.round.next = self.two48.val();
            } else {
                self.round.next =
                    (self.one48.val() << (self.r3_sh.q.val() - self.one8.val())) | self.one48.val();
            }
        }
        self.r4_rnd.d.next = self.x.val() + self.round.val();
        self.r4_sh.d.next = self.r3_sh.q.val();
        self.r4_write.d.next = self.r3_write.q.val();
        self.r4_addr.d.next = self.r3_addr.q.val();

        // ---- Stage 5: arithmetic shift, clamp. A value that does not fit 8 bits lies beyond
        // both int8 bounds on the side of its sign.
        self.sr.next = self.r4_rnd.q.val() >> self.r4_sh.q.val();
        if self.r4_rnd.q.val().get_bit(47) {
            self.sr.next = (self.r4_rnd.q.val() >> self.r4_sh.q.val())
                | !(self.ones48.val() >> self.r4_sh.q.val());
        }
        self.top.next = self.sr.val() >> self.seven.val();
        self.fits.next =
            (self.top.val() == self.zero48.val()) || (self.top.val() == self.top_ones.val());
        self.s8.next = bit_cast::<8, PROD_BITS>(self.sr.val());
        self.y8.next = self.s8.val();
        if self.fits.val() {
            if (self.s8.val() ^ self.sign8.val()) < (self.lo.val() ^ self.sign8.val()) {
                self.y8.next = self.lo.val();
            }
            if (self.s8.val() ^ self.sign8.val()) > (self.hi.val() ^ self.sign8.val()) {
                self.y8.next = self.hi.val();
            }
        } else if self.sr.val().get_bit(47) {
            self.y8.next = self.lo.val();
        } else {
            self.y8.next = self.hi.val();
        }
        self.r5_y.d.next = self.y8.val();
        self.r5_write.d.next = self.r4_write.q.val();
        self.r5_addr.d.next = self.r4_addr.q.val();

        if self.clear.val() {
            self.r1_write.d.next = false;
            self.r2_write.d.next = false;
            self.r3_write.d.next = false;
            self.r4_write.d.next = false;
            self.r5_write.d.next = false;
        }
        self.y.next = self.r5_y.q.val();
        self.out_write.next = self.r5_write.q.val();
        self.out_addr.next = self.r5_addr.q.val();
        self.busy.next = self.r1_write.q.val()
            || self.r2_write.q.val()
            || self.r3_write.q.val()
            || self.r4_write.q.val();
    }
}
