//! `linecompress report`: the study table (per CNN: footprint, latency and energy reductions vs
//! FP32 and INT8 weights, accuracy) measured on the accelerator RTL, and the weight memory
//! bandwidth sweep, written as Markdown, HTML and JSON.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use lc_sim::accel::plan::{NetworkPlan, WeightStore};
use lc_sim::accel::report::accuracy;
use lc_sim::accel::report::{render_html, render_markdown, ModelRow, ReportData, SweepTable};
use lc_sim::accel::sweep::bandwidth_sweep;
use lc_sim::accel::verify::{verify_plan, verify_store, Workload};

use crate::cmd::data::DataArgs;
use crate::cmd::verify::{AccelArgs, MemoryArg};

/// Arguments of `report`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output directory (report.md, report.html, report.json).
    #[arg(long, default_value = "out/report")]
    pub out: PathBuf,
    /// ONNX models, one table row each.
    #[arg(long, default_values = ["models/lenet5.onnx"])]
    pub model: Vec<PathBuf>,
    /// Test images run on the RTL per weight store.
    #[arg(long, default_value_t = 20)]
    pub images: usize,
    /// Test images for the accuracy columns (golden model, bit-identical to the RTL).
    #[arg(long, default_value_t = 1000)]
    pub accuracy_images: usize,
    /// Clock for the inferences-per-second figure, MHz (e.g. the placed Fmax).
    #[arg(long)]
    pub fmax_mhz: Option<f64>,
    /// Bandwidths of the DRAM sweep, bytes per cycle (no sweep with `--memory qspi`).
    #[arg(long, value_delimiter = ',', default_value = "0.25,0.5,1,2,4,8,16,32")]
    pub bandwidths: Vec<f64>,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub accel: AccelArgs,
}

/// Run `report`.
pub fn run(args: &Args) -> Result<()> {
    if args.images == 0 || args.model.is_empty() {
        bail!("need at least one model and one image");
    }
    if args.fmax_mhz.is_some_and(|f| !(f.is_finite() && f > 0.0)) {
        bail!("--fmax-mhz must be a positive number of MHz");
    }
    if args.bandwidths.iter().any(|b| !(b.is_finite() && *b > 0.0)) {
        bail!("bandwidths must be positive");
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let opts = args.accel.options(args.out.join("vcd"))?;
    let mut rows = Vec::new();
    let mut sweeps = Vec::new();
    for (i, path) in args.model.iter().enumerate() {
        let n = args.images.max(args.accuracy_images);
        let m = args.data.prepare(path, n, None)?;
        let k = args.images.min(m.inputs.len());
        let w = Workload {
            qmodel: &m.qmodel,
            inputs: &m.inputs[..k],
            labels: &m.labels[..k.min(m.labels.len())],
            classifier: m.classifier,
        };
        eprintln!("{}: RTL runs on {k} images", m.name);
        let fp32 = verify_store(w, WeightStore::Fp32, &opts)?;
        let int8 = verify_store(w, WeightStore::Int8, &opts)?;
        let lc_plan = args.accel.lc_plan(i, args.model.len(), &m, &opts)?;
        let lc = verify_plan(w, &lc_plan, &opts)?;
        eprintln!(
            "{}: accuracy on {} images",
            m.name,
            args.accuracy_images.min(m.inputs.len())
        );
        let acc = accuracy(&m, &lc_plan.reference, args.accuracy_images)?;
        let params: u64 = m
            .qmodel
            .layers
            .iter()
            .filter_map(|l| match &l.op {
                lc_sw::model::golden::QOp::Conv { layer, .. }
                | lc_sw::model::golden::QOp::Dense(layer) => Some(layer.weights.len() as u64),
                _ => None,
            })
            .sum();
        rows.push(ModelRow::new(
            &m.name,
            params,
            [&fp32, &int8, &lc],
            acc,
            args.fmax_mhz,
        ));
        // The sweep varies the DRAM model's bandwidth; the flash has one speed.
        if args.accel.memory == MemoryArg::Dram {
            eprintln!("{}: bandwidth sweep", m.name);
            let int8_plan = NetworkPlan::new(&m.qmodel, opts.lanes, WeightStore::Int8)?;
            let mut bws = args.bandwidths.clone();
            bws.sort_by(f64::total_cmp);
            let points = bandwidth_sweep(&[&int8_plan, &lc_plan], &m.inputs[0], &bws, opts.dram)?;
            sweeps.push(SweepTable::new(
                &m.name,
                vec!["int8".into(), lc_plan.store.label()],
                points,
            ));
        }
    }
    let energy_config = match &args.accel.energy {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => lc_sim::accel::energy::DEFAULT_CONFIG.to_string(),
    };
    let data = ReportData {
        rows,
        sweeps,
        lanes: opts.lanes,
        decoders: opts.accel_lanes(args.accel.store())?.dec(),
        baseline_decoders: opts.accel_lanes(WeightStore::Int8)?.dec(),
        memory: args.accel.memory_description(),
        fmax_mhz: args.fmax_mhz,
        energy_config,
    };
    let md = render_markdown(&data)?;
    let write = |name: &str, text: &str| -> Result<()> {
        let p = args.out.join(name);
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))
    };
    write("report.md", &md)?;
    write("report.html", &render_html(&data)?)?;
    write("report.json", &serde_json::to_string_pretty(&data)?)?;
    print!("{md}");
    eprintln!("wrote {}/report.{{md,html,json}}", args.out.display());
    if data.rows.iter().any(|r| r.mismatches != 0) {
        bail!("the RTL differs from the golden model (see the mismatch column)");
    }
    Ok(())
}
