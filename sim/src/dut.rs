//! The pins every decompressor simulation exposes, and the interface a driver uses to clock one.
//! Implemented by the Verilator [`crate::model::Model`] and by the rust-hdl simulation
//! [`crate::hdl::HdlLane`], so one driver produces the same stimulus for both.

use anyhow::{bail, Result};
use lc_hw::config::CFG_PORTS;
use lc_sw::codec::{LayerParams, Mode};

/// A pin of the decompressor, shared or per lane, other than the layer parameters
/// ([`CFG_PORTS`], driven with [`Dut::set_cfg`]). The name is the Verilog port name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Pin {
    Reset,
    Start,
    LengthBits,
    Count,
    InData,
    InValid,
    InLast,
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
    pub const ALL: [Pin; 14] = [
        Pin::Reset,
        Pin::Start,
        Pin::LengthBits,
        Pin::Count,
        Pin::InData,
        Pin::InValid,
        Pin::InLast,
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
            Pin::LengthBits => "length_bits",
            Pin::Count => "count",
            Pin::InData => "in_data",
            Pin::InValid => "in_valid",
            Pin::InLast => "in_last",
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
    /// Drive the layer-parameter inputs, in [`CFG_PORTS`] order (see [`cfg_values`]).
    fn set_cfg(&mut self, values: &CfgValues) -> Result<()>;
    /// The design has `pin` (`in_last` is a port of the compact lane only: the full lane counts
    /// its words itself).
    fn has_pin(&self, pin: Pin) -> bool;
    /// Drive an input pin (lane is ignored for shared pins).
    fn set_pin(&mut self, pin: Pin, lane: usize, value: u64) -> Result<()>;
    /// Read a pin (after [`Dut::settle`] if inputs changed).
    fn get_pin(&mut self, pin: Pin, lane: usize) -> Result<u64>;
    /// Propagate input changes through the combinational logic.
    fn settle(&mut self) -> Result<()>;
    /// One clock cycle.
    fn tick(&mut self) -> Result<()>;
}

/// Values of the layer-parameter inputs, in [`CFG_PORTS`] order.
pub type CfgValues = [u64; CFG_PORTS.len()];

/// Map layer parameters to the values of the [`CFG_PORTS`]. Values that do not fit a port are
/// refused; values that fit but are outside the format's ranges are passed on (the hardware must
/// reject them).
pub fn cfg_values(p: &LayerParams) -> Result<CfgValues> {
    let rice = matches!(p.mode, Mode::Rice) as u8;
    let raw = [p.bits, rice, p.frac_bits, p.len_bits, p.slope_bits, p.shift];
    let mut values = [0; CFG_PORTS.len()];
    for ((v, port), r) in values.iter_mut().zip(CFG_PORTS).zip(raw) {
        if u64::from(r) >> port.width != 0 {
            bail!(
                "{} = {r} does not fit its {}-bit port",
                port.name,
                port.width
            );
        }
        *v = u64::from(r);
    }
    Ok(values)
}
