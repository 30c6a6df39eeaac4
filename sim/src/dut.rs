//! The pins every decompressor simulation exposes, and the interface a driver uses to clock one.
//! Implemented by the Verilator [`crate::model::Model`] and by the rust-hdl simulation
//! [`crate::hdl::HdlLane`], so one driver produces the same stimulus for both.

use anyhow::Result;

/// A pin of the decompressor, shared or per lane. The name is the Verilog port name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Pin {
    Reset,
    Start,
    CfgBits,
    CfgMode,
    CfgFracBits,
    CfgLenBits,
    CfgSlopeBits,
    CfgShift,
    LengthBits,
    Count,
    InData,
    InValid,
    InReady,
    OutWeight,
    OutValid,
    OutReady,
    OutLast,
    Error,
    Done,
}

impl Pin {
    /// Every pin, in declaration order (`pin as usize` indexes this array).
    pub const ALL: [Pin; 19] = [
        Pin::Reset,
        Pin::Start,
        Pin::CfgBits,
        Pin::CfgMode,
        Pin::CfgFracBits,
        Pin::CfgLenBits,
        Pin::CfgSlopeBits,
        Pin::CfgShift,
        Pin::LengthBits,
        Pin::Count,
        Pin::InData,
        Pin::InValid,
        Pin::InReady,
        Pin::OutWeight,
        Pin::OutValid,
        Pin::OutReady,
        Pin::OutLast,
        Pin::Error,
        Pin::Done,
    ];

    /// Outputs, in the order a cycle trace records them.
    pub const OUTPUTS: [Pin; 6] = [
        Pin::InReady,
        Pin::OutWeight,
        Pin::OutValid,
        Pin::OutLast,
        Pin::Error,
        Pin::Done,
    ];

    /// The Verilog port name.
    pub fn name(self) -> &'static str {
        match self {
            Pin::Reset => "reset",
            Pin::Start => "start",
            Pin::CfgBits => "cfg_bits",
            Pin::CfgMode => "cfg_mode",
            Pin::CfgFracBits => "cfg_frac_bits",
            Pin::CfgLenBits => "cfg_len_bits",
            Pin::CfgSlopeBits => "cfg_slope_bits",
            Pin::CfgShift => "cfg_shift",
            Pin::LengthBits => "length_bits",
            Pin::Count => "count",
            Pin::InData => "in_data",
            Pin::InValid => "in_valid",
            Pin::InReady => "in_ready",
            Pin::OutWeight => "out_weight",
            Pin::OutValid => "out_valid",
            Pin::OutReady => "out_ready",
            Pin::OutLast => "out_last",
            Pin::Error => "error",
            Pin::Done => "done",
        }
    }
}

/// A clocked decompressor simulation.
pub trait Dut {
    /// Number of lanes.
    fn lanes(&self) -> usize;
    /// Drive an input pin (lane is ignored for shared pins).
    fn set_pin(&mut self, pin: Pin, lane: usize, value: u64) -> Result<()>;
    /// Read a pin (after [`Dut::settle`] if inputs changed).
    fn get_pin(&mut self, pin: Pin, lane: usize) -> Result<u64>;
    /// Propagate input changes through the combinational logic.
    fn settle(&mut self) -> Result<()>;
    /// One clock cycle.
    fn tick(&mut self) -> Result<()>;
}
