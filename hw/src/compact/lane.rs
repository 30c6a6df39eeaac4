//! One compact decompressor lane: 32-bit memory words in (valid/ready), one weight per clock out
//! (valid/ready), an error flag on any stream the reference decoder rejects.
//!
//! Three word registers that each load from one source (`w2 <- memory`, `w1 <- w2`, `w0 <- w1`)
//! hold the stream; a bit pointer into `w0` (into `w1` when the flag `sh` says the last step left
//! `w0`) selects a 24-bit window from `{w1, w0}` (`{w2, w1}`) through a five-stage funnel shifter,
//! each stage only as wide as it must be. The words move on in the clock after such a step, from
//! the registered `sh`, so no word enable waits for a step. A segment header takes one clock: its
//! fields sit at constant offsets of the window (the profile fixes B, LB and MB), so it is read
//! by wiring. Every other clock steps over one Rice code (only its leading-one count, which
//! decides the next pointer) and counts the lane's weights down; the lane's last weight must end
//! its segment (else the segment overruns the lane). The pointer loop uses only the funnel's
//! first three stages: the leading-one detector masks the pointer's two low bits itself and adds
//! the count to the step's base without a carry chain. Three stages follow the step:
//! the first decodes the code's value from the registered window and checks the step
//! (FORMAT.md section 4.3: a failing code is held there, poisoned, and never leaves), the second
//! adds `e * 2^r` to the prediction `acc >> F` (with `acc += m`), clamped to the range where it
//! can still leave the weight unsaturated, and saturates into the output register. A skid
//! register behind the output register takes the weight that finds the output full, so the
//! stages move on flip-flops alone and `out_ready` drives only the output multiplexers.

use super::rebuild::{CompactRebuild, PRED_BITS};
use super::rice::{CompactRice, CompactZeros, CODE_WINDOW, U_BITS, ZERO_WINDOW};
use super::shape::{CompactShape, COUNT_BITS, STREAM_BITS, WINDOW_BITS, WORD_BITS};
use crate::accel::count::CountDown;
use crate::config::WEIGHT_BITS;
use crate::core::LaneState;
use rust_hdl::prelude::*;

/// Width of the line accumulator `acc` (signed; [`CompactShape`] checks the profile's range).
pub const ACC_BITS: usize = 13;
// The sign bit is spelled as a literal in the update code (the generated Verilog needs numbers).
const _: () = assert!(ACC_BITS == 13);

/// One lane of the compact decompressor.
#[derive(LogicBlock)]
pub struct CompactLane {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset to `Idle`.
    pub reset: Signal<In, Bit>,
    /// Start a layer: latch `length_bits` and `count`.
    pub start: Signal<In, Bit>,
    /// Exact length of the lane stream in bits.
    pub length_bits: Signal<In, Bits<STREAM_BITS>>,
    /// Number of weights in the lane.
    pub count: Signal<In, Bits<COUNT_BITS>>,
    /// The layer parameters are the ones this lane decodes ([`super::CompactConfig`]).
    pub lp_ok: Signal<In, Bit>,
    /// Residual shift r.
    pub lp_shift: Signal<In, Bits<3>>,
    /// Next memory word of the lane stream (bit i of the stream is bit i mod 32 of word i div 32).
    pub in_data: Signal<In, Bits<WORD_BITS>>,
    /// `in_data` is valid.
    pub in_valid: Signal<In, Bit>,
    /// `in_data` is the last word of the lane stream (the `ceil(length_bits / 32)`-th); the memory
    /// side marks it, as AXI-Stream's TLAST does, so the lane keeps no word count.
    pub in_last: Signal<In, Bit>,
    /// The lane takes `in_data` at this edge if `in_valid` is high (depends on flip-flops only).
    pub in_ready: Signal<Out, Bit>,
    /// Decoded weight, sign-extended to 16 bits.
    pub out_weight: Signal<Out, Bits<WEIGHT_BITS>>,
    /// `out_weight` is valid.
    pub out_valid: Signal<Out, Bit>,
    /// Downstream takes `out_weight` at this edge if `out_valid` is high.
    pub out_ready: Signal<In, Bit>,
    /// `out_weight` is the last weight of the lane.
    pub out_last: Signal<Out, Bit>,
    /// The lane rejected its stream or the layer parameters (sticky until `start` or `reset`).
    pub error: Signal<Out, Bit>,
    /// The lane decoded its stream completely and the stream ended exactly there.
    pub done: Signal<Out, Bit>,

    zeros: CompactZeros,
    rice: CompactRice,
    rebuild: CompactRebuild,

