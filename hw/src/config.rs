//! Layer configuration: latches the layer parameters on `start` and precomputes every derived
//! constant (field offsets, masks, sign bits, saturation bounds, look-ahead needs) so that the lane
//! datapath reads them from flip-flops. One instance serves all lanes of a layer.

use rust_hdl::prelude::*;

/// Width of the arithmetic datapath: every intermediate of FORMAT.md section 4.1 fits 40 bits.
pub const ACC_BITS: usize = 40;
/// Width of the memory word interface.
pub const WORD_BITS: usize = 64;
/// Width of the weight output port (B <= 16, sign-extended).
pub const WEIGHT_BITS: usize = 16;
/// Width of the per-lane `length_bits` port.
pub const LENGTH_BITS: usize = 40;
/// Width of the per-lane `count` port.
pub const COUNT_BITS: usize = 32;

/// Constants of the format that the hardware depends on.
pub mod format {
    /// Width of the Rice parameter field.
    pub const K_BITS: u64 = 4;
    /// Number of leading zeros that announces an escape.
    pub const Q_ESC: u64 = 12;
}

/// Latches the layer parameters and derives the per-layer constants of the lane datapath.
///
/// Inputs are sampled on the rising clock edge where `start` is high; the derived outputs are valid
/// from the following cycle until the next `start`.
#[derive(LogicBlock)]
pub struct LayerConfig {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Latch the `cfg_*` inputs.
    pub start: Signal<In, Bit>,
    /// Value width B (4..=16).
    pub cfg_bits: Signal<In, Bits<5>>,
    /// Residual mode: 0 = lines, 1 = rice.
    pub cfg_mode: Signal<In, Bit>,
    /// Fractional bits F of the slope (1..=16).
    pub cfg_frac_bits: Signal<In, Bits<5>>,
    /// Width LB of the segment length field (0..=12).
    pub cfg_len_bits: Signal<In, Bits<4>>,
    /// Width MB of the slope field (0..=16).
    pub cfg_slope_bits: Signal<In, Bits<5>>,
    /// Residual shift r (0 in lines mode, 0..=B-1 in rice mode).
    pub cfg_shift: Signal<In, Bits<4>>,

    /// The latched parameters are inside the ranges of the format.
    pub lp_ok: Signal<Out, Bit>,
    /// Rice mode.
    pub lp_rice: Signal<Out, Bit>,
    /// B.
    pub lp_bits: Signal<Out, Bits<8>>,
    /// F.
    pub lp_frac: Signal<Out, Bits<8>>,
    /// r.
    pub lp_shift: Signal<Out, Bits<8>>,
    /// Offset of the start value in a segment header (= LB).
    pub lp_off_start: Signal<Out, Bits<8>>,
    /// Offset of the slope in a segment header (= LB + B).
    pub lp_off_slope: Signal<Out, Bits<8>>,
    /// Offset of the Rice parameter in a segment header (= LB + B + MB).
    pub lp_off_rice_k: Signal<Out, Bits<8>>,
    /// Header width H.
    pub lp_hdr_bits: Signal<Out, Bits<8>>,
    /// Escape payload width E = B + 1.
    pub lp_esc_bits: Signal<Out, Bits<8>>,
    /// Look-ahead needed to start a segment (H plus the longest residual code in rice mode).
    pub lp_need_new: Signal<Out, Bits<8>>,
    /// Look-ahead needed inside a segment (the longest residual code, 0 in lines mode).
    pub lp_need_cont: Signal<Out, Bits<8>>,
    /// `2^LB - 1`.
    pub lp_len_mask: Signal<Out, Bits<16>>,
    /// `2^B - 1`.
    pub lp_val_mask: Signal<Out, Bits<ACC_BITS>>,
    /// `2^(B-1)`.
    pub lp_val_sign: Signal<Out, Bits<ACC_BITS>>,
    /// `2^MB - 1`.
    pub lp_slope_mask: Signal<Out, Bits<ACC_BITS>>,
    /// `2^(MB-1)`, or 0 when MB = 0.
    pub lp_slope_sign: Signal<Out, Bits<ACC_BITS>>,
    /// `2^E - 1`.
    pub lp_esc_mask: Signal<Out, Bits<ACC_BITS>>,
    /// `2^(F-1)`, the rounding offset of `acc_0`.
    pub lp_half: Signal<Out, Bits<ACC_BITS>>,
    /// The bits an arithmetic right shift by F fills with the sign.
    pub lp_sign_fill: Signal<Out, Bits<ACC_BITS>>,
    /// `2^(B-1) - 1` (two's complement, 40 bits).
    pub lp_max: Signal<Out, Bits<ACC_BITS>>,
    /// `-2^(B-1)` (two's complement, 40 bits).
    pub lp_min: Signal<Out, Bits<ACC_BITS>>,

