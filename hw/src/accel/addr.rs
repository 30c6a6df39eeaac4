//! The convolution address generator of the accelerator: walks the products of a layer in the
//! order channel group, output row, output column, input channel, kernel row, kernel column, one
//! product per `step`, and says for the current product which weight to read, which activation
//! to read (and whether it lies in the padding), and where the finished position goes.
//!
//! The loop counters count down, from the bound to 1, and each keeps flags that it is at 1 and at
//! 2 ([`CountDown`]); a counter steps when everything inside it wraps. The wrap flags (`wrap_kx` ..
//! `wrap_oy`: the counter and all inner ones are at their last value) are flip-flops, decided a
//! clock ahead from what each counter's at-1 flag becomes if the generator moves, so `step` reaches
//! the counters and the flags through one gate instead of through the chain. The buffer addresses
//! are kept incrementally (`row_base` + `ix`), so no multiplier is needed.

use super::count::CountDown;
use super::lane::INDEX_BITS;
use rust_hdl::prelude::*;

/// Address generator for `lanes` MAC lanes (one output channel per lane and group).
#[derive(LogicBlock)]
pub struct AddrGen {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Load the first product of the layer from the layer registers (overrides `step`).
    pub start: Signal<In, Bit>,
    /// Advance to the next product.
    pub step: Signal<In, Bit>,
    /// Input channels C.
    pub in_c: Signal<In, Bits<INDEX_BITS>>,
    /// Input height H.
    pub in_h: Signal<In, Bits<INDEX_BITS>>,
    /// Input width W.
    pub in_w: Signal<In, Bits<INDEX_BITS>>,
    /// Kernel height.
    pub kh: Signal<In, Bits<8>>,
    /// Kernel width.
    pub kw: Signal<In, Bits<8>>,
    /// Vertical stride.
    pub stride_h: Signal<In, Bits<8>>,
    /// Horizontal stride.
    pub stride_w: Signal<In, Bits<8>>,
    /// Output height.
    pub out_h: Signal<In, Bits<INDEX_BITS>>,
    /// Output width.
    pub out_w: Signal<In, Bits<INDEX_BITS>>,
    /// Channel groups.
    pub groups: Signal<In, Bits<INDEX_BITS>>,
    /// H * W.
    pub plane: Signal<In, Bits<INDEX_BITS>>,
    /// Column of the first window (two's complement).
    pub ix0: Signal<In, Bits<INDEX_BITS>>,
    /// Row of the first window (two's complement).
    pub iy0: Signal<In, Bits<INDEX_BITS>>,
    /// Buffer address of row `iy0` of input channel 0.
    pub row0: Signal<In, Bits<INDEX_BITS>>,
    /// stride_h * W.
    pub row_step: Signal<In, Bits<INDEX_BITS>>,
    /// Buffer address of the output tensor.
    pub out_base: Signal<In, Bits<INDEX_BITS>>,
    /// P * OH * OW.
    pub grp_step: Signal<In, Bits<INDEX_BITS>>,

    /// Weight index of the product inside its position (0..K).
    pub k: Signal<Out, Bits<INDEX_BITS>>,
    /// `k` is 0: the product starts its position (from a flip-flop).
    pub first: Signal<Out, Bit>,
    /// Weight bank of the current group (alternates per group).
    pub bank: Signal<Out, Bit>,
    /// Activation buffer address of the product.
    pub act_addr: Signal<Out, Bits<INDEX_BITS>>,
    /// The activation lies inside the input (else it is padding, a zero).
    pub in_bounds: Signal<Out, Bit>,
    /// Last product of an output position.
    pub last: Signal<Out, Bit>,
    /// Output buffer address of the position for the group's first channel.
    pub out_addr: Signal<Out, Bits<INDEX_BITS>>,
    /// First output channel of the group.
    pub ch0: Signal<Out, Bits<INDEX_BITS>>,
    /// This step ends a channel group (its weight bank can be freed).
    pub group_end: Signal<Out, Bit>,
    /// This step ends the layer.
    pub layer_end: Signal<Out, Bit>,