    state: DFF<LaneState>,
    w0: DFF<Bits<WORD_BITS>>,
    w1: DFF<Bits<WORD_BITS>>,
    w2: DFF<Bits<WORD_BITS>>,
    v0: DFF<Bit>,
    v1: DFF<Bit>,
    v2: DFF<Bit>,
    l0: DFF<Bit>,
    l1: DFF<Bit>,
    l2: DFF<Bit>,
    ptr: DFF<Bits<5>>,
    sh: DFF<Bit>,
    got_last: DFF<Bit>,
    tail: DFF<Bits<6>>,
    left: CountDown<COUNT_BITS>,
    empty: DFF<Bit>,
    seg_left: DFF<Bits<9>>,
    k: DFF<Bits<4>>,
    acc: DFF<Bits<ACC_BITS>>,
    slope: DFF<Bits<ACC_BITS>>,
    s1_valid: DFF<Bit>,
    s1_poison: DFF<Bit>,
    s1_window: DFF<Bits<CODE_WINDOW>>,
    s1_k: DFF<Bits<4>>,
    s1_count: DFF<Bits<4>>,
    s1_fine: DFF<Bits<2>>,
    s1_escape: DFF<Bit>,
    s1_pred: DFF<Bits<PRED_BITS>>,
    s1_last: DFF<Bit>,
    s1_room_neg: DFF<Bit>,
    s1_room_small: DFF<Bit>,
    s1_room4: DFF<Bits<4>>,
    s1_esc_trunc: DFF<Bit>,
    s1_esc_exact: DFF<Bit>,
    s1_open: DFF<Bit>,
    stage_valid: DFF<Bit>,
    stage_pred: DFF<Bits<PRED_BITS>>,
    stage_u: DFF<Bits<U_BITS>>,
    stage_last: DFF<Bit>,
    weight: DFF<Bits<8>>,
    valid: DFF<Bit>,
    last: DFF<Bit>,
    skid_weight: DFF<Bits<8>>,
    skid_last: DFF<Bit>,
    skid_valid: DFF<Bit>,

    pair: Signal<Local, Bits<64>>,
    f16: Signal<Local, Bits<39>>,
    f8: Signal<Local, Bits<31>>,
    f4: Signal<Local, Bits<27>>,
    f2: Signal<Local, Bits<25>>,
    window: Signal<Local, Bits<WINDOW_BITS>>,
    new_seg: Signal<Local, Bit>,
    hdr_len: Signal<Local, Bits<9>>,
    s_raw: Signal<Local, Bits<ACC_BITS>>,
    m_raw: Signal<Local, Bits<ACC_BITS>>,
    hdr_s: Signal<Local, Bits<ACC_BITS>>,
    hdr_m: Signal<Local, Bits<ACC_BITS>>,
    hdr_k: Signal<Local, Bits<4>>,
    room: Signal<Local, Bits<8>>,
    trunc: Signal<Local, Bit>,
    exact: Signal<Local, Bit>,
    ptr6: Signal<Local, Bits<6>>,
    end_pos: Signal<Local, Bits<7>>,
    ptr_esc: Signal<Local, Bits<6>>,
    ptr_hdr: Signal<Local, Bits<6>>,
    hdr_end: Signal<Local, Bits<7>>,
    hdr_over: Signal<Local, Bit>,
    tail7: Signal<Local, Bits<7>>,
    tail_next_word: Signal<Local, Bits<7>>,
    over_tail: Signal<Local, Bit>,
    over_next_word: Signal<Local, Bit>,
    more_words: Signal<Local, Bit>,
    no_bits: Signal<Local, Bit>,
    window_ok: Signal<Local, Bit>,
    moving: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    stage_free: Signal<Local, Bit>,
    s1_bad: Signal<Local, Bit>,
    s1_moving: Signal<Local, Bit>,
    s1_free: Signal<Local, Bit>,
    hdr_bad: Signal<Local, Bit>,
    base: Signal<Local, Bits<6>>,
    ptr_coarse: Signal<Local, Bits<6>>,
    can_step: Signal<Local, Bit>,
    final_weight: Signal<Local, Bit>,
    m0: Signal<Local, Bit>,
    m1: Signal<Local, Bit>,
    fire: Signal<Local, Bit>,
    pred: Signal<Local, Bits<ACC_BITS>>,
    len_tail: Signal<Local, Bits<6>>,

