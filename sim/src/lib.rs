//! Verilator simulation of the LineCompress decompressor, checked bit for bit against the software
//! reference decoder of `lc-sw`.
//!
//! * [`model`]: Verilator models built by `build.rs` from the Verilog that `lc-hw` emits.
//! * [`hdl`]: the rust-hdl simulation of the same design, for cycle-accurate cross-checks.
//! * [`driver`]: memory model, input gaps, back-pressure; runs a layer and collects weights.
//! * [`check`]: comparison with `lc_sw::codec::decode_lane`, VCD on failure.
//! * [`stimulus`]: random valid streams from FORMAT.md, CNN-shaped weights, stream damage.
//! * [`flash`]: behavioural QSPI flash (Fast Read Quad Output) for the flash reader's tests.
//! * [`dut`]: the pins and clocking interface shared by both simulations.
//! * [`synth`]: the Yosys / nextpnr flow.
//! * [`board`]: the same flow on the UP5K board top, with pin constraints and a bitstream.
//! * [`accel`]: the accelerator datapath: whole CNNs layer by layer against the golden model.

pub mod accel;
pub mod board;
pub mod check;
pub mod driver;
pub mod dut;
pub mod flash;
pub mod hdl;
pub mod model;
pub mod stimulus;
pub mod synth;
