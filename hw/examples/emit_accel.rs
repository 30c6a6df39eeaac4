//! Write the Verilog, port manifest and lint waivers of a P-lane accelerator:
//! `cargo run -p lc-hw --example emit_accel -- <lanes> <out_dir> [profile]` (default profile: the
//! shipped one).

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let lanes: usize = args.next().as_deref().unwrap_or("4").parse()?;
    let out = PathBuf::from(args.next().unwrap_or_else(|| "out/rtl".to_string()));
    let profile =
        lc_format::Profile::load(args.next().as_deref().unwrap_or(lc_format::DEFAULT_PROFILE))?;
    let rtl = lc_hw::accel::emit::emit_accel(&profile, lanes, &out)?;
    println!("{}", rtl.verilog.display());
    println!("{}", rtl.manifest_path.display());
    println!("{}", rtl.waivers.display());
    Ok(())
}
