//! `linecompress synth`: Yosys and nextpnr on the emitted decompressor, accelerator or QSPI flash
//! reader; cell counts, whether it fits the device, and Fmax.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use lc_sim::synth::{run_synth, Design, SynthOptions, SynthReport, Target};

/// Arguments of `synth`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Top to synthesise: the N-lane decompressor, the accelerator datapath or the QSPI flash
    /// reader.
    #[arg(long, value_parser = choice(&Design::ALL, Design::name))]
    pub design: Design,
    /// Decompressor lanes (required for decompressor, and for accel except on up5k, where
    /// leaving out --lanes and --mac-lanes builds the board top of the UP5K design point:
    /// accelerator, QSPI flash reader, PLL, iCEBreaker pins and bitstream).
    #[arg(long, required_if_eq("design", "decompressor"))]
    pub lanes: Option<usize>,
    /// MAC lanes of the accelerator (default: --lanes; only equal counts are generated today).
    #[arg(long)]
    pub mac_lanes: Option<usize>,
    /// Hardware profile of the decompressor lanes (a built-in name or a TOML file; default: the
    /// shipped one).
    #[arg(long)]
    pub profile: Option<String>,
    /// iCE40 part to place and route on (hx8k, up5k with DSPs), or generic Yosys synthesis only.
    #[arg(long, value_parser = choice(&Target::ALL, Target::name))]
    pub target: Target,
    /// Output directory (Verilog, scripts, logs, harness, report.json).
    #[arg(long, default_value = "out/synth")]
    pub out: PathBuf,
    /// Print the report as one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// A clap parser that accepts the names of `all` and yields the matching value.
fn choice<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    name: fn(T) -> &'static str,
) -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(all.iter().map(|v| name(*v))).map(move |s| {
        *all.iter()
            .find(|v| name(**v) == s)
            .expect("clap accepts only listed names")
    })
}

/// Run `synth`.
pub fn run(args: &Args) -> Result<()> {
    let profile = lc_format::Profile::load(
        args.profile
            .as_deref()
            .unwrap_or(lc_format::DEFAULT_PROFILE),
    )?;
    let board = args.design == Design::Accel
        && args.target == Target::Up5k
        && args.lanes.is_none()
        && args.mac_lanes.is_none();
    if args.design == Design::Accel && !board && args.lanes.is_none() {
        bail!("--design accel needs --lanes (except on --target up5k, the board build)");
    }
    let report = run_synth(&SynthOptions {
        design: args.design,
        lanes: args.lanes.unwrap_or(1),
        board,
        mac_lanes: args.mac_lanes,
        profile,
        target: args.target,
        out_dir: args.out.clone(),
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", table(&report));
        println!("report  {}", args.out.join("report.json").display());
    }
    Ok(())
}

/// The report as a short table.
fn table(r: &SynthReport) -> String {
    let c = &r.counts;
    let fits = match (r.fits, &r.place_and_route) {
        (None, _) => "not placed (generic target)".to_string(),
        (Some(true), Some(p)) => format!("yes, on {}", p.device),
        (Some(_), Some(p)) => format!(
            "no, on {}: {}",
            p.device,
            p.failure.as_deref().unwrap_or("")
        ),
        (Some(f), None) => f.to_string(),
    };
    let fmax = r
        .fmax_mhz
        .map_or_else(|| "-".to_string(), |f| format!("{f:.1} MHz"));
    let mut board = String::new();
    if let Some(b) = &r.board {
        let cells = r.place_and_route.as_ref().and_then(|p| {
            p.utilisation
                .iter()
                .find(|u| u.resource == "ICESTORM_LC")
                .map(|u| format!("{} of {}", u.used, u.available))
        });
        board = format!(
            "LC      {}\nclock   {:.2} MHz, timing {}\nchain   {} bits\npcf     {}\nbitstream {}\n",
            cells.unwrap_or_else(|| "-".into()),
            b.clock_mhz,
            if b.timing_met { "met" } else { "NOT met" },
            b.chain_bits,
            b.pcf.display(),
            b.bitstream
                .as_ref()
                .map_or_else(|| "-".to_string(), |p| p.display().to_string())
        );
    }
    format!(
        "design  {} ({})\ntarget  {}\nLUT4    {}\ncarry   {}\nFF      {}\n\
         BRAM    {}\nSPRAM   {}\nDSP     {}\nfits    {fits}\nFmax    {fmax}\n{board}time    {:.0} s\n",
        r.design.name(),
        r.top,
        r.target.name(),
        c.lut4,
        c.carry,
        c.ff,
        c.bram,
        c.spram,
        c.dsp,
        r.seconds
    )
}
