//! The FPGA flow: Yosys `synth_ice40` and generic `synth` on the emitted Verilog, from scripts
//! rendered from `templates/yosys_synth.ys.tera`, and, when `nextpnr-ice40` is available, place and
//! route of a timing harness (`templates/fmax_harness.v.tera`) for Fmax.

use anyhow::{bail, Context, Result};
use lc_hw::emit::{emit_rtl, Manifest, PortDirection, CONFIG_MODULE, LANE_MODULE};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const SYNTH_TEMPLATE: &str = include_str!("../../templates/yosys_synth.ys.tera");
const HARNESS_TEMPLATE: &str = include_str!("../../templates/fmax_harness.v.tera");

/// What to synthesise and where.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    /// Lanes of the top to synthesise.
    pub lanes: usize,
    /// Output directory (Verilog, scripts, logs, report).
    pub out_dir: PathBuf,
    /// Run nextpnr-ice40 for Fmax if it is installed.
    pub place_and_route: bool,
    /// Yosys binary (`YOSYS` environment variable, else `yosys`).
    pub yosys: String,
    /// nextpnr-ice40 binary (`NEXTPNR_ICE40` environment variable, else `nextpnr-ice40`).
    pub nextpnr: String,
}

impl SynthOptions {
    /// Defaults with tool paths taken from the environment.
    pub fn new(lanes: usize, out_dir: PathBuf) -> Self {
        SynthOptions {
            lanes,
            out_dir,
            place_and_route: true,
            yosys: std::env::var("YOSYS").unwrap_or_else(|_| "yosys".into()),
            nextpnr: std::env::var("NEXTPNR_ICE40").unwrap_or_else(|_| "nextpnr-ice40".into()),
        }
    }
}

/// Cell counts of one synthesised module.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CellCounts {
    /// Module.
    pub module: String,
    /// Target (`ice40` or `generic`).
    pub target: String,
    /// Every cell.
    pub cells: u64,
    /// 4-input LUTs (`SB_LUT4`; 0 for generic).
    pub lut4: u64,
    /// Carry cells (`SB_CARRY`; 0 for generic).
    pub carry: u64,
    /// Flip-flops (any cell type containing `DFF`).
    pub ff: u64,
    /// Count per cell type.
    pub by_type: BTreeMap<String, u64>,
}

/// Everything the flow measured.
#[derive(Clone, Debug, Serialize)]
pub struct SynthReport {
    /// Lanes of the top.
    pub lanes: usize,
    /// One lane alone (`lc_lane_core`), synth_ice40.
    pub lane_ice40: CellCounts,
    /// The shared configuration block alone, synth_ice40.
    pub config_ice40: CellCounts,
    /// The whole top, synth_ice40.
    pub top_ice40: CellCounts,
    /// The whole top, generic synth.
    pub top_generic: CellCounts,
    /// Fmax of the one-lane decompressor on an iCE40 HX8K, if place and route ran.
    pub fmax_mhz: Option<f64>,
    /// Why Fmax is missing, or the device it was measured on.
    pub fmax_note: String,
}

/// Run the flow and write `report.json` and `report.md` into the output directory.
pub fn run_synth(opts: &SynthOptions) -> Result<SynthReport> {
    check_tool(&opts.yosys, "-V", "yosys")?;
    let out = &opts.out_dir;
    std::fs::create_dir_all(out)?;
    let rtl = emit_rtl(opts.lanes, out)?;
    let top = rtl.manifest.top.clone();
    let yosys =
        |module: &str, target: &str| synthesize(opts, &rtl.verilog, &[], module, target, None);
    let lane_ice40 = yosys(LANE_MODULE, "ice40")?;
    let config_ice40 = yosys(CONFIG_MODULE, "ice40")?;
    let top_ice40 = yosys(&top, "ice40")?;
    let top_generic = yosys(&top, "generic")?;
    let (fmax_mhz, fmax_note) = if !opts.place_and_route {
        (None, "place and route not requested".to_string())
    } else if check_tool(&opts.nextpnr, "--version", "nextpnr-ice40").is_err() {
        (
            None,
            format!("{} not found: install nextpnr-ice40 for Fmax", opts.nextpnr),
        )
    } else {
        fmax(opts)?
    };
    let report = SynthReport {
        lanes: opts.lanes,
        lane_ice40,
        config_ice40,
        top_ice40,
        top_generic,
        fmax_mhz,
        fmax_note,
    };
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(out.join("report.md"), markdown(&report))?;
    Ok(report)
}

