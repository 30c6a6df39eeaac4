//! One Rice-coded residual (FORMAT.md section 4.2) of a compact lane from a window of
//! `Q_ESC + E` bits: a leading-one detector over the first `Q_ESC` bits, a narrow shifter for the
//! remainder (k <= 8), the escape payload at its fixed offset, and the escape check.

use super::shape::CompactShape;
use lc_format::Q_ESC;
use rust_hdl::prelude::*;

/// Width of the window: `Q_ESC + E` for E <= 9.
pub const CODE_WINDOW: usize = 21;
/// Width of a decoded zigzag value: a regular code holds `u < Q_ESC * 2^8`.
pub const U_BITS: usize = 12;

/// Decodes the residual code that starts at bit 0 of `window`. Bits past the end of the stream
/// may hold anything: the caller compares `code_len` with the bits that are really there.
#[derive(LogicBlock)]
pub struct CompactRice {
    /// The next bits of the stream, LSB first.
    pub window: Signal<In, Bits<CODE_WINDOW>>,
    /// Rice parameter k of the segment (values above B are rejected by the caller).
    pub k: Signal<In, Bits<4>>,
    /// The zigzag-mapped residual u.
    pub value: Signal<Out, Bits<U_BITS>>,
    /// Length of the code in bits.
    pub code_len: Signal<Out, Bits<5>>,
    /// The code is an escape whose payload has a regular code (stream error).
    pub escape_bad: Signal<Out, Bit>,

    zeros: Signal<Local, Bits<4>>,
    escape: Signal<Local, Bit>,
    skip: Signal<Local, Bits<4>>,
    tail: Signal<Local, Bits<CODE_WINDOW>>,
    remainder: Signal<Local, Bits<U_BITS>>,
    k_mask: Signal<Local, Bits<U_BITS>>,
    quotient: Signal<Local, Bits<U_BITS>>,
    payload: Signal<Local, Bits<U_BITS>>,
    zero_run: [Constant<Bits<4>>; Q_ESC as usize + 1],
    one: Constant<Bits<4>>,
    ones: Constant<Bits<U_BITS>>,
    payload_mask: Constant<Bits<U_BITS>>,
    escape_len: Constant<Bits<5>>,
    q_esc: Constant<Bits<U_BITS>>,
}

impl CompactRice {
    /// The decoder of lanes of `shape`.
    pub fn new(shape: &CompactShape) -> Self {
        Self {
            window: Default::default(),
            k: Default::default(),
            value: Default::default(),
            code_len: Default::default(),
            escape_bad: Default::default(),
            zeros: Default::default(),
            escape: Default::default(),
            skip: Default::default(),
            tail: Default::default(),
            remainder: Default::default(),
            k_mask: Default::default(),
            quotient: Default::default(),
            payload: Default::default(),
            zero_run: std::array::from_fn(|i| Constant::new((i as u64).into())),
            one: Constant::new(1.into()),
            ones: Constant::new(((1u64 << U_BITS) - 1).into()),
            payload_mask: Constant::new(((1u64 << shape.escape_bits()) - 1).into()),
            escape_len: Constant::new((shape.max_code_bits() as u64).into()),
            q_esc: Constant::new((Q_ESC as u64).into()),
        }
    }
}

impl Logic for CompactRice {
    #[hdl_gen]
    fn update(&mut self) {
        // Zeros before the first one, Q_ESC if the first Q_ESC bits hold none; scanning from the
        // top lets the lowest one win.
        self.zeros.next = self.zero_run[12].val();
        for i in 0..12 {
            if self.window.val().get_bit(11 - i) {
                self.zeros.next = self.zero_run[11 - i].val();
            }
        }
        self.escape.next = self.zeros.val() == self.zero_run[12].val();
        self.skip.next = self.zeros.val() + self.one.val();
        self.tail.next = self.window.val() >> self.skip.val();
        self.k_mask.next = !(self.ones.val() << self.k.val());
        self.remainder.next = bit_cast::<U_BITS, CODE_WINDOW>(self.tail.val()) & self.k_mask.val();
        self.quotient.next = bit_cast::<U_BITS, 4>(self.zeros.val()) << self.k.val();
        self.payload.next =
            bit_cast::<U_BITS, CODE_WINDOW>(self.window.val() >> self.zero_run[12].val())
                & self.payload_mask.val();
        if self.escape.val() {
            self.value.next = self.payload.val();
            self.code_len.next = self.escape_len.val();
            // u >> k < Q_ESC  <=>  u < Q_ESC * 2^k
            self.escape_bad.next = self.payload.val() < (self.q_esc.val() << self.k.val());
        } else {
            self.value.next = self.quotient.val() | self.remainder.val();
            self.code_len.next = bit_cast::<5, 4>(self.skip.val()) + bit_cast::<5, 4>(self.k.val());
            self.escape_bad.next = false;
        }
    }
}
