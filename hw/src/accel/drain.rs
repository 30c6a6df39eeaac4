//! The drain sequencer of the accelerator: after the P accumulators of a finished output position
//! are captured into the lanes' hold chain, it requantizes them one per clock. Each clock it
//! names the channel whose bias to read (and, one clock later, the same channel again for its
//! multipliers and shifts); one clock later (when the parameters and the head
//! of the hold chain meet in the requantizer) it shifts the chain and writes the result to the
//! position's address in that channel's plane, unless the channel is beyond the layer's last.

use super::count::CountDown;
use super::lane::INDEX_BITS;
use rust_hdl::prelude::*;

/// Drain sequencer for `lanes` MAC lanes.
#[derive(LogicBlock)]
pub struct DrainSeq {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Abandon the drain (start of a layer, reset).
    pub clear: Signal<In, Bit>,
    /// The accumulators of a position were captured: drain them.
    pub capture: Signal<In, Bit>,
    /// Output address of the captured position in the plane of channel `ch0`.
    pub out_addr: Signal<In, Bits<INDEX_BITS>>,
    /// First channel of the captured position.
    pub ch0: Signal<In, Bits<INDEX_BITS>>,
    /// OH * OW: distance between the planes of consecutive channels.
    pub out_plane: Signal<In, Bits<INDEX_BITS>>,
    /// Output channels O of the layer.
    pub out_c: Signal<In, Bits<INDEX_BITS>>,

    /// A drain will be in progress after the clock edge (channels left to name or a value
    /// leaving; not registered, so that the controller's register can hold it).
    pub busy_next: Signal<Out, Bit>,
    /// Channel whose bias to read at this edge.
    pub param_ch: Signal<Out, Bits<INDEX_BITS>>,
    /// Channel whose multipliers and shifts to read at this edge: `param_ch` of the clock before.
    pub scale_ch: Signal<Out, Bits<INDEX_BITS>>,
    /// The requantizer holds a drained value: shift the hold chain.
    pub shift: Signal<Out, Bit>,
    /// Write the requantized value to `write_addr`.
    pub write: Signal<Out, Bit>,
    /// Output buffer address of the requantized value.
    pub write_addr: Signal<Out, Bits<INDEX_BITS>>,

    /// Channels of the position left to requantize; `nonzero` says that a drain is under way.
    left: CountDown<INDEX_BITS>,
    addr: DFF<Bits<INDEX_BITS>>,
    ch: DFF<Bits<INDEX_BITS>>,
    out_valid: DFF<Bit>,
    out_addr_q: DFF<Bits<INDEX_BITS>>,
    out_ch: DFF<Bits<INDEX_BITS>>,

    lanes: Constant<Bits<INDEX_BITS>>,
    one_i: Constant<Bits<INDEX_BITS>>,
}

impl DrainSeq {
    /// A drain sequencer for `lanes` MAC lanes.
    pub fn new(lanes: usize) -> Self {
        Self {
            clock: Default::default(),
            clear: Default::default(),
            capture: Default::default(),
            out_addr: Default::default(),
            ch0: Default::default(),
            out_plane: Default::default(),
            out_c: Default::default(),
            busy_next: Default::default(),
            param_ch: Default::default(),
            scale_ch: Default::default(),
            shift: Default::default(),
            write: Default::default(),
            write_addr: Default::default(),
            left: Default::default(),
            addr: Default::default(),
            ch: Default::default(),
            out_valid: Default::default(),
            out_addr_q: Default::default(),
            out_ch: Default::default(),
            lanes: Constant::new((lanes as u64).into()),
            one_i: Constant::new(1.into()),
        }
    }
}

impl Logic for DrainSeq {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, addr, ch, out_valid, out_addr_q, out_ch);
        // A drain names one channel per clock while channels are left (a flag of the counter, so
        // no zero test lies on the way to `busy_next`).
        self.left.clock.next = self.clock.val();
        self.left.clear.next = self.clear.val();
        self.left.load.next = self.capture.val();
        self.left.init.next = self.lanes.val();
        self.left.dec.next = self.left.nonzero.val();
        self.out_valid.d.next = self.left.nonzero.val();
        self.out_addr_q.d.next = self.addr.q.val();
        self.out_ch.d.next = self.ch.q.val();
        if self.left.nonzero.val() {
            self.addr.d.next = self.addr.q.val() + self.out_plane.val();
            self.ch.d.next = self.ch.q.val() + self.one_i.val();
        }
        if self.capture.val() {
            self.addr.d.next = self.out_addr.val();
            self.ch.d.next = self.ch0.val();
        }
        if self.clear.val() {
            self.out_valid.d.next = false;
        }
        self.busy_next.next = self.left.nonzero_next.val() || self.out_valid.d.val();
        self.param_ch.next = self.ch.q.val();
        self.scale_ch.next = self.out_ch.q.val();
        self.shift.next = self.out_valid.q.val();
        self.write.next = self.out_valid.q.val() && (self.out_ch.q.val() < self.out_c.val());
        self.write_addr.next = self.out_addr_q.q.val();
    }
}
