//! The shared controller of the accelerator: layer registers, the activation buffer with its
//! host port, the per-channel parameter memory, the convolution address generator that
//! broadcasts one activation per clock to every lane, and the drain that requantizes the P
//! finished accumulators of an output position one per clock and writes them back.
//!
//! Order of work: channel groups (P output channels, one per lane), inside a group the output
//! positions row by row, inside a position the K = C * KH * KW products in the order
//! (input channel, kernel row, kernel column). A dense layer is the 1 x 1 case (H = W = 1,
//! C = inputs). Positions outside the input (padding) contribute a zero activation.
//!
//! Pipeline: stage 0 issues the reads of the activation buffer and of every lane's weight bank;
//! stage 1 multiplies and accumulates; stage 2 captures the accumulators of a finished position
//! into the lanes' hold registers; the drain then needs P + 1 clocks while the next position
//! already accumulates. Layers with K < P + 2 wait for the drain before each position.

use super::lane::{ACC_BITS, INDEX_BITS};
use super::requant::RequantUnit;
use rust_hdl::prelude::*;

/// Controller state.
#[derive(Copy, Clone, Debug, PartialEq, Eq, LogicState)]
pub enum CtrlState {
    /// Waiting for `start`.
    Idle,
    /// Issuing products.
    Run,
    /// Every product issued: waiting for the pipeline and the drain to empty.
    Finish,
    /// The layer is complete.
    Done,
    /// The layer registers were rejected.
    Fail,
}

