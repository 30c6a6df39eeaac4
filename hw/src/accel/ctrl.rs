//! The shared controller of the accelerator: layer registers, the activation buffer with its
//! host port, and the state machine and pipeline around three blocks: the convolution address
//! generator ([`AddrGen`]) that broadcasts one activation per clock to every lane, the
//! per-channel parameter memory ([`ParamMem`]), and the drain sequencer ([`DrainSeq`]) that
//! requantizes the P finished accumulators of an output position one per clock and writes them
//! back.
//!
//! Order of work: channel groups (P output channels, one per lane), inside a group the output
//! positions row by row, inside a position the K = C * KH * KW products in the order
//! (input channel, kernel row, kernel column). A dense layer is the 1 x 1 case (H = W = 1,
//! C = inputs). Positions outside the input (padding) contribute a zero activation.
//!
//! Pipeline: stage 0 issues the reads of the activation buffer and of every lane's weight bank;
//! stage 1 multiplies and accumulates; stage 2 captures the accumulators of a finished position
//! into the lanes' hold registers; the drain then needs P + 1 clocks while the next position
//! already accumulates; the requantized values reach the buffer a few clocks after they
//! leave the hold chain ([`LATENCY`](super::requant::LATENCY)). Layers with K < P + 2 wait for the drain and the requantizer before each
//! position, on a flip-flop (`pipe_busy`) that each clock takes what the pipeline, the drain and
//! the requantizer will hold after the edge. With a single-port activation buffer ([`ActMemory::Spram`]) a write takes the
//! buffer's port for its clock and stage 0 issues nothing in that clock. The lanes' bank flags
//! reach stage 0 through a register (they are an AND across every lane): a bank is used one
//! clock after it fills; a freed bank's stale flag lasts the one clock in which stage 0 reads the
//! other bank.

use super::act_buf::{ActBuffer, ActMemory};
use super::addr::AddrGen;
use super::drain::DrainSeq;
use super::lane::{ACC_BITS, INDEX_BITS};
use super::param_mem::ParamMem;
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

    abuf: ActBuffer<ABITS>,
    params: ParamMem<PBITS>,
    addr: AddrGen,
    drain: DrainSeq,
    rq: RequantUnit,

    state: DFF<CtrlState>,
    s1_en: DFF<Bit>,
    s1_first: DFF<Bit>,
    s1_pad: DFF<Bit>,
    s1_last: DFF<Bit>,
    s1_wbase: DFF<Bits<INDEX_BITS>>,
    s1_ch0: DFF<Bits<INDEX_BITS>>,
    s2_last: DFF<Bit>,
    s2_wbase: DFF<Bits<INDEX_BITS>>,
    s2_ch0: DFF<Bits<INDEX_BITS>>,
    filled0_q: DFF<Bit>,
    filled1_q: DFF<Bit>,
    short_k: DFF<Bit>,
    pipe_busy: DFF<Bit>,

    filled: Signal<Local, Bit>,
    issue: Signal<Local, Bit>,
    cfg_bad: Signal<Local, Bit>,

    single_port: Constant<Bit>,
    short_limit: Constant<Bits<INDEX_BITS>>,
    zero_i: Constant<Bits<INDEX_BITS>>,
    zero8: Constant<Bits<8>>,
}

impl<const ABITS: usize, const PBITS: usize> AccelCtrl<ABITS, PBITS> {
    /// A controller for `lanes` MAC lanes with its activation buffer in `memory`.
    pub fn new(lanes: usize, memory: ActMemory) -> Self {
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
            abuf: ActBuffer::new(memory),
            params: Default::default(),
            addr: AddrGen::new(lanes),
            drain: DrainSeq::new(lanes),
            rq: Default::default(),
            state: Default::default(),
            s1_en: Default::default(),
            s1_first: Default::default(),
            s1_pad: Default::default(),
            s1_last: Default::default(),
            s1_wbase: Default::default(),
            s1_ch0: Default::default(),
            s2_last: Default::default(),
            s2_wbase: Default::default(),
            s2_ch0: Default::default(),
            filled0_q: Default::default(),
            filled1_q: Default::default(),
            filled: Default::default(),
            short_k: Default::default(),
            pipe_busy: Default::default(),
            issue: Default::default(),
            cfg_bad: Default::default(),
            single_port: Constant::new(memory == ActMemory::Spram),
            short_limit: Constant::new((lanes as u64 + 2).into()),
            zero_i: Constant::new(0.into()),
            zero8: Constant::new(0.into()),
        }
    }
}

