//! One MAC lane of the accelerator: a double-buffered weight store filled only by the lane's
//! decompressor, an int8 x int8 -> int32 output-stationary accumulator, and a hold register that
//! joins the drain chain towards the shared requantization unit.
//!
//! Loading: the layer has `groups` channel groups; the lane owns one channel in each of its
//! first `channels` groups. For every group it fills the free bank with the `k_len` weights of
//! its channel (one per clock while the decompressor delivers), or marks the bank full at once
//! when it has no channel in that group. The controller releases a bank after its last read.
//!
//! Computing: the controller broadcasts the bank and index to read (cycle t) and, one cycle later,
//! the activation that belongs to it together with `mac_en` / `mac_first` (cycle t+1). `capture`
//! copies the finished accumulator into the hold register; `shift` moves the chain by one lane.

use super::count::CountDown;
use super::emit::WEIGHT_ADDR_BITS;
use rust_hdl::prelude::*;

/// Width of the accumulator. A position sums K products of an int8 weight and an int8
/// activation: each is at most 2^14 in magnitude ((-128) * (-128)) and K is at most the
/// 2^(WEIGHT_ADDR_BITS - 1) = 1,024 weights of a bank (the driver refuses larger K), so the sum
/// lies in [-2^24, 2^24] and 26 signed bits hold it exactly: the int32 sum of the golden model,
/// never wrapping. The requantizer sign-extends it.
pub const ACC_BITS: usize = 2 * 8 + (WEIGHT_ADDR_BITS - 1);
/// Width of counters and indices.
pub const INDEX_BITS: usize = 16;

/// One MAC lane with a weight store of `2^WBITS` int8 entries (two banks of `2^(WBITS-1)`).
#[derive(LogicBlock)]
pub struct AccelLane<const WBITS: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: nothing to load.
    pub reset: Signal<In, Bit>,
    /// Start of a layer: latch `groups` and `channels`, empty both banks.
    pub start: Signal<In, Bit>,
    /// Weights per output channel (K = C * KH * KW), at least 1.
    pub k_len: Signal<In, Bits<INDEX_BITS>>,
    /// Channel groups of the layer (ceil(O / P)).
    pub groups: Signal<In, Bits<INDEX_BITS>>,
    /// Channels this lane computes in the layer.
    pub channels: Signal<In, Bits<INDEX_BITS>>,
    /// Weight from the decompressor lane (sign-extended B-bit value, B <= 8).
    pub w_in: Signal<In, Bits<16>>,
    /// `w_in` is valid.
    pub w_valid: Signal<In, Bit>,
    /// The lane takes `w_in` this cycle.
    pub w_ready: Signal<Out, Bit>,
    /// Bank 0 holds the weights of a group.
    pub filled0: Signal<Out, Bit>,
    /// Bank 1 holds the weights of a group.
    pub filled1: Signal<Out, Bit>,
    /// Free the bank `free_sel`.
    pub free_bank: Signal<In, Bit>,
    /// Bank to free.
    pub free_sel: Signal<In, Bit>,
    /// Bank to read.
    pub rd_bank: Signal<In, Bit>,
    /// Index to read inside the bank.
    pub rd_index: Signal<In, Bits<INDEX_BITS>>,
    /// Multiply-accumulate the weight read in the previous cycle with `act`.
    pub mac_en: Signal<In, Bit>,
    /// The product starts a new accumulation.
    pub mac_first: Signal<In, Bit>,
    /// The broadcast activation (int8).
    pub act: Signal<In, Bits<8>>,
    /// Copy the accumulator into the hold register.
    pub capture: Signal<In, Bit>,
    /// Load the hold register from `chain_in`.
    pub shift: Signal<In, Bit>,
    /// Hold register of the next lane (zero for the last lane).
    pub chain_in: Signal<In, Bits<ACC_BITS>>,
    /// Hold register.
    pub hold_out: Signal<Out, Bits<ACC_BITS>>,

    wbuf: RAM<Bits<8>, WBITS>,
    load_k: DFF<Bits<WBITS>>,
    load_bank: DFF<Bit>,
    last_w: DFF<Bit>,
    full0: DFF<Bit>,
    full1: DFF<Bit>,
    /// Groups left to load a bank for.
    groups_left: CountDown<INDEX_BITS>,
    /// Channels of this lane left to load.
    ch_left: CountDown<INDEX_BITS>,
    mac: MacAcc,
    hold: DFF<Bits<ACC_BITS>>,

    bank_full: Signal<Local, Bit>,
    can_load: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    mark: Signal<Local, Bit>,
    next_k: Signal<Local, Bits<WBITS>>,
    k_low: Signal<Local, Bits<WBITS>>,
    k_last: Signal<Local, Bits<WBITS>>,
    k_one: Signal<Local, Bit>,
    rd_low: Signal<Local, Bits<WBITS>>,

    bank_bit: Constant<Bits<WBITS>>,
    zero_w: Constant<Bits<WBITS>>,
    one_w: Constant<Bits<WBITS>>,
}

