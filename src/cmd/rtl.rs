//! `linecompress rtl`: emit the Verilog of the decompressor (or the accelerator) for FPGA flows.

use std::path::PathBuf;

use anyhow::Result;

/// Arguments of `rtl`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Number of decompressor lanes (one weight per clock each).
    #[arg(long, default_value_t = 4)]
    pub lanes: usize,
    /// Emit the whole accelerator datapath (with `lanes` MAC lanes) instead of the decompressor.
    #[arg(long)]
    pub accel: bool,
    /// Output directory.
    #[arg(long, default_value = "out/rtl")]
    pub out: PathBuf,
}

/// Run `rtl`.
pub fn run(args: &Args) -> Result<()> {
    let rtl = if args.accel {
        lc_hw::accel::emit::emit_accel(
            &lc_format::Profile::default_profile(),
            lc_hw::accel::AccelLanes::matched(args.lanes)?,
            &args.out,
        )?
    } else {
        lc_hw::emit::emit_rtl(args.lanes, &args.out)?
    };
    println!("top module   {}", rtl.manifest.top);
    println!("verilog      {}", rtl.verilog.display());
    println!(
        "ports        {} ({} listed)",
        rtl.manifest_path.display(),
        rtl.manifest.ports.len()
    );
    println!("lint waivers {}", rtl.waivers.display());
    println!(
        "lint with    verilator --lint-only -Wall {} {}",
        rtl.waivers.display(),
        rtl.verilog.display()
    );
    Ok(())
}