    c16: Constant<Bits<5>>,
    c8: Constant<Bits<5>>,
    c4: Constant<Bits<5>>,
    c2: Constant<Bits<5>>,
    c1: Constant<Bits<5>>,
    off_start: Constant<Bits<6>>,
    off_slope: Constant<Bits<6>>,
    off_k: Constant<Bits<6>>,
    len_mask: Constant<Bits<9>>,
    val_mask: Constant<Bits<ACC_BITS>>,
    val_sign: Constant<Bits<ACC_BITS>>,
    val_ext: Constant<Bits<ACC_BITS>>,
    slope_mask: Constant<Bits<ACC_BITS>>,
    slope_sign: Constant<Bits<ACC_BITS>>,
    slope_ext: Constant<Bits<ACC_BITS>>,
    k_max: Constant<Bits<4>>,
    frac: Constant<Bits<5>>,
    half: Constant<Bits<ACC_BITS>>,
    sign_fill: Constant<Bits<ACC_BITS>>,
    weight_ext: Constant<Bits<WEIGHT_BITS>>,
    word_bits: Constant<Bits<7>>,
    word32: Constant<Bits<6>>,
    many: Constant<Bits<7>>,
    zero7: Constant<Bits<7>>,
    room_high: Constant<Bits<8>>,
    zero8: Constant<Bits<8>>,
    one6: Constant<Bits<6>>,
    esc_len6: Constant<Bits<6>>,
    coarse_mask: Constant<Bits<6>>,
    hdr_bits6: Constant<Bits<6>>,
    tail_mask: Constant<Bits<6>>,
    zero_length: Constant<Bits<STREAM_BITS>>,
    zero5: Constant<Bits<5>>,
    zero6: Constant<Bits<6>>,
    zero9: Constant<Bits<9>>,
    one9: Constant<Bits<9>>,
    ones9: Constant<Bits<9>>,
    zero_count: Constant<Bits<COUNT_BITS>>,
    zero_acc: Constant<Bits<ACC_BITS>>,
}