fn check_tool(bin: &str, arg: &str, what: &str) -> Result<()> {
    match Command::new(bin).arg(arg).output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => bail!("`{bin}` not found: install {what} (Debian: `sudo apt-get install -y {what}`)"),
    }
}

/// Render the Yosys script for `module`, run it and read the statistics.
fn synthesize(
    opts: &SynthOptions,
    verilog: &Path,
    extra: &[PathBuf],
    module: &str,
    target: &str,
    json: Option<&Path>,
) -> Result<CellCounts> {
    let base = opts.out_dir.join(format!("{module}.{target}"));
    let script = base.with_extension(format!("{target}.ys"));
    let stat = base.with_extension(format!("{target}.stat.json"));
    let log = base.with_extension(format!("{target}.log"));
    let mut ctx = tera::Context::new();
    ctx.insert("top", module);
    ctx.insert("target", target);
    ctx.insert("verilog", &verilog.display().to_string());
    ctx.insert(
        "extra_verilog",
        &extra
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>(),
    );
    ctx.insert("json", &json.map(|p| p.display().to_string()));
    ctx.insert("stat", &stat.display().to_string());
    let text = tera::Tera::one_off(SYNTH_TEMPLATE, &ctx, false)
        .map_err(|e| anyhow::anyhow!("rendering the Yosys script: {e:?}"))?;
    std::fs::write(&script, text)?;
    let status = Command::new(&opts.yosys)
        .arg("-q")
        .arg("-l")
        .arg(&log)
        .arg("-s")
        .arg(&script)
        .status()
        .with_context(|| format!("running {}", opts.yosys))?;
    if !status.success() {
        bail!("yosys failed on {module} ({target}); see {}", log.display());
    }
    let stat_text = std::fs::read_to_string(&stat)?;
    parse_stat(&stat_text, module, target)
}

/// Cell counts from the output of Yosys `stat -json` (the flattened design).
pub fn parse_stat(text: &str, module: &str, target: &str) -> Result<CellCounts> {
    let v: serde_json::Value = serde_json::from_str(text).context("parsing yosys stat -json")?;
    let design = v
        .get("design")
        .context("yosys stat without a design section")?;
    let mut c = CellCounts {
        module: module.to_string(),
        target: target.to_string(),
        ..Default::default()
    };
    c.cells = design
        .get("num_cells")
        .and_then(|n| n.as_u64())
        .unwrap_or(0);
    if let Some(types) = design.get("num_cells_by_type").and_then(|t| t.as_object()) {
        for (name, n) in types {
            let n = n.as_u64().unwrap_or(0);
            c.by_type.insert(name.clone(), n);
            match name.as_str() {
                "SB_LUT4" => c.lut4 += n,
                "SB_CARRY" => c.carry += n,
                _ if name.contains("DFF") => c.ff += n,
                _ => {}
            }
        }
    }
    Ok(c)
}

