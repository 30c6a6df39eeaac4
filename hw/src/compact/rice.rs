//! One Rice-coded residual (FORMAT.md section 4.2) of a compact lane from a window of
//! `Q_ESC + E` bits: [`CompactZeros`], the leading-one detector over the first `Q_ESC` bits (the
//! lane's pointer loop), and [`CompactRice`], which takes that count one pipeline stage later: a
//! narrow shifter for the remainder (k <= 8), the escape payload at its fixed offset, and the
//! escape check.

use super::shape::CompactShape;
use lc_format::Q_ESC;

const _: () = assert!(
    Q_ESC == 12 && ZERO_WINDOW == 12,
    "the escape check is written for Q_ESC = 0b1100"
);
use rust_hdl::prelude::*;

/// Width of the window: `Q_ESC + E` for E <= 9.
pub const CODE_WINDOW: usize = 21;
/// Width of the leading-one detector's window: `Q_ESC`.
pub const ZERO_WINDOW: usize = 12;
/// Width of a decoded zigzag value: a regular code holds `u < Q_ESC * 2^8`.
pub const U_BITS: usize = 12;

/// The step length that the leading-one count decides, without a multiplexer after the count:
/// the zero bits before the first one of a code's window, `none` when its first `Q_ESC` bits
/// hold none (an escape).
#[derive(LogicBlock)]
pub struct CompactZeros {
    /// The next `Q_ESC` bits of the stream, LSB first.
    pub window: Signal<In, Bits<ZERO_WINDOW>>,
    /// The count of a window without a one.
    pub none: Signal<In, Bits<6>>,
    /// Zero bits before the terminating one, or `none`.
    pub count: Signal<Out, Bits<6>>,
    /// The window holds no one: the code is an escape.
    pub escape: Signal<Out, Bit>,
    zero_run: [Constant<Bits<6>>; Q_ESC as usize],
    zero_window: Constant<Bits<ZERO_WINDOW>>,
}

impl Default for CompactZeros {
    fn default() -> Self {
        Self {
            window: Default::default(),
            none: Default::default(),
            count: Default::default(),
            escape: Default::default(),
            zero_run: std::array::from_fn(|i| Constant::new((i as u64).into())),
            zero_window: Constant::new(0.into()),
        }
    }
}

impl Logic for CompactZeros {
    #[hdl_gen]
    fn update(&mut self) {
        // Scanning from the top lets the lowest one win.
        self.count.next = self.none.val();
        for i in 0..12 {
            if self.window.val().get_bit(11 - i) {
                self.count.next = self.zero_run[11 - i].val();
            }
        }
        self.escape.next = self.window.val() == self.zero_window.val();
    }
}

/// Decodes the residual code that starts at bit 0 of `window`, given its zero count from
/// [`CompactZeros`]. Bits past the end of the stream may hold anything: the caller compares the
/// code's length (`zeros + 1 + k`, or `Q_ESC + E` for an escape) with the bits that are really
/// there.
#[derive(LogicBlock)]
pub struct CompactRice {
    /// The next bits of the stream, LSB first.
    pub window: Signal<In, Bits<CODE_WINDOW>>,
    /// Rice parameter k of the segment (values above B are rejected by the caller).
    pub k: Signal<In, Bits<4>>,
    /// Zero bits before the terminating one, as [`CompactZeros`] counts them.
    pub zeros: Signal<In, Bits<4>>,
    /// The zigzag-mapped residual u.
    pub value: Signal<Out, Bits<U_BITS>>,
    /// The code is an escape whose payload has a regular code (stream error).
    pub escape_bad: Signal<Out, Bit>,
    /// The code is an escape (`Q_ESC` zeros, then the payload).
    pub escape: Signal<Out, Bit>,

    after_one: Signal<Local, Bits<CODE_WINDOW>>,
    t8: Signal<Local, Bits<15>>,
    t4: Signal<Local, Bits<11>>,
    t2: Signal<Local, Bits<9>>,
    tail: Signal<Local, Bits<8>>,
    remainder: Signal<Local, Bits<8>>,
    k_mask: Signal<Local, Bits<8>>,
    quotient: Signal<Local, Bits<U_BITS>>,
    payload: Signal<Local, Bits<U_BITS>>,
    q_esc: Constant<Bits<4>>,
    one: Constant<Bits<4>>,
    c8: Constant<Bits<4>>,
    c4: Constant<Bits<4>>,
    c2: Constant<Bits<4>>,
    ones: Constant<Bits<8>>,
    payload_mask: Constant<Bits<U_BITS>>,
    k_values: [Constant<Bits<4>>; 9],
    high_bits: [Constant<Bits<U_BITS>>; 9],
    pair_bits: [Constant<Bits<U_BITS>>; 9],
    zero_u: Constant<Bits<U_BITS>>,
}

