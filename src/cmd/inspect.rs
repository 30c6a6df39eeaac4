//! `linecompress inspect`.

use std::path::PathBuf;

use anyhow::Result;
use lc_format::Profile;
use lc_sw::report::{inspect, table};

/// Arguments of `inspect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Container to inspect.
    pub input: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also check that every layer decodes on this hardware profile (a built-in name or a TOML
    /// file); a layer it cannot decode is an error naming the layer and the field.
    #[arg(long)]
    pub profile: Option<String>,
}

/// Run `inspect`.
pub fn run(args: &Args) -> Result<()> {
    let container = crate::cmd::read_container(&args.input)?;
    if let Some(name) = &args.profile {
        let profile = Profile::load(name)?;
        for layer in &container.layers {
            let refused = |e| anyhow::anyhow!("layer {}: {e}", layer.name);
            profile.check(&layer.params).map_err(refused)?;
            for lane in &layer.lanes {
                profile.check_lane_weights(lane.count).map_err(refused)?;
            }
        }
    }
    let report = inspect(&container)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", table(&report));
    }
    if let Some(name) = &args.profile {
        eprintln!("every layer decodes on profile {name}");
    }
    Ok(())
}
