//! The accelerator's down counter with registered flags: "the count is 1", "the count is 2" and
//! "the count is not zero", each decided with the count (from the value it loads or from the count
//! before the decrement), so the logic that tests them reads flip-flops instead of comparing the
//! counter in the clock that uses it. It serves the address generator's loop counters (which wrap
//! after 1), the drain sequencer's channels left (whose next "not zero" feeds the controller's
//! registered busy flag), a MAC lane's groups and channels left to load (which run until 0) and a
//! decompressor lane's weights left. A flag nobody reads is removed in synthesis with its compare.

use rust_hdl::prelude::*;

/// Down counter of `N` bits with registered "at 1", "at 2" and "not zero" flags. Priority: `clear`, then
/// `load`, then `dec`; a decrement at 0 wraps to `2^N - 1`.
#[derive(LogicBlock)]
pub struct CountDown<const N: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Go to 0 (overrides `load` and `dec`).
    pub clear: Signal<In, Bit>,
    /// Load `init` (overrides `dec`).
    pub load: Signal<In, Bit>,
    /// Count down by one.
    pub dec: Signal<In, Bit>,
    /// The value the counter loads.
    pub init: Signal<In, Bits<N>>,
    /// The counter is at 1 (its last value before a loop wraps).
    pub at_one: Signal<Out, Bit>,
    /// The counter is at 2 (a decrement takes it to 1).
    pub at_two: Signal<Out, Bit>,
    /// The counter is not zero (something is left).
    pub nonzero: Signal<Out, Bit>,
    /// `init` is 1 (a load takes the counter to 1; not registered).
    pub init_one: Signal<Out, Bit>,
    /// What "not zero" becomes at the clock edge (the flag's next value; not registered).
    pub nonzero_next: Signal<Out, Bit>,

    count: DFF<Bits<N>>,
    one_q: DFF<Bit>,
    two_q: DFF<Bit>,
    nonzero_q: DFF<Bit>,
    zero: Constant<Bits<N>>,
    one: Constant<Bits<N>>,
    two: Constant<Bits<N>>,
    three: Constant<Bits<N>>,
}

impl<const N: usize> Default for CountDown<N> {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            clear: Default::default(),
            load: Default::default(),
            dec: Default::default(),
            init: Default::default(),
            at_one: Default::default(),
            at_two: Default::default(),
            nonzero: Default::default(),
            init_one: Default::default(),
            nonzero_next: Default::default(),
            count: Default::default(),
            one_q: Default::default(),
            two_q: Default::default(),
            nonzero_q: Default::default(),
            zero: Constant::new(0.into()),
            one: Constant::new(1.into()),
            two: Constant::new(2.into()),
            three: Constant::new(3.into()),
        }
    }
}

impl<const N: usize> Logic for CountDown<N> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, count, one_q, two_q, nonzero_q);
        if self.dec.val() {
            self.count.d.next = self.count.q.val() - self.one.val();
            self.one_q.d.next = self.count.q.val() == self.two.val();
            self.two_q.d.next = self.count.q.val() == self.three.val();
            self.nonzero_q.d.next = self.count.q.val() != self.one.val();
        }
        if self.load.val() {
            self.count.d.next = self.init.val();
            self.one_q.d.next = self.init.val() == self.one.val();
            self.two_q.d.next = self.init.val() == self.two.val();
            self.nonzero_q.d.next = self.init.val() != self.zero.val();
        }
        if self.clear.val() {
            self.count.d.next = self.zero.val();
            self.one_q.d.next = false;
            self.two_q.d.next = false;
            self.nonzero_q.d.next = false;
        }
        self.at_one.next = self.one_q.q.val();
        self.at_two.next = self.two_q.q.val();
        self.nonzero.next = self.nonzero_q.q.val();
        self.init_one.next = self.init.val() == self.one.val();
        self.nonzero_next.next = self.nonzero_q.d.val();
    }
}
