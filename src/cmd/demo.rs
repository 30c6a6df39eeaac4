//! `linecompress demo`: the main job on the built-in default model.

use std::path::PathBuf;

use anyhow::{Context, Result};
use lc_sw::report::{inspect, table};

use crate::cmd::compress::{compress_model, CodecArgs, ModeArg, StrategyArg};

/// The shipped default model (LeNet-5 trained on Fashion-MNIST, see models/README.md).
const DEFAULT_MODEL: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/lenet5.onnx"));

/// Arguments of `demo`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model to use instead of the built-in LeNet-5.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Directory for the outputs (containers).
    #[arg(long, default_value = "out/demo")]
    pub out: PathBuf,
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
    println!("\nfootprint of all Conv/Gemm weights (B = 8, per-channel quantization, optimal segmentation):");
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
                word_bits: 64,
            };
            let c = compress_model(&model, &codec)?;
            let r = inspect(&c)?;
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
    let codec = CodecArgs {
        mode: ModeArg::Rice,
        eps: 4,
        bits: 8,
        lanes: 4,
        strategy: StrategyArg::Optimal,
        word_bits: 64,
    };
    let c = compress_model(&model, &codec)?;
    let path = args.out.join("model.lcw");
    std::fs::write(&path, c.to_bytes()).with_context(|| format!("writing {}", path.display()))?;
    println!("\nper layer, rice eps 4, 4 lanes ({}):", path.display());
    print!("{}", table(&inspect(&c)?));
    Ok(())
}