impl CompactLane {
    /// A lane that decodes streams of `shape`.
    pub fn new(shape: &CompactShape) -> Self {
        let b = shape.bits as u64;
        let f = shape.frac_bits as u64;
        let acc_mask = (1u64 << ACC_BITS) - 1;
        let slope_sign = (1u64 << shape.slope_bits) >> 1;
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            length_bits: Default::default(),
            count: Default::default(),
            lp_ok: Default::default(),
            lp_shift: Default::default(),
            in_data: Default::default(),
            in_valid: Default::default(),
            in_last: Default::default(),
            in_ready: Default::default(),
            out_weight: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            out_last: Default::default(),
            error: Default::default(),
            done: Default::default(),
            zeros: Default::default(),
            rice: CompactRice::new(shape),
            rebuild: CompactRebuild::new(shape.bits),
            state: Default::default(),
            w0: Default::default(),
            w1: Default::default(),
            w2: Default::default(),
            v0: Default::default(),
            v1: Default::default(),
            v2: Default::default(),
            l0: Default::default(),
            l1: Default::default(),
            l2: Default::default(),
            ptr: Default::default(),
            sh: Default::default(),
            got_last: Default::default(),
            tail: Default::default(),
            left: Default::default(),
            empty: Default::default(),
            seg_left: Default::default(),
            k: Default::default(),
            acc: Default::default(),
            slope: Default::default(),
            s1_valid: Default::default(),
            s1_poison: Default::default(),
            s1_window: Default::default(),
            s1_k: Default::default(),
            s1_count: Default::default(),
            s1_fine: Default::default(),
            s1_escape: Default::default(),
            s1_pred: Default::default(),
            s1_last: Default::default(),
            s1_room_neg: Default::default(),
            s1_room_small: Default::default(),
            s1_room4: Default::default(),
            s1_esc_trunc: Default::default(),
            s1_esc_exact: Default::default(),
            s1_open: Default::default(),
            stage_valid: Default::default(),
            stage_pred: Default::default(),
            stage_u: Default::default(),
            stage_last: Default::default(),
            weight: Default::default(),
            valid: Default::default(),
            last: Default::default(),
            skid_weight: Default::default(),
            skid_last: Default::default(),
            skid_valid: Default::default(),
            pair: Default::default(),
            f16: Default::default(),
            f8: Default::default(),
            f4: Default::default(),
            f2: Default::default(),
            window: Default::default(),
            new_seg: Default::default(),
            hdr_len: Default::default(),
            s_raw: Default::default(),
            m_raw: Default::default(),
            hdr_s: Default::default(),
            hdr_m: Default::default(),
            hdr_k: Default::default(),
            room: Default::default(),
            room_high: Constant::new(0xf0.into()),
            zero8: Constant::new(0.into()),
            trunc: Default::default(),
            exact: Default::default(),
            ptr6: Default::default(),
            one6: Constant::new(1.into()),
            esc_len6: Constant::new((shape.max_code_bits() as u64).into()),
            hdr_bits6: Constant::new((shape.header_bits() as u64).into()),
            end_pos: Default::default(),
            ptr_esc: Default::default(),
            ptr_hdr: Default::default(),
            hdr_end: Default::default(),
            hdr_over: Default::default(),
            tail7: Default::default(),
            tail_next_word: Default::default(),
            over_tail: Default::default(),
            over_next_word: Default::default(),
            more_words: Default::default(),
            no_bits: Default::default(),
            window_ok: Default::default(),
            moving: Default::default(),
            take: Default::default(),
            stage_free: Default::default(),
            s1_bad: Default::default(),
            s1_moving: Default::default(),
            s1_free: Default::default(),
            hdr_bad: Default::default(),
            base: Default::default(),
            ptr_coarse: Default::default(),
            coarse_mask: Constant::new(0x3c.into()),
            can_step: Default::default(),
            final_weight: Default::default(),
            m0: Default::default(),
            m1: Default::default(),
            fire: Default::default(),
            pred: Default::default(),
            len_tail: Default::default(),
            c16: Constant::new(16.into()),
            c8: Constant::new(8.into()),
            c4: Constant::new(4.into()),
            c2: Constant::new(2.into()),
            c1: Constant::new(1.into()),
            off_start: Constant::new((shape.len_bits as u64).into()),
            off_slope: Constant::new((shape.len_bits as u64 + b).into()),
            off_k: Constant::new((shape.header_bits() as u64 - 4).into()),
            len_mask: Constant::new(((1u64 << shape.len_bits) - 1).into()),
            val_mask: Constant::new(((1u64 << b) - 1).into()),
            val_sign: Constant::new((1u64 << (b - 1)).into()),
            val_ext: Constant::new((acc_mask & !((1u64 << b) - 1)).into()),
            slope_mask: Constant::new(((1u64 << shape.slope_bits) - 1).into()),
            slope_sign: Constant::new(slope_sign.into()),
            slope_ext: Constant::new((acc_mask & !((1u64 << shape.slope_bits) - 1)).into()),
            k_max: Constant::new(b.into()),
            frac: Constant::new(f.into()),
            half: Constant::new((1u64 << (f - 1)).into()),
            sign_fill: Constant::new((acc_mask & !(acc_mask >> f)).into()),
            weight_ext: Constant::new(0xff00.into()),
            word_bits: Constant::new((WORD_BITS as u64).into()),
            word32: Constant::new((WORD_BITS as u64).into()),
            many: Constant::new(127.into()),
            zero7: Constant::new(0.into()),
            tail_mask: Constant::new(31.into()),
            zero_length: Constant::new(0.into()),
            zero5: Constant::new(0.into()),
            zero6: Constant::new(0.into()),
            zero9: Constant::new(0.into()),
            one9: Constant::new(1.into()),
            ones9: Constant::new(0x1ff.into()),
            zero_count: Constant::new(0.into()),
            zero_acc: Constant::new(0.into()),
        }
    }
}