impl<const ABITS: usize, const PBITS: usize> Logic for AccelCtrl<ABITS, PBITS> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, state, s1_en, s1_first, s1_pad, s1_last, s1_wbase, s1_ch0, s2_last,
            s2_wbase, s2_ch0, filled0_q, filled1_q, short_k, pipe_busy
        );
        self.abuf.clock.next = self.clock.val();
        self.params.clock.next = self.clock.val();
        self.addr.clock.next = self.clock.val();
        self.drain.clock.next = self.clock.val();
        self.rq.clock.next = self.clock.val();

        // ---- Parameter memory: host writes, drain reads.
        self.params.we.next = self.prm_we.val();
        self.params.waddr.next = self.prm_addr.val();
        self.params.w_bias.next = self.prm_bias.val();
        self.params.w_mult.next = self.prm_mult.val();
        self.params.w_shift.next = self.prm_shift.val();
        self.params.w_nmult.next = self.prm_nmult.val();
        self.params.w_nshift.next = self.prm_nshift.val();
        self.params.raddr.next = self.drain.param_ch.val();
        self.params.scale_raddr.next = self.drain.scale_ch.val();

        // ---- Stage 0: address generation and issue.
        self.addr.start.next = self.start.val();
        self.addr.in_c.next = self.lay_in_c.val();
        self.addr.in_h.next = self.lay_in_h.val();
        self.addr.in_w.next = self.lay_in_w.val();
        self.addr.kh.next = self.lay_kh.val();
        self.addr.kw.next = self.lay_kw.val();
        self.addr.stride_h.next = self.lay_stride_h.val();
        self.addr.stride_w.next = self.lay_stride_w.val();
        self.addr.out_h.next = self.lay_out_h.val();
        self.addr.out_w.next = self.lay_out_w.val();
        self.addr.groups.next = self.lay_groups.val();
        self.addr.plane.next = self.lay_plane.val();
        self.addr.ix0.next = self.lay_ix0.val();
        self.addr.iy0.next = self.lay_iy0.val();
        self.addr.row0.next = self.lay_row0.val();
        self.addr.row_step.next = self.lay_row_step.val();
        self.addr.out_base.next = self.lay_out_base.val();
        self.addr.grp_step.next = self.lay_grp_step.val();

        self.filled0_q.d.next = self.all_filled0.val();
        self.filled1_q.d.next = self.all_filled1.val();
        self.filled.next = self.filled0_q.q.val();
        if self.addr.bank.val() {
            self.filled.next = self.filled1_q.q.val();
        }
        // From the layer register through a flip-flop (the layer registers hold still while a
        // layer runs, and it samples them at the start's edge too).
        self.short_k.d.next = self.lay_k_len.val() < self.short_limit.val();
        self.issue.next = (self.state.q.val() == CtrlState::Run)
            && self.filled.val()
            && !(self.single_port.val() && self.rq.out_write.val())
            && !(self.addr.first.val() && self.short_k.q.val() && self.pipe_busy.q.val());
        self.addr.step.next = self.issue.val();

        self.rd_bank.next = self.addr.bank.val();
        self.rd_index.next = self.addr.k.val();
        self.free_bank.next = self.addr.group_end.val();
        self.free_sel.next = self.addr.bank.val();
        self.abuf.raddr.next = bit_cast::<ABITS, INDEX_BITS>(self.act_raddr.val());
        if self.state.q.val() == CtrlState::Run {
            self.abuf.raddr.next = bit_cast::<ABITS, INDEX_BITS>(self.addr.act_addr.val());
        }
        if self.addr.layer_end.val() {
            self.state.d.next = CtrlState::Finish;
        }

        self.s1_en.d.next = self.issue.val();
        self.s1_first.d.next = self.addr.first.val();
        self.s1_pad.d.next = !self.addr.in_bounds.val();
        self.s1_last.d.next = self.addr.last.val();
        self.s1_wbase.d.next = self.addr.out_addr.val();
        self.s1_ch0.d.next = self.addr.ch0.val();

        // ---- Stage 1: multiply-accumulate in the lanes.
        self.mac_en.next = self.s1_en.q.val();
        self.mac_first.next = self.s1_first.q.val();
        self.act.next = self.abuf.rdata.val();
        if self.s1_pad.q.val() {
            self.act.next = self.zero8.val();
        }
        self.s2_last.d.next = self.s1_en.q.val() && self.s1_last.q.val();
        self.s2_wbase.d.next = self.s1_wbase.q.val();
        self.s2_ch0.d.next = self.s1_ch0.q.val();

        // ---- Stage 2: capture, then drain one channel per clock through the requantizer.
        self.capture.next = self.s2_last.q.val();
        self.drain.clear.next = self.start.val() || self.reset.val();
        self.drain.capture.next = self.s2_last.q.val();
        self.drain.out_addr.next = self.s2_wbase.q.val();
        self.drain.ch0.next = self.s2_ch0.q.val();
        self.drain.out_plane.next = self.lay_out_plane.val();
        self.drain.out_c.next = self.lay_out_c.val();
        self.rq.acc.next = self.chain_head.val();
        self.rq.bias.next = self.params.bias.val();
        self.rq.mult.next = self.params.mult.val();
        self.rq.shift.next = self.params.shift.val();
        self.rq.nmult.next = self.params.nmult.val();
        self.rq.nshift.next = self.params.nshift.val();
        self.rq.prelu.next = self.lay_prelu.val();
        self.rq.lo.next = self.lay_lo.val();
        self.rq.hi.next = self.lay_hi.val();
        self.rq.clear.next = self.drain.clear.val();
        self.rq.in_write.next = self.drain.write.val();
        self.rq.in_addr.next = self.drain.write_addr.val();
        self.shift.next = self.drain.shift.val();

        // ---- Activation buffer write port: the drain while busy, else the host.
        self.abuf.we.next = self.act_we.val()
            && (self.state.q.val() != CtrlState::Run)
            && (self.state.q.val() != CtrlState::Finish);
        self.abuf.waddr.next = bit_cast::<ABITS, INDEX_BITS>(self.act_waddr.val());
        self.abuf.wdata.next = self.act_wdata.val();
        if self.rq.out_write.val() {
            self.abuf.we.next = true;
            self.abuf.waddr.next = bit_cast::<ABITS, INDEX_BITS>(self.rq.out_addr.val());
            self.abuf.wdata.next = self.rq.y.val();
        }
        self.act_rdata.next = self.abuf.rdata.val();

        // ---- Completion, start and reset.
        if (self.state.q.val() == CtrlState::Finish) && !self.pipe_busy.q.val() {
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
            self.s1_en.d.next = false;
            self.s2_last.d.next = false;
            self.filled0_q.d.next = false;
            self.filled1_q.d.next = false;
        }
        if self.reset.val() {
            self.state.d.next = CtrlState::Idle;
            self.s1_en.d.next = false;
            self.s2_last.d.next = false;
            self.filled0_q.d.next = false;
            self.filled1_q.d.next = false;
        }
        // Something is in the pipeline, the drain or the requantizer: a flip-flop that takes what
        // each of them holds after this edge, so `issue` waits on one flag instead of an OR of all.
        self.pipe_busy.d.next = self.s1_en.d.val()
            || self.s2_last.d.val()
            || self.drain.busy_next.val()
            || self.rq.busy_next.val();
        self.busy.next =
            (self.state.q.val() == CtrlState::Run) || (self.state.q.val() == CtrlState::Finish);
        self.done.next = self.state.q.val() == CtrlState::Done;
        self.error.next = self.state.q.val() == CtrlState::Fail;
    }
}
