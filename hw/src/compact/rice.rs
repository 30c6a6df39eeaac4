//! One Rice-coded residual (FORMAT.md section 4.2) of a compact lane from a window of
//! `Q_ESC + E` bits: [`CompactZeros`], the leading-one detector over the first `Q_ESC` bits (the
//! lane's pointer loop), and [`CompactRice`], which takes that count one pipeline stage later: a
//! narrow shifter for the remainder (k <= 8), the escape payload at its fixed offset, and the
//! escape check.

use super::shape::CompactShape;
use lc_format::Q_ESC;

const _: () = assert!(
    Q_ESC == 12 && ZERO_WINDOW == Q_ESC as usize + 3,
    "the escape check is written for Q_ESC = 0b1100"
);
use rust_hdl::prelude::*;

/// Width of the window: `Q_ESC + E` for E <= 9.
pub const CODE_WINDOW: usize = 21;
/// Width of the leading-one detector's window: `Q_ESC` bits from any of four starting bits.
pub const ZERO_WINDOW: usize = 15;
/// Width of a decoded zigzag value: a regular code holds `u < Q_ESC * 2^8`.
pub const U_BITS: usize = 12;

/// The step length that the leading-one count decides, without a multiplexer after the count.
///
/// The window starts at the lane's pointer rounded down to a multiple of four, so the funnel in
/// front of it needs only the pointer's high bits; the code starts `fine` bits in. The count is
/// the position (from bit 0 of the window) of the code's terminating one, the first one in bits
/// `fine .. fine + Q_ESC`, or `none` when those bits hold none (an escape). A segment header
/// (`head`) counts as a one at `fine`. The zero count of the code itself, `run = count - fine`,
/// comes out beside it for the value decode (it is not on the pointer's path).
///
/// `wraps` says whether the step leaves the current memory word, from the same masked bits as the
/// count but without the count's encoder and adder: the first one lies past the positions of
/// `stay` (those whose step ends inside the word, a run from bit 0), or there is none and an
/// escape wraps (`none_wraps`).
#[derive(LogicBlock)]
pub struct CompactZeros {
    /// The stream from the pointer rounded down to a multiple of 4, LSB first.
    pub window: Signal<In, Bits<ZERO_WINDOW>>,
    /// The pointer's two low bits: the code starts at this bit of `window`.
    pub fine: Signal<In, Bits<2>>,
    /// A segment header: count `fine`, as if its first bit were a one.
    pub head: Signal<In, Bit>,
    /// The count of a window without a one.
    pub none: Signal<In, Bits<5>>,
    /// The positions of the terminating one after which the next pointer stays in the word.
    pub stay: Signal<In, Bits<ZERO_WINDOW>>,
    /// An escape step leaves the word.
    pub none_wraps: Signal<In, Bit>,
    /// The step leaves the word.
    pub wraps: Signal<Out, Bit>,
    /// Position of the terminating one in `window`, or `none`.
    pub count: Signal<Out, Bits<5>>,
    /// Zero bits before the terminating one (`count - fine`; meaningless for an escape).
    pub run: Signal<Out, Bits<4>>,
    /// The window holds no one: the code is an escape.
    pub escape: Signal<Out, Bit>,
    bits: Signal<Local, Bits<ZERO_WINDOW>>,
    live: Signal<Local, Bits<ZERO_WINDOW>>,
    position: [Constant<Bits<5>>; ZERO_WINDOW],
    code_bits: [Constant<Bits<ZERO_WINDOW>>; 4],
    head_bits: Constant<Bits<ZERO_WINDOW>>,
    zero_window: Constant<Bits<ZERO_WINDOW>>,
}

impl Default for CompactZeros {
    fn default() -> Self {
        let code = (1u64 << Q_ESC) - 1;
        Self {
            window: Default::default(),
            fine: Default::default(),
            head: Default::default(),
            none: Default::default(),
            stay: Default::default(),
            none_wraps: Default::default(),
            wraps: Default::default(),
            count: Default::default(),
            run: Default::default(),
            escape: Default::default(),
            bits: Default::default(),
            live: Default::default(),
            position: std::array::from_fn(|i| Constant::new((i as u64).into())),
            code_bits: std::array::from_fn(|f| Constant::new((code << f).into())),
            head_bits: Constant::new(0xf.into()),
            zero_window: Constant::new(0.into()),
        }
    }
}

impl Logic for CompactZeros {
    #[hdl_gen]
    fn update(&mut self) {
        // Only the code's first Q_ESC bits count: bits below `fine` and from `fine + Q_ESC` on
        // are masked.
        self.bits.next = self.window.val();
        if self.head.val() {
            self.bits.next = self.window.val() | self.head_bits.val();
        }
        self.live.next = self.bits.val() & self.code_bits[0].val();
        for f in 1..4 {
            if self.fine.val().index() == f {
                self.live.next = self.bits.val() & self.code_bits[f].val();
            }
        }
        // Scanning from the top lets the lowest one win.
        self.count.next = self.none.val();
        for i in 0..15 {
            if self.live.val().get_bit(14 - i) {
                self.count.next = self.position[14 - i].val();
            }
        }
        self.run.next = bit_cast::<4, 5>(self.count.val() - bit_cast::<5, 2>(self.fine.val()));
        self.escape.next = self.live.val() == self.zero_window.val();
        self.wraps.next = ((self.live.val() & self.stay.val()) == self.zero_window.val())
            & (!self.escape.val() | self.none_wraps.val());
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
