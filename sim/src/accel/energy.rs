//! The energy model: per-operation energies read from a TOML file (`configs/energy.toml`, with
//! sources) applied to the counts of a run.

use super::network::LayerRecord;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The shipped configuration.
pub const DEFAULT_CONFIG: &str = include_str!("../../../configs/energy.toml");

/// Energies of the compute units, pJ.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Compute {
    /// int8 multiply.
    pub int8_mult_pj: f64,
    /// int32 add.
    pub int32_add_pj: f64,
    /// One weight out of a decompressor lane.
    pub decoder_weight_pj: f64,
    /// One requantized output.
    pub requant_output_pj: f64,
}

/// SRAM energy, pJ.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sram {
    /// One 64-bit access.
    pub sram_64b_access_pj: f64,
}

/// DRAM energy, pJ.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dram {
    /// One 64-bit access.
    pub dram_64b_access_pj: f64,
}

/// QSPI flash energy, pJ.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flash {
    /// One bit read in a quad output read.
    pub read_pj_per_bit: f64,
}

/// The energy constants.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnergyModel {
    /// Compute units.
    pub compute: Compute,
    /// On-chip memories.
    pub sram: Sram,
    /// Weight memory of the DRAM design points.
    pub dram: Dram,
    /// Weight memory of the QSPI design point.
    pub flash: Flash,
}

/// Energy of a run split by component, pJ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct EnergyBreakdown {
    /// Multiply-accumulates.
    pub mac_pj: f64,
    /// Decompressor lanes.
    pub decoder_pj: f64,
    /// Requantization.
    pub requant_pj: f64,
    /// Activation buffer and weight banks.
    pub sram_pj: f64,
    /// DRAM weight memory.
    pub dram_pj: f64,
    /// Flash weight memory.
    pub flash_pj: f64,
}

impl EnergyBreakdown {
    /// Sum of the components.
    pub fn total(&self) -> f64 {
        self.mac_pj
            + self.decoder_pj
            + self.requant_pj
            + self.sram_pj
            + self.dram_pj
            + self.flash_pj
    }

    /// Every component multiplied by `k`.
    pub fn scale(&mut self, k: f64) {
        for v in [
            &mut self.mac_pj,
            &mut self.decoder_pj,
            &mut self.requant_pj,
            &mut self.sram_pj,
            &mut self.dram_pj,
            &mut self.flash_pj,
        ] {
            *v *= k;
        }
    }

    /// Component-wise sum.
    pub fn add(&mut self, o: &EnergyBreakdown) {
        self.mac_pj += o.mac_pj;
        self.decoder_pj += o.decoder_pj;
        self.requant_pj += o.requant_pj;
        self.sram_pj += o.sram_pj;
        self.dram_pj += o.dram_pj;
        self.flash_pj += o.flash_pj;
    }
}

impl EnergyModel {
    /// Parse a TOML configuration.
    pub fn from_toml(text: &str) -> Result<Self> {
        let m: EnergyModel = toml::from_str(text).context("parsing the energy configuration")?;
        let all = [
            m.compute.int8_mult_pj,
            m.compute.int32_add_pj,
            m.compute.decoder_weight_pj,
            m.compute.requant_output_pj,
            m.sram.sram_64b_access_pj,
            m.dram.dram_64b_access_pj,
            m.flash.read_pj_per_bit,
        ];
        if all.iter().any(|v| !v.is_finite() || *v < 0.0) {
            anyhow::bail!("energy constants must be finite and non-negative");
        }
        Ok(m)
    }

    /// Read a TOML configuration file.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_toml(&text).with_context(|| format!("in {}", path.display()))
    }

    /// The shipped configuration.
    pub fn shipped() -> Result<Self> {
        Self::from_toml(DEFAULT_CONFIG)
    }

    /// Energy of one layer record (host operators cost nothing on the accelerator).
    pub fn layer(&self, r: &LayerRecord) -> EnergyBreakdown {
        let Some(run) = r.run else {
            return EnergyBreakdown::default();
        };
        let c = &self.compute;
        let sram_bytes = (r.act_reads + r.act_writes + r.wbuf_reads + r.wbuf_writes) as f64;
        let outputs = r.outputs as f64;
        EnergyBreakdown {
            mac_pj: r.lane_macs as f64 * (c.int8_mult_pj + c.int32_add_pj),
            decoder_pj: run.weights as f64 * c.decoder_weight_pj,
            requant_pj: outputs * c.requant_output_pj,
            sram_pj: sram_bytes / 8.0 * self.sram.sram_64b_access_pj,
            dram_pj: run.dram_bytes / 8.0 * self.dram.dram_64b_access_pj,
            flash_pj: run.flash_bytes * 8.0 * self.flash.read_pj_per_bit,
        }
    }

    /// Energy of a sequence of layer records.
    pub fn total(&self, records: &[LayerRecord]) -> EnergyBreakdown {
        let mut e = EnergyBreakdown::default();
        for r in records {
            e.add(&self.layer(r));
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_parses_and_bad_values_fail() {
        let m = EnergyModel::shipped().unwrap();
        assert!(m.dram.dram_64b_access_pj > m.sram.sram_64b_access_pj);
        let bad = DEFAULT_CONFIG.replace("int8_mult_pj = 0.2", "int8_mult_pj = -1.0");
        assert!(EnergyModel::from_toml(&bad).is_err());
        assert!(EnergyModel::from_toml("[compute]\n").is_err());
        let no_flash = &DEFAULT_CONFIG[..DEFAULT_CONFIG.find("[flash]").unwrap()];
        assert!(EnergyModel::from_toml(no_flash).is_err());
    }
}
