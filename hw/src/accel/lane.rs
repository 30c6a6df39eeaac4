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

use rust_hdl::prelude::*;

/// Width of the accumulator (int32, wrapping).
pub const ACC_BITS: usize = 32;
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
    load_k: DFF<Bits<INDEX_BITS>>,
    load_bank: DFF<Bit>,
    full0: DFF<Bit>,
    full1: DFF<Bit>,
    groups_left: DFF<Bits<INDEX_BITS>>,
    ch_left: DFF<Bits<INDEX_BITS>>,
    acc: DFF<Bits<ACC_BITS>>,
    hold: DFF<Bits<ACC_BITS>>,

    bank_full: Signal<Local, Bit>,
    can_load: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    mark: Signal<Local, Bit>,
    last_w: Signal<Local, Bit>,
    wr_index: Signal<Local, Bits<WBITS>>,
    rd_low: Signal<Local, Bits<WBITS>>,
    w16: Signal<Local, Bits<16>>,
    a16: Signal<Local, Bits<16>>,
    prod32: Signal<Local, Bits<32>>,
    prod16: Signal<Local, Bits<16>>,
    prod: Signal<Local, Bits<ACC_BITS>>,

    bank_bit: Constant<Bits<WBITS>>,
    zero_i: Constant<Bits<INDEX_BITS>>,
    one_i: Constant<Bits<INDEX_BITS>>,
    sext8: Constant<Bits<16>>,
    sext16: Constant<Bits<ACC_BITS>>,
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
            full0: Default::default(),
            full1: Default::default(),
            groups_left: Default::default(),
            ch_left: Default::default(),
            acc: Default::default(),
            hold: Default::default(),
            bank_full: Default::default(),
            can_load: Default::default(),
            take: Default::default(),
            mark: Default::default(),
            last_w: Default::default(),
            wr_index: Default::default(),
            rd_low: Default::default(),
            w16: Default::default(),
            a16: Default::default(),
            prod32: Default::default(),
            prod16: Default::default(),
            prod: Default::default(),
            bank_bit: Constant::new((1u64 << (WBITS - 1)).into()),
            zero_i: Constant::new(0.into()),
            one_i: Constant::new(1.into()),
            sext8: Constant::new(0xff00u64.into()),
            sext16: Constant::new(0xffff_0000u64.into()),
        }
    }
}

impl<const WBITS: usize> Logic for AccelLane<WBITS> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            load_k,
            load_bank,
            full0,
            full1,
            groups_left,
            ch_left,
            acc,
            hold
        );
        self.wbuf.read_clock.next = self.clock.val();
        self.wbuf.write_clock.next = self.clock.val();

        // ---- Loading the free bank from the decompressor.
        self.bank_full.next = self.full0.q.val();
        if self.load_bank.q.val() {
            self.bank_full.next = self.full1.q.val();
        }
        self.can_load.next =
            (self.groups_left.q.val() != self.zero_i.val()) && !self.bank_full.val();
        self.w_ready.next = self.can_load.val() && (self.ch_left.q.val() != self.zero_i.val());
        self.take.next = self.w_ready.val() && self.w_valid.val();
        self.last_w.next = self.load_k.q.val() == (self.k_len.val() - self.one_i.val());
        self.mark.next = (self.can_load.val() && (self.ch_left.q.val() == self.zero_i.val()))
            || (self.take.val() && self.last_w.val());

        self.wbuf.write_enable.next = self.take.val();
        self.wbuf.write_data.next = bit_cast::<8, 16>(self.w_in.val());
        self.wr_index.next = bit_cast::<WBITS, INDEX_BITS>(self.load_k.q.val());
        self.wbuf.write_address.next = self.wr_index.val();
        if self.load_bank.q.val() {
            self.wbuf.write_address.next = self.wr_index.val() | self.bank_bit.val();
        }
        if self.take.val() {
            self.load_k.d.next = self.load_k.q.val() + self.one_i.val();
            if self.last_w.val() {
                self.load_k.d.next = self.zero_i.val();
                self.ch_left.d.next = self.ch_left.q.val() - self.one_i.val();
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
            self.groups_left.d.next = self.groups_left.q.val() - self.one_i.val();
        }

        // ---- Reading and multiply-accumulate.
        self.rd_low.next = bit_cast::<WBITS, INDEX_BITS>(self.rd_index.val());
        self.wbuf.read_address.next = self.rd_low.val();
        if self.rd_bank.val() {
            self.wbuf.read_address.next = self.rd_low.val() | self.bank_bit.val();
        }
        // Sign-extend both int8 operands to 16 bits; the low 16 bits of the unsigned product are
        // the exact two's complement product (|w * a| <= 2^14).
        self.w16.next = bit_cast::<16, 8>(self.wbuf.read_data.val());
        if self.wbuf.read_data.val().get_bit(7) {
            self.w16.next = bit_cast::<16, 8>(self.wbuf.read_data.val()) | self.sext8.val();
        }
        self.a16.next = bit_cast::<16, 8>(self.act.val());
        if self.act.val().get_bit(7) {
            self.a16.next = bit_cast::<16, 8>(self.act.val()) | self.sext8.val();
        }
        self.prod32.next = self.w16.val() * self.a16.val();
        self.prod16.next = bit_cast::<16, 32>(self.prod32.val());
        self.prod.next = bit_cast::<ACC_BITS, 16>(self.prod16.val());
        if self.prod16.val().get_bit(15) {
            self.prod.next = bit_cast::<ACC_BITS, 16>(self.prod16.val()) | self.sext16.val();
        }
        if self.mac_en.val() {
            if self.mac_first.val() {
                self.acc.d.next = self.prod.val();
            } else {
                self.acc.d.next = self.acc.q.val() + self.prod.val();
            }
        }
        if self.capture.val() {
            self.hold.d.next = self.acc.q.val();
        } else if self.shift.val() {
            self.hold.d.next = self.chain_in.val();
        }

        // ---- Layer start and reset.
        if self.start.val() {
            self.load_k.d.next = self.zero_i.val();
            self.load_bank.d.next = false;
            self.full0.d.next = false;
            self.full1.d.next = false;
            self.groups_left.d.next = self.groups.val();
            self.ch_left.d.next = self.channels.val();
        }
        if self.reset.val() {
            self.groups_left.d.next = self.zero_i.val();
            self.full0.d.next = false;
            self.full1.d.next = false;
        }

        self.filled0.next = self.full0.q.val();
        self.filled1.next = self.full1.q.val();
        self.hold_out.next = self.hold.q.val();
    }
}