    ok: DFF<Bit>,
    rice: DFF<Bit>,
    bits: DFF<Bits<8>>,
    frac: DFF<Bits<8>>,
    shift: DFF<Bits<8>>,
    off_start: DFF<Bits<8>>,
    off_slope: DFF<Bits<8>>,
    off_rice_k: DFF<Bits<8>>,
    hdr_bits: DFF<Bits<8>>,
    esc_bits: DFF<Bits<8>>,
    need_new: DFF<Bits<8>>,
    need_cont: DFF<Bits<8>>,
    len_mask: DFF<Bits<16>>,
    val_mask: DFF<Bits<ACC_BITS>>,
    val_sign: DFF<Bits<ACC_BITS>>,
    slope_mask: DFF<Bits<ACC_BITS>>,
    slope_sign: DFF<Bits<ACC_BITS>>,
    esc_mask: DFF<Bits<ACC_BITS>>,
    half: DFF<Bits<ACC_BITS>>,
    sign_fill: DFF<Bits<ACC_BITS>>,
    max: DFF<Bits<ACC_BITS>>,
    min: DFF<Bits<ACC_BITS>>,

    in_b: Signal<Local, Bits<8>>,
    in_f: Signal<Local, Bits<8>>,
    in_lb: Signal<Local, Bits<8>>,
    in_mb: Signal<Local, Bits<8>>,
    in_r: Signal<Local, Bits<8>>,
    in_k: Signal<Local, Bits<8>>,
    in_cont: Signal<Local, Bits<8>>,
    in_sign: Signal<Local, Bits<ACC_BITS>>,

    one8: Constant<Bits<8>>,
    one16: Constant<Bits<16>>,
    one40: Constant<Bits<ACC_BITS>>,
    ones40: Constant<Bits<ACC_BITS>>,
    zero40: Constant<Bits<ACC_BITS>>,
    zero8: Constant<Bits<8>>,
    k_bits: Constant<Bits<8>>,
    code_max: Constant<Bits<8>>,
    min_bits: Constant<Bits<8>>,
    max_bits: Constant<Bits<8>>,
    max_len_bits: Constant<Bits<8>>,
}

impl Default for LayerConfig {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            start: Default::default(),
            cfg_bits: Default::default(),
            cfg_mode: Default::default(),
            cfg_frac_bits: Default::default(),
            cfg_len_bits: Default::default(),
            cfg_slope_bits: Default::default(),
            cfg_shift: Default::default(),
            lp_ok: Default::default(),
            lp_rice: Default::default(),
            lp_bits: Default::default(),
            lp_frac: Default::default(),
            lp_shift: Default::default(),
            lp_off_start: Default::default(),
            lp_off_slope: Default::default(),
            lp_off_rice_k: Default::default(),
            lp_hdr_bits: Default::default(),
            lp_esc_bits: Default::default(),
            lp_need_new: Default::default(),
            lp_need_cont: Default::default(),
            lp_len_mask: Default::default(),
            lp_val_mask: Default::default(),
            lp_val_sign: Default::default(),
            lp_slope_mask: Default::default(),
            lp_slope_sign: Default::default(),
            lp_esc_mask: Default::default(),
            lp_half: Default::default(),
            lp_sign_fill: Default::default(),
            lp_max: Default::default(),
            lp_min: Default::default(),
            ok: Default::default(),
            rice: Default::default(),
            bits: Default::default(),
            frac: Default::default(),
            shift: Default::default(),
            off_start: Default::default(),
            off_slope: Default::default(),
            off_rice_k: Default::default(),
            hdr_bits: Default::default(),
            esc_bits: Default::default(),
            need_new: Default::default(),
            need_cont: Default::default(),
            len_mask: Default::default(),
            val_mask: Default::default(),
            val_sign: Default::default(),
            slope_mask: Default::default(),
            slope_sign: Default::default(),
            esc_mask: Default::default(),
            half: Default::default(),
            sign_fill: Default::default(),
            max: Default::default(),
            min: Default::default(),
            in_b: Default::default(),
            in_f: Default::default(),
            in_lb: Default::default(),
            in_mb: Default::default(),
            in_r: Default::default(),
            in_k: Default::default(),
            in_cont: Default::default(),
            in_sign: Default::default(),
            one8: Constant::new(1.into()),
            one16: Constant::new(1.into()),
            one40: Constant::new(1.into()),
            ones40: Constant::new(Bits::<ACC_BITS>::mask()),
            zero40: Constant::new(0.into()),
            zero8: Constant::new(0.into()),
            k_bits: Constant::new(format::K_BITS.into()),
            // Longest regular or escape code beyond E: Q_ESC zeros plus the terminating one.
            code_max: Constant::new(format::Q_ESC.into()),
            min_bits: Constant::new(4.into()),
            max_bits: Constant::new(16.into()),
            max_len_bits: Constant::new(12.into()),
        }
    }
}

