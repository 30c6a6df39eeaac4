//! One Rice-coded residual (FORMAT.md section 4.2) of a compact lane from a window of
//! `Q_ESC + E` bits: [`CompactZeros`], the leading-one detector over the first `Q_ESC` bits (the
//! lane's pointer loop, with the next pointer), and [`CompactRice`], which takes the zero count
//! one pipeline stage later: a
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

/// The next pointer that the leading-one count decides, without an adder after the count.
///
/// The window starts at the lane's pointer rounded down to a multiple of four, so the funnel in
/// front of it needs only the pointer's high bits; the code starts `fine` bits in. The count is
/// the position (from bit 0 of the window) of the code's terminating one, the first one in bits
/// `fine .. fine + Q_ESC`; those bits hold none for an escape. A segment header (`head`) counts
/// as a one at `fine`. The next pointer is `base + count`, or `esc_next` for an escape. The
/// count is found in groups of four bits, and each group adds its candidate to `base` itself:
/// the candidate's two low bits to `base`'s, the carry picking `base / 4 + g` or `+ g + 1`
/// (sums taken beside the window), so no carry chain follows the detector. The count comes out
/// beside it for the value decode (the code's zero count is `count - fine`).
#[derive(LogicBlock)]
pub struct CompactZeros {
    /// The stream from the pointer rounded down to a multiple of 4, LSB first.
    pub window: Signal<In, Bits<ZERO_WINDOW>>,
    /// The pointer's two low bits: the code starts at this bit of `window`.
    pub fine: Signal<In, Bits<2>>,
    /// A segment header: count `fine`, as if its first bit were a one.
    pub head: Signal<In, Bit>,
    /// The pointer rounded down to a multiple of 4 plus the step's fixed length.
    pub base: Signal<In, Bits<6>>,
    /// The next pointer after an escape.
    pub esc_next: Signal<In, Bits<6>>,
    /// `base` plus the position of the terminating one in `window`, or `esc_next`.
    pub next_ptr: Signal<Out, Bits<6>>,
    /// Position of the terminating one in `window` (meaningless for an escape).
    pub count: Signal<Out, Bits<4>>,
    /// The window holds no one: the code is an escape.
    pub escape: Signal<Out, Bit>,
    bits: Signal<Local, Bits<ZERO_WINDOW>>,
    live: Signal<Local, Bits<ZERO_WINDOW>>,
    live16: Signal<Local, Bits<16>>,
    nibble: [Signal<Local, Bits<4>>; 4],
    low: [Signal<Local, Bits<6>>; 4],
    position: Signal<Local, Bits<6>>,
    base_high: Signal<Local, Bits<6>>,
    high: [Signal<Local, Bits<6>>; 5],
    low_sum: [Signal<Local, Bits<6>>; 4],
    candidate: [Signal<Local, Bits<6>>; 4],
    high_step: [Constant<Bits<6>>; 5],
    two: Constant<Bits<6>>,
    one: Constant<Bits<6>>,
    zero6: Constant<Bits<6>>,
    group: [Constant<Bits<6>>; 4],
    in_nibble: [Constant<Bits<6>>; 4],
    zero4: Constant<Bits<4>>,
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
            base: Default::default(),
            esc_next: Default::default(),
            next_ptr: Default::default(),
            position: Default::default(),
            base_high: Default::default(),
            high: Default::default(),
            low_sum: Default::default(),
            candidate: Default::default(),
            high_step: std::array::from_fn(|j| Constant::new((j as u64).into())),
            two: Constant::new(2.into()),
            one: Constant::new(1.into()),
            zero6: Constant::new(0.into()),
            count: Default::default(),
            escape: Default::default(),
            bits: Default::default(),
            live: Default::default(),
            live16: Default::default(),
            nibble: Default::default(),
            low: Default::default(),
            group: std::array::from_fn(|g| Constant::new((4 * g as u64).into())),
            in_nibble: std::array::from_fn(|i| Constant::new((i as u64).into())),
            zero4: Constant::new(0.into()),
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
        // The lowest one in groups of four: each group's own position of its lowest one, then
        // the lowest group that holds a one (scanned from the top, so the lowest wins) picks.
        self.live16.next = bit_cast::<16, ZERO_WINDOW>(self.live.val());
        for g in 0..4 {
            self.nibble[g].next = self.live16.val().get_bits::<4>(4 * g);
            self.low[g].next = self.in_nibble[3].val();
            for i in 0..3 {
                if self.nibble[g].val().get_bit(2 - i) {
                    self.low[g].next = self.in_nibble[2 - i].val();
                }
            }
        }
        // base / 4 + j for each group j and its carry, and each group's candidate next pointer.
        self.base_high.next = self.base.val() >> self.two.val();
        for j in 0..5 {
            self.high[j].next = self.base_high.val() + self.high_step[j].val();
        }
        // The two low bits of base + low as bit logic (an adder would become a carry chain).
        for g in 0..4 {
            self.low_sum[g].next = self.zero6.val();
            if self.base.val().get_bit(0) ^ self.low[g].val().get_bit(0) {
                self.low_sum[g].next = self.one.val();
            }
            if self.base.val().get_bit(1)
                ^ self.low[g].val().get_bit(1)
                ^ (self.base.val().get_bit(0) & self.low[g].val().get_bit(0))
            {
                self.low_sum[g].next = self.low_sum[g].val() | self.two.val();
            }
            self.candidate[g].next = (self.high[g].val() << self.two.val()) | self.low_sum[g].val();
            if (self.base.val().get_bit(1) & self.low[g].val().get_bit(1))
                | ((self.base.val().get_bit(1) | self.low[g].val().get_bit(1))
                    & self.base.val().get_bit(0)
                    & self.low[g].val().get_bit(0))
            {
                self.candidate[g].next =
                    (self.high[g + 1].val() << self.two.val()) | self.low_sum[g].val();
            }
        }
        self.position.next = self.zero6.val();
        self.next_ptr.next = self.esc_next.val();
        for g in 0..4 {
            if self.nibble[3 - g].val() != self.zero4.val() {
                self.position.next = self.group[3 - g].val() | self.low[3 - g].val();
                self.next_ptr.next = self.candidate[3 - g].val();
            }
        }
        self.count.next = bit_cast::<4, 6>(self.position.val());
        self.escape.next = self.live.val() == self.zero_window.val();
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
    /// The code is an escape (`Q_ESC` zeros, then the payload), as [`CompactZeros`] found it.
    pub escape: Signal<In, Bit>,

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