impl<const WBITS: usize> Default for AccelLane<WBITS> {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            k_len: Default::default(),
            groups: Default::default(),
            channels: Default::default(),
            w_in: Default::default(),
            w_valid: Default::default(),
            w_ready: Default::default(),
            filled0: Default::default(),
            filled1: Default::default(),
            free_bank: Default::default(),
            free_sel: Default::default(),
            rd_bank: Default::default(),
            rd_index: Default::default(),
            mac_en: Default::default(),
            mac_first: Default::default(),
            act: Default::default(),
            capture: Default::default(),
            shift: Default::default(),
            chain_in: Default::default(),
            hold_out: Default::default(),
            wbuf: Default::default(),
            load_k: Default::default(),
            load_bank: Default::default(),
            last_w: Default::default(),
            full0: Default::default(),
            full1: Default::default(),
            groups_left: Default::default(),
            ch_left: Default::default(),
            mac: Default::default(),
            hold: Default::default(),
            bank_full: Default::default(),
            can_load: Default::default(),
            take: Default::default(),
            mark: Default::default(),
            next_k: Default::default(),
            k_low: Default::default(),
            k_last: Default::default(),
            k_one: Default::default(),
            rd_low: Default::default(),
            bank_bit: Constant::new((1u64 << (WBITS - 1)).into()),
            zero_w: Constant::new(0.into()),
            one_w: Constant::new(1.into()),
        }
    }
}

impl<const WBITS: usize> Logic for AccelLane<WBITS> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, load_k, load_bank, last_w, full0, full1, hold);
        self.wbuf.read_clock.next = self.clock.val();
        self.wbuf.write_clock.next = self.clock.val();

        // ---- Loading the free bank from the decompressor.
        self.bank_full.next = self.full0.q.val();
        if self.load_bank.q.val() {
            self.bank_full.next = self.full1.q.val();
        }
        // Groups and channels left are flags of their counters, so no zero test lies between the
        // counters and the handshake.
        self.can_load.next = self.groups_left.nonzero.val() && !self.bank_full.val();
        self.w_ready.next = self.can_load.val() && self.ch_left.nonzero.val();
        self.take.next = self.w_ready.val() && self.w_valid.val();
        // K is at most a bank (2^(WBITS - 1) weights), so WBITS bits hold the index up to K.
        // `last_w` says that the next weight taken is the channel's last (index K - 1): it is
        // decided when the previous one is taken, so the compare stays out of this clock.
        self.next_k.next = self.load_k.q.val() + self.one_w.val();
        self.k_low.next = bit_cast::<WBITS, INDEX_BITS>(self.k_len.val());
        self.k_last.next = self.k_low.val() - self.one_w.val();
        self.k_one.next = self.k_low.val() == self.one_w.val();
        self.mark.next = (self.can_load.val() && !self.ch_left.nonzero.val())
            || (self.take.val() && self.last_w.q.val());

        self.wbuf.write_enable.next = self.take.val();
        self.wbuf.write_data.next = bit_cast::<8, 16>(self.w_in.val());
        self.wbuf.write_address.next = self.load_k.q.val();
        if self.load_bank.q.val() {
            self.wbuf.write_address.next = self.load_k.q.val() | self.bank_bit.val();
        }
        if self.take.val() {
            self.load_k.d.next = self.next_k.val();
            self.last_w.d.next = self.next_k.val() == self.k_last.val();
            if self.last_w.q.val() {
                self.load_k.d.next = self.zero_w.val();
                self.last_w.d.next = self.k_one.val();
            }
        }
        if self.free_bank.val() {
            if self.free_sel.val() {
                self.full1.d.next = false;
            } else {
                self.full0.d.next = false;
            }
        }
        if self.mark.val() {
            if self.load_bank.q.val() {
                self.full1.d.next = true;
            } else {
                self.full0.d.next = true;
            }
            self.load_bank.d.next = !self.load_bank.q.val();
        }

        // A group is done when its bank is marked full, a channel when its last weight is taken;
        // `start` loads both counts, `reset` leaves no group to load.
        self.groups_left.clock.next = self.clock.val();
        self.groups_left.clear.next = self.reset.val();
        self.groups_left.load.next = self.start.val();
        self.groups_left.init.next = self.groups.val();
        self.groups_left.dec.next = self.mark.val();
        self.ch_left.clock.next = self.clock.val();
        self.ch_left.clear.next = false;
        self.ch_left.load.next = self.start.val();
        self.ch_left.init.next = self.channels.val();
        self.ch_left.dec.next = self.take.val() && self.last_w.q.val();

        // ---- Reading and multiply-accumulate.
        self.rd_low.next = bit_cast::<WBITS, INDEX_BITS>(self.rd_index.val());
        self.wbuf.read_address.next = self.rd_low.val();
        if self.rd_bank.val() {
            self.wbuf.read_address.next = self.rd_low.val() | self.bank_bit.val();
        }
        self.mac.clock.next = self.clock.val();
        self.mac.en.next = self.mac_en.val();
        self.mac.first.next = self.mac_first.val();
        self.mac.w.next = self.wbuf.read_data.val();
        self.mac.a.next = self.act.val();
        if self.capture.val() {
            self.hold.d.next = self.mac.acc.val();
        } else if self.shift.val() {
            self.hold.d.next = self.chain_in.val();
        }

        // ---- Layer start and reset.
        if self.start.val() {
            self.load_k.d.next = self.zero_w.val();
            self.last_w.d.next = self.k_one.val();
            self.load_bank.d.next = false;
            self.full0.d.next = false;
            self.full1.d.next = false;
        }
        if self.reset.val() {
            self.full0.d.next = false;
            self.full1.d.next = false;
        }

        self.filled0.next = self.full0.q.val();
        self.filled1.next = self.full1.q.val();
        self.hold_out.next = self.hold.q.val();
    }
}

