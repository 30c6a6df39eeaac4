//! The rust-hdl simulation of the one-lane decompressor behind the [`Dut`] interface, stepped
//! cycle by cycle so that it can be compared with the Verilator model of the emitted Verilog.

use crate::dut::{CfgValues, Dut, Pin};
use anyhow::{bail, Result};
use lc_hw::lane::LaneDecompressor;
use rust_hdl::prelude::*;

/// Delta cycles allowed for the combinational logic to settle.
const SETTLE_ITERATIONS: usize = 100;

/// [`LaneDecompressor`] simulated by rust-hdl.
pub struct HdlLane {
    uut: LaneDecompressor,
}

impl HdlLane {
    /// A fresh, connected instance.
    pub fn new() -> Self {
        let mut uut = LaneDecompressor::default();
        uut.connect_all();
        HdlLane { uut }
    }

    fn converge(&mut self) -> Result<()> {
        if !simulate(&mut self.uut, SETTLE_ITERATIONS) {
            bail!("the rust-hdl simulation did not settle");
        }
        Ok(())
    }
}

impl Default for HdlLane {
    fn default() -> Self {
        Self::new()
    }
}

impl Dut for HdlLane {
    fn lanes(&self) -> usize {
        1
    }

    fn set_cfg(&mut self, values: &CfgValues) -> Result<()> {
        // The block's ports are typed, so they are assigned one by one, in `CFG_PORTS` order
        // (tests/crosscheck.rs compares with the Verilator model, which takes them by name).
        let u = &mut self.uut;
        let [bits, mode, frac_bits, len_bits, slope_bits, shift] = *values;
        u.cfg_bits.next = bits.into();
        u.cfg_mode.next = mode != 0;
        u.cfg_frac_bits.next = frac_bits.into();
        u.cfg_len_bits.next = len_bits.into();
        u.cfg_slope_bits.next = slope_bits.into();
        u.cfg_shift.next = shift.into();
        Ok(())
    }

    fn has_pin(&self, pin: Pin) -> bool {
        pin != Pin::InLast
    }

    fn set_pin(&mut self, pin: Pin, _lane: usize, value: u64) -> Result<()> {
        let u = &mut self.uut;
        let bit = value != 0;
        match pin {
            Pin::Reset => u.reset.next = bit,
            Pin::Start => u.start.next = bit,
            Pin::LengthBits => u.length_bits.next = value.into(),
            Pin::Count => u.count.next = value.into(),
            Pin::InData => u.in_data.next = value.into(),
            Pin::InValid => u.in_valid.next = bit,
            Pin::OutReady => u.out_ready.next = bit,
            _ => bail!("{pin:?} is not an input"),
        }
        Ok(())
    }

    fn get_pin(&mut self, pin: Pin, _lane: usize) -> Result<u64> {
        let u = &self.uut;
        Ok(match pin {
            Pin::InReady => u.in_ready.val() as u64,
            Pin::OutWeight => u.out_weight.val().to_u64(),
            Pin::OutValid => u.out_valid.val() as u64,
            Pin::OutLast => u.out_last.val() as u64,
            Pin::Error => u.error.val() as u64,
            Pin::Done => u.done.val() as u64,
            _ => bail!("{pin:?} is not an output"),
        })
    }

    fn settle(&mut self) -> Result<()> {
        self.converge()
    }

    fn tick(&mut self) -> Result<()> {
        self.converge()?;
        self.uut.clock.next = Clock { clk: true };
        self.converge()?;
        self.uut.clock.next = Clock { clk: false };
        self.converge()
    }
}