/// Controller with an activation buffer of `2^ABITS` bytes and parameters for `2^PBITS` channels.
#[derive(LogicBlock)]
pub struct AccelCtrl<const ABITS: usize, const PBITS: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset to `Idle`.
    pub reset: Signal<In, Bit>,
    /// Start the programmed layer.
    pub start: Signal<In, Bit>,
    /// Input channels C.
    pub lay_in_c: Signal<In, Bits<INDEX_BITS>>,
    /// Input height H.
    pub lay_in_h: Signal<In, Bits<INDEX_BITS>>,
    /// Input width W.
    pub lay_in_w: Signal<In, Bits<INDEX_BITS>>,
    /// Kernel height.
    pub lay_kh: Signal<In, Bits<8>>,
    /// Kernel width.
    pub lay_kw: Signal<In, Bits<8>>,
    /// Vertical stride.
    pub lay_stride_h: Signal<In, Bits<8>>,
    /// Horizontal stride.
    pub lay_stride_w: Signal<In, Bits<8>>,
    /// Output height.
    pub lay_out_h: Signal<In, Bits<INDEX_BITS>>,
    /// Output width.
    pub lay_out_w: Signal<In, Bits<INDEX_BITS>>,
    /// Output channels O.
    pub lay_out_c: Signal<In, Bits<INDEX_BITS>>,
    /// K = C * KH * KW.
    pub lay_k_len: Signal<In, Bits<INDEX_BITS>>,
    /// Channel groups ceil(O / P).
    pub lay_groups: Signal<In, Bits<INDEX_BITS>>,
    /// H * W.
    pub lay_plane: Signal<In, Bits<INDEX_BITS>>,
    /// Column of the first window, -pad_left (two's complement).
    pub lay_ix0: Signal<In, Bits<INDEX_BITS>>,
    /// Row of the first window, -pad_top (two's complement).
    pub lay_iy0: Signal<In, Bits<INDEX_BITS>>,
    /// Buffer address of row `-pad_top` of input channel 0: in_base - pad_top * W (mod 2^16).
    pub lay_row0: Signal<In, Bits<INDEX_BITS>>,
    /// stride_h * W.
    pub lay_row_step: Signal<In, Bits<INDEX_BITS>>,
    /// Buffer address of the output tensor.
    pub lay_out_base: Signal<In, Bits<INDEX_BITS>>,
    /// OH * OW.
    pub lay_out_plane: Signal<In, Bits<INDEX_BITS>>,
    /// P * OH * OW.
    pub lay_grp_step: Signal<In, Bits<INDEX_BITS>>,
    /// Lower clamp bound (int8).
    pub lay_lo: Signal<In, Bits<8>>,
    /// Upper clamp bound (int8).
    pub lay_hi: Signal<In, Bits<8>>,
    /// Fused PReLU.
    pub lay_prelu: Signal<In, Bit>,

    /// Write the parameters of channel `prm_addr`.
    pub prm_we: Signal<In, Bit>,
    /// Channel whose parameters are written.
    pub prm_addr: Signal<In, Bits<INDEX_BITS>>,
    /// Bias (int32).
    pub prm_bias: Signal<In, Bits<32>>,
    /// Multiplier (int16).
    pub prm_mult: Signal<In, Bits<16>>,
    /// Shift.
    pub prm_shift: Signal<In, Bits<8>>,
    /// Multiplier for negative accumulators (int16).
    pub prm_nmult: Signal<In, Bits<16>>,
    /// Shift for negative accumulators.
    pub prm_nshift: Signal<In, Bits<8>>,

    /// Host write into the activation buffer (ignored while busy).
    pub act_we: Signal<In, Bit>,
    /// Host write address.
    pub act_waddr: Signal<In, Bits<INDEX_BITS>>,
    /// Host write data.
    pub act_wdata: Signal<In, Bits<8>>,
    /// Host read address (while idle; the data follows one clock later).
    pub act_raddr: Signal<In, Bits<INDEX_BITS>>,
    /// Host read data.
    pub act_rdata: Signal<Out, Bits<8>>,

    /// Every lane holds its weights in bank 0.
    pub all_filled0: Signal<In, Bit>,
    /// Every lane holds its weights in bank 1.
    pub all_filled1: Signal<In, Bit>,
    /// To the lanes: free `free_sel`.
    pub free_bank: Signal<Out, Bit>,
    /// To the lanes: the bank to free.
    pub free_sel: Signal<Out, Bit>,
    /// To the lanes: bank to read.
    pub rd_bank: Signal<Out, Bit>,
    /// To the lanes: index to read.
    pub rd_index: Signal<Out, Bits<INDEX_BITS>>,
    /// To the lanes: multiply-accumulate.
    pub mac_en: Signal<Out, Bit>,
    /// To the lanes: first product of a position.
    pub mac_first: Signal<Out, Bit>,
    /// To the lanes: the activation.
    pub act: Signal<Out, Bits<8>>,
    /// To the lanes: capture the accumulators.
    pub capture: Signal<Out, Bit>,
    /// To the lanes: shift the hold chain.
    pub shift: Signal<Out, Bit>,
    /// Hold register of lane 0 (head of the chain).
    pub chain_head: Signal<In, Bits<ACC_BITS>>,

    /// A layer is in progress.
    pub busy: Signal<Out, Bit>,
    /// The last layer completed.
    pub done: Signal<Out, Bit>,
    /// The layer registers were rejected.
    pub error: Signal<Out, Bit>,

    abuf: RAM<Bits<8>, ABITS>,
    p_bias: RAM<Bits<32>, PBITS>,
    p_mult: RAM<Bits<16>, PBITS>,
    p_shift: RAM<Bits<8>, PBITS>,
    p_nmult: RAM<Bits<16>, PBITS>,
    p_nshift: RAM<Bits<8>, PBITS>,
    rq: RequantUnit,

    state: DFF<CtrlState>,
    bank: DFF<Bit>,
    group: DFF<Bits<INDEX_BITS>>,
    ch_base: DFF<Bits<INDEX_BITS>>,
    grp_base: DFF<Bits<INDEX_BITS>>,
    oy: DFF<Bits<INDEX_BITS>>,
    ox: DFF<Bits<INDEX_BITS>>,
    pos: DFF<Bits<INDEX_BITS>>,
    ic: DFF<Bits<INDEX_BITS>>,
    ky: DFF<Bits<8>>,
    kx: DFF<Bits<8>>,
    k: DFF<Bits<INDEX_BITS>>,
    iy: DFF<Bits<INDEX_BITS>>,
    ix: DFF<Bits<INDEX_BITS>>,
    iy0: DFF<Bits<INDEX_BITS>>,
    ix0: DFF<Bits<INDEX_BITS>>,
    row_base: DFF<Bits<INDEX_BITS>>,
    plane_base: DFF<Bits<INDEX_BITS>>,
    pos_row0: DFF<Bits<INDEX_BITS>>,
    s1_en: DFF<Bit>,
    s1_first: DFF<Bit>,
    s1_pad: DFF<Bit>,
    s1_last: DFF<Bit>,
    s1_wbase: DFF<Bits<INDEX_BITS>>,
    s1_ch0: DFF<Bits<INDEX_BITS>>,
    s2_last: DFF<Bit>,
    s2_wbase: DFF<Bits<INDEX_BITS>>,
    s2_ch0: DFF<Bits<INDEX_BITS>>,
    drain_left: DFF<Bits<INDEX_BITS>>,
    drain_addr: DFF<Bits<INDEX_BITS>>,
    drain_ch: DFF<Bits<INDEX_BITS>>,
    d2_valid: DFF<Bit>,
    d2_addr: DFF<Bits<INDEX_BITS>>,
    d2_ch: DFF<Bits<INDEX_BITS>>,

    filled: Signal<Local, Bit>,
    short_k: Signal<Local, Bit>,
    pipe_busy: Signal<Local, Bit>,
    issue: Signal<Local, Bit>,
    in_bounds: Signal<Local, Bit>,
    last_kx: Signal<Local, Bit>,
    last_ky: Signal<Local, Bit>,
    last_ic: Signal<Local, Bit>,
    last_ox: Signal<Local, Bit>,
    last_oy: Signal<Local, Bit>,
    last_g: Signal<Local, Bit>,
    sw16: Signal<Local, Bits<INDEX_BITS>>,
    sh16: Signal<Local, Bits<INDEX_BITS>>,
    cfg_bad: Signal<Local, Bit>,
    write_out: Signal<Local, Bit>,

    lanes: Constant<Bits<INDEX_BITS>>,
    short_limit: Constant<Bits<INDEX_BITS>>,
    zero_i: Constant<Bits<INDEX_BITS>>,
    one_i: Constant<Bits<INDEX_BITS>>,
    zero8: Constant<Bits<8>>,
    one8: Constant<Bits<8>>,
}