impl Logic for CompactLane {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            state,
            w0,
            w1,
            w2,
            v0,
            v1,
            v2,
            l0,
            l1,
            l2,
            ptr,
            sh,
            got_last,
            tail,
            empty,
            seg_left,
            k,
            acc,
            slope,
            s1_valid,
            s1_poison,
            s1_window,
            s1_k,
            s1_count,
            s1_fine,
            s1_escape,
            s1_pred,
            s1_last,
            s1_room_neg,
            s1_room_small,
            s1_room4,
            s1_esc_trunc,
            s1_esc_exact,
            s1_open,
            stage_valid,
            stage_pred,
            stage_u,
            stage_last,
            weight,
            valid,
            last,
            skid_weight,
            skid_last,
            skid_valid
        );

        // ---- Window: 24 bits of {w1, w0} (of {w2, w1} when the pointer has left w0, `sh`) from
        // the bit pointer, one stage per pointer bit, each stage only as wide as the stages after
        // it need.
        self.pair.next =
            (bit_cast::<64, WORD_BITS>(self.w1.q.val()) << self.c16.val() << self.c16.val())
                | bit_cast::<64, WORD_BITS>(self.w0.q.val());
        if self.sh.q.val() {
            self.pair.next =
                (bit_cast::<64, WORD_BITS>(self.w2.q.val()) << self.c16.val() << self.c16.val())
                    | bit_cast::<64, WORD_BITS>(self.w1.q.val());
        }
        self.f16.next = bit_cast::<39, 64>(self.pair.val());
        if self.ptr.q.val().get_bit(4) {
            self.f16.next = bit_cast::<39, 64>(self.pair.val() >> self.c16.val());
        }
        self.f8.next = bit_cast::<31, 39>(self.f16.val());
        if self.ptr.q.val().get_bit(3) {
            self.f8.next = bit_cast::<31, 39>(self.f16.val() >> self.c8.val());
        }
        self.f4.next = bit_cast::<27, 31>(self.f8.val());
        if self.ptr.q.val().get_bit(2) {
            self.f4.next = bit_cast::<27, 31>(self.f8.val() >> self.c4.val());
        }
        self.f2.next = bit_cast::<25, 27>(self.f4.val());
        if self.ptr.q.val().get_bit(1) {
            self.f2.next = bit_cast::<25, 27>(self.f4.val() >> self.c2.val());
        }
        self.window.next = bit_cast::<WINDOW_BITS, 25>(self.f2.val());
        if self.ptr.q.val().get_bit(0) {
            self.window.next = bit_cast::<WINDOW_BITS, 25>(self.f2.val() >> self.c1.val());
        }

        // ---- Segment header at constant offsets (sign extension by OR-ing the high bits).
        // seg_left counts the segment's weights down to -1 from its length field (length - 1);
        // bit 8 is the borrow that asks for the next header.
        self.new_seg.next = self.seg_left.q.val().get_bit(8);
        self.hdr_len.next = bit_cast::<9, WINDOW_BITS>(self.window.val()) & self.len_mask.val();
        self.s_raw.next =
            bit_cast::<ACC_BITS, WINDOW_BITS>(self.window.val() >> self.off_start.val())
                & self.val_mask.val();
        self.hdr_s.next = self.s_raw.val();
        if (self.s_raw.val() & self.val_sign.val()) != self.zero_acc.val() {
            self.hdr_s.next = self.s_raw.val() | self.val_ext.val();
        }
        self.m_raw.next =
            bit_cast::<ACC_BITS, WINDOW_BITS>(self.window.val() >> self.off_slope.val())
                & self.slope_mask.val();
        self.hdr_m.next = self.m_raw.val();
        if (self.m_raw.val() & self.slope_sign.val()) != self.zero_acc.val() {
            self.hdr_m.next = self.m_raw.val() | self.slope_ext.val();
        }
        self.hdr_k.next = bit_cast::<4, WINDOW_BITS>(self.window.val() >> self.off_k.val());

        // ---- The terminating one of the Rice code at the pointer, found in the funnel's output
        // for the pointer's high bits (two stages fewer on the loop); a header counts as a one at
        // the pointer.
        self.zeros.window.next = bit_cast::<ZERO_WINDOW, 27>(self.f4.val());
        self.zeros.fine.next = bit_cast::<2, 5>(self.ptr.q.val());
        self.zeros.head.next = self.new_seg.val();

        // ---- The end of the stream as a bit position from bit 0 of the pointer's word (w0, or
        // w1 under `sh`) when its last word is that word or the next, else past any window.
        // `hdr_over` (the header would end past it) follows the same choice, from compares of
        // flip-flops made before it, so no comparator lies between the choice and the lane's state.
        self.ptr6.next = bit_cast::<6, 5>(self.ptr.q.val());
        self.ptr_hdr.next = self.ptr6.val() + self.hdr_bits6.val();
        self.hdr_end.next = bit_cast::<7, 6>(self.ptr_hdr.val());
        self.tail7.next = bit_cast::<7, 6>(self.tail.q.val());
        self.tail_next_word.next = self.tail7.val() + self.word_bits.val();
        self.over_tail.next = self.hdr_end.val() > self.tail7.val();
        self.over_next_word.next = self.hdr_end.val() > self.tail_next_word.val();
        self.more_words.next = !self.got_last.q.val();
        self.end_pos.next = self.many.val();
        self.hdr_over.next = false;
        if self.sh.q.val() {
            if self.v2.q.val() & self.l2.q.val() {
                self.end_pos.next = self.tail_next_word.val();
                self.hdr_over.next = self.over_next_word.val();
            }
            if self.v1.q.val() & self.l1.q.val() {
                self.end_pos.next = self.tail7.val();
                self.hdr_over.next = self.over_tail.val();
            }
            self.window_ok.next = self.v1.q.val() & (self.v2.q.val() | self.l1.q.val());
            self.no_bits.next = !(self.v1.q.val() | self.v2.q.val() | self.more_words.val());
        } else {
            if self.v1.q.val() & self.l1.q.val() {
                self.end_pos.next = self.tail_next_word.val();
                self.hdr_over.next = self.over_next_word.val();
            }
            if self.v0.q.val() & self.l0.q.val() {
                self.end_pos.next = self.tail7.val();
                self.hdr_over.next = self.over_tail.val();
            }
            self.window_ok.next = self.v0.q.val() & (self.v1.q.val() | self.l0.q.val());
            self.no_bits.next =
                !(self.v0.q.val() | self.v1.q.val() | self.v2.q.val() | self.more_words.val());
        }
        // An empty stream (or one read to its end) has no bits at all: any step is truncated.
        if self.no_bits.val() {
            self.end_pos.next = self.zero7.val();
            self.hdr_over.next = self.hdr_end.val() > self.zero7.val();
            self.window_ok.next = true;
        }

        // ---- The first stage: the code's value and the checks of its step (FORMAT.md section
        // 4.3) from flip-flops. A code that fails them stays there, poisoned, and stops the lane.
        self.rice.window.next = self.s1_window.q.val();
        self.rice.k.next = self.s1_k.q.val();
        // The code's zero count: its terminating one's position from the pointer's two low bits.
        self.rice.zeros.next = self.s1_count.q.val() - bit_cast::<4, 2>(self.s1_fine.q.val());
        self.rice.escape.next = self.s1_escape.q.val();
        // The code is truncated when it passes the end of the stream and ends the stream exactly
        // when it meets it; for a regular code the step registered end - (c + k + 1) as room,
        // with c the pointer rounded down to a multiple of 4, against the count measured from c.
        self.trunc.next = self.s1_room_neg.q.val()
            | (self.s1_room_small.q.val() & (self.s1_count.q.val() > self.s1_room4.q.val()));
        self.exact.next =
            self.s1_room_small.q.val() & (self.s1_count.q.val() == self.s1_room4.q.val());
        if self.s1_escape.q.val() {
            self.trunc.next = self.s1_esc_trunc.q.val();
            self.exact.next = self.s1_esc_exact.q.val();
        }
        self.s1_bad.next = self.s1_poison.q.val()
            | self.trunc.val()
            | self.rice.escape_bad.val()
            | (self.s1_last.q.val() & (!self.exact.val() | self.s1_open.q.val()));

        // ---- Stage movement from the output backwards; each stage takes a new entry when it is
        // empty or passes its entry on in the same clock. The second stage moves whenever the
        // skid register is empty (flip-flops only): `out_ready` reaches no stage's enable, only
        // the choice between the output and the skid register.
        self.take.next = self.valid.q.val() & self.out_ready.val();
        self.moving.next = self.stage_valid.q.val() & !self.skid_valid.q.val();
        self.stage_free.next = !self.stage_valid.q.val() | self.moving.val();
        self.s1_moving.next = self.s1_valid.q.val() & !self.s1_bad.val() & self.stage_free.val();
        self.s1_free.next = !self.s1_valid.q.val() | self.s1_moving.val();

        // ---- One step, then pointer, segment and stage updates.
        self.can_step.next = (self.state.q.val() == LaneState::Run)
            & self.lp_ok.val()
            & self.window_ok.val()
            & self.s1_free.val()
            & !(self.new_seg.val() & self.empty.q.val());
        // The lane's last weight; its segment must end with it (else the segment overruns).
        // (The weights left are counted down with a registered "one left" flag.)
        self.left.clock.next = self.clock.val();
        self.left.clear.next = false;
        self.left.init.next = self.count.val();
        self.left.load.next = self.start.val();
        self.left.dec.next = self.can_step.val() & !self.new_seg.val();
        self.final_weight.next = !self.new_seg.val() & self.left.at_one.val();
        // The pointer after a step, with c = ptr rounded down to a multiple of 4 and the count
        // measured from c: c + k + 1 + count for a regular code, c + H + count for a header
        // (count = ptr - c) and ptr + Q_ESC + E for an escape, so that every kind of step is
        // ptr + its length. The detector adds the count to the base itself (no adder after it);
        // every other term comes from flip-flops.
        self.ptr_esc.next = self.ptr6.val() + self.esc_len6.val();
        self.ptr_coarse.next = self.ptr6.val() & self.coarse_mask.val();
        self.zeros.esc_next.next = self.ptr_esc.val();
        self.base.next = self.ptr_coarse.val() + bit_cast::<6, 4>(self.k.q.val()) + self.one6.val();
        if self.new_seg.val() {
            self.base.next = self.ptr_coarse.val() + self.hdr_bits6.val();
        }
        // The next pointer (below 56): its carry out of the word, `sh`, is registered, and the
        // words move on at the next edge, so no word enable waits for this clock's step.
        self.zeros.base.next = self.base.val();
        self.sh.d.next = false;
        if self.can_step.val() {
            self.ptr.d.next = bit_cast::<5, 6>(self.zeros.next_ptr.val());
            self.sh.d.next = self.zeros.next_ptr.val().get_bit(5);
        }
        // A header is checked in its own step (its fields are wiring); a code in the first stage.
        self.room.next = bit_cast::<8, 7>(self.end_pos.val()) - bit_cast::<8, 6>(self.base.val());
        self.hdr_bad.next = self.hdr_over.val() | (self.hdr_k.val() > self.k_max.val());

        // ---- Line prediction p = acc >> F (arithmetic).
        self.pred.next = self.acc.q.val() >> self.frac.val();
        if self.acc.q.val().get_bit(12) {
            self.pred.next = self.pred.val() | self.sign_fill.val();
        }
        // Registers of the datapath follow every step whether or not it fails (a failed lane
        // emits nothing more).
        if self.can_step.val() {
            if self.new_seg.val() {
                self.seg_left.d.next = self.hdr_len.val();
                self.k.d.next = self.hdr_k.val();
                self.slope.d.next = self.hdr_m.val();
                self.acc.d.next = (self.hdr_s.val() << self.frac.val()) | self.half.val();
            } else {
                self.seg_left.d.next = self.seg_left.q.val() - self.one9.val();
                self.acc.d.next = self.acc.q.val() + self.slope.q.val();
            }
        }
        // The final step ends the lane (no more steps); its first stage may still fail it.
        if self.can_step.val() & self.final_weight.val() {
            self.state.d.next = LaneState::Done;
        }
        if self.can_step.val() & self.new_seg.val() & self.hdr_bad.val() {
            self.state.d.next = LaneState::Fail;
        }
        if self.s1_valid.q.val() & self.s1_bad.val() {
            self.state.d.next = LaneState::Fail;
            self.s1_poison.d.next = true;
        }

        // ---- Step -> first stage -> second stage -> output register:
        // w = sat_B(p + zigzag^-1(u) * 2^r).
        self.rebuild.pred.next = self.stage_pred.q.val();
        self.rebuild.u.next = self.stage_u.q.val();
        self.rebuild.shift.next = self.lp_shift.val();
        // Output register with a skid register behind it: a weight that finds the output full
        // waits in the skid register, which refills the output first.
        if self.take.val() {
            self.valid.d.next = false;
            if self.skid_valid.q.val() {
                self.weight.d.next = self.skid_weight.q.val();
                self.last.d.next = self.skid_last.q.val();
                self.valid.d.next = true;
                self.skid_valid.d.next = false;
            }
        }
        if self.moving.val() {
            self.stage_valid.d.next = false;
            if !self.valid.q.val() | self.take.val() {
                self.weight.d.next = self.rebuild.weight.val();
                self.last.d.next = self.stage_last.q.val();
                self.valid.d.next = true;
            } else {
                self.skid_weight.d.next = self.rebuild.weight.val();
                self.skid_last.d.next = self.stage_last.q.val();
                self.skid_valid.d.next = true;
            }
        }
        if self.s1_moving.val() {
            self.stage_valid.d.next = true;
            self.stage_pred.d.next = self.s1_pred.q.val();
            self.stage_u.d.next = self.rice.value.val();
            self.stage_last.d.next = self.s1_last.q.val();
            self.s1_valid.d.next = false;
        }
        if self.can_step.val() & !self.new_seg.val() {
            self.s1_valid.d.next = true;
            self.s1_window.d.next = bit_cast::<CODE_WINDOW, WINDOW_BITS>(self.window.val());
            self.s1_k.d.next = self.k.q.val();
            self.s1_count.d.next = self.zeros.count.val();
            self.s1_escape.d.next = self.zeros.escape.val();
            self.s1_fine.d.next = self.zeros.fine.val();
            self.s1_pred.d.next = bit_cast::<PRED_BITS, ACC_BITS>(self.pred.val());
            self.s1_last.d.next = self.final_weight.val();
            // count <= 14, so only a room below 16 can be too small; four bits are compared.
            self.s1_room_neg.d.next = self.room.val().get_bit(7);
            self.s1_room_small.d.next =
                (self.room.val() & self.room_high.val()) == self.zero8.val();
            self.s1_room4.d.next = bit_cast::<4, 8>(self.room.val());
            self.s1_esc_trunc.d.next = bit_cast::<7, 6>(self.ptr_esc.val()) > self.end_pos.val();
            self.s1_esc_exact.d.next = bit_cast::<7, 6>(self.ptr_esc.val()) == self.end_pos.val();
            self.s1_open.d.next =
                self.more_words.val() | (self.seg_left.q.val() != self.zero9.val());
        }

        // ---- Words: w2 <- memory, w1 <- w2, w0 <- w1, each register from one source; they move
        // on when the pointer has left w0 (`sh`) or into an empty register. Ready while w2 or w1
        // is empty or the words move on (w2 then moves on in this clock); flip-flops only.
        self.in_ready.next = (!(self.v2.q.val() & self.v1.q.val()) | self.sh.q.val())
            & (self.state.q.val() == LaneState::Run)
            & self.more_words.val();
        self.fire.next = self.in_valid.val() & self.in_ready.val();
        // Each valid bit is one function of `sh` and the valid bits (no enable chains).
        self.m0.next = self.sh.q.val() | !self.v0.q.val();
        self.m1.next = self.sh.q.val() | !(self.v0.q.val() & self.v1.q.val());
        if self.m0.val() {
            self.w0.d.next = self.w1.q.val();
            self.l0.d.next = self.l1.q.val();
        }
        if self.m1.val() {
            self.w1.d.next = self.w2.q.val();
            self.l1.d.next = self.l2.q.val();
        }
        // w2 takes a word exactly when the lane is ready (flip-flops only).
        if self.in_ready.val() {
            self.w2.d.next = self.in_data.val();
            self.l2.d.next = self.in_last.val();
        }
        self.v0.d.next = self.v1.q.val() | (self.v0.q.val() & !self.sh.q.val());
        self.v1.d.next = (self.m1.val() & self.v2.q.val()) | (!self.m1.val() & self.v1.q.val());
        self.v2.d.next = self.fire.val() | (self.v2.q.val() & !self.m1.val());
        if self.fire.val() & self.in_last.val() {
            self.got_last.d.next = true;
        }

        // ---- Layer start, reset, flags. A lane of zero weights is done when its stream is empty.
        self.len_tail.next =
            bit_cast::<6, STREAM_BITS>(self.length_bits.val()) & self.tail_mask.val();
        if self.state.q.val() == LaneState::Run {
            if !self.lp_ok.val() {
                self.state.d.next = LaneState::Fail;
            }
            if self.new_seg.val() & self.empty.q.val() {
                self.state.d.next = LaneState::Done;
                if self.more_words.val() {
                    self.state.d.next = LaneState::Fail;
                }
            }
        }
        if self.start.val() {
            self.state.d.next = LaneState::Run;
            self.empty.d.next = self.count.val() == self.zero_count.val();
            // An empty stream has no words to wait for.
            self.got_last.d.next = self.length_bits.val() == self.zero_length.val();
            self.tail.d.next = self.len_tail.val();
            if self.len_tail.val() == self.zero6.val() {
                self.tail.d.next = self.word32.val();
            }
            self.v0.d.next = false;
            self.v1.d.next = false;
            self.v2.d.next = false;
            self.ptr.d.next = self.zero5.val();
            self.sh.d.next = false;
            self.seg_left.d.next = self.ones9.val();
            self.s1_valid.d.next = false;
            self.s1_poison.d.next = false;
            self.stage_valid.d.next = false;
            self.valid.d.next = false;
            self.skid_valid.d.next = false;
        }
        if self.reset.val() {
            self.state.d.next = LaneState::Idle;
            self.v0.d.next = false;
            self.v1.d.next = false;
            self.v2.d.next = false;
            self.sh.d.next = false;
            self.s1_valid.d.next = false;
            self.s1_poison.d.next = false;
            self.stage_valid.d.next = false;
            self.valid.d.next = false;
            self.skid_valid.d.next = false;
            self.got_last.d.next = true;
        }
        self.out_weight.next = bit_cast::<WEIGHT_BITS, 8>(self.weight.q.val());
        if self.weight.q.val().get_bit(7) {
            self.out_weight.next =
                bit_cast::<WEIGHT_BITS, 8>(self.weight.q.val()) | self.weight_ext.val();
        }
        self.out_valid.next = self.valid.q.val();
        self.out_last.next = self.last.q.val();
        // A failed lane first delivers the good weights decoded before the failure.
        self.error.next = (self.state.q.val() == LaneState::Fail)
            & !self.stage_valid.q.val()
            & !self.skid_valid.q.val()
            & (!self.s1_valid.q.val() | self.s1_poison.q.val());
        self.done.next = (self.state.q.val() == LaneState::Done)
            & !self.s1_valid.q.val()
            & !self.stage_valid.q.val()
            & !self.skid_valid.q.val();
    }
}
