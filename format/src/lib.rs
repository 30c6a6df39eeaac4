//! The facts of LineCompress v1 that the software codec (`lc-sw`) and the RTL generator (`lc-hw`)
//! both depend on: the format constants and field ranges of docs/FORMAT.md, the residual modes,
//! and the hardware profiles that say which of those a generated decompressor accepts.

mod constants;
mod params;
mod profile;

pub use constants::{
    Mode, BITS_RANGE, FRAC_BITS_RANGE, K_BITS, LEN_BITS_RANGE, MAX_LEN_BITS, Q_ESC,
    SLOPE_BITS_RANGE,
};
pub use params::LayerParams;
pub use profile::{Profile, ProfileError, Range, DEFAULT_PROFILE};
