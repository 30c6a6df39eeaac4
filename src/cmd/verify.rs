//! `linecompress verify`: run test images through the accelerator RTL (Verilator) with the raw
//! INT8 weights and with LineCompress weights, compare every Conv/Dense layer bit for bit with
//! the golden model, and report cycles and energy per inference.

use std::path::PathBuf;

use anyhow::{bail, Result};
use lc_sim::accel::dataset::prepare;
use lc_sim::accel::dram::DramConfig;
use lc_sim::accel::energy::EnergyModel;
use lc_sim::accel::plan::WeightStore;
use lc_sim::accel::verify::{verify_store, StoreSummary, VerifyOptions};
use lc_sw::codec::Mode;
use lc_sw::data::fashion;

use crate::cmd::compress::ModeArg;

/// Options of the accelerator and its memory, shared by `verify` and `report`.
#[derive(clap::Args, Clone, Debug)]
pub struct AccelArgs {
    /// MAC lanes of the datapath (a Verilator model with this many lanes must be built in).
    #[arg(long, default_value_t = 4)]
    pub lanes: usize,
    /// Residual mode of the compressed weights.
    #[arg(long, value_enum, default_value = "rice")]
    pub mode: ModeArg,
    /// Error bound of the compressed weights, in LSB.
    #[arg(long, default_value_t = 2)]
    pub eps: u16,
    /// Weight memory bandwidth, bytes per accelerator cycle.
    #[arg(long, default_value_t = 2.0)]
    pub bandwidth: f64,
    /// Weight memory latency, cycles.
    #[arg(long, default_value_t = 32)]
    pub latency: u32,
    /// Energy constants (TOML); the shipped configs/energy.toml by default.
    #[arg(long)]
    pub energy: Option<PathBuf>,
    /// Directory of the Fashion-MNIST IDX files.
    #[arg(long, default_value = fashion::DEFAULT_DIR)]
    pub data_dir: PathBuf,
    /// Calibration images (first N of the training split).
    #[arg(long, default_value_t = 500)]
    pub calib: usize,
    /// Simulation threads (each runs its own model).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

impl AccelArgs {
    /// The compressed weight store.
    pub fn store(&self) -> WeightStore {
        let mode = match self.mode {
            ModeArg::Lines => Mode::Lines,
            ModeArg::Rice => Mode::Rice,
        };
        WeightStore::Compressed {
            mode,
            eps: self.eps,
        }
    }

    /// The weight memory.
    pub fn dram(&self) -> DramConfig {
        DramConfig {
            bytes_per_cycle: self.bandwidth,
            latency: self.latency,
            ..Default::default()
        }
    }

    /// The energy constants.
    pub fn energy_model(&self) -> Result<EnergyModel> {
        match &self.energy {
            Some(p) => EnergyModel::load(p),
            None => EnergyModel::shipped(),
        }
    }

    /// Verification options writing VCDs into `vcd_dir`.
    pub fn options(&self, vcd_dir: PathBuf) -> Result<VerifyOptions> {
        let dram = self.dram();
        dram.validate()?;
        Ok(VerifyOptions {
            lanes: self.lanes,
            dram,
            energy: self.energy_model()?,
            vcd_dir,
            threads: self.threads.max(1),
        })
    }
}

/// Arguments of `verify`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// ONNX model.
    #[arg(long, default_value = "models/lenet5.onnx")]
    pub model: PathBuf,
    /// Test images (the first N of the test split).
    #[arg(long, default_value_t = 20)]
    pub images: usize,
    /// Print `{"images","mismatches","cycles_uncompressed","cycles_compressed",
    /// "energy_uncompressed_pj","energy_compressed_pj"}` instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Directory for the VCD of a failing layer.
    #[arg(long, default_value = "out/verify")]
    pub vcd_dir: PathBuf,
    #[command(flatten)]
    pub accel: AccelArgs,
}

/// Run `verify`: exits with an error unless every layer of every image matches.
pub fn run(args: &Args) -> Result<()> {
    if args.images == 0 {
        bail!("--images must be at least 1");
    }
    let opts = args.accel.options(args.vcd_dir.clone())?;
    let m = prepare(
        &args.model,
        &args.accel.data_dir,
        args.images,
        args.accel.calib,
    )?;
    let raw = verify_store(m.workload(), WeightStore::Int8, &opts)?;
    let lc = verify_store(m.workload(), args.accel.store(), &opts)?;
    let mismatches = raw.mismatches + lc.mismatches;
    if args.json {
        let j = serde_json::json!({
            "images": m.inputs.len(),
            "mismatches": mismatches,
            "cycles_uncompressed": raw.cycles_per_image,
            "cycles_compressed": lc.cycles_per_image,
            "energy_uncompressed_pj": raw.energy_pj(),
            "energy_compressed_pj": lc.energy_pj(),
        });
        println!("{j}");
    } else {
        println!(
            "{}: {} images, {} MAC lanes, weight memory {} B/cycle, latency {} cycles",
            m.name,
            m.inputs.len(),
            opts.lanes,
            opts.dram.bytes_per_cycle,
            opts.dram.latency
        );
        println!(
            "{:<14} {:>10} {:>12} {:>12} {:>14} {:>12} {:>9}",
            "weights",
            "mismatches",
            "weight KiB",
            "cycles/inf",
            "DRAM B/inf",
            "energy nJ",
            "correct"
        );
        for s in [&raw, &lc] {
            print_row(s);
        }
        println!(
            "simulation: {:.2} Mcycles/s, {:.1} ms wall per inference",
            lc.sim_cycles_per_second / 1e6,
            lc.wall_seconds_per_image * 1e3
        );
    }
    for s in [&raw, &lc] {
        if let Some((image, mm)) = &s.first_mismatch {
            eprintln!("{}: image {image}: {mm}", s.store);
        }
    }
    if mismatches != 0 {
        bail!("{mismatches} image(s) differ from the golden model");
    }
    Ok(())
}

fn print_row(s: &StoreSummary) {
    println!(
        "{:<14} {:>10} {:>12.2} {:>12.0} {:>14.0} {:>12.1} {:>5}/{:<3}",
        s.store,
        s.mismatches,
        s.weight_bits as f64 / 8.0 / 1024.0,
        s.cycles_per_image,
        s.dram_bytes_per_image,
        s.energy_pj() / 1e3,
        s.correct,
        s.images
    );
}
