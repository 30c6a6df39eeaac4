//! `linecompress verify`: run test images through the accelerator RTL (Verilator) with the
//! weights stored as FP32, as raw INT8 and as LineCompress streams (one error bound, or the
//! per-layer container of `--weights`), from the DRAM model or from a QSPI flash
//! (`--memory qspi`), compare every Conv/Dense layer bit for bit with the golden model, and
//! report cycles and energy per inference.

use std::path::{Path, PathBuf};

use anyhow::Context;
use anyhow::{bail, Result};
use lc_sim::accel::device::Memory;
use lc_sim::accel::dram::DramConfig;
use lc_sim::accel::energy::EnergyModel;
use lc_sim::accel::plan::{NetworkPlan, WeightStore};
use lc_sim::accel::shard::{RunConfig, Shard, StoreTotals, VerifyRecord};
use lc_sim::accel::verify::{verify_plan, verify_store, StoreSummary, VerifyOptions, Workload};
use lc_sw::codec::Mode;
use lc_sw::container::Container;
use lc_sw::eval::prepared::PreparedModel;

use crate::cmd::compress::ModeArg;
use crate::cmd::data::DataArgs;

/// The weight memory on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryArg {
    /// The DRAM model on the decompressor lanes' memory ports (--bandwidth, --latency).
    Dram,
    /// A QSPI flash read by the RTL flash reader, one decompressor lane (about 2 bits/clock).
    Qspi,
}

impl From<MemoryArg> for Memory {
    fn from(m: MemoryArg) -> Memory {
        match m {
            MemoryArg::Dram => Memory::Dram,
            MemoryArg::Qspi => Memory::Qspi,
        }
    }
}

/// Options of the accelerator and its memory, shared by `verify` and `report`.
#[derive(clap::Args, Clone, Debug)]
pub struct AccelArgs {
    /// Where the weights come from: the DRAM model, or a QSPI flash holding the flash image,
    /// read by the RTL flash reader in front of one decompressor lane (every store then runs
    /// with D = 1).
    #[arg(long, value_enum, default_value = "dram")]
    pub memory: MemoryArg,
    /// Run the LineCompress weights of this container (e.g. from `eval --max-drop 1.0 --save`,
    /// one layer per Conv/Dense layer of the model, each with its own error bound) instead of
    /// compressing every layer with --mode and --eps. `report` takes one per --model, in order.
    #[arg(long)]
    pub weights: Vec<PathBuf>,
    /// MAC lanes of the datapath (a Verilator model with this many lanes must be built in).
    /// Default: the design point of --memory: 4 with the DRAM model, the UP5K build's 6 (with
    /// its activations in SPRAM) with the QSPI flash.
    #[arg(long)]
    pub lanes: Option<usize>,
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
    /// DRAM bandwidth, bytes per accelerator cycle.
    #[arg(long, default_value_t = 2.0)]
    pub bandwidth: f64,
    /// DRAM latency, cycles.
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

    /// MAC lanes P: `--lanes`, else the design point of the memory (DRAM: 4, QSPI flash: the
    /// UP5K build).
    pub fn lanes(&self) -> usize {
        self.lanes.unwrap_or(match self.memory {
            MemoryArg::Dram => 4,
            MemoryArg::Qspi => lc_hw::accel::UP5K.mac_lanes,
        })
    }

    /// Verification options writing VCDs into `vcd_dir`.
    pub fn options(&self, vcd_dir: PathBuf) -> Result<VerifyOptions> {
        let dram = self.dram();
        dram.validate()?;
        let opts = VerifyOptions {
            lanes: self.lanes(),
            decoders: self.decoders,
            memory: self.memory.into(),
            dram,
            energy: self.energy_model()?,
            vcd_dir,
            threads: self.threads.max(1),
            host_fallback: self.host_fallback,
        };
        opts.accel_lanes(self.store())?;
        Ok(opts)
    }

    /// The weight memory in words: the DRAM's bandwidth and latency, or the flash.
    pub fn memory_description(&self) -> String {
        match self.memory {
            MemoryArg::Dram => format!(
                "a DRAM of {} bytes/cycle, {} cycles latency",
                self.bandwidth, self.latency
            ),
            MemoryArg::Qspi => {
                "a QSPI flash (quad output read, SCK = clock / 2, one read command per layer)"
                    .to_string()
            }
        }
    }