impl<const ABITS: usize, const PBITS: usize> AccelCtrl<ABITS, PBITS> {
    /// A controller for `lanes` MAC lanes.
    pub fn new(lanes: usize) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            lay_in_c: Default::default(),
            lay_in_h: Default::default(),
            lay_in_w: Default::default(),
            lay_kh: Default::default(),
            lay_kw: Default::default(),
            lay_stride_h: Default::default(),
            lay_stride_w: Default::default(),
            lay_out_h: Default::default(),
            lay_out_w: Default::default(),
            lay_out_c: Default::default(),
            lay_k_len: Default::default(),
            lay_groups: Default::default(),
            lay_plane: Default::default(),
            lay_ix0: Default::default(),
            lay_iy0: Default::default(),
            lay_row0: Default::default(),
            lay_row_step: Default::default(),
            lay_out_base: Default::default(),
            lay_out_plane: Default::default(),
            lay_grp_step: Default::default(),
            lay_lo: Default::default(),
            lay_hi: Default::default(),
            lay_prelu: Default::default(),
            prm_we: Default::default(),
            prm_addr: Default::default(),
            prm_bias: Default::default(),
            prm_mult: Default::default(),
            prm_shift: Default::default(),
            prm_nmult: Default::default(),
            prm_nshift: Default::default(),
            act_we: Default::default(),
            act_waddr: Default::default(),
            act_wdata: Default::default(),
            act_raddr: Default::default(),
            act_rdata: Default::default(),
            all_filled0: Default::default(),
            all_filled1: Default::default(),
            free_bank: Default::default(),
            free_sel: Default::default(),
            rd_bank: Default::default(),
            rd_index: Default::default(),
            mac_en: Default::default(),
            mac_first: Default::default(),
            act: Default::default(),
            capture: Default::default(),
            shift: Default::default(),
            chain_head: Default::default(),
            busy: Default::default(),
            done: Default::default(),
            error: Default::default(),
            abuf: Default::default(),
            p_bias: Default::default(),
            p_mult: Default::default(),
            p_shift: Default::default(),
            p_nmult: Default::default(),
            p_nshift: Default::default(),
            rq: Default::default(),
            state: Default::default(),
            bank: Default::default(),
            group: Default::default(),
            ch_base: Default::default(),
            grp_base: Default::default(),
            oy: Default::default(),
            ox: Default::default(),
            pos: Default::default(),
            ic: Default::default(),
            ky: Default::default(),
            kx: Default::default(),
            k: Default::default(),
            iy: Default::default(),
            ix: Default::default(),
            iy0: Default::default(),
            ix0: Default::default(),
            row_base: Default::default(),
            plane_base: Default::default(),
            pos_row0: Default::default(),
            s1_en: Default::default(),
            s1_first: Default::default(),
            s1_pad: Default::default(),
            s1_last: Default::default(),
            s1_wbase: Default::default(),
            s1_ch0: Default::default(),
            s2_last: Default::default(),
            s2_wbase: Default::default(),
            s2_ch0: Default::default(),
            drain_left: Default::default(),
            drain_addr: Default::default(),
            drain_ch: Default::default(),
            d2_valid: Default::default(),
            d2_addr: Default::default(),
            d2_ch: Default::default(),
            filled: Default::default(),
            short_k: Default::default(),
            pipe_busy: Default::default(),
            issue: Default::default(),
            in_bounds: Default::default(),
            last_kx: Default::default(),
            last_ky: Default::default(),
            last_ic: Default::default(),
            last_ox: Default::default(),
            last_oy: Default::default(),
            last_g: Default::default(),
            sw16: Default::default(),
            sh16: Default::default(),
            cfg_bad: Default::default(),
            write_out: Default::default(),
            lanes: Constant::new((lanes as u64).into()),
            short_limit: Constant::new((lanes as u64 + 2).into()),
            zero_i: Constant::new(0.into()),
            one_i: Constant::new(1.into()),
            zero8: Constant::new(0.into()),
            one8: Constant::new(1.into()),
        }
    }
}

