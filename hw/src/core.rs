//! The datapath of one decompressor lane: a bit buffer fed by memory words, the segment header
//! parser, the Rice residual decoder and the line reconstruction (one adder, one shifter, one
//! saturator), producing one weight per clock.
//!
//! Every clock in which the pipeline can move and enough look-ahead is buffered, the lane decodes
//! one weight. A weight that starts a segment is decoded together with its header (the first
//! residual sits at the fixed offset H behind the header), so segment boundaries cost no cycle.
//! Two stages: decode (header, residual, prediction, `e * 2^r`) into a stage register, then add and
//! saturate into the output register.

use crate::config::{ACC_BITS, COUNT_BITS, LENGTH_BITS, WEIGHT_BITS, WORD_BITS};
use crate::params::LayerParams;
use crate::rice::{RiceDecoder, WINDOW_BITS};
use rust_hdl::prelude::*;

/// Width of the bit buffer.
pub const BUFFER_BITS: usize = 144;
/// A memory word is accepted while at most this many bits are buffered (`BUFFER_BITS - WORD_BITS`).
pub const REFILL_LEVEL: u64 = (BUFFER_BITS - WORD_BITS) as u64;
/// Low bits of the buffer that hold a header and the residual behind it (48 + 29 bits at most).
const HEAD_BITS: usize = 80;

/// Control state of a lane.
#[derive(Copy, Clone, Debug, PartialEq, Eq, LogicState)]
pub enum LaneState {
    /// After reset: waiting for `start`.
    Idle,
    /// Decoding.
    Run,
    /// All weights emitted and the stream ended exactly after the last one.
    Done,
    /// The stream (or the layer parameters) was rejected; nothing more is emitted.
    Fail,
}

/// One lane: memory words in, weights out.
#[derive(LogicBlock)]
pub struct LaneCore {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset to `Idle`.
    pub reset: Signal<In, Bit>,
    /// Start a layer: latch `length_bits` and `count` (the layer configuration latches at the same
    /// edge).
    pub start: Signal<In, Bit>,
    /// Exact length of the lane stream in bits.
    pub length_bits: Signal<In, Bits<LENGTH_BITS>>,
    /// Number of weights in the lane.
    pub count: Signal<In, Bits<COUNT_BITS>>,

    /// The layer parameters from [`crate::config::LayerConfig`].
    pub lp: LayerParams,

    /// Next memory word of the lane stream (bit i of the stream is bit i mod 64 of word i div 64).
    pub in_data: Signal<In, Bits<WORD_BITS>>,
    /// `in_data` is valid.
    pub in_valid: Signal<In, Bit>,
    /// The lane takes `in_data` at this edge if `in_valid` is high.
    pub in_ready: Signal<Out, Bit>,
    /// Decoded weight, sign-extended to 16 bits.
    pub out_weight: Signal<Out, Bits<WEIGHT_BITS>>,
    /// `out_weight` is valid.
    pub out_valid: Signal<Out, Bit>,
    /// Downstream takes `out_weight` at this edge if `out_valid` is high.
    pub out_ready: Signal<In, Bit>,
    /// `out_weight` is the last weight of the lane.
    pub out_last: Signal<Out, Bit>,
    /// The lane rejected its stream (sticky until `start` or `reset`).
    pub error: Signal<Out, Bit>,
    /// The lane decoded its stream completely and without error.
    pub done: Signal<Out, Bit>,

    rice: RiceDecoder,

    state: DFF<LaneState>,
    buffer: DFF<Bits<BUFFER_BITS>>,
    avail: DFF<Bits<8>>,
    to_load: DFF<Bits<LENGTH_BITS>>,
    count_left: DFF<Bits<COUNT_BITS>>,
    seg_left: DFF<Bits<16>>,
    acc: DFF<Bits<ACC_BITS>>,
    slope: DFF<Bits<ACC_BITS>>,
    rice_k: DFF<Bits<8>>,
    stage_valid: DFF<Bit>,
    stage_pred: DFF<Bits<ACC_BITS>>,
    stage_resid: DFF<Bits<ACC_BITS>>,
    stage_last: DFF<Bit>,
    weight: DFF<Bits<WEIGHT_BITS>>,
    valid: DFF<Bit>,
    last: DFF<Bit>,

