//! `linecompress demo`: the main job on the built-in default model. Compress the weights at
//! several settings, emit the RTL, run test images on the accelerator RTL under Verilator with raw
//! INT8 and with LineCompress weights, compare every layer with the golden model, print tables.

use std::path::PathBuf;

use anyhow::{Context, Result};
use lc_sw::report::{inspect, table};

use crate::cmd::compress::{compress_model, CodecArgs, ModeArg, StrategyArg};
use crate::cmd::data::DataArgs;
use crate::cmd::verify::{verify_model, AccelArgs};
use lc_sw::eval::ladder::Family;
use lc_sw::eval::variants::model_container;

/// The shipped default model (LeNet-5 trained on Fashion-MNIST, see models/README.md).
const DEFAULT_MODEL: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/lenet5.onnx"));

/// Arguments of `demo`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model to use instead of the built-in LeNet-5 (Fashion-MNIST input, 1x28x28).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Directory for the outputs (containers, RTL, VCDs of failures).
    #[arg(long, default_value = "out/demo")]
    pub out: PathBuf,
    /// Test images run on the accelerator RTL (0 skips the RTL run).
    #[arg(long, default_value_t = 20)]
    pub images: usize,
    /// The LineCompress row on the RTL: each layer's rice setting chosen within this many points
    /// of float accuracy (as `eval --max-drop`, on 1000 held-out and 2000 evaluation images),
    /// unless --weights gives a container or --uniform-eps asks for --eps on every layer.
    #[arg(long, default_value_t = 1.0)]
    pub max_drop: f64,
    /// Run the RTL with --eps on every layer instead of the per-layer budget.
    #[arg(long)]
    pub uniform_eps: bool,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub accel: AccelArgs,
}

/// Run `demo`.
pub fn run(args: &Args) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let model = match &args.model {
        Some(p) => p.clone(),
        None => {
            let p = args.out.join("lenet5.onnx");
            std::fs::write(&p, DEFAULT_MODEL)
                .with_context(|| format!("writing {}", p.display()))?;
            p
        }
    };
    println!("model: {}", model.display());

    println!("\n1. Footprint of all Conv/Gemm weights (B = 8, per-channel quantization, optimal segmentation)");
    println!(
        "{:<6} {:>4} {:>10} {:>6} {:>8} {:>8} {:>7}",
        "mode", "eps", "bits", "b/w", "x fp32", "x int8", "maxerr"
    );
    for mode in [ModeArg::Lines, ModeArg::Rice] {
        for eps in [0u16, 1, 2, 4, 8] {
            let codec = CodecArgs {
                mode,
                eps,
                bits: 8,
                lanes: 1,
                strategy: StrategyArg::Optimal,
                profile: Some("full".into()),
                word_bits: 64,
            };
            let r = inspect(&compress_model(&model, &codec)?)?;
            let maxerr = r.layers.iter().map(|l| l.max_abs_error).max().unwrap_or(0);
            println!(
                "{:<6} {eps:>4} {:>10} {:>6.2} {:>8.2} {:>8.2} {maxerr:>7}",
                format!("{mode:?}").to_lowercase(),
                r.total.bits,
                r.total.bits as f64 / r.total.params as f64,
                r.total.ratio_fp32,
                r.total.ratio_int8
            );
        }
    }

    let a = &args.accel;
    let lanes = a.lanes();
    let codec = CodecArgs {
        mode: a.mode,
        eps: a.eps,
        bits: 8,
        lanes: lanes as u16,
        strategy: StrategyArg::Optimal,
        profile: Some(lc_sim::accel::plan::accel_profile().name.clone()),
        word_bits: lc_sim::accel::plan::accel_profile().word_bits as u8,
    };
    let c = compress_model(&model, &codec)?;
    let path = args.out.join("model.lcw");
    std::fs::write(&path, c.to_bytes()).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "\n2. Per layer, {:?} eps {}, {} lanes ({})",
        a.mode,
        a.eps,
        lanes,
        path.display()
    );
    print!("{}", table(&inspect(&c)?));

    let rtl_dir = args.out.join("rtl");
    let profile = lc_sim::accel::plan::accel_profile();
    let dec = lc_hw::emit::emit_rtl_for(profile, lanes, &rtl_dir)?;
    let split = lc_hw::accel::AccelLanes::new(lanes, a.decoders.unwrap_or(lanes))?;
    let acc = lc_hw::accel::emit::emit_accel(profile, split, &rtl_dir)?;
    println!(
        "\n3. RTL: {} and {}",
        dec.verilog.display(),
        acc.verilog.display()
    );

    if args.images == 0 {
        return Ok(());
    }
    let mut accel = a.clone();
    if accel.weights.is_empty() && !args.uniform_eps {
        let path = args.out.join("budget.lcw");
        println!(
            "\n4. Per-layer rice settings within {} point(s) of float accuracy ({})",
            args.max_drop,
            path.display()
        );
        budget_container(&model, &args.data, args.max_drop, &codec, &path)?;
        accel.weights = vec![path];
    }
    println!("\n5. Accelerator RTL under Verilator, every layer compared with the golden model");
    let v = verify_model(
        &model,
        &args.data,
        args.images,
        None,
        args.out.join("vcd"),
        &accel,
    )?;
    v.print_table();
    v.check()
}

/// Choose each layer's rice setting within `max_drop` points of float accuracy (as `eval
/// --max-drop`) and write the container of that choice to `path`.
fn budget_container(
    model: &std::path::Path,
    data: &DataArgs,
    max_drop: f64,
    codec: &CodecArgs,
    path: &std::path::Path,
) -> Result<()> {
    if !(0.0..=100.0).contains(&max_drop) {
        anyhow::bail!("--max-drop {max_drop} is not between 0 and 100 points");
    }
    let m = data.load(model)?;
    let p = crate::cmd::eval::prepare(&m, data, 2000, 1000, Default::default())?;
    let settings = crate::cmd::eval::codec_settings(codec)?;
    let (r, _) = crate::cmd::eval::search(&p, Family::LcRice, max_drop, settings, true)?;
    let c = model_container(&m.graph, &r.methods(), settings, codec.word_bits)?;
    std::fs::write(path, c.to_bytes()).with_context(|| format!("writing {}", path.display()))
}
