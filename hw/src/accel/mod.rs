//! The accelerator datapath: P output-stationary int8 MAC lanes, each fed only by its own
//! LineCompress decompressor lane, activations broadcast from an on-chip buffer by a convolution
//! address generator, per-channel requantization with bias and fused ReLU / clamp / PReLU, and a
//! small control interface (layer registers, start, busy, done, error).
//!
//! * [`lane::AccelLane`]: weight banks, MAC, hold register of one lane.
//! * [`requant::RequantUnit`]: bias, multiplier, shift, rounding, activation, clamp.
//! * [`ctrl::AccelCtrl`]: layer registers, activation buffer, parameter memory, address
//!   generator, drain.
//! * [`emit`]: the structural top `lc_accel_p<P>` (controller + P lanes + the decompressor's
//!   configuration block and P decompressor lanes), its port manifest and lint waivers.

pub mod ctrl;
pub mod emit;
pub mod lane;
pub mod requant;

pub use emit::{accel_top_name, generate_accel, AccelSizes};