    /// The LineCompress plan of model `index` (of `models`): its `--weights` container, or
    /// every layer compressed with --mode and --eps when there is none.
    pub fn lc_plan(
        &self,
        index: usize,
        models: usize,
        m: &PreparedModel,
        opts: &VerifyOptions,
    ) -> Result<NetworkPlan> {
        if !self.weights.is_empty() && self.weights.len() != models {
            bail!(
                "{} --weights for {models} model(s): give one container per model",
                self.weights.len()
            );
        }
        let Some(path) = self.weights.get(index) else {
            let store = self.store();
            return NetworkPlan::split(&m.qmodel, opts.accel_lanes(store)?, store);
        };
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let c = Container::from_bytes(&bytes)
            .with_context(|| format!("{} is not a LineCompress container", path.display()))?;
        let lanes = opts.accel_lanes(WeightStore::PerLayer)?;
        let mismatch = || format!("{} does not match the model", path.display());
        let qmodel = m.with_container(&c).with_context(mismatch)?;
        NetworkPlan::from_container(&qmodel, lanes, &c).with_context(mismatch)
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
    /// `mismatches`, the per-inference means `cycles_fp32`, `cycles_uncompressed`,
    /// `cycles_compressed`, `energy_fp32_pj`, `energy_uncompressed_pj`,
    /// `energy_compressed_pj`, and the totals per store (`fp32`, `uncompressed`, `compressed`:
    /// mismatches, correct, cycles, energy_pj).
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

/// The three weight stores of one model, run on the RTL and checked against the golden model.
pub struct Verified {
    /// Model name.
    pub name: String,
    /// Options used.
    pub opts: VerifyOptions,
    /// The weight memory in words.
    pub memory: String,
    /// The same weights stored as FP32 through the same datapath.
    pub fp32: StoreSummary,
    /// Raw INT8 weights streamed through the same datapath.
    pub raw: StoreSummary,
    /// LineCompress weights.
    pub lc: StoreSummary,
    /// The run's record.
    pub record: VerifyRecord,
}

impl Verified {
    /// Images with a mismatch, over all stores.
    pub fn mismatches(&self) -> usize {
        self.stores().iter().map(|s| s.mismatches).sum()
    }

    /// The stores: FP32, INT8, LineCompress.
    fn stores(&self) -> [&StoreSummary; 3] {
        [&self.fp32, &self.raw, &self.lc]
    }

    /// The table printed by `verify` (and `demo`).
    pub fn print_table(&self) {
        println!(
            "{}: {} images, {} MAC lanes, {} decompressor lanes, weights from {}",
            self.name,
            self.lc.images,
            self.opts.lanes,
            self.opts
                .accel_lanes(WeightStore::PerLayer)
                .map_or(0, |l| l.dec()),
            self.memory,
        );
        println!(
            "{:<14} {:>10} {:>12} {:>12} {:>14} {:>12} {:>9}",
            "weights",
            "mismatches",
            "weight KiB",
            "cycles/inf",
            "memory B/inf",
            "energy nJ",
            "correct"
        );
        for s in self.stores() {
            print_row(s);
        }
        let cut = |a: f64, b: f64| 100.0 * (1.0 - b / a.max(f64::MIN_POSITIVE));
        println!(
            "LineCompress vs FP32: latency {:.1} % lower, energy {:.1} % lower",
            cut(self.fp32.cycles_per_image, self.lc.cycles_per_image),
            cut(self.fp32.energy_pj(), self.lc.energy_pj())
        );
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
        for s in self.stores() {
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

/// Run `images` inputs of `model` (only those of `shard` when given) on the RTL with the weights
/// stored as FP32, as raw INT8 and as LineCompress streams.
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
    let lc_plan = accel.lc_plan(0, 1, &m, &opts)?;
    let w = Workload::of(&m);
    let fp32 = verify_store(w, WeightStore::Fp32, &opts)?;
    let raw = verify_store(w, WeightStore::Int8, &opts)?;
    let lc = verify_plan(w, &lc_plan, &opts)?;
    let config = RunConfig {
        model: name.clone(),
        dataset: data.describe(),
        run_images: images,
        calib: data.calib,
        store: lc_plan.store.label(),
        mac_lanes: opts.lanes,
        decoders: lc_plan.dec_lanes,
        memory: opts.memory,
        bandwidth: opts.dram.bytes_per_cycle,
        latency: opts.dram.latency,
        host_layers: lc.host_layers(),
    };
    let record = VerifyRecord::new(
        config,
        shard,
        lc.images,
        [&fp32, &raw, &lc].map(StoreTotals::of),
    );
    Ok(Verified {
        name,
        opts,
        memory: accel.memory_description(),
        fp32,
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
        s.dram_bytes_per_image + s.flash_bytes_per_image,
        s.energy_pj() / 1e3,
        s.correct,
        s.images
    );
}
