//! The requantization unit of `docs/GOLDEN_MODEL.md`: bias, multiplier and shift with
//! round-half-up, fused PReLU (second multiplier for negative accumulators) and the clamp to
//! `[lo, hi]`. Combinational; the controller feeds one channel per clock.
//!
//! `(acc * mult + 2^(shift-1)) >> shift` needs a 48-bit signed product. It is formed from the
//! magnitudes with two 16 x 16 unsigned multipliers and negated when the signs differ.

use rust_hdl::prelude::*;

/// Width of the requantization product.
pub const PROD_BITS: usize = 48;

/// Bias + requantization + activation + clamp of one accumulator.
#[derive(LogicBlock)]
pub struct RequantUnit {
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
    /// The int8 result.
    pub y: Signal<Out, Bits<8>>,

    a: Signal<Local, Bits<32>>,
    neg: Signal<Local, Bit>,
    m: Signal<Local, Bits<16>>,
    sh: Signal<Local, Bits<8>>,
    m_neg: Signal<Local, Bit>,
    mag_a: Signal<Local, Bits<32>>,
    mag_m: Signal<Local, Bits<16>>,
    a_lo: Signal<Local, Bits<16>>,
    a_hi: Signal<Local, Bits<16>>,
    p_lo: Signal<Local, Bits<32>>,
    p_hi: Signal<Local, Bits<32>>,
    mag: Signal<Local, Bits<PROD_BITS>>,
    prod: Signal<Local, Bits<PROD_BITS>>,
    rnd: Signal<Local, Bits<PROD_BITS>>,
    sr: Signal<Local, Bits<PROD_BITS>>,
    lo48: Signal<Local, Bits<PROD_BITS>>,
    hi48: Signal<Local, Bits<PROD_BITS>>,
    y48: Signal<Local, Bits<PROD_BITS>>,

    zero32: Constant<Bits<32>>,
    zero16: Constant<Bits<16>>,
    zero48: Constant<Bits<PROD_BITS>>,
    one48: Constant<Bits<PROD_BITS>>,
    ones48: Constant<Bits<PROD_BITS>>,
    sign48: Constant<Bits<PROD_BITS>>,
    sext8: Constant<Bits<PROD_BITS>>,
    one8: Constant<Bits<8>>,
    sixteen: Constant<Bits<8>>,
}

impl Default for RequantUnit {
    fn default() -> Self {
        Self {
            acc: Default::default(),
            bias: Default::default(),
            mult: Default::default(),
            shift: Default::default(),
            nmult: Default::default(),
            nshift: Default::default(),
            prelu: Default::default(),
            lo: Default::default(),
            hi: Default::default(),
            y: Default::default(),
            a: Default::default(),
            neg: Default::default(),
            m: Default::default(),
            sh: Default::default(),
            m_neg: Default::default(),
            mag_a: Default::default(),
            mag_m: Default::default(),
            a_lo: Default::default(),
            a_hi: Default::default(),
            p_lo: Default::default(),
            p_hi: Default::default(),
            mag: Default::default(),
            prod: Default::default(),
            rnd: Default::default(),
            sr: Default::default(),
            lo48: Default::default(),
            hi48: Default::default(),
            y48: Default::default(),
            zero32: Constant::new(0.into()),
            zero16: Constant::new(0.into()),
            zero48: Constant::new(0.into()),
            one48: Constant::new(1.into()),
            ones48: Constant::new(Bits::<PROD_BITS>::mask()),
            sign48: Constant::new((1u64 << (PROD_BITS - 1)).into()),
            sext8: Constant::new(((1u64 << PROD_BITS) - 256).into()),
            one8: Constant::new(1.into()),
            sixteen: Constant::new(16.into()),
        }
    }
}

impl Logic for RequantUnit {
    #[hdl_gen]
    fn update(&mut self) {
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
        self.a_lo.next = bit_cast::<16, 32>(self.mag_a.val());
        self.a_hi.next = bit_cast::<16, 32>(self.mag_a.val() >> self.sixteen.val());
        self.p_lo.next = self.a_lo.val() * self.mag_m.val();
        self.p_hi.next = self.a_hi.val() * self.mag_m.val();
        self.mag.next = (bit_cast::<PROD_BITS, 32>(self.p_hi.val()) << self.sixteen.val())
            + bit_cast::<PROD_BITS, 32>(self.p_lo.val());
        self.prod.next = self.mag.val();
        if self.neg.val() != self.m_neg.val() {
            self.prod.next = self.zero48.val() - self.mag.val();
        }
        self.rnd.next = self.prod.val() + (self.one48.val() << (self.sh.val() - self.one8.val()));
        self.sr.next = self.rnd.val() >> self.sh.val();
        if self.rnd.val().get_bit(47) {
            self.sr.next =
                (self.rnd.val() >> self.sh.val()) | !(self.ones48.val() >> self.sh.val());
        }
        self.lo48.next = bit_cast::<PROD_BITS, 8>(self.lo.val());
        if self.lo.val().get_bit(7) {
            self.lo48.next = bit_cast::<PROD_BITS, 8>(self.lo.val()) | self.sext8.val();
        }
        self.hi48.next = bit_cast::<PROD_BITS, 8>(self.hi.val());
        if self.hi.val().get_bit(7) {
            self.hi48.next = bit_cast::<PROD_BITS, 8>(self.hi.val()) | self.sext8.val();
        }
        self.y48.next = self.sr.val();
        if (self.sr.val() ^ self.sign48.val()) < (self.lo48.val() ^ self.sign48.val()) {
            self.y48.next = self.lo48.val();
        }
        if (self.sr.val() ^ self.sign48.val()) > (self.hi48.val() ^ self.sign48.val()) {
            self.y48.next = self.hi48.val();
        }
        self.y.next = bit_cast::<8, PROD_BITS>(self.y48.val());
    }
}