    bank_q: DFF<Bit>,
    group: CountDown<INDEX_BITS>,
    ch_base: DFF<Bits<INDEX_BITS>>,
    grp_base: DFF<Bits<INDEX_BITS>>,
    oy: CountDown<INDEX_BITS>,
    ox: CountDown<INDEX_BITS>,
    pos: DFF<Bits<INDEX_BITS>>,
    ic: CountDown<INDEX_BITS>,
    ky: CountDown<8>,
    kx: CountDown<8>,
    k_q: DFF<Bits<INDEX_BITS>>,
    k_first: DFF<Bit>,
    iy: DFF<Bits<INDEX_BITS>>,
    ix: DFF<Bits<INDEX_BITS>>,
    iy_pos: DFF<Bits<INDEX_BITS>>,
    ix_pos: DFF<Bits<INDEX_BITS>>,
    row_base: DFF<Bits<INDEX_BITS>>,
    plane_base: DFF<Bits<INDEX_BITS>>,
    pos_row0: DFF<Bits<INDEX_BITS>>,

    wrap_kx: DFF<Bit>,
    wrap_ky: DFF<Bit>,
    wrap_ic: DFF<Bit>,
    wrap_ox: DFF<Bit>,
    wrap_oy: DFF<Bit>,
    moved_kx: Signal<Local, Bit>,
    moved_ky: Signal<Local, Bit>,
    moved_ic: Signal<Local, Bit>,
    moved_ox: Signal<Local, Bit>,
    moved_oy: Signal<Local, Bit>,
    sw16: Signal<Local, Bits<INDEX_BITS>>,
    sh16: Signal<Local, Bits<INDEX_BITS>>,

    lanes: Constant<Bits<INDEX_BITS>>,
    zero_i: Constant<Bits<INDEX_BITS>>,
    one_i: Constant<Bits<INDEX_BITS>>,
}

impl AddrGen {
    /// An address generator for `lanes` MAC lanes.
    pub fn new(lanes: usize) -> Self {
        Self {
            clock: Default::default(),
            start: Default::default(),
            step: Default::default(),
            in_c: Default::default(),
            in_h: Default::default(),
            in_w: Default::default(),
            kh: Default::default(),
            kw: Default::default(),
            stride_h: Default::default(),
            stride_w: Default::default(),
            out_h: Default::default(),
            out_w: Default::default(),
            groups: Default::default(),
            plane: Default::default(),
            ix0: Default::default(),
            iy0: Default::default(),
            row0: Default::default(),
            row_step: Default::default(),
            out_base: Default::default(),
            grp_step: Default::default(),
            k: Default::default(),
            first: Default::default(),
            bank: Default::default(),
            act_addr: Default::default(),
            in_bounds: Default::default(),
            last: Default::default(),
            out_addr: Default::default(),
            ch0: Default::default(),
            group_end: Default::default(),
            layer_end: Default::default(),
            bank_q: Default::default(),
            group: Default::default(),
            ch_base: Default::default(),
            grp_base: Default::default(),
            oy: Default::default(),
            ox: Default::default(),
            pos: Default::default(),
            ic: Default::default(),
            ky: Default::default(),
            kx: Default::default(),
            k_q: Default::default(),
            k_first: Default::default(),
            iy: Default::default(),
            ix: Default::default(),
            iy_pos: Default::default(),
            ix_pos: Default::default(),
            row_base: Default::default(),
            plane_base: Default::default(),
            pos_row0: Default::default(),
            wrap_kx: Default::default(),
            wrap_ky: Default::default(),
            wrap_ic: Default::default(),
            wrap_ox: Default::default(),
            wrap_oy: Default::default(),
            moved_kx: Default::default(),
            moved_ky: Default::default(),
            moved_ic: Default::default(),
            moved_ox: Default::default(),
            moved_oy: Default::default(),
            sw16: Default::default(),
            sh16: Default::default(),
            lanes: Constant::new((lanes as u64).into()),
            zero_i: Constant::new(0.into()),
            one_i: Constant::new(1.into()),
        }
    }
}