/// The multiply-accumulate of a lane: `acc = (first ? 0 : acc) + w * a` (int8 x int8 into
/// [`ACC_BITS`], wrapping) on a clock edge where `en` is set. Written as a signed 16 x 16 product with the
/// accumulator fed back into the adder, every operand signed: the form that Yosys
/// `synth_ice40 -dsp` folds into one SB_MAC16 (multiplier, adder and output register; only the
/// feedback multiplexer of `first` stays in LUTs: the SB_MAC16's load input replaces the sum by
/// its C/D input rather than starting a new one with the product). Elsewhere it is a multiplier
/// and an adder.
#[derive(LogicBlock, Default)]
pub struct MacAcc {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Accumulate this clock.
    pub en: Signal<In, Bit>,
    /// Start a new sum with this product.
    pub first: Signal<In, Bit>,
    /// Weight (int8).
    pub w: Signal<In, Bits<8>>,
    /// Activation (int8).
    pub a: Signal<In, Bits<8>>,
    /// The sum.
    pub acc: Signal<Out, Bits<ACC_BITS>>,
}

impl Logic for MacAcc {
    fn update(&mut self) {
        if self.clock.pos_edge() && self.en.val() {
            let w = self.w.val().to_u64() as u8 as i8 as u64;
            let a = self.a.val().to_u64() as u8 as i8 as u64;
            let base = if self.first.val() {
                0
            } else {
                self.acc.val().to_u64()
            };
            let sum = base.wrapping_add(w.wrapping_mul(a)) & ((1u64 << ACC_BITS) - 1);
            self.acc.next = sum.into();
        }
    }

    fn connect(&mut self) {
        self.acc.connect();
    }

    fn hdl(&self) -> Verilog {
        let top = ACC_BITS - 1;
        Verilog::Custom(format!(
            "wire signed [15:0] w16 = {{{{8{{w[7]}}}}, w}};
wire signed [15:0] a16 = {{{{8{{a[7]}}}}, a}};
wire signed [{top}:0] p = w16 * a16;
initial acc = {ACC_BITS}'d0;
always @(posedge clock) if (en) acc <= (first ? {ACC_BITS}'sd0 : $signed(acc)) + p;"
        ))
    }
}
