//! The accelerator datapath: P output-stationary int8 MAC lanes, fed only by D LineCompress
//! decompressor lanes (D divides P), activations broadcast from an on-chip buffer by a convolution
//! address generator, per-channel requantization with bias and fused ReLU / clamp / PReLU, and a
//! small control interface (layer registers, start, busy, done, error).
//!
//! * [`lane::AccelLane`]: weight banks, MAC, hold register of one lane.
//! * [`requant::RequantUnit`]: bias, multiplier, shift, rounding, activation, clamp.
//! * [`ctrl::AccelCtrl`]: layer registers, activation buffer ([`act_buf::ActBuffer`]: block RAM,
//!   or UP5K single-port RAM) and the pipeline that ties together
//!   [`addr::AddrGen`] (which product, which activation; loop counters [`count::CountDown`]),
//!   [`param_mem::ParamMem`] (per-channel requantization parameters) and [`drain::DrainSeq`]
//!   (requantize and write back a position).
//! * [`router::WeightRouter`]: hands one decompressor lane's weights to its MAC lanes in turn
//!   when there are fewer decompressor lanes than MAC lanes.
//! * [`split::AccelLanes`]: P MAC lanes, D decompressor lanes (D divides P), and which channels
//!   each lane takes.
//! * [`emit`]: the structural top `lc_accel_p<P>` (controller + P MAC lanes + the decompressor's
//!   configuration block and D decompressor lanes), its port manifest and lint waivers.
//! * [`point`]: declared design points ([`UP5K`]).
//! * [`flash_top`]: the top `<core>_qspi` that feeds a one-lane core's decompressor lane from a
//!   QSPI flash through the flash reader ([`crate::qspi`]), with [`flash_words::FlashWords`] in
//!   front of a 64-bit lane.

pub mod act_buf;
pub mod addr;
pub mod board;
pub mod count;
pub mod ctrl;
pub mod drain;
pub mod emit;
pub mod flash_top;
pub mod flash_words;
pub mod lane;
pub mod param_mem;
pub mod point;
pub mod requant;
pub mod router;
pub mod split;

pub use act_buf::ActMemory;
pub use emit::{accel_top_name, accel_top_name_in, generate_accel, generate_accel_in, AccelSizes};
pub use flash_top::{generate_flash_accel, wrap_with_flash};
pub use point::{AccelPoint, UP5K};
pub use split::AccelLanes;
