//! The per-channel parameter memory of the accelerator: the host writes a channel's bias,
//! multipliers and shifts, the drain reads them one channel per clock (synchronous read: the
//! values of `raddr` appear one clock later). The multipliers and shifts have their own read
//! address, `scale_raddr`: the requantizer uses them one clock after the bias.

use super::lane::INDEX_BITS;
use rust_hdl::prelude::*;

/// Requantization parameters of `2^PBITS` output channels.
#[derive(LogicBlock, Default)]
pub struct ParamMem<const PBITS: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Write the parameters of channel `waddr`.
    pub we: Signal<In, Bit>,
    /// Channel written.
    pub waddr: Signal<In, Bits<INDEX_BITS>>,
    /// Bias (int32) to write.
    pub w_bias: Signal<In, Bits<32>>,
    /// Multiplier (int16) to write.
    pub w_mult: Signal<In, Bits<16>>,
    /// Shift to write.
    pub w_shift: Signal<In, Bits<8>>,
    /// Multiplier for negative accumulators (int16) to write.
    pub w_nmult: Signal<In, Bits<16>>,
    /// Shift for negative accumulators to write.
    pub w_nshift: Signal<In, Bits<8>>,
    /// Channel whose bias is read.
    pub raddr: Signal<In, Bits<INDEX_BITS>>,
    /// Channel whose multipliers and shifts are read.
    pub scale_raddr: Signal<In, Bits<INDEX_BITS>>,
    /// Bias of `raddr` at the previous edge.
    pub bias: Signal<Out, Bits<32>>,
    /// Multiplier of `scale_raddr` at the previous edge.
    pub mult: Signal<Out, Bits<16>>,
    /// Shift of `scale_raddr` at the previous edge.
    pub shift: Signal<Out, Bits<8>>,
    /// Negative multiplier of `scale_raddr` at the previous edge.
    pub nmult: Signal<Out, Bits<16>>,
    /// Negative shift of `scale_raddr` at the previous edge.
    pub nshift: Signal<Out, Bits<8>>,

    p_bias: RAM<Bits<32>, PBITS>,
    p_mult: RAM<Bits<16>, PBITS>,
    p_shift: RAM<Bits<8>, PBITS>,
    p_nmult: RAM<Bits<16>, PBITS>,
    p_nshift: RAM<Bits<8>, PBITS>,
}

impl<const PBITS: usize> Logic for ParamMem<PBITS> {
    #[hdl_gen]
    fn update(&mut self) {
        self.p_bias.read_clock.next = self.clock.val();
        self.p_bias.write_clock.next = self.clock.val();
        self.p_mult.read_clock.next = self.clock.val();
        self.p_mult.write_clock.next = self.clock.val();
        self.p_shift.read_clock.next = self.clock.val();
        self.p_shift.write_clock.next = self.clock.val();
        self.p_nmult.read_clock.next = self.clock.val();
        self.p_nmult.write_clock.next = self.clock.val();
        self.p_nshift.read_clock.next = self.clock.val();
        self.p_nshift.write_clock.next = self.clock.val();

        self.p_bias.write_address.next = bit_cast::<PBITS, INDEX_BITS>(self.waddr.val());
        self.p_mult.write_address.next = bit_cast::<PBITS, INDEX_BITS>(self.waddr.val());
        self.p_shift.write_address.next = bit_cast::<PBITS, INDEX_BITS>(self.waddr.val());
        self.p_nmult.write_address.next = bit_cast::<PBITS, INDEX_BITS>(self.waddr.val());
        self.p_nshift.write_address.next = bit_cast::<PBITS, INDEX_BITS>(self.waddr.val());
        self.p_bias.write_data.next = self.w_bias.val();
        self.p_mult.write_data.next = self.w_mult.val();
        self.p_shift.write_data.next = self.w_shift.val();
        self.p_nmult.write_data.next = self.w_nmult.val();
        self.p_nshift.write_data.next = self.w_nshift.val();
        self.p_bias.write_enable.next = self.we.val();
        self.p_mult.write_enable.next = self.we.val();
        self.p_shift.write_enable.next = self.we.val();
        self.p_nmult.write_enable.next = self.we.val();
        self.p_nshift.write_enable.next = self.we.val();

        self.p_bias.read_address.next = bit_cast::<PBITS, INDEX_BITS>(self.raddr.val());
        self.p_mult.read_address.next = bit_cast::<PBITS, INDEX_BITS>(self.scale_raddr.val());
        self.p_shift.read_address.next = bit_cast::<PBITS, INDEX_BITS>(self.scale_raddr.val());
        self.p_nmult.read_address.next = bit_cast::<PBITS, INDEX_BITS>(self.scale_raddr.val());
        self.p_nshift.read_address.next = bit_cast::<PBITS, INDEX_BITS>(self.scale_raddr.val());
        self.bias.next = self.p_bias.read_data.val();
        self.mult.next = self.p_mult.read_data.val();
        self.shift.next = self.p_shift.read_data.val();
        self.nmult.next = self.p_nmult.read_data.val();
        self.nshift.next = self.p_nshift.read_data.val();
    }
}
