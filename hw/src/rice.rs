//! Combinational decoder of one Rice-coded residual (FORMAT.md section 4.2) from a 32-bit look-ahead
//! window: a leading-one detector over the first `Q_ESC` bits, a barrel shifter for the remainder
//! and the escape check. Any legal code (at most 29 bits) decodes in one step.

use crate::config::{format, ACC_BITS};
use rust_hdl::prelude::*;

/// Width of the look-ahead window.
pub const WINDOW_BITS: usize = 32;

/// Decodes the residual code that starts at bit 0 of `window`.
///
/// Bits of the window past the end of the stream must be zero; the decoder then reports a
/// `code_len` larger than the bits available, which the caller treats as truncation.
#[derive(LogicBlock)]
pub struct RiceDecoder {
    /// The next bits of the stream, LSB first.
    pub window: Signal<In, Bits<WINDOW_BITS>>,
    /// Rice parameter k of the segment.
    pub k: Signal<In, Bits<8>>,
    /// Escape payload width E.
    pub esc_bits: Signal<In, Bits<8>>,
    /// `2^E - 1`.
    pub esc_mask: Signal<In, Bits<ACC_BITS>>,
    /// The zigzag-mapped residual u.
    pub value: Signal<Out, Bits<ACC_BITS>>,
    /// Length of the code in bits.
    pub code_len: Signal<Out, Bits<8>>,
    /// The code is an escape whose payload has a regular code (stream error).
    pub escape_bad: Signal<Out, Bit>,

    zeros: Signal<Local, Bits<4>>,
    skip: Signal<Local, Bits<4>>,
    k4: Signal<Local, Bits<4>>,
    escape: Signal<Local, Bit>,
    remainder: Signal<Local, Bits<WINDOW_BITS>>,
    k_mask: Signal<Local, Bits<WINDOW_BITS>>,
    payload_mask: Signal<Local, Bits<WINDOW_BITS>>,
    payload: Signal<Local, Bits<WINDOW_BITS>>,
    quotient: Signal<Local, Bits<WINDOW_BITS>>,
    regular: Signal<Local, Bits<WINDOW_BITS>>,
    zero_run: [Constant<Bits<4>>; format::Q_ESC as usize + 1],
    one4: Constant<Bits<4>>,
    one32: Constant<Bits<WINDOW_BITS>>,
    q_esc32: Constant<Bits<WINDOW_BITS>>,
}

impl Default for RiceDecoder {
    fn default() -> Self {
        Self {
            window: Default::default(),
            k: Default::default(),
            esc_bits: Default::default(),
            esc_mask: Default::default(),
            value: Default::default(),
            code_len: Default::default(),
            escape_bad: Default::default(),
            zeros: Default::default(),
            skip: Default::default(),
            k4: Default::default(),
            escape: Default::default(),
            remainder: Default::default(),
            k_mask: Default::default(),
            payload_mask: Default::default(),
            payload: Default::default(),
            quotient: Default::default(),
            regular: Default::default(),
            zero_run: std::array::from_fn(|i| Constant::new((i as u64).into())),
            one4: Constant::new(1.into()),
            one32: Constant::new(1.into()),
            q_esc32: Constant::new(format::Q_ESC.into()),
        }
    }
}

impl Logic for RiceDecoder {
    #[hdl_gen]
    fn update(&mut self) {
        // Leading-one detector: number of zeros before the first one, Q_ESC if there is none in the
        // first Q_ESC bits. Scanning from the top lets the lowest one win.
        self.zeros.next = self.zero_run[12].val();
        for i in 0..12 {
            if self.window.val().get_bit(11 - i) {
                self.zeros.next = self.zero_run[11 - i].val();
            }
        }
        self.escape.next = self.zeros.val() == self.zero_run[12].val();
        // k is a 4-bit field; the zigzag value of any code is below 2^20, an escape below 2^17.
        self.k4.next = bit_cast::<4, 8>(self.k.val());
        self.k_mask.next = (self.one32.val() << self.k4.val()) - self.one32.val();
        self.payload_mask.next = bit_cast::<WINDOW_BITS, ACC_BITS>(self.esc_mask.val());
        // Regular code: zeros, a one, then k remainder bits.
        self.skip.next = self.zeros.val() + self.one4.val();
        self.remainder.next = (self.window.val() >> self.skip.val()) & self.k_mask.val();
        // Escape: Q_ESC zeros, then an E-bit payload.
        self.payload.next =
            (self.window.val() >> self.zero_run[12].val()) & self.payload_mask.val();
        self.quotient.next = self.payload.val() >> self.k4.val();
        self.regular.next =
            (bit_cast::<WINDOW_BITS, 4>(self.zeros.val()) << self.k4.val()) | self.remainder.val();
        if self.escape.val() {
            self.value.next = bit_cast::<ACC_BITS, WINDOW_BITS>(self.payload.val());
            self.code_len.next = bit_cast::<8, 4>(self.zero_run[12].val()) + self.esc_bits.val();
            self.escape_bad.next = self.quotient.val() < self.q_esc32.val();
        } else {
            self.value.next = bit_cast::<ACC_BITS, WINDOW_BITS>(self.regular.val());
            self.code_len.next = bit_cast::<8, 4>(self.skip.val()) + self.k.val();
            self.escape_bad.next = false;
        }
    }
}
