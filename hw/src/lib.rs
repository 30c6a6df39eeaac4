//! LineCompress hardware: the streaming decompressor of LineCompress v1 (`docs/FORMAT.md`) written
//! in rust-hdl, and its Verilog emission.
//!
//! * [`config::LayerConfig`] latches a layer's parameters and derives the per-layer constants.
//! * [`core::LaneCore`] decodes one lane stream: memory words in, one weight per clock out.
//! * [`params`] declares the layer-parameter bus between the two once, as rust-hdl interfaces.
//! * [`lane::LaneDecompressor`] is one configuration block plus one lane, for rust-hdl simulation.
//! * [`emit`] writes the Verilog of an N-lane decompressor and its JSON port manifest.
//! * [`qspi::QspiReader`] streams 32-bit words from a QSPI flash (quad output fast read).
//! * [`accel`] is the accelerator datapath (MAC lanes fed by decompressor lanes) and its Verilog.

pub mod accel;
pub mod compact;
pub mod config;
pub mod core;
pub mod emit;
pub mod lane;
pub mod params;
pub mod qspi;
pub mod rice;

pub use emit::{emit_rtl, Manifest, Port, PortDirection, RtlOutput};
