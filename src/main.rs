//! `linecompress`: compress CNN weights with LineCompress, inspect and decompress containers.

mod cmd;

use clap::{Parser, Subcommand};

/// LineCompress: line-segment compression of CNN weights for small accelerators, from the
/// software codec to bit-exact RTL.
#[derive(Parser)]
#[command(name = "linecompress", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job on the built-in default model: compress at several settings, print tables.
    Demo(cmd::demo::Args),
    /// Quantize and compress the weights of an ONNX model into a .lcw container.
    Compress(cmd::compress::Args),
    /// Decode a .lcw container to integer weights (JSON) or to an ONNX model.
    Decompress(cmd::decompress::Args),
    /// Print a per-layer table of a .lcw container.
    Inspect(cmd::inspect::Args),
    /// Accuracy with float, INT8 and LineCompress weights, and the footprint ratios.
    Eval(cmd::eval::Args),
    /// What each hardware profile costs in compression and saves in area and clock.
    Codesign(cmd::codesign::Args),
    /// Accuracy against bits/weight for LineCompress and the baselines: CSV and plots.
    Sweep(cmd::sweep::Args),
    /// Emit the Verilog of the decompressor or the accelerator, with a port manifest.
    Rtl(cmd::rtl::Args),
    /// Verify a CNN on the accelerator RTL against the golden model.
    Verify(cmd::verify::Args),
    /// Merge the JSON records of the shards of one `verify` run (`verify --shard I/N --json`).
    MergeVerify(cmd::merge_verify::Args),
    /// Study table and bandwidth sweep on the accelerator RTL.
    Report(cmd::report::Args),
    /// Lay out a .lcw container as the image the QSPI flash reader expects.
    FlashImage(cmd::flash_image::Args),
    /// Yosys and nextpnr on the decompressor or the accelerator: cells, fit, Fmax.
    Synth(cmd::synth::Args),
}

fn main() {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Demo(a) => cmd::demo::run(a),
        Command::Compress(a) => cmd::compress::run(a),
        Command::Decompress(a) => cmd::decompress::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Eval(a) => cmd::eval::run(a),
        Command::Codesign(a) => cmd::codesign::run(a),
        Command::Sweep(a) => cmd::sweep::run(a),
        Command::Rtl(a) => cmd::rtl::run(a),
        Command::Verify(a) => cmd::verify::run(a),
        Command::MergeVerify(a) => cmd::merge_verify::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::FlashImage(a) => cmd::flash_image::run(a),
        Command::Synth(a) => cmd::synth::run(a),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
