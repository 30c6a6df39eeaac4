//! Layer configuration: latches the layer parameters on `start` and precomputes every derived
//! constant (field offsets, masks, sign bits, saturation bounds, look-ahead needs) so that the lane
//! datapath reads them from flip-flops. One instance serves all lanes of a layer.

use crate::params::{LayerParamRegs, LayerParamsOut};
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

/// A layer-parameter input of a decompressor top (shared by all lanes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CfgPort {
    /// Verilog port name.
    pub name: &'static str,
    /// Width in bits.
    pub width: usize,
}

/// The layer-parameter inputs of every decompressor design, in port order: B, mode (1 = rice),
/// F, LB, MB, r. [`LayerConfig`] and the compact configuration block declare these ports.
pub const CFG_PORTS: [CfgPort; 6] = [
    CfgPort {
        name: "cfg_bits",
        width: 5,
    },
    CfgPort {
        name: "cfg_mode",
        width: 1,
    },
    CfgPort {
        name: "cfg_frac_bits",
        width: 5,
    },
    CfgPort {
        name: "cfg_len_bits",
        width: 4,
    },
    CfgPort {
        name: "cfg_slope_bits",
        width: 5,
    },
    CfgPort {
        name: "cfg_shift",
        width: 4,
    },
];

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

    /// The derived layer parameters, valid from the cycle after `start`.
    pub lp: LayerParamsOut,

    regs: LayerParamRegs,

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
            lp: Default::default(),
            regs: Default::default(),
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
        self.regs.clock.next = self.clock.val();
        self.regs.load.next = self.start.val();
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

        self.regs.d.ok.next = (self.in_b.val() >= self.min_bits.val())
            && (self.in_b.val() <= self.max_bits.val())
            && (self.in_f.val() >= self.one8.val())
            && (self.in_f.val() <= self.max_bits.val())
            && (self.in_lb.val() <= self.max_len_bits.val())
            && (self.in_mb.val() <= self.max_bits.val())
            && ((self.cfg_mode.val() && (self.in_r.val() < self.in_b.val()))
                || (!self.cfg_mode.val() && (self.in_r.val() == self.zero8.val())));
        self.regs.d.rice.next = self.cfg_mode.val();
        self.regs.d.bits.next = self.in_b.val();
        self.regs.d.frac.next = self.in_f.val();
        self.regs.d.shift.next = self.in_r.val();
        self.regs.d.off_start.next = self.in_lb.val();
        self.regs.d.off_slope.next = self.in_lb.val() + self.in_b.val();
        self.regs.d.off_rice_k.next = self.in_lb.val() + self.in_b.val() + self.in_mb.val();
        self.regs.d.hdr_bits.next =
            self.in_lb.val() + self.in_b.val() + self.in_mb.val() + self.in_k.val();
        self.regs.d.esc_bits.next = self.in_b.val() + self.one8.val();
        self.regs.d.need_new.next = self.in_lb.val()
            + self.in_b.val()
            + self.in_mb.val()
            + self.in_k.val()
            + self.in_cont.val();
        self.regs.d.need_cont.next = self.in_cont.val();
        self.regs.d.len_mask.next = (self.one16.val() << self.in_lb.val()) - self.one16.val();
        self.regs.d.val_mask.next = (self.one40.val() << self.in_b.val()) - self.one40.val();
        self.regs.d.val_sign.next = self.in_sign.val();
        self.regs.d.slope_mask.next = (self.one40.val() << self.in_mb.val()) - self.one40.val();
        self.regs.d.slope_sign.next = self.zero40.val();
        if self.in_mb.val() != self.zero8.val() {
            self.regs.d.slope_sign.next = self.one40.val() << (self.in_mb.val() - self.one8.val());
        }
        self.regs.d.esc_mask.next =
            (self.one40.val() << (self.in_b.val() + self.one8.val())) - self.one40.val();
        self.regs.d.half.next = self.one40.val() << (self.in_f.val() - self.one8.val());
        self.regs.d.sign_fill.next = !(self.ones40.val() >> self.in_f.val());
        self.regs.d.max.next = self.in_sign.val() - self.one40.val();
        self.regs.d.min.next = self.zero40.val() - self.in_sign.val();
        LayerParamsOut::link(&mut self.lp, &mut self.regs.q);
    }
}
