//! Synthesize the P-lane accelerator with Yosys (`synth_ice40`) and print its cell counts:
//! `cargo run --release -p lc-hw --example synth_accel -- <lanes> <out_dir>`.
//! Needs `yosys` on PATH (or the YOSYS environment variable).

use anyhow::{bail, Context};
use std::path::PathBuf;
use std::process::Command;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let lanes: usize = args.next().as_deref().unwrap_or("4").parse()?;
    let out = PathBuf::from(args.next().unwrap_or_else(|| "out/synth".to_string()));
    let rtl = lc_hw::accel::emit::emit_accel(lanes, &out)?;
    let top = &rtl.manifest.top;
    let json = out.join(format!("{top}_ice40.json"));
    let script = format!(
        "read_verilog {v}; synth_ice40 -top {top} -json {j}; tee -o {s} stat",
        v = rtl.verilog.display(),
        j = json.display(),
        s = out.join(format!("{top}_ice40_stat.txt")).display(),
    );
    let yosys = std::env::var("YOSYS").unwrap_or_else(|_| "yosys".to_string());
    let status = Command::new(&yosys)
        .args(["-q", "-p", &script])
        .status()
        .with_context(|| format!("running {yosys} (install it with `apt-get install -y yosys`)"))?;
    if !status.success() {
        bail!("yosys failed on {}", rtl.verilog.display());
    }
    let stat = std::fs::read_to_string(out.join(format!("{top}_ice40_stat.txt")))?;
    for line in stat.lines() {
        let t = line.trim();
        if t.starts_with("SB_") || t.starts_with("Number of cells") {
            println!("{top}: {t}");
        }
    }
    Ok(())
}
