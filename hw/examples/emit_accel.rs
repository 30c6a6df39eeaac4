//! Write the Verilog, port manifest and lint waivers of an accelerator with P MAC lanes and D
//! decompressor lanes:
//! `cargo run -p lc-hw --example emit_accel -- <P> <out_dir> [profile] [D]` (default profile: the
//! shipped one; default D = P).

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let lanes: usize = args.next().as_deref().unwrap_or("4").parse()?;
    let out = PathBuf::from(args.next().unwrap_or_else(|| "out/rtl".to_string()));
    let profile =
        lc_format::Profile::load(args.next().as_deref().unwrap_or(lc_format::DEFAULT_PROFILE))?;
    let dec: usize = match args.next() {
        Some(d) => d.parse()?,
        None => lanes,
    };
    let lanes = lc_hw::accel::AccelLanes::new(lanes, dec)?;
    let rtl = lc_hw::accel::emit::emit_accel(&profile, lanes, &out)?;
    println!("{}", rtl.verilog.display());
    println!("{}", rtl.manifest_path.display());
    println!("{}", rtl.waivers.display());
    Ok(())
}
