//! The weight router between one decompressor lane and the MAC lanes it feeds.
//!
//! With D decompressor lanes and P MAC lanes (D divides P), output channel `c` is decoded by
//! decompressor lane `c mod D` (the container's lane split) and computed by MAC lane `c mod P`.
//! Decompressor lane `d` therefore streams the channels of MAC lanes `d, d + D, d + 2D, ...` in
//! turn, `K` weights each: the router counts the weights it hands over and selects the next of
//! its `F = P / D` MAC lanes after every `K`. The top multiplexes the handshake with `sel`.

use super::lane::INDEX_BITS;
use rust_hdl::prelude::*;

/// Width of the MAC lane selector (F <= 32).
pub const SEL_BITS: usize = 5;

/// Counts the weights of one decompressor lane and selects the MAC lane that takes them.
#[derive(LogicBlock)]
pub struct WeightRouter {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: select the first MAC lane.
    pub reset: Signal<In, Bit>,
    /// Start of a layer: select the first MAC lane.
    pub start: Signal<In, Bit>,
    /// Weights per output channel (K), at least 1.
    pub k_len: Signal<In, Bits<INDEX_BITS>>,
    /// A weight is handed over this cycle (decompressor valid and selected MAC lane ready).
    pub take: Signal<In, Bit>,
    /// The selected MAC lane, `0..F` (MAC lane `d + sel * D`).
    pub sel: Signal<Out, Bits<SEL_BITS>>,

    k: DFF<Bits<INDEX_BITS>>,
    lane: DFF<Bits<SEL_BITS>>,
    next_k: Signal<Local, Bits<INDEX_BITS>>,
    last_lane: Constant<Bits<SEL_BITS>>,
    zero_s: Constant<Bits<SEL_BITS>>,
    one_s: Constant<Bits<SEL_BITS>>,
    zero_i: Constant<Bits<INDEX_BITS>>,
    one_i: Constant<Bits<INDEX_BITS>>,
}

impl WeightRouter {
    /// A router that feeds `fan` MAC lanes (1..=32; the generator checks the lane counts first).
    pub fn new(fan: usize) -> Self {
        assert!(
            (1..=1 << SEL_BITS).contains(&fan),
            "fan-out {fan} out of range"
        );
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            k_len: Default::default(),
            take: Default::default(),
            sel: Default::default(),
            k: Default::default(),
            lane: Default::default(),
            next_k: Default::default(),
            last_lane: Constant::new(((fan - 1) as u64).into()),
            zero_s: Constant::new(0.into()),
            one_s: Constant::new(1.into()),
            zero_i: Constant::new(0.into()),
            one_i: Constant::new(1.into()),
        }
    }
}

impl Logic for WeightRouter {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, k, lane);
        // The incremented count serves both the count and the last-weight test.
        self.next_k.next = self.k.q.val() + self.one_i.val();
        if self.take.val() {
            if self.next_k.val() == self.k_len.val() {
                self.k.d.next = self.zero_i.val();
                if self.lane.q.val() == self.last_lane.val() {
                    self.lane.d.next = self.zero_s.val();
                } else {
                    self.lane.d.next = self.lane.q.val() + self.one_s.val();
                }
            } else {
                self.k.d.next = self.next_k.val();
            }
        }
        if self.start.val() | self.reset.val() {
            self.k.d.next = self.zero_i.val();
            self.lane.d.next = self.zero_s.val();
        }
        self.sel.next = self.lane.q.val();
    }
}
