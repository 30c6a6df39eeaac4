//! A complete one-lane decompressor (configuration block plus one lane) as a single rust-hdl block.
//! Its ports carry the same names and widths as the emitted `lc_decompressor_x1` top, so one
//! stimulus drives both the rust-hdl simulation and the Verilator model.

use crate::config::{LayerConfig, COUNT_BITS, LENGTH_BITS, WEIGHT_BITS, WORD_BITS};
use crate::core::LaneCore;
use crate::params::LayerParamsOut;
use rust_hdl::prelude::*;

/// One configuration block driving one [`LaneCore`].
#[derive(LogicBlock, Default)]
pub struct LaneDecompressor {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// Start a layer (latches the configuration, `length_bits` and `count`).
    pub start: Signal<In, Bit>,
    /// B.
    pub cfg_bits: Signal<In, Bits<5>>,
    /// Mode (0 = lines, 1 = rice).
    pub cfg_mode: Signal<In, Bit>,
    /// F.
    pub cfg_frac_bits: Signal<In, Bits<5>>,
    /// LB.
    pub cfg_len_bits: Signal<In, Bits<4>>,
    /// MB.
    pub cfg_slope_bits: Signal<In, Bits<5>>,
    /// r.
    pub cfg_shift: Signal<In, Bits<4>>,
    /// Lane stream length in bits.
    pub length_bits: Signal<In, Bits<LENGTH_BITS>>,
    /// Weights in the lane.
    pub count: Signal<In, Bits<COUNT_BITS>>,
    /// Memory word.
    pub in_data: Signal<In, Bits<WORD_BITS>>,
    /// Memory word valid.
    pub in_valid: Signal<In, Bit>,
    /// Memory word taken.
    pub in_ready: Signal<Out, Bit>,
    /// Weight.
    pub out_weight: Signal<Out, Bits<WEIGHT_BITS>>,
    /// Weight valid.
    pub out_valid: Signal<Out, Bit>,
    /// Weight taken.
    pub out_ready: Signal<In, Bit>,
    /// Last weight of the lane.
    pub out_last: Signal<Out, Bit>,
    /// Stream rejected.
    pub error: Signal<Out, Bit>,
    /// Stream decoded.
    pub done: Signal<Out, Bit>,

    layer: LayerConfig,
    lane: LaneCore,
}

impl Logic for LaneDecompressor {
    #[hdl_gen]
    fn update(&mut self) {
        self.layer.clock.next = self.clock.val();
        self.layer.start.next = self.start.val();
        self.layer.cfg_bits.next = self.cfg_bits.val();
        self.layer.cfg_mode.next = self.cfg_mode.val();
        self.layer.cfg_frac_bits.next = self.cfg_frac_bits.val();
        self.layer.cfg_len_bits.next = self.cfg_len_bits.val();
        self.layer.cfg_slope_bits.next = self.cfg_slope_bits.val();
        self.layer.cfg_shift.next = self.cfg_shift.val();

        self.lane.clock.next = self.clock.val();
        self.lane.reset.next = self.reset.val();
        self.lane.start.next = self.start.val();
        self.lane.length_bits.next = self.length_bits.val();
        self.lane.count.next = self.count.val();
        LayerParamsOut::join(&mut self.layer.lp, &mut self.lane.lp);
        self.lane.in_data.next = self.in_data.val();
        self.lane.in_valid.next = self.in_valid.val();
        self.lane.out_ready.next = self.out_ready.val();

        self.in_ready.next = self.lane.in_ready.val();
        self.out_weight.next = self.lane.out_weight.val();
        self.out_valid.next = self.lane.out_valid.val();
        self.out_last.next = self.lane.out_last.val();
        self.error.next = self.lane.error.val();
        self.done.next = self.lane.done.val();
    }
}