impl CompactRice {
    /// The decoder of lanes of `shape`.
    pub fn new(shape: &CompactShape) -> Self {
        Self {
            window: Default::default(),
            k: Default::default(),
            zeros: Default::default(),
            value: Default::default(),
            escape_bad: Default::default(),
            escape: Default::default(),
            after_one: Default::default(),
            t8: Default::default(),
            t4: Default::default(),
            t2: Default::default(),
            tail: Default::default(),
            remainder: Default::default(),
            k_mask: Default::default(),
            quotient: Default::default(),
            payload: Default::default(),
            q_esc: Constant::new((Q_ESC as u64).into()),
            one: Constant::new(1.into()),
            c8: Constant::new(8.into()),
            c4: Constant::new(4.into()),
            c2: Constant::new(2.into()),
            ones: Constant::new(0xff.into()),
            payload_mask: Constant::new(((1u64 << shape.escape_bits()) - 1).into()),
            k_values: std::array::from_fn(|k| Constant::new((k as u64).into())),
            high_bits: std::array::from_fn(|k| {
                Constant::new((((1u64 << U_BITS) - 1) & !((1u64 << (k + 4)) - 1)).into())
            }),
            pair_bits: std::array::from_fn(|k| Constant::new((3u64 << (k + 2)).into())),
            zero_u: Constant::new(0.into()),
        }
    }
}

impl Logic for CompactRice {
    #[hdl_gen]
    fn update(&mut self) {
        self.escape.next = self.zeros.val() == self.q_esc.val();
        // The remainder follows the terminating one; k <= 8 for every stream the lane accepts
        // (a larger k is rejected with the segment header), so 8 remainder bits suffice.
        // The eight bits after the terminating one, shifted by the zero count largest stage
        // first so that each stage is only as wide as the stages after it need.
        self.after_one.next = self.window.val() >> self.one.val();
        self.t8.next = bit_cast::<15, CODE_WINDOW>(self.after_one.val());
        if self.zeros.val().get_bit(3) {
            self.t8.next = bit_cast::<15, CODE_WINDOW>(self.after_one.val() >> self.c8.val());
        }
        self.t4.next = bit_cast::<11, 15>(self.t8.val());
        if self.zeros.val().get_bit(2) {
            self.t4.next = bit_cast::<11, 15>(self.t8.val() >> self.c4.val());
        }
        self.t2.next = bit_cast::<9, 11>(self.t4.val());
        if self.zeros.val().get_bit(1) {
            self.t2.next = bit_cast::<9, 11>(self.t4.val() >> self.c2.val());
        }
        self.tail.next = bit_cast::<8, 9>(self.t2.val());
        if self.zeros.val().get_bit(0) {
            self.tail.next = bit_cast::<8, 9>(self.t2.val() >> self.one.val());
        }
        self.k_mask.next = !(self.ones.val() << self.k.val());
        self.remainder.next = self.tail.val() & self.k_mask.val();
        self.quotient.next = bit_cast::<U_BITS, 4>(self.zeros.val()) << self.k.val();
        self.payload.next = bit_cast::<U_BITS, CODE_WINDOW>(self.window.val() >> self.q_esc.val())
            & self.payload_mask.val();
        if self.escape.val() {
            self.value.next = self.payload.val();
            // u >> k >= Q_ESC (= 12 = 0b1100) for the k of the segment, as bit logic without a
            // carry chain: some bit from k + 4 up is set, or bits k + 3 and k + 2 both are.
            self.escape_bad.next = true;
            for i in 0..9 {
                if (self.k.val() == self.k_values[i].val())
                    & (((self.payload.val() & self.high_bits[i].val()) != self.zero_u.val())
                        | ((self.payload.val() & self.pair_bits[i].val())
                            == self.pair_bits[i].val()))
                {
                    self.escape_bad.next = false;
                }
            }
        } else {
            self.value.next = self.quotient.val() | bit_cast::<U_BITS, 8>(self.remainder.val());
            self.escape_bad.next = false;
        }
    }
}
