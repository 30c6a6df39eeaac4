//! `linecompress verify`: run test images through the accelerator RTL (Verilator) with the raw
//! INT8 weights and with LineCompress weights, compare every Conv/Dense layer bit for bit with
//! the golden model, and report cycles and energy per inference.

use std::path::{Path, PathBuf};

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
    /// Decompressor lanes D feeding the MAC lanes for the compressed weights (D divides the MAC
    /// lanes; default: one per MAC lane). The INT8 baseline always streams through one lane per
    /// MAC lane.
    #[arg(long)]
    pub decoders: Option<usize>,
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
        if let Some(d) = self.decoders {
            lc_hw::accel::AccelLanes::new(self.lanes, d)?;
        }
        Ok(VerifyOptions {
            lanes: self.lanes,
            decoders: self.decoders,
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
    /// Print `{"images","mac_lanes","decoders","mismatches","cycles_uncompressed","cycles_compressed",
    /// "energy_uncompressed_pj","energy_compressed_pj"}` instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Directory for the VCD of a failing layer.
    #[arg(long, default_value = "out/verify")]
    pub vcd_dir: PathBuf,
    #[command(flatten)]
    pub accel: AccelArgs,
}

/// The two weight stores of one model, run on the RTL and checked against the golden model.
pub struct Verified {
    /// Model name.
    pub name: String,
    /// Options used.
    pub opts: VerifyOptions,
    /// Raw INT8 weights streamed through the same datapath.
    pub raw: StoreSummary,
    /// LineCompress weights.
    pub lc: StoreSummary,
}

impl Verified {
    /// Images with a mismatch, over both stores.
    pub fn mismatches(&self) -> usize {
        self.raw.mismatches + self.lc.mismatches
    }

    /// The table printed by `verify` (and `demo`).
    pub fn print_table(&self) {
        println!(
            "{}: {} images, {} MAC lanes, {} decompressor lanes, weight memory {} B/cycle, \
             latency {} cycles",
            self.name,
            self.lc.images,
            self.opts.lanes,
            self.opts.decoders.unwrap_or(self.opts.lanes),
            self.opts.dram.bytes_per_cycle,
            self.opts.dram.latency
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
        for s in [&self.raw, &self.lc] {
            print_row(s);
        }
        println!(
            "LineCompress vs INT8: footprint {:.2}x smaller, latency {:.2}x lower, energy {:.2}x lower",
            self.raw.weight_bits as f64 / self.lc.weight_bits.max(1) as f64,
            self.raw.cycles_per_image / self.lc.cycles_per_image.max(1.0),
            self.raw.energy_pj() / self.lc.energy_pj().max(f64::MIN_POSITIVE)
        );
        println!(
            "simulation: {:.2} Mcycles/s, {:.1} ms wall per inference",
            self.lc.sim_cycles_per_second / 1e6,
            self.lc.wall_seconds_per_image * 1e3
        );
    }

    /// Name the first mismatch of each store on stderr and fail if there is any.
    pub fn check(&self) -> Result<()> {
        for s in [&self.raw, &self.lc] {
            if let Some((image, mm)) = &s.first_mismatch {
                eprintln!("{}: image {image}: {mm}", s.store);
            }
        }
        if self.mismatches() != 0 {
            bail!(
                "{} image(s) differ from the golden model",
                self.mismatches()
            );
        }
        Ok(())
    }
}

/// Run `images` test images of `model` on the RTL with raw INT8 and with LineCompress weights.
pub fn verify_model(
    model: &Path,
    images: usize,
    vcd_dir: PathBuf,
    accel: &AccelArgs,
) -> Result<Verified> {
    if images == 0 {
        bail!("--images must be at least 1");
    }
    let opts = accel.options(vcd_dir)?;
    let m = prepare(model, &accel.data_dir, images, accel.calib)?;
    let raw = verify_store(m.workload(), WeightStore::Int8, &opts)?;
    let lc = verify_store(m.workload(), accel.store(), &opts)?;
    Ok(Verified {
        name: m.name.clone(),
        opts,
        raw,
        lc,
    })
}

/// Run `verify`: exits with an error unless every layer of every image matches.
pub fn run(args: &Args) -> Result<()> {
    let v = verify_model(&args.model, args.images, args.vcd_dir.clone(), &args.accel)?;
    if args.json {
        let j = serde_json::json!({
            "images": v.lc.images,
            "mac_lanes": v.opts.lanes,
            "decoders": v.opts.decoders.unwrap_or(v.opts.lanes),
            "mismatches": v.mismatches(),
            "cycles_uncompressed": v.raw.cycles_per_image,
            "cycles_compressed": v.lc.cycles_per_image,
            "energy_uncompressed_pj": v.raw.energy_pj(),
            "energy_compressed_pj": v.lc.energy_pj(),
        });
        println!("{j}");
    } else {
        v.print_table();
    }
    v.check()
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
