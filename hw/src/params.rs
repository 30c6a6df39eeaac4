//! The layer-parameter bus of the full-profile lane: the constants [`crate::config::LayerConfig`]
//! derives once per layer and every [`crate::core::LaneCore`] reads.
//!
//! Each field is declared once, in the [`layer_params!`] invocation below, which generates the
//! bus in both directions ([`LayerParamsOut`] on the configuration side, [`LayerParams`] on the lane
//! side, joined with `LayerParamsOut::join`) and the register bank [`LayerParamRegs`] that holds
//! the latched values.

use crate::config::ACC_BITS;
use rust_hdl::prelude::*;

/// Generates the two directions of the bus and its register bank from one field list.
macro_rules! layer_params {
    ($($(#[doc = $doc:literal])* $field:ident: $ty:ty,)*) => {
        /// The layer-parameter bus as the lanes receive it.
        #[derive(LogicInterface, Default)]
        #[join = "LayerParamsOut"]
        pub struct LayerParams {
            $($(#[doc = $doc])* pub $field: Signal<In, $ty>,)*
        }

        /// The layer-parameter bus as the configuration block drives it.
        #[derive(LogicInterface, Default)]
        #[join = "LayerParams"]
        pub struct LayerParamsOut {
            $($(#[doc = $doc])* pub $field: Signal<Out, $ty>,)*
        }

        /// One flip-flop per bus field: `q` follows `d` at a clock edge where `load` is high and
        /// holds otherwise.
        #[derive(LogicBlock, Default)]
        pub struct LayerParamRegs {
            /// Clock.
            pub clock: Signal<In, Clock>,
            /// Take `d` at this edge.
            pub load: Signal<In, Bit>,
            /// The values to latch.
            pub d: LayerParams,
            /// The latched values.
            pub q: LayerParamsOut,
            $($field: DFF<$ty>,)*
        }

        impl Logic for LayerParamRegs {
            #[hdl_gen]
            fn update(&mut self) {
                dff_setup!(self, clock, $($field),*);
                if self.load.val() {
                    $(self.$field.d.next = self.d.$field.val();)*
                }
                $(self.q.$field.next = self.$field.q.val();)*
            }
        }
    };
}

layer_params! {
    /// The latched parameters are inside the ranges of the format.
    ok: Bit,
    /// Rice mode.
    rice: Bit,
    /// B.
    bits: Bits<8>,
    /// F.
    frac: Bits<8>,
    /// r.
    shift: Bits<8>,
    /// Offset of the start value in a segment header (= LB).
    off_start: Bits<8>,
    /// Offset of the slope in a segment header (= LB + B).
    off_slope: Bits<8>,
    /// Offset of the Rice parameter in a segment header (= LB + B + MB).
    off_rice_k: Bits<8>,
    /// Header width H.
    hdr_bits: Bits<8>,
    /// Escape payload width E = B + 1.
    esc_bits: Bits<8>,
    /// Look-ahead needed to start a segment (H plus the longest residual code in rice mode).
    need_new: Bits<8>,
    /// Look-ahead needed inside a segment (the longest residual code, 0 in lines mode).
    need_cont: Bits<8>,
    /// `2^LB - 1`.
    len_mask: Bits<16>,
    /// `2^B - 1`.
    val_mask: Bits<ACC_BITS>,
    /// `2^(B-1)`.
    val_sign: Bits<ACC_BITS>,
    /// `2^MB - 1`.
    slope_mask: Bits<ACC_BITS>,
    /// `2^(MB-1)`, or 0 when MB = 0.
    slope_sign: Bits<ACC_BITS>,
    /// `2^E - 1`.
    esc_mask: Bits<ACC_BITS>,
    /// `2^(F-1)`, the rounding offset of `acc_0`.
    half: Bits<ACC_BITS>,
    /// The bits an arithmetic right shift by F fills with the sign.
    sign_fill: Bits<ACC_BITS>,
    /// `2^(B-1) - 1` (two's complement, 40 bits).
    max: Bits<ACC_BITS>,
    /// `-2^(B-1)` (two's complement, 40 bits).
    min: Bits<ACC_BITS>,
}