impl Logic for LayerConfig {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, ok, rice, bits, frac, shift, off_start, off_slope, off_rice_k, hdr_bits,
            esc_bits, need_new, need_cont, len_mask, val_mask, val_sign, slope_mask, slope_sign,
            esc_mask, half, sign_fill, max, min
        );
        // Widen the raw parameters once.
        self.in_b.next = bit_cast::<8, 5>(self.cfg_bits.val());
        self.in_f.next = bit_cast::<8, 5>(self.cfg_frac_bits.val());
        self.in_lb.next = bit_cast::<8, 4>(self.cfg_len_bits.val());
        self.in_mb.next = bit_cast::<8, 5>(self.cfg_slope_bits.val());
        self.in_r.next = bit_cast::<8, 4>(self.cfg_shift.val());
        self.in_k.next = self.zero8.val();
        self.in_cont.next = self.zero8.val();
        if self.cfg_mode.val() {
            self.in_k.next = self.k_bits.val();
            // Longest residual code: Q_ESC zeros plus an E = B + 1 bit payload.
            self.in_cont.next = self.code_max.val() + self.in_b.val() + self.one8.val();
        }
        self.in_sign.next = self.one40.val() << (self.in_b.val() - self.one8.val());

        if self.start.val() {
            self.ok.d.next = (self.in_b.val() >= self.min_bits.val())
                && (self.in_b.val() <= self.max_bits.val())
                && (self.in_f.val() >= self.one8.val())
                && (self.in_f.val() <= self.max_bits.val())
                && (self.in_lb.val() <= self.max_len_bits.val())
                && (self.in_mb.val() <= self.max_bits.val())
                && ((self.cfg_mode.val() && (self.in_r.val() < self.in_b.val()))
                    || (!self.cfg_mode.val() && (self.in_r.val() == self.zero8.val())));
            self.rice.d.next = self.cfg_mode.val();
            self.bits.d.next = self.in_b.val();
            self.frac.d.next = self.in_f.val();
            self.shift.d.next = self.in_r.val();
            self.off_start.d.next = self.in_lb.val();
            self.off_slope.d.next = self.in_lb.val() + self.in_b.val();
            self.off_rice_k.d.next = self.in_lb.val() + self.in_b.val() + self.in_mb.val();
            self.hdr_bits.d.next =
                self.in_lb.val() + self.in_b.val() + self.in_mb.val() + self.in_k.val();
            self.esc_bits.d.next = self.in_b.val() + self.one8.val();
            self.need_new.d.next = self.in_lb.val()
                + self.in_b.val()
                + self.in_mb.val()
                + self.in_k.val()
                + self.in_cont.val();
            self.need_cont.d.next = self.in_cont.val();
            self.len_mask.d.next = (self.one16.val() << self.in_lb.val()) - self.one16.val();
            self.val_mask.d.next = (self.one40.val() << self.in_b.val()) - self.one40.val();
            self.val_sign.d.next = self.in_sign.val();
            self.slope_mask.d.next = (self.one40.val() << self.in_mb.val()) - self.one40.val();
            self.slope_sign.d.next = self.zero40.val();
            if self.in_mb.val() != self.zero8.val() {
                self.slope_sign.d.next = self.one40.val() << (self.in_mb.val() - self.one8.val());
            }
            self.esc_mask.d.next =
                (self.one40.val() << (self.in_b.val() + self.one8.val())) - self.one40.val();
            self.half.d.next = self.one40.val() << (self.in_f.val() - self.one8.val());
            self.sign_fill.d.next = !(self.ones40.val() >> self.in_f.val());
            self.max.d.next = self.in_sign.val() - self.one40.val();
            self.min.d.next = self.zero40.val() - self.in_sign.val();
        }

        self.lp_ok.next = self.ok.q.val();
        self.lp_rice.next = self.rice.q.val();
        self.lp_bits.next = self.bits.q.val();
        self.lp_frac.next = self.frac.q.val();
        self.lp_shift.next = self.shift.q.val();
        self.lp_off_start.next = self.off_start.q.val();
        self.lp_off_slope.next = self.off_slope.q.val();
        self.lp_off_rice_k.next = self.off_rice_k.q.val();
        self.lp_hdr_bits.next = self.hdr_bits.q.val();
        self.lp_esc_bits.next = self.esc_bits.q.val();
        self.lp_need_new.next = self.need_new.q.val();
        self.lp_need_cont.next = self.need_cont.q.val();
        self.lp_len_mask.next = self.len_mask.q.val();
        self.lp_val_mask.next = self.val_mask.q.val();
        self.lp_val_sign.next = self.val_sign.q.val();
        self.lp_slope_mask.next = self.slope_mask.q.val();
        self.lp_slope_sign.next = self.slope_sign.q.val();
        self.lp_esc_mask.next = self.esc_mask.q.val();
        self.lp_half.next = self.half.q.val();
        self.lp_sign_fill.next = self.sign_fill.q.val();
        self.lp_max.next = self.max.q.val();
        self.lp_min.next = self.min.q.val();
    }
}
