//! Write the Verilog and port manifest of an N-lane decompressor:
//! `cargo run -p lc-hw --example emit_rtl -- <lanes> <out_dir> [profile]`.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let lanes: usize = args.next().as_deref().unwrap_or("1").parse()?;
    let out = PathBuf::from(args.next().unwrap_or_else(|| "out/rtl".to_string()));
    let profile = lc_format::Profile::load(args.next().as_deref().unwrap_or("full"))?;
    let rtl = lc_hw::emit::emit_rtl_for(&profile, lanes, &out)?;
    println!("{}", rtl.verilog.display());
    println!("{}", rtl.manifest_path.display());
    Ok(())
}
