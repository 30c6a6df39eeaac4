//! The compact decompressor: a lane generated for one hardware profile whose segment header is
//! fixed when the RTL is generated (B, LB, MB and F are constants of the circuit, the mode is
//! rice) and whose only run-time layer parameter is the residual shift r. See docs/HARDWARE.md for
//! the measurements behind this split.
//!
//! * [`shape::CompactShape`]: what a profile fixes, checked against what this lane can build.
//! * [`config::CompactConfig`]: latches and checks the layer parameters (shared by all lanes).
//! * [`rice::CompactZeros`]: the leading-one count of a code and the next pointer of the lane's
//!   pointer loop.
//! * [`rice::CompactRice`]: one Rice code from a 21-bit window and its zero count.
//! * [`lane::CompactLane`]: one lane, 32-bit memory words in, one weight per clock out.

pub mod config;
pub mod lane;
pub mod rebuild;
pub mod rice;
pub mod shape;

pub use config::CompactConfig;
pub use lane::CompactLane;
pub use shape::CompactShape;