impl Logic for AddrGen {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, bank_q, ch_base, grp_base, pos, k_q, k_first, iy, ix, iy_pos, ix_pos,
            row_base, plane_base, pos_row0, wrap_kx, wrap_ky, wrap_ic, wrap_ox, wrap_oy
        );
        self.kx.clock.next = self.clock.val();
        self.ky.clock.next = self.clock.val();
        self.ic.clock.next = self.clock.val();
        self.ox.clock.next = self.clock.val();
        self.oy.clock.next = self.clock.val();
        self.group.clock.next = self.clock.val();
        // `start` reloads the loop counters; none is cleared.
        self.kx.clear.next = false;
        self.ky.clear.next = false;
        self.ic.clear.next = false;
        self.ox.clear.next = false;
        self.oy.clear.next = false;
        self.group.clear.next = false;
        self.sw16.next = bit_cast::<INDEX_BITS, 8>(self.stride_w.val());
        self.sh16.next = bit_cast::<INDEX_BITS, 8>(self.stride_h.val());

        self.k.next = self.k_q.q.val();
        self.first.next = self.k_first.q.val();
        self.bank.next = self.bank_q.q.val();
        self.act_addr.next = self.row_base.q.val() + self.ix.q.val();
        self.in_bounds.next =
            (self.iy.q.val() < self.in_h.val()) && (self.ix.q.val() < self.in_w.val());
        self.last.next = self.wrap_ic.q.val();
        self.out_addr.next = self.grp_base.q.val() + self.pos.q.val();
        self.ch0.next = self.ch_base.q.val();
        self.group_end.next = self.step.val() && self.wrap_oy.q.val();
        self.layer_end.next = self.step.val() && self.wrap_oy.q.val() && self.group.at_one.val();

        // The loop counters: each counts down when everything inside it wraps and reloads its
        // bound when it wraps itself.
        self.kx.init.next = self.kw.val();
        self.kx.dec.next = self.step.val();
        self.kx.load.next = self.start.val() || (self.step.val() && self.wrap_kx.q.val());
        self.ky.init.next = self.kh.val();
        self.ky.dec.next = self.step.val() && self.wrap_kx.q.val();
        self.ky.load.next = self.start.val() || (self.step.val() && self.wrap_ky.q.val());
        self.ic.init.next = self.in_c.val();
        self.ic.dec.next = self.step.val() && self.wrap_ky.q.val();
        self.ic.load.next = self.start.val() || (self.step.val() && self.wrap_ic.q.val());
        self.ox.init.next = self.out_w.val();
        self.ox.dec.next = self.step.val() && self.wrap_ic.q.val();
        self.ox.load.next = self.start.val() || (self.step.val() && self.wrap_ox.q.val());
        self.oy.init.next = self.out_h.val();
        self.oy.dec.next = self.step.val() && self.wrap_ox.q.val();
        self.oy.load.next = self.start.val() || (self.step.val() && self.wrap_oy.q.val());
        self.group.init.next = self.groups.val();
        self.group.dec.next = self.step.val() && self.wrap_oy.q.val();
        self.group.load.next = self.start.val();

        // What each counter's at-1 flag becomes if the generator moves this clock, from flip-flops
        // and layer registers only: `start` loads the bound, and a step reloads a counter that
        // wraps, counts down one whose inner loops wrap (to 1 iff at 2 now) and keeps the others.
        self.moved_kx.next = self.kx.at_two.val();
        if self.start.val() || self.wrap_kx.q.val() {
            self.moved_kx.next = self.kx.init_one.val();
        }
        self.moved_ky.next = self.ky.at_one.val();
        if self.wrap_kx.q.val() {
            self.moved_ky.next = self.ky.at_two.val();
        }
        if self.start.val() || self.wrap_ky.q.val() {
            self.moved_ky.next = self.ky.init_one.val();
        }
        self.moved_ic.next = self.ic.at_one.val();
        if self.wrap_ky.q.val() {
            self.moved_ic.next = self.ic.at_two.val();
        }
        if self.start.val() || self.wrap_ic.q.val() {
            self.moved_ic.next = self.ic.init_one.val();
        }
        self.moved_ox.next = self.ox.at_one.val();
        if self.wrap_ic.q.val() {
            self.moved_ox.next = self.ox.at_two.val();
        }
        if self.start.val() || self.wrap_ox.q.val() {
            self.moved_ox.next = self.ox.init_one.val();
        }
        self.moved_oy.next = self.oy.at_one.val();
        if self.wrap_ox.q.val() {
            self.moved_oy.next = self.oy.at_two.val();
        }
        if self.start.val() || self.wrap_oy.q.val() {
            self.moved_oy.next = self.oy.init_one.val();
        }
        if self.start.val() || self.step.val() {
            self.wrap_kx.d.next = self.moved_kx.val();
            self.wrap_ky.d.next = self.moved_kx.val() && self.moved_ky.val();
            self.wrap_ic.d.next = self.moved_kx.val() && self.moved_ky.val() && self.moved_ic.val();
            self.wrap_ox.d.next = self.moved_kx.val()
                && self.moved_ky.val()
                && self.moved_ic.val()
                && self.moved_ox.val();
            self.wrap_oy.d.next = self.moved_kx.val()
                && self.moved_ky.val()
                && self.moved_ic.val()
                && self.moved_ox.val()
                && self.moved_oy.val();
        }

        // Each wrap overrides what the counters inside it set. A wrap flag implies the ones inside
        // it (`wrap_ky` only with `wrap_kx`, ...), so each is tested inside the one before: every
        // register's enable is `step` and one flag. The flags are flip-flops, so the new values
        // are selected before `step` and `step` only enables them.
        if self.step.val() {
            self.k_q.d.next = self.k_q.q.val() + self.one_i.val();
            self.k_first.d.next = false;
            self.ix.d.next = self.ix.q.val() + self.one_i.val();
            if self.wrap_kx.q.val() {
                self.ix.d.next = self.ix_pos.q.val();
                self.iy.d.next = self.iy.q.val() + self.one_i.val();
                self.row_base.d.next = self.row_base.q.val() + self.in_w.val();
                if self.wrap_ky.q.val() {
                    self.iy.d.next = self.iy_pos.q.val();
                    self.plane_base.d.next = self.plane_base.q.val() + self.plane.val();
                    self.row_base.d.next = self.plane_base.q.val() + self.plane.val();
                    // End of an output position.
                    if self.wrap_ic.q.val() {
                        self.k_q.d.next = self.zero_i.val();
                        self.k_first.d.next = true;
                        self.pos.d.next = self.pos.q.val() + self.one_i.val();
                        self.ix_pos.d.next = self.ix_pos.q.val() + self.sw16.val();
                        self.ix.d.next = self.ix_pos.q.val() + self.sw16.val();
                        self.row_base.d.next = self.pos_row0.q.val();
                        self.plane_base.d.next = self.pos_row0.q.val();
                        if self.wrap_ox.q.val() {
                            self.ix_pos.d.next = self.ix0.val();
                            self.ix.d.next = self.ix0.val();
                            self.iy_pos.d.next = self.iy_pos.q.val() + self.sh16.val();
                            self.iy.d.next = self.iy_pos.q.val() + self.sh16.val();
                            self.pos_row0.d.next = self.pos_row0.q.val() + self.row_step.val();
                            self.row_base.d.next = self.pos_row0.q.val() + self.row_step.val();
                            self.plane_base.d.next = self.pos_row0.q.val() + self.row_step.val();
                            // End of a channel group.
                            if self.wrap_oy.q.val() {
                                self.pos.d.next = self.zero_i.val();
                                self.iy_pos.d.next = self.iy0.val();
                                self.iy.d.next = self.iy0.val();
                                self.pos_row0.d.next = self.row0.val();
                                self.row_base.d.next = self.row0.val();
                                self.plane_base.d.next = self.row0.val();
                                self.bank_q.d.next = !self.bank_q.q.val();
                                self.ch_base.d.next = self.ch_base.q.val() + self.lanes.val();
                                self.grp_base.d.next = self.grp_base.q.val() + self.grp_step.val();
                            }
                        }
                    }
                }
            }
        }

        if self.start.val() {
            self.bank_q.d.next = false;
            self.ch_base.d.next = self.zero_i.val();
            self.grp_base.d.next = self.out_base.val();
            self.pos.d.next = self.zero_i.val();
            self.k_q.d.next = self.zero_i.val();
            self.k_first.d.next = true;
            self.iy.d.next = self.iy0.val();
            self.ix.d.next = self.ix0.val();
            self.iy_pos.d.next = self.iy0.val();
            self.ix_pos.d.next = self.ix0.val();
            self.row_base.d.next = self.row0.val();
            self.plane_base.d.next = self.row0.val();
            self.pos_row0.d.next = self.row0.val();
        }
    }
}