    header: Signal<Local, Bits<WORD_BITS>>,
    off_start: Signal<Local, Bits<4>>,
    off_slope: Signal<Local, Bits<5>>,
    off_rice_k: Signal<Local, Bits<6>>,
    hdr_shift: Signal<Local, Bits<6>>,
    frac: Signal<Local, Bits<5>>,
    shift: Signal<Local, Bits<4>>,
    field_mask: Signal<Local, Bits<16>>,
    slope_mask: Signal<Local, Bits<16>>,
    len_m1: Signal<Local, Bits<16>>,
    start_raw: Signal<Local, Bits<16>>,
    start_val: Signal<Local, Bits<ACC_BITS>>,
    slope_raw: Signal<Local, Bits<16>>,
    slope_val: Signal<Local, Bits<ACC_BITS>>,
    k_new: Signal<Local, Bits<8>>,
    new_seg: Signal<Local, Bit>,
    head: Signal<Local, Bits<HEAD_BITS>>,
    res_src: Signal<Local, Bits<HEAD_BITS>>,
    need: Signal<Local, Bits<8>>,
    consumed: Signal<Local, Bits<8>>,
    can_step: Signal<Local, Bit>,
    bad: Signal<Local, Bit>,
    trailing: Signal<Local, Bit>,
    emit: Signal<Local, Bit>,
    line: Signal<Local, Bits<ACC_BITS>>,
    pred: Signal<Local, Bits<ACC_BITS>>,
    half_u: Signal<Local, Bits<ACC_BITS>>,
    resid: Signal<Local, Bits<ACC_BITS>>,
    advance: Signal<Local, Bit>,
    sum: Signal<Local, Bits<ACC_BITS>>,
    sat: Signal<Local, Bits<ACC_BITS>>,
    used: Signal<Local, Bits<8>>,
    kept: Signal<Local, Bits<8>>,
    used_shift: Signal<Local, Bits<7>>,
    avail_shift: Signal<Local, Bits<7>>,
    merged: Signal<Local, Bits<BUFFER_BITS>>,
    tail_bits: Signal<Local, Bits<6>>,
    load: Signal<Local, Bit>,
    take: Signal<Local, Bits<8>>,
    word: Signal<Local, Bits<WORD_BITS>>,
    word_wide: Signal<Local, Bits<BUFFER_BITS>>,

    zero8: Constant<Bits<8>>,
    refill: Constant<Bits<8>>,
    word_bits8: Constant<Bits<8>>,
    word_bits_len: Constant<Bits<LENGTH_BITS>>,
    zero_len: Constant<Bits<LENGTH_BITS>>,
    zero_count: Constant<Bits<COUNT_BITS>>,
    one_count: Constant<Bits<COUNT_BITS>>,
    zero16: Constant<Bits<16>>,
    one16: Constant<Bits<16>>,
    k_field: Constant<Bits<8>>,
    zero40: Constant<Bits<ACC_BITS>>,
    sign40: Constant<Bits<ACC_BITS>>,
    one64: Constant<Bits<WORD_BITS>>,
    zero_buf: Constant<Bits<BUFFER_BITS>>,
}