/// Place and route the timing harness around the one-lane top on an iCE40 HX8K.
fn fmax(opts: &SynthOptions) -> Result<(Option<f64>, String)> {
    let dir = opts.out_dir.join("fmax");
    let rtl = emit_rtl(1, &dir)?;
    let harness = dir.join("lc_fmax_harness.v");
    std::fs::write(&harness, render_harness(&rtl.manifest)?)?;
    let json = dir.join("lc_fmax_harness.json");
    let sub = SynthOptions {
        out_dir: dir.clone(),
        ..opts.clone()
    };
    synthesize(
        &sub,
        &rtl.verilog,
        std::slice::from_ref(&harness),
        "lc_fmax_harness",
        "ice40",
        Some(&json),
    )?;
    let log = dir.join("nextpnr.log");
    let device = ["--hx8k", "--package", "ct256"];
    let status = Command::new(&opts.nextpnr)
        .args(device)
        .arg("--json")
        .arg(&json)
        .args([
            "--pcf-allow-unconstrained",
            "--timing-allow-fail",
            "--freq",
            "12",
            "--seed",
            "1",
            "-q",
            "-l",
        ])
        .arg(&log)
        .status()
        .with_context(|| format!("running {}", opts.nextpnr))?;
    if !status.success() {
        return Ok((None, format!("nextpnr-ice40 failed; see {}", log.display())));
    }
    let text = std::fs::read_to_string(&log)?;
    let mhz = text
        .lines()
        .filter(|l| l.contains("Max frequency for clock"))
        .filter_map(|l| {
            l.split(':')
                .nth(2)?
                .split_whitespace()
                .next()?
                .parse::<f64>()
                .ok()
        })
        .next_back();
    Ok((
        mhz,
        "iCE40 HX8K (ct256), nextpnr-ice40, seed 1, one lane plus configuration".to_string(),
    ))
}

#[derive(Serialize)]
struct HarnessPort {
    name: String,
    hi: usize,
    lo: usize,
}

/// The timing harness: inputs from a scan chain, outputs captured in flip-flops.
pub fn render_harness(manifest: &Manifest) -> Result<String> {
    let mut inputs = Vec::new();
    let mut outputs = Vec::new();
    let (mut in_bits, mut out_bits) = (0, 0);
    for p in manifest.ports.iter().filter(|p| p.name != manifest.clock) {
        let (list, at) = match p.direction {
            PortDirection::Input => (&mut inputs, &mut in_bits),
            PortDirection::Output => (&mut outputs, &mut out_bits),
        };
        list.push(HarnessPort {
            name: p.name.clone(),
            hi: *at + p.width - 1,
            lo: *at,
        });
        *at += p.width;
    }
    let mut ctx = tera::Context::new();
    ctx.insert("top", &manifest.top);
    ctx.insert("clock", &manifest.clock);
    ctx.insert("inputs", &inputs);
    ctx.insert("outputs", &outputs);
    ctx.insert("in_bits", &in_bits.max(2));
    ctx.insert("out_bits", &out_bits.max(1));
    tera::Tera::one_off(HARNESS_TEMPLATE, &ctx, false)
        .map_err(|e| anyhow::anyhow!("rendering the timing harness: {e:?}"))
}

/// The report as a Markdown table.
pub fn markdown(r: &SynthReport) -> String {
    let row = |what: &str, c: &CellCounts| {
        format!(
            "| {what} | {} | {} | {} | {} | {} |\n",
            c.module, c.target, c.lut4, c.carry, c.ff
        ) + &format!("|  |  | cells: {} |  |  |  |\n", c.cells)
    };
    let n = r.lanes as u64;
    let per_lane = |total: u64, shared: u64| total.saturating_sub(shared) as f64 / n as f64;
    let mut s =
        String::from("| what | module | target | LUT4 | carry | FF |\n|---|---|---|---|---|---|\n");
    s += &row("one lane", &r.lane_ice40);
    s += &row("shared configuration", &r.config_ice40);
    s += &row(&format!("{}-lane top", r.lanes), &r.top_ice40);
    s += &format!(
        "| per lane in the {}-lane top | | ice40 | {:.0} | {:.0} | {:.0} |\n",
        r.lanes,
        per_lane(r.top_ice40.lut4, r.config_ice40.lut4),
        per_lane(r.top_ice40.carry, r.config_ice40.carry),
        per_lane(r.top_ice40.ff, r.config_ice40.ff)
    );
    s += &format!(
        "| {}-lane top | {} | generic | cells: {} | | FF: {} |\n",
        r.lanes, r.top_generic.module, r.top_generic.cells, r.top_generic.ff
    );
    match r.fmax_mhz {
        Some(f) => s += &format!("\nFmax: {f:.1} MHz ({})\n", r.fmax_note),
        None => s += &format!("\nFmax: not measured ({})\n", r.fmax_note),
    }
    s
}
