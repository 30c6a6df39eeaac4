//! `linecompress flash-image`: lay out a container as the QSPI flash image the flash reader
//! serves to the decompressor lanes (HARDWARE.md, "Flash image").

use std::path::PathBuf;

use anyhow::{Context, Result};
use lc_sw::flash_image::{build_flash_image, FLASH_BYTES};

/// Arguments of `flash-image`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Container to lay out.
    pub input: PathBuf,
    /// Output image.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Run `flash-image`.
pub fn run(args: &Args) -> Result<()> {
    let container = crate::cmd::read_container(&args.input)?;
    let image = build_flash_image(&container)
        .with_context(|| format!("laying out {}", args.input.display()))?;
    std::fs::write(&args.output, &image)
        .with_context(|| format!("writing {}", args.output.display()))?;
    let lanes: usize = container.layers.iter().map(|l| l.lanes.len()).sum();
    println!(
        "{}: {} layers, {lanes} lane streams, {} bytes ({:.2} % of a 16 MiB flash)",
        args.output.display(),
        container.layers.len(),
        image.len(),
        100.0 * image.len() as f64 / FLASH_BYTES as f64
    );
    Ok(())
}