impl Default for LaneCore {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            length_bits: Default::default(),
            count: Default::default(),
            lp: Default::default(),
            in_data: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            out_weight: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            out_last: Default::default(),
            error: Default::default(),
            done: Default::default(),
            rice: Default::default(),
            state: Default::default(),
            buffer: Default::default(),
            avail: Default::default(),
            to_load: Default::default(),
            count_left: Default::default(),
            seg_left: Default::default(),
            acc: Default::default(),
            slope: Default::default(),
            rice_k: Default::default(),
            stage_valid: Default::default(),
            stage_pred: Default::default(),
            stage_resid: Default::default(),
            stage_last: Default::default(),
            weight: Default::default(),
            valid: Default::default(),
            last: Default::default(),
            header: Default::default(),
            off_start: Default::default(),
            off_slope: Default::default(),
            off_rice_k: Default::default(),
            hdr_shift: Default::default(),
            frac: Default::default(),
            shift: Default::default(),
            field_mask: Default::default(),
            slope_mask: Default::default(),
            len_m1: Default::default(),
            start_raw: Default::default(),
            start_val: Default::default(),
            slope_raw: Default::default(),
            slope_val: Default::default(),
            k_new: Default::default(),
            new_seg: Default::default(),
            head: Default::default(),
            res_src: Default::default(),
            need: Default::default(),
            consumed: Default::default(),
            can_step: Default::default(),
            bad: Default::default(),
            trailing: Default::default(),
            emit: Default::default(),
            line: Default::default(),
            pred: Default::default(),
            half_u: Default::default(),
            resid: Default::default(),
            advance: Default::default(),
            sum: Default::default(),
            sat: Default::default(),
            used: Default::default(),
            kept: Default::default(),
            used_shift: Default::default(),
            avail_shift: Default::default(),
            merged: Default::default(),
            tail_bits: Default::default(),
            load: Default::default(),
            take: Default::default(),
            word: Default::default(),
            word_wide: Default::default(),
            zero8: Constant::new(0.into()),
            refill: Constant::new(REFILL_LEVEL.into()),
            word_bits8: Constant::new((WORD_BITS as u64).into()),
            word_bits_len: Constant::new((WORD_BITS as u64).into()),
            zero_len: Constant::new(0.into()),
            zero_count: Constant::new(0.into()),
            one_count: Constant::new(1.into()),
            zero16: Constant::new(0.into()),
            one16: Constant::new(1.into()),
            k_field: Constant::new(((1u64 << crate::config::format::K_BITS) - 1).into()),
            zero40: Constant::new(0.into()),
            sign40: Constant::new((1u64 << (ACC_BITS - 1)).into()),
            one64: Constant::new(1.into()),
            zero_buf: Constant::new(0.into()),
        }
    }
}

