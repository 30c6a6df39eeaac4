//! The word adapter between the 32-bit QSPI flash reader and a decompressor lane with 64-bit
//! memory words (the general `full` lane, which the INT8 and FP32 baselines stream through).
//!
//! Flash words are packed little-endian: the first flash word of a lane word is its low half.
//! In `narrow` mode each flash word carries only one byte of the lane stream, in its low byte:
//! this is how the FP32 baseline is modelled, a weight stored as 32 bits in the flash and
//! converted to its int8 value at the memory interface (the conversion's logic is not modelled,
//! its flash traffic is). A flash word flagged `last` ends the lane word it falls in: the word
//! goes out zero-padded, with `last`.

use rust_hdl::prelude::*;

/// Bytes of a lane word.
const LANE_WORD_BYTES: u64 = 8;

/// Packs flash words (or their low bytes) into 64-bit lane words.
#[derive(LogicBlock)]
pub struct FlashWords {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: empty.
    pub reset: Signal<In, Bit>,
    /// Each flash word carries one stream byte, in its low byte (the FP32 baseline).
    pub narrow: Signal<In, Bit>,
    /// The next flash word.
    pub in_data: Signal<In, Bits<32>>,
    /// `in_data` is valid.
    pub in_valid: Signal<In, Bit>,
    /// The flash word is the last of its request.
    pub in_last: Signal<In, Bit>,
    /// The adapter takes the flash word.
    pub in_ready: Signal<Out, Bit>,
    /// The next lane word.
    pub out_data: Signal<Out, Bits<64>>,
    /// `out_data` is valid.
    pub out_valid: Signal<Out, Bit>,
    /// The lane word holds the last flash word of a request.
    pub out_last: Signal<Out, Bit>,
    /// The lane takes the word.
    pub out_ready: Signal<In, Bit>,

    acc: DFF<Bits<64>>,
    fill: DFF<Bits<4>>,
    full: DFF<Bit>,
    last: DFF<Bit>,

    /// The part of the flash word that joins the lane word, zero-extended.
    part: Signal<Local, Bits<64>>,
    /// Bytes filled after this flash word.
    next_fill: Signal<Local, Bits<4>>,
    /// Bit position of the part in the lane word.
    at: Signal<Local, Bits<6>>,

    word_bytes: Constant<Bits<4>>,
    zero_f: Constant<Bits<4>>,
    one_f: Constant<Bits<4>>,
    four_f: Constant<Bits<4>>,
    byte_mask: Constant<Bits<64>>,
    zero_w: Constant<Bits<64>>,
    byte_shift: Constant<Bits<6>>,
}

impl Default for FlashWords {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            narrow: Default::default(),
            in_data: Default::default(),
            in_valid: Default::default(),
            in_last: Default::default(),
            in_ready: Default::default(),
            out_data: Default::default(),
            out_valid: Default::default(),
            out_last: Default::default(),
            out_ready: Default::default(),
            acc: Default::default(),
            fill: Default::default(),
            full: Default::default(),
            last: Default::default(),
            part: Default::default(),
            next_fill: Default::default(),
            at: Default::default(),
            word_bytes: Constant::new(LANE_WORD_BYTES.into()),
            zero_f: Constant::new(0.into()),
            one_f: Constant::new(1.into()),
            four_f: Constant::new(4.into()),
            byte_mask: Constant::new(0xFF.into()),
            zero_w: Constant::new(0.into()),
            byte_shift: Constant::new(3.into()),
        }
    }
}

impl Logic for FlashWords {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, acc, fill, full, last);
        self.part.next = bit_cast::<64, 32>(self.in_data.val());
        self.next_fill.next = self.fill.q.val() + self.four_f.val();
        if self.narrow.val() {
            self.part.next = bit_cast::<64, 32>(self.in_data.val()) & self.byte_mask.val();
            self.next_fill.next = self.fill.q.val() + self.one_f.val();
        }
        self.at.next = bit_cast::<6, 4>(self.fill.q.val()) << self.byte_shift.val();
        if self.full.q.val() {
            if self.out_ready.val() {
                self.full.d.next = false;
                self.acc.d.next = self.zero_w.val();
                self.fill.d.next = self.zero_f.val();
            }
        } else if self.in_valid.val() {
            self.acc.d.next = self.acc.q.val() | (self.part.val() << self.at.val());
            self.fill.d.next = self.next_fill.val();
            if self.in_last.val() || (self.next_fill.val() == self.word_bytes.val()) {
                self.full.d.next = true;
                self.last.d.next = self.in_last.val();
            }
        }
        if self.reset.val() {
            self.full.d.next = false;
            self.acc.d.next = self.zero_w.val();
            self.fill.d.next = self.zero_f.val();
        }
        self.in_ready.next = !self.full.q.val();
        self.out_data.next = self.acc.q.val();
        self.out_valid.next = self.full.q.val();
        self.out_last.next = self.last.q.val();
    }
}
