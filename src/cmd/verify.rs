//! `linecompress verify`: run test images through the accelerator RTL (Verilator) with the raw
//! INT8 weights and with LineCompress weights, compare every Conv/Dense layer bit for bit with
//! the golden model, and report cycles and energy per inference.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use lc_sim::accel::dram::DramConfig;
use lc_sim::accel::energy::EnergyModel;
use lc_sim::accel::plan::WeightStore;
use lc_sim::accel::shard::{RunConfig, Shard, StoreTotals, VerifyRecord};
use lc_sim::accel::verify::{verify_store, StoreSummary, VerifyOptions};
use lc_sw::codec::Mode;

use crate::cmd::compress::ModeArg;
use crate::cmd::data::DataArgs;

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
    /// Simulation threads (each runs its own model).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Run a Conv/Dense layer that does not fit the datapath (K above the weight bank, ...) on
    /// the host with the golden model instead of failing; the run names it and leaves its
    /// cycles and energy out.
    #[arg(long)]
    pub host_fallback: bool,
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
            host_fallback: self.host_fallback,
        })
    }
}

/// Arguments of `verify`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// ONNX model.
    #[arg(long, default_value = "models/lenet5.onnx")]
    pub model: PathBuf,
    /// Inputs to run: the first N evaluation inputs of `--dataset`.
    #[arg(long, default_value_t = 20)]
    pub images: usize,
    /// Run only every N-th of the images, starting at image I (`I/N`); `merge-verify` sums
    /// the records of all N shards.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Print the run's record as JSON instead of the table: the configuration, `images`,
    /// `mismatches`, the per-inference means `cycles_uncompressed`, `cycles_compressed`,
    /// `energy_uncompressed_pj`, `energy_compressed_pj`, and the totals per store
    /// (`uncompressed`, `compressed`: mismatches, correct, cycles, energy_pj).
    #[arg(long)]
    pub json: bool,
    /// Directory for the VCD of a failing layer.
    #[arg(long, default_value = "out/verify")]
    pub vcd_dir: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
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
    /// The run's record.
    pub record: VerifyRecord,
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
        for h in self.lc.host_layers() {
            println!("on the host, not counted: {h}");
        }
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

/// Run `images` inputs of `model` (only those of `shard` when given) on the RTL with raw INT8
/// and with LineCompress weights.
pub fn verify_model(
    model: &Path,
    data: &DataArgs,
    images: usize,
    shard: Option<Shard>,
    vcd_dir: PathBuf,
    accel: &AccelArgs,
) -> Result<Verified> {
    if images == 0 {
        bail!("--images must be at least 1");
    }
    let opts = accel.options(vcd_dir)?;
    let m = data.prepare(model, images, shard)?;
    let name = m.name.clone();
    let store = accel.store();
    let raw = verify_store(m.workload(), WeightStore::Int8, &opts)?;
    let lc = verify_store(m.workload(), store, &opts)?;
    let config = RunConfig {
        model: name.clone(),
        dataset: data.describe(),
        run_images: images,
        calib: data.calib,
        store: store.label(),
        mac_lanes: opts.lanes,
        decoders: opts.decoders.unwrap_or(opts.lanes),
        bandwidth: opts.dram.bytes_per_cycle,
        latency: opts.dram.latency,
        host_layers: lc.host_layers(),
    };
    let record = VerifyRecord::new(
        config,
        shard,
        lc.images,
        StoreTotals::of(&raw),
        StoreTotals::of(&lc),
    );
    Ok(Verified {
        name,
        opts,
        raw,
        lc,
        record,
    })
}

/// Run `verify`: exits with an error unless every layer of every image matches.
pub fn run(args: &Args) -> Result<()> {
    let v = verify_model(
        &args.model,
        &args.data,
        args.images,
        args.shard,
        args.vcd_dir.clone(),
        &args.accel,
    )?;
    if args.json {
        println!("{}", serde_json::to_string(&v.record)?);
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
