//! The FPGA flow: `cargo run --release -p lc-sim --bin lc-synth -- [--lanes N] [--out DIR] [--no-pnr]`.
//!
//! Emits the N-lane decompressor, synthesises it with Yosys (synth_ice40 and generic synth), runs
//! nextpnr-ice40 for Fmax when available, prints the table and writes `DIR/report.{md,json}`.

use anyhow::{bail, Result};
use lc_sim::synth::{markdown, run_synth, SynthOptions};
use std::path::PathBuf;

fn main() -> Result<()> {
    let mut lanes = 4;
    let mut out = PathBuf::from("out/synth");
    let mut pnr = true;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lanes" => lanes = args.next().unwrap_or_default().parse()?,
            "--out" => out = PathBuf::from(args.next().unwrap_or_default()),
            "--no-pnr" => pnr = false,
            "-h" | "--help" => {
                println!("usage: lc-synth [--lanes N] [--out DIR] [--no-pnr]");
                return Ok(());
            }
            other => bail!("unknown argument `{other}` (try --help)"),
        }
    }
    let mut opts = SynthOptions::new(lanes, out);
    opts.place_and_route = pnr;
    let report = run_synth(&opts)?;
    print!("{}", markdown(&report));
    println!("report: {}", opts.out_dir.join("report.md").display());
    Ok(())
}
