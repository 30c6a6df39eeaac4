//! A loop counter of the address generator that counts down from its bound to 1 and says, from
//! a flip-flop, when it is at 1: the flag is decided with the count (from the value it loads or
//! from the count before the decrement), so the address generator's wrap tests read flip-flops
//! instead of comparing the counters in the clock that uses them.

use rust_hdl::prelude::*;

/// Down counter of `N` bits with a registered "at 1" flag.
#[derive(LogicBlock)]
pub struct CountDown<const N: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Load `init` (overrides `dec`).
    pub load: Signal<In, Bit>,
    /// Count down by one.
    pub dec: Signal<In, Bit>,
    /// The bound the counter loads.
    pub init: Signal<In, Bits<N>>,
    /// The counter is at 1 (its last value before it wraps).
    pub at_one: Signal<Out, Bit>,

    count: DFF<Bits<N>>,
    one_q: DFF<Bit>,
    one: Constant<Bits<N>>,
    two: Constant<Bits<N>>,
}

impl<const N: usize> Default for CountDown<N> {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            load: Default::default(),
            dec: Default::default(),
            init: Default::default(),
            at_one: Default::default(),
            count: Default::default(),
            one_q: Default::default(),
            one: Constant::new(1.into()),
            two: Constant::new(2.into()),
        }
    }
}

impl<const N: usize> Logic for CountDown<N> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, count, one_q);
        if self.dec.val() {
            self.count.d.next = self.count.q.val() - self.one.val();
            self.one_q.d.next = self.count.q.val() == self.two.val();
        }
        if self.load.val() {
            self.count.d.next = self.init.val();
            self.one_q.d.next = self.init.val() == self.one.val();
        }
        self.at_one.next = self.one_q.q.val();
    }
}
