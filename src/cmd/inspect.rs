//! `linecompress inspect`.

use std::path::PathBuf;

use anyhow::Result;
use lc_sw::report::{inspect, table};

/// Arguments of `inspect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Container to inspect.
    pub input: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Run `inspect`.
pub fn run(args: &Args) -> Result<()> {
    let container = crate::cmd::read_container(&args.input)?;
    let report = inspect(&container)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(())
}