impl<const ABITS: usize, const PBITS: usize> Logic for AccelCtrl<ABITS, PBITS> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, state, bank, group, ch_base, grp_base, oy, ox, pos, ic, ky, kx, k, iy, ix,
            iy0, ix0, row_base, plane_base, pos_row0, s1_en, s1_first, s1_pad, s1_last, s1_wbase,
            s1_ch0, s2_last, s2_wbase, s2_ch0, drain_left, drain_addr, drain_ch, d2_valid, d2_addr,
            d2_ch
        );
        self.abuf.read_clock.next = self.clock.val();
        self.abuf.write_clock.next = self.clock.val();
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

        // ---- Parameter memory: host writes, drain reads.
        self.p_bias.write_address.next = bit_cast::<PBITS, INDEX_BITS>(self.prm_addr.val());
        self.p_mult.write_address.next = bit_cast::<PBITS, INDEX_BITS>(self.prm_addr.val());
        self.p_shift.write_address.next = bit_cast::<PBITS, INDEX_BITS>(self.prm_addr.val());
        self.p_nmult.write_address.next = bit_cast::<PBITS, INDEX_BITS>(self.prm_addr.val());
        self.p_nshift.write_address.next = bit_cast::<PBITS, INDEX_BITS>(self.prm_addr.val());
        self.p_bias.write_data.next = self.prm_bias.val();
        self.p_mult.write_data.next = self.prm_mult.val();
        self.p_shift.write_data.next = self.prm_shift.val();
        self.p_nmult.write_data.next = self.prm_nmult.val();
        self.p_nshift.write_data.next = self.prm_nshift.val();
        self.p_bias.write_enable.next = self.prm_we.val();
        self.p_mult.write_enable.next = self.prm_we.val();
        self.p_shift.write_enable.next = self.prm_we.val();
        self.p_nmult.write_enable.next = self.prm_we.val();
        self.p_nshift.write_enable.next = self.prm_we.val();
        self.p_bias.read_address.next = bit_cast::<PBITS, INDEX_BITS>(self.drain_ch.q.val());
        self.p_mult.read_address.next = bit_cast::<PBITS, INDEX_BITS>(self.drain_ch.q.val());
        self.p_shift.read_address.next = bit_cast::<PBITS, INDEX_BITS>(self.drain_ch.q.val());
        self.p_nmult.read_address.next = bit_cast::<PBITS, INDEX_BITS>(self.drain_ch.q.val());
        self.p_nshift.read_address.next = bit_cast::<PBITS, INDEX_BITS>(self.drain_ch.q.val());

        // ---- Stage 0: address generation and issue.
        self.filled.next = self.all_filled0.val();
        if self.bank.q.val() {
            self.filled.next = self.all_filled1.val();
        }
        self.short_k.next = self.lay_k_len.val() < self.short_limit.val();
        self.pipe_busy.next = self.s1_en.q.val()
            || self.s2_last.q.val()
            || (self.drain_left.q.val() != self.zero_i.val())
            || self.d2_valid.q.val();
        self.issue.next = (self.state.q.val() == CtrlState::Run)
            && self.filled.val()
            && !((self.k.q.val() == self.zero_i.val())
                && self.short_k.val()
                && self.pipe_busy.val());
        self.in_bounds.next =
            (self.iy.q.val() < self.lay_in_h.val()) && (self.ix.q.val() < self.lay_in_w.val());
        self.last_kx.next = self.kx.q.val() == (self.lay_kw.val() - self.one8.val());
        self.last_ky.next = self.ky.q.val() == (self.lay_kh.val() - self.one8.val());
        self.last_ic.next = self.ic.q.val() == (self.lay_in_c.val() - self.one_i.val());
        self.last_ox.next = self.ox.q.val() == (self.lay_out_w.val() - self.one_i.val());
        self.last_oy.next = self.oy.q.val() == (self.lay_out_h.val() - self.one_i.val());
        self.last_g.next = self.group.q.val() == (self.lay_groups.val() - self.one_i.val());
        self.sw16.next = bit_cast::<INDEX_BITS, 8>(self.lay_stride_w.val());
        self.sh16.next = bit_cast::<INDEX_BITS, 8>(self.lay_stride_h.val());

        self.rd_bank.next = self.bank.q.val();
        self.rd_index.next = self.k.q.val();
        self.free_bank.next = false;
        self.free_sel.next = self.bank.q.val();
        self.abuf.read_address.next = bit_cast::<ABITS, INDEX_BITS>(self.act_raddr.val());
        if self.state.q.val() == CtrlState::Run {
            self.abuf.read_address.next =
                bit_cast::<ABITS, INDEX_BITS>(self.row_base.q.val() + self.ix.q.val());
        }

        self.s1_en.d.next = self.issue.val();
        self.s1_first.d.next = self.k.q.val() == self.zero_i.val();
        self.s1_pad.d.next = !self.in_bounds.val();
        self.s1_last.d.next = self.last_kx.val() && self.last_ky.val() && self.last_ic.val();
        self.s1_wbase.d.next = self.grp_base.q.val() + self.pos.q.val();
        self.s1_ch0.d.next = self.ch_base.q.val();

        if self.issue.val() {
            self.k.d.next = self.k.q.val() + self.one_i.val();
            if !self.last_kx.val() {
                self.kx.d.next = self.kx.q.val() + self.one8.val();
                self.ix.d.next = self.ix.q.val() + self.one_i.val();
            } else {
                self.kx.d.next = self.zero8.val();
                self.ix.d.next = self.ix0.q.val();
                if !self.last_ky.val() {
                    self.ky.d.next = self.ky.q.val() + self.one8.val();
                    self.iy.d.next = self.iy.q.val() + self.one_i.val();
                    self.row_base.d.next = self.row_base.q.val() + self.lay_in_w.val();
                } else {
                    self.ky.d.next = self.zero8.val();
                    self.iy.d.next = self.iy0.q.val();
                    if !self.last_ic.val() {
                        self.ic.d.next = self.ic.q.val() + self.one_i.val();
                        self.plane_base.d.next = self.plane_base.q.val() + self.lay_plane.val();
                        self.row_base.d.next = self.plane_base.q.val() + self.lay_plane.val();
                    } else {
                        // End of an output position.
                        self.ic.d.next = self.zero_i.val();
                        self.k.d.next = self.zero_i.val();
                        self.pos.d.next = self.pos.q.val() + self.one_i.val();
                        if !self.last_ox.val() {
                            self.ox.d.next = self.ox.q.val() + self.one_i.val();
                            self.ix0.d.next = self.ix0.q.val() + self.sw16.val();
                            self.ix.d.next = self.ix0.q.val() + self.sw16.val();
                            self.row_base.d.next = self.pos_row0.q.val();
                            self.plane_base.d.next = self.pos_row0.q.val();
                        } else {
                            self.ox.d.next = self.zero_i.val();
                            self.ix0.d.next = self.lay_ix0.val();
                            self.ix.d.next = self.lay_ix0.val();
                            if !self.last_oy.val() {
                                self.oy.d.next = self.oy.q.val() + self.one_i.val();
                                self.iy0.d.next = self.iy0.q.val() + self.sh16.val();
                                self.iy.d.next = self.iy0.q.val() + self.sh16.val();
                                self.pos_row0.d.next =
                                    self.pos_row0.q.val() + self.lay_row_step.val();
                                self.row_base.d.next =
                                    self.pos_row0.q.val() + self.lay_row_step.val();
                                self.plane_base.d.next =
                                    self.pos_row0.q.val() + self.lay_row_step.val();
                            } else {
                                // End of a channel group.
                                self.oy.d.next = self.zero_i.val();
                                self.pos.d.next = self.zero_i.val();
                                self.iy0.d.next = self.lay_iy0.val();
                                self.iy.d.next = self.lay_iy0.val();
                                self.pos_row0.d.next = self.lay_row0.val();
                                self.row_base.d.next = self.lay_row0.val();
                                self.plane_base.d.next = self.lay_row0.val();
                                self.free_bank.next = true;
                                self.bank.d.next = !self.bank.q.val();
                                self.group.d.next = self.group.q.val() + self.one_i.val();
                                self.ch_base.d.next = self.ch_base.q.val() + self.lanes.val();
                                self.grp_base.d.next =
                                    self.grp_base.q.val() + self.lay_grp_step.val();
                                if self.last_g.val() {
                                    self.state.d.next = CtrlState::Finish;
                                }
                            }
                        }
                    }
                }
            }
        }

        // ---- Stage 1: multiply-accumulate in the lanes.
        self.mac_en.next = self.s1_en.q.val();
        self.mac_first.next = self.s1_first.q.val();
        self.act.next = self.abuf.read_data.val();
        if self.s1_pad.q.val() {
            self.act.next = self.zero8.val();
        }
        self.s2_last.d.next = self.s1_en.q.val() && self.s1_last.q.val();
        self.s2_wbase.d.next = self.s1_wbase.q.val();
        self.s2_ch0.d.next = self.s1_ch0.q.val();

        // ---- Stage 2: capture, then drain one channel per clock.
        self.capture.next = self.s2_last.q.val();
        self.d2_valid.d.next = self.drain_left.q.val() != self.zero_i.val();
        self.d2_addr.d.next = self.drain_addr.q.val();
        self.d2_ch.d.next = self.drain_ch.q.val();
        if self.drain_left.q.val() != self.zero_i.val() {
            self.drain_left.d.next = self.drain_left.q.val() - self.one_i.val();
            self.drain_addr.d.next = self.drain_addr.q.val() + self.lay_out_plane.val();
            self.drain_ch.d.next = self.drain_ch.q.val() + self.one_i.val();
        }
        if self.s2_last.q.val() {
            self.drain_left.d.next = self.lanes.val();
            self.drain_addr.d.next = self.s2_wbase.q.val();
            self.drain_ch.d.next = self.s2_ch0.q.val();
        }
        self.rq.acc.next = self.chain_head.val();
        self.rq.bias.next = self.p_bias.read_data.val();
        self.rq.mult.next = self.p_mult.read_data.val();
        self.rq.shift.next = self.p_shift.read_data.val();
        self.rq.nmult.next = self.p_nmult.read_data.val();
        self.rq.nshift.next = self.p_nshift.read_data.val();
        self.rq.prelu.next = self.lay_prelu.val();
        self.rq.lo.next = self.lay_lo.val();
        self.rq.hi.next = self.lay_hi.val();
        self.shift.next = self.d2_valid.q.val();
        self.write_out.next = self.d2_valid.q.val() && (self.d2_ch.q.val() < self.lay_out_c.val());

        // ---- Activation buffer write port: the drain while busy, else the host.
        self.abuf.write_enable.next = self.act_we.val()
            && (self.state.q.val() != CtrlState::Run)
            && (self.state.q.val() != CtrlState::Finish);
        self.abuf.write_address.next = bit_cast::<ABITS, INDEX_BITS>(self.act_waddr.val());
        self.abuf.write_data.next = self.act_wdata.val();
        if self.d2_valid.q.val() {
            self.abuf.write_enable.next = self.write_out.val();
            self.abuf.write_address.next = bit_cast::<ABITS, INDEX_BITS>(self.d2_addr.q.val());
            self.abuf.write_data.next = self.rq.y.val();
        }
        self.act_rdata.next = self.abuf.read_data.val();

        // ---- Completion, start and reset.
        if (self.state.q.val() == CtrlState::Finish) && !self.pipe_busy.val() {
            self.state.d.next = CtrlState::Done;
        }
        self.cfg_bad.next = (self.lay_k_len.val() == self.zero_i.val())
            || (self.lay_groups.val() == self.zero_i.val())
            || (self.lay_in_c.val() == self.zero_i.val())
            || (self.lay_out_h.val() == self.zero_i.val())
            || (self.lay_out_w.val() == self.zero_i.val())
            || (self.lay_kh.val() == self.zero8.val())
            || (self.lay_kw.val() == self.zero8.val())
            || (self.lay_stride_h.val() == self.zero8.val())
            || (self.lay_stride_w.val() == self.zero8.val());
        if self.start.val() {
            self.state.d.next = CtrlState::Run;
            if self.cfg_bad.val() {
                self.state.d.next = CtrlState::Fail;
            }
            self.bank.d.next = false;
            self.group.d.next = self.zero_i.val();
            self.ch_base.d.next = self.zero_i.val();
            self.grp_base.d.next = self.lay_out_base.val();
            self.oy.d.next = self.zero_i.val();
            self.ox.d.next = self.zero_i.val();
            self.pos.d.next = self.zero_i.val();
            self.ic.d.next = self.zero_i.val();
            self.ky.d.next = self.zero8.val();
            self.kx.d.next = self.zero8.val();
            self.k.d.next = self.zero_i.val();
            self.iy.d.next = self.lay_iy0.val();
            self.ix.d.next = self.lay_ix0.val();
            self.iy0.d.next = self.lay_iy0.val();
            self.ix0.d.next = self.lay_ix0.val();
            self.row_base.d.next = self.lay_row0.val();
            self.plane_base.d.next = self.lay_row0.val();
            self.pos_row0.d.next = self.lay_row0.val();
            self.s1_en.d.next = false;
            self.s2_last.d.next = false;
            self.drain_left.d.next = self.zero_i.val();
            self.d2_valid.d.next = false;
        }
        if self.reset.val() {
            self.state.d.next = CtrlState::Idle;
            self.s1_en.d.next = false;
            self.s2_last.d.next = false;
            self.drain_left.d.next = self.zero_i.val();
            self.d2_valid.d.next = false;
        }
        self.busy.next =
            (self.state.q.val() == CtrlState::Run) || (self.state.q.val() == CtrlState::Finish);
        self.done.next = self.state.q.val() == CtrlState::Done;
        self.error.next = self.state.q.val() == CtrlState::Fail;
    }
}
