//! Layer configuration of the compact decompressor: latches the layer parameters on `start`,
//! checks each against the profile (the fixed ones must equal the constants the lanes were
//! generated with, r must lie in the profile's range) and hands the lanes r and the verdict.

use super::shape::CompactShape;
use lc_format::Mode;
use rust_hdl::prelude::*;

/// Latches and checks the layer parameters; one instance serves all lanes.
#[derive(LogicBlock)]
pub struct CompactConfig {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Latch the `cfg_*` inputs.
    pub start: Signal<In, Bit>,
    /// Value width B.
    pub cfg_bits: Signal<In, Bits<5>>,
    /// Residual mode: 0 = lines, 1 = rice.
    pub cfg_mode: Signal<In, Bit>,
    /// Fractional bits F of the slope.
    pub cfg_frac_bits: Signal<In, Bits<5>>,
    /// Width LB of the segment length field.
    pub cfg_len_bits: Signal<In, Bits<4>>,
    /// Width MB of the slope field.
    pub cfg_slope_bits: Signal<In, Bits<5>>,
    /// Residual shift r.
    pub cfg_shift: Signal<In, Bits<4>>,
    /// The latched parameters are the ones the lanes decode.
    pub lp_ok: Signal<Out, Bit>,
    /// r.
    pub lp_shift: Signal<Out, Bits<3>>,

    ok: DFF<Bit>,
    shift: DFF<Bits<3>>,
    bits: Constant<Bits<5>>,
    rice: Constant<Bit>,
    frac: Constant<Bits<5>>,
    len: Constant<Bits<4>>,
    slope: Constant<Bits<5>>,
    shift_min: Constant<Bits<4>>,
    shift_span: Constant<Bits<4>>,
}

impl CompactConfig {
    /// The configuration block of lanes of `shape`.
    pub fn new(shape: &CompactShape) -> Self {
        Self {
            clock: Default::default(),
            start: Default::default(),
            cfg_bits: Default::default(),
            cfg_mode: Default::default(),
            cfg_frac_bits: Default::default(),
            cfg_len_bits: Default::default(),
            cfg_slope_bits: Default::default(),
            cfg_shift: Default::default(),
            lp_ok: Default::default(),
            lp_shift: Default::default(),
            ok: Default::default(),
            shift: Default::default(),
            bits: Constant::new((shape.bits as u64).into()),
            rice: Constant::new(Mode::Rice.code() == 1),
            frac: Constant::new((shape.frac_bits as u64).into()),
            len: Constant::new((shape.len_bits as u64).into()),
            slope: Constant::new((shape.slope_bits as u64).into()),
            shift_min: Constant::new((shape.shift_min as u64).into()),
            shift_span: Constant::new(((shape.shift_max - shape.shift_min) as u64).into()),
        }
    }
}

impl Logic for CompactConfig {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, ok, shift);
        if self.start.val() {
            self.ok.d.next = (self.cfg_bits.val() == self.bits.val())
                & (self.cfg_mode.val() == self.rice.val())
                & (self.cfg_frac_bits.val() == self.frac.val())
                & (self.cfg_len_bits.val() == self.len.val())
                & (self.cfg_slope_bits.val() == self.slope.val())
                & ((self.cfg_shift.val() - self.shift_min.val()) <= self.shift_span.val());
            self.shift.d.next = bit_cast::<3, 4>(self.cfg_shift.val());
        }
        self.lp_ok.next = self.ok.q.val();
        self.lp_shift.next = self.shift.q.val();
    }
}