impl Logic for LaneCore {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            state,
            buffer,
            avail,
            to_load,
            count_left,
            seg_left,
            acc,
            slope,
            rice_k,
            stage_valid,
            stage_pred,
            stage_resid,
            stage_last,
            weight,
            valid,
            last
        );

        // ---- Shift amounts narrowed to their ranges (LB <= 12, LB + B <= 28, H - 4 <= 44,
        // H <= 48, F <= 16, r <= 15): the shifters get no stages for impossible amounts.
        self.off_start.next = bit_cast::<4, 8>(self.lp.off_start.val());
        self.off_slope.next = bit_cast::<5, 8>(self.lp.off_slope.val());
        self.off_rice_k.next = bit_cast::<6, 8>(self.lp.off_rice_k.val());
        self.hdr_shift.next = bit_cast::<6, 8>(self.lp.hdr_bits.val());
        self.frac.next = bit_cast::<5, 8>(self.lp.frac.val());
        self.shift.next = bit_cast::<4, 8>(self.lp.shift.val());
        self.field_mask.next = bit_cast::<16, ACC_BITS>(self.lp.val_mask.val());
        self.slope_mask.next = bit_cast::<16, ACC_BITS>(self.lp.slope_mask.val());

        // ---- Segment header at bit 0 of the buffer (fields are at most 16 bits wide).
        self.header.next = bit_cast::<WORD_BITS, BUFFER_BITS>(self.buffer.q.val());
        self.len_m1.next = bit_cast::<16, WORD_BITS>(self.header.val()) & self.lp.len_mask.val();
        self.start_raw.next = bit_cast::<16, WORD_BITS>(self.header.val() >> self.off_start.val())
            & self.field_mask.val();
        self.start_val.next = (bit_cast::<ACC_BITS, 16>(self.start_raw.val())
            ^ self.lp.val_sign.val())
            - self.lp.val_sign.val();
        self.slope_raw.next = bit_cast::<16, WORD_BITS>(self.header.val() >> self.off_slope.val())
            & self.slope_mask.val();
        self.slope_val.next = (bit_cast::<ACC_BITS, 16>(self.slope_raw.val())
            ^ self.lp.slope_sign.val())
            - self.lp.slope_sign.val();
        self.k_new.next = bit_cast::<8, WORD_BITS>(self.header.val() >> self.off_rice_k.val())
            & self.k_field.val();
        self.new_seg.next = self.seg_left.q.val() == self.zero16.val();

        // ---- Residual: behind the header when a segment starts, else at bit 0.
        self.head.next = bit_cast::<HEAD_BITS, BUFFER_BITS>(self.buffer.q.val());
        self.res_src.next = self.head.val();
        self.rice.k.next = self.rice_k.q.val();
        self.need.next = self.lp.need_cont.val();
        self.consumed.next = self.zero8.val();
        if self.new_seg.val() {
            self.res_src.next = self.head.val() >> self.hdr_shift.val();
            self.rice.k.next = self.k_new.val();
            self.need.next = self.lp.need_new.val();
            self.consumed.next = self.lp.hdr_bits.val();
        }
        self.rice.window.next = bit_cast::<WINDOW_BITS, HEAD_BITS>(self.res_src.val());
        self.rice.esc_bits.next = self.lp.esc_bits.val();
        self.rice.esc_mask.next = self.lp.esc_mask.val();
        if self.lp.rice.val() {
            self.consumed.next = self.consumed.val() + self.rice.code_len.val();
        }

        // ---- Reconstruction: p = s for the first weight, acc >> F (arithmetic) after it.
        self.line.next = self.acc.q.val() >> self.frac.val();
        if self.acc.q.val() >= self.sign40.val() {
            self.line.next = (self.acc.q.val() >> self.frac.val()) | self.lp.sign_fill.val();
        }
        self.pred.next = self.line.val();
        if self.new_seg.val() {
            self.pred.next = self.start_val.val();
        }
        // Inverse zigzag of the residual, then the shift by r.
        self.half_u.next = self.rice.value.val() >> self.one16.val();
        self.resid.next = self.half_u.val();
        if self.rice.value.val().get_bit(0) {
            self.resid.next = !self.half_u.val();
        }
        // ---- Second stage: the adder and the saturator work on the registered prediction and
        // shifted residual (`e * 2^r`, 0 in lines mode), which halves the longest path.
        self.sum.next = self.stage_pred.q.val() + self.stage_resid.q.val();
        // Saturation: signed compares as unsigned compares with the sign bit flipped.
        self.sat.next = self.sum.val();
        if (self.sum.val() ^ self.sign40.val()) > (self.lp.max.val() ^ self.sign40.val()) {
            self.sat.next = self.lp.max.val();
        }
        if (self.sum.val() ^ self.sign40.val()) < (self.lp.min.val() ^ self.sign40.val()) {
            self.sat.next = self.lp.min.val();
        }

        // ---- Step decision and stream checks. The pipeline moves when the output register is
        // empty or being emptied.
        self.advance.next = !self.valid.q.val() || self.out_ready.val();
        self.can_step.next = (self.state.q.val() == LaneState::Run)
            && self.lp.ok.val()
            && (self.count_left.q.val() != self.zero_count.val())
            && self.advance.val()
            && ((self.avail.q.val() >= self.need.val())
                || (self.to_load.q.val() == self.zero_len.val()));
        self.bad.next = (self.consumed.val() > self.avail.q.val())
            || (self.lp.rice.val() && self.rice.escape_bad.val())
            || (self.new_seg.val()
                && ((bit_cast::<COUNT_BITS, 16>(self.len_m1.val()) >= self.count_left.q.val())
                    || (self.lp.rice.val() && (self.k_new.val() > self.lp.bits.val()))));
        self.trailing.next = (self.count_left.q.val() == self.one_count.val())
            && ((self.consumed.val() != self.avail.q.val())
                || (self.to_load.q.val() != self.zero_len.val()));
        self.emit.next = self.can_step.val() && !self.bad.val() && !self.trailing.val();

        // ---- Bit buffer: drop the consumed bits, append an accepted word behind the rest.
        self.in_ready.next = (self.state.q.val() == LaneState::Run)
            && (self.to_load.q.val() != self.zero_len.val())
            && (self.avail.q.val() <= self.refill.val());
        self.load.next = self.in_ready.val() && self.in_valid.val();
        self.take.next = self.word_bits8.val();
        self.word.next = self.in_data.val();
        self.tail_bits.next = bit_cast::<6, LENGTH_BITS>(self.to_load.q.val());
        if self.to_load.q.val() < self.word_bits_len.val() {
            self.take.next = bit_cast::<8, LENGTH_BITS>(self.to_load.q.val());
            self.word.next = self.in_data.val()
                & ((self.one64.val() << self.tail_bits.val()) - self.one64.val());
        }
        self.word_wide.next = bit_cast::<BUFFER_BITS, WORD_BITS>(self.word.val());
        self.used.next = self.zero8.val();
        if self.emit.val() {
            self.used.next = self.consumed.val();
        }
        self.kept.next = self.avail.q.val() - self.used.val();
        // The word is appended behind the bits buffered at the start of the clock (a register, so
        // the append shifter is off the decode path), then the consumed bits are dropped. A word
        // is only taken with at most 80 bits buffered and at most 77 bits are consumed.
        self.used_shift.next = bit_cast::<7, 8>(self.used.val());
        self.avail_shift.next = bit_cast::<7, 8>(self.avail.q.val());
        self.merged.next = self.buffer.q.val();
        self.avail.d.next = self.kept.val();
        if self.load.val() {
            self.merged.next =
                self.buffer.q.val() | (self.word_wide.val() << self.avail_shift.val());
            self.avail.d.next = self.kept.val() + self.take.val();
            self.to_load.d.next =
                self.to_load.q.val() - bit_cast::<LENGTH_BITS, 8>(self.take.val());
        }
        self.buffer.d.next = self.merged.val() >> self.used_shift.val();

        // ---- Pipeline: stage register -> output register, new weight -> stage register.
        if self.advance.val() {
            self.valid.d.next = self.stage_valid.q.val();
            self.weight.d.next = bit_cast::<WEIGHT_BITS, ACC_BITS>(self.sat.val());
            self.last.d.next = self.stage_last.q.val();
            self.stage_valid.d.next = self.emit.val();
        }
        if self.emit.val() {
            self.stage_pred.d.next = self.pred.val();
            self.stage_resid.d.next = self.zero40.val();
            if self.lp.rice.val() {
                self.stage_resid.d.next = self.resid.val() << self.shift.val();
            }
            self.stage_last.d.next = self.count_left.q.val() == self.one_count.val();
            self.count_left.d.next = self.count_left.q.val() - self.one_count.val();
            if self.new_seg.val() {
                self.seg_left.d.next = self.len_m1.val();
                self.slope.d.next = self.slope_val.val();
                self.rice_k.d.next = self.k_new.val();
                self.acc.d.next = (self.start_val.val() << self.frac.val())
                    + self.lp.half.val()
                    + self.slope_val.val();
            } else {
                self.seg_left.d.next = self.seg_left.q.val() - self.one16.val();
                self.acc.d.next = self.acc.q.val() + self.slope.q.val();
            }
            if self.count_left.q.val() == self.one_count.val() {
                self.state.d.next = LaneState::Done;
            }
        }

        // ---- Terminal conditions.
        if self.state.q.val() == LaneState::Run {
            if !self.lp.ok.val() || (self.can_step.val() && (self.bad.val() || self.trailing.val()))
            {
                self.state.d.next = LaneState::Fail;
            }
            if self.count_left.q.val() == self.zero_count.val() {
                // Only reachable with count = 0: the stream must be empty.
                self.state.d.next = LaneState::Done;
                if self.to_load.q.val() != self.zero_len.val() {
                    self.state.d.next = LaneState::Fail;
                }
            }
        }
        if self.start.val() {
            self.state.d.next = LaneState::Run;
            self.buffer.d.next = self.zero_buf.val();
            self.avail.d.next = self.zero8.val();
            self.to_load.d.next = self.length_bits.val();
            self.count_left.d.next = self.count.val();
            self.seg_left.d.next = self.zero16.val();
            self.stage_valid.d.next = false;
            self.valid.d.next = false;
            self.last.d.next = false;
        }
        if self.reset.val() {
            self.state.d.next = LaneState::Idle;
            self.stage_valid.d.next = false;
            self.valid.d.next = false;
            self.last.d.next = false;
        }

        self.out_weight.next = self.weight.q.val();
        self.out_valid.next = self.valid.q.val();
        self.out_last.next = self.last.q.val();
        // Flags rise once the weights decoded before them have left the stage register.
        self.error.next = (self.state.q.val() == LaneState::Fail) && !self.stage_valid.q.val();
        self.done.next = (self.state.q.val() == LaneState::Done) && !self.stage_valid.q.val();
    }
}
