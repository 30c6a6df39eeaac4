//! `linecompress merge-verify`: the record of a whole verification run from the JSON records of
//! its shards (`verify --shard I/N --json`), totals summed and per-inference means derived again.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use lc_sim::accel::shard::VerifyRecord;

/// Arguments of `merge-verify`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The records of all shards of one run, each the output of `verify --shard I/N --json`.
    #[arg(required = true)]
    pub records: Vec<PathBuf>,
}

/// Run `merge-verify`: print the merged record; fails when any shard had a mismatch.
pub fn run(args: &Args) -> Result<()> {
    let records = args
        .records
        .iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a record of `verify --json`", p.display()))
        })
        .collect::<Result<Vec<VerifyRecord>>>()?;
    let merged = VerifyRecord::merge(&records)?;
    println!("{}", serde_json::to_string(&merged)?);
    if merged.mismatches != 0 {
        bail!(
            "{} image(s) differ from the golden model",
            merged.mismatches
        );
    }
    Ok(())
}
