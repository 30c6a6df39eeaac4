//! The FPGA flow behind `linecompress synth`: Yosys (`synth_ice40`, or generic `synth`) on a whole
//! emitted top, from scripts rendered from `templates/yosys_synth.ys.tera`, then, for the iCE40
//! targets, nextpnr-ice40 on that top inside a timing harness (`templates/fmax_harness.v.tera`) for
//! whether it fits and its Fmax.

use anyhow::{bail, Context, Result};
use lc_hw::emit::{Manifest, PortDirection};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const SYNTH_TEMPLATE: &str = include_str!("../../templates/yosys_synth.ys.tera");
const HARNESS_TEMPLATE: &str = include_str!("../../templates/fmax_harness.v.tera");
/// Module name of the timing harness.
pub const HARNESS_MODULE: &str = "lc_fmax_harness";
/// Name of the harness input that clocks the design; nextpnr reports Fmax per clock net.
const HARNESS_CLOCK: &str = "clock";

/// Which top to synthesise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Design {
    /// The N-lane decompressor `lc_decompressor_x<N>`.
    Decompressor,
    /// The accelerator datapath `lc_accel_p<P>` (decompressor lanes, MAC lanes, controller).
    Accel,
    /// The QSPI flash reader `lc_qspi_reader` alone.
    Qspi,
}

/// Where to synthesise it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// iCE40 HX8K (ct256): `synth_ice40`, then place and route.
    Hx8k,
    /// iCE40 UP5K (sg48): `synth_ice40 -dsp`, then place and route.
    Up5k,
    /// Yosys generic `synth` (gate-level cell counts, no LUT mapping, no place and route).
    Generic,
}

impl Design {
    /// Every design.
    pub const ALL: [Design; 3] = [Design::Decompressor, Design::Accel, Design::Qspi];

    /// The lower-case name used on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Design::Decompressor => "decompressor",
            Design::Accel => "accel",
            Design::Qspi => "qspi",
        }
    }
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 3] = [Target::Hx8k, Target::Up5k, Target::Generic];

    /// The lower-case name used on the command line, in file names and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Target::Hx8k => "hx8k",
            Target::Up5k => "up5k",
            Target::Generic => "generic",
        }
    }

    /// The nextpnr-ice40 device and package, for the targets that are placed and routed.
    pub fn device(self) -> Option<Device> {
        match self {
            Target::Hx8k => Some(Device {
                part: "hx8k",
                package: "ct256",
            }),
            Target::Up5k => Some(Device {
                part: "up5k",
                package: "sg48",
            }),
            Target::Generic => None,
        }
    }
}

/// An iCE40 part and package as nextpnr-ice40 names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device {
    /// Part (`--hx8k`, `--up5k`).
    pub part: &'static str,
    /// Package (`--package`).
    pub package: &'static str,
}

/// The Verilog of a generated design and its port manifest.
#[derive(Clone, Debug)]
pub struct GeneratedDesign {
    /// Every module of the design.
    pub verilog: String,
    /// Ports of the top (the top's name is `manifest.top`).
    pub manifest: Manifest,
    /// File name of the Verilator lint waivers.
    pub waivers_file: &'static str,
    /// The lint waivers.
    pub waivers: &'static str,
}

/// Generate a design: `lanes` decompressor lanes and, for the accelerator, `mac_lanes` MAC lanes
/// (default: `lanes`; the decompressor lanes must divide the MAC lanes). The QSPI reader has no
/// lanes (`lanes` = 1).
pub fn generate(
    design: Design,
    profile: &lc_format::Profile,
    lanes: usize,
    mac_lanes: Option<usize>,
) -> Result<GeneratedDesign> {
    match design {
        Design::Decompressor => {
            if mac_lanes.is_some_and(|p| p != lanes) {
                bail!("--mac-lanes applies to --design accel only");
            }
            let (verilog, manifest) = lc_hw::emit::generate_for(profile, lanes)?;
            Ok(GeneratedDesign {
                verilog,
                manifest,
                waivers_file: lc_hw::emit::LINT_WAIVERS_FILE,
                waivers: lc_hw::emit::LINT_WAIVERS,
            })
        }
        Design::Accel => {
            let p = mac_lanes.unwrap_or(lanes);
            let split = lc_hw::accel::AccelLanes::new(p, lanes)?;
            let (verilog, manifest) = lc_hw::accel::emit::generate_accel(profile, split)?;
            Ok(GeneratedDesign {
                verilog,
                manifest,
                waivers_file: lc_hw::accel::emit::ACCEL_LINT_WAIVERS_FILE,
                waivers: lc_hw::accel::emit::ACCEL_LINT_WAIVERS,
            })
        }
        Design::Qspi => {
            if lanes != 1 || mac_lanes.is_some() {
                bail!("--lanes and --mac-lanes apply to --design decompressor and accel only");
            }
            let (verilog, manifest) = lc_hw::qspi::generate_qspi()?;
            Ok(GeneratedDesign {
                verilog,
                manifest,
                waivers_file: lc_hw::qspi::QSPI_LINT_WAIVERS_FILE,
                waivers: lc_hw::qspi::QSPI_LINT_WAIVERS,
            })
        }
    }
}

/// An external tool of the flow: its default binary, the environment variable that overrides it
/// and the Debian package that provides it.
#[derive(Clone, Copy, Debug)]
pub struct Tool {
    /// Default binary name.
    pub binary: &'static str,
    /// Environment variable with the binary to use instead.
    pub env: &'static str,
    /// Debian package.
    pub package: &'static str,
    /// Argument that makes it print its version and exit successfully.
    pub version_arg: &'static str,
}

/// Yosys.
pub const YOSYS: Tool = Tool {
    binary: "yosys",
    env: "YOSYS",
    package: "yosys",
    version_arg: "-V",
};

/// nextpnr for iCE40.
pub const NEXTPNR_ICE40: Tool = Tool {
    binary: "nextpnr-ice40",
    env: "NEXTPNR_ICE40",
    package: "nextpnr-ice40",
    version_arg: "--version",
};

impl Tool {
    /// The binary to run (from the environment variable, else the default), checked to start.
    pub fn locate(&self) -> Result<String> {
        let bin = std::env::var(self.env).unwrap_or_else(|_| self.binary.to_string());
        let run = Command::new(&bin)
            .arg(self.version_arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        match run {
            Ok(s) if s.success() => Ok(bin),
            Ok(s) => bail!("`{bin} {}` failed ({s})", self.version_arg),
            Err(_) => bail!(
                "{} not found{}: install the Debian package {p} (apt-get install {p}), or set {}",
                self.binary,
                if bin == self.binary {
                    String::new()
                } else {
                    format!(" at {bin}")
                },
                self.env,
                p = self.package,
            ),
        }
    }
}

/// What to synthesise and where.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    /// Which top.
    pub design: Design,
    /// Decompressor lanes.
    pub lanes: usize,
    /// MAC lanes of the accelerator (default: `lanes`).
    pub mac_lanes: Option<usize>,
    /// Hardware profile the decompressor lanes are generated for.
    pub profile: lc_format::Profile,
    /// Device or generic synthesis.
    pub target: Target,
    /// Output directory (Verilog, scripts, logs, harness, `report.json`).
    pub out_dir: PathBuf,
    /// Synthesise the board top of the UP5K design point (accelerator, QSPI reader, PLL, pins)
    /// instead of the design in the timing harness (`--design accel --target up5k` only).
    pub board: bool,
}

/// Cell counts of a synthesised top, from Yosys `stat`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CellCounts {
    /// 4-input LUTs (`SB_LUT4`; 0 for generic synthesis).
    pub lut4: u64,
    /// Carry cells (`SB_CARRY`; 0 for generic synthesis).
    pub carry: u64,
    /// Flip-flops (every cell type whose name contains `DFF`).
    pub ff: u64,
    /// Block RAMs (`SB_RAM40_4K*`).
    pub bram: u64,
    /// Single-port RAMs (`SB_SPRAM256KA`).
    pub spram: u64,
    /// DSP blocks (`SB_MAC16`).
    pub dsp: u64,
}

/// Statistics of one Yosys run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stat {
    /// The counts the report names.
    #[serde(flatten)]
    pub counts: CellCounts,
    /// Every cell.
    pub cells: u64,
    /// Count per cell type.
    pub cells_by_type: BTreeMap<String, u64>,
}

/// Use of one resource of the device, as nextpnr reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Utilisation {
    /// nextpnr's resource name (`ICESTORM_LC`, `ICESTORM_RAM`, ...).
    pub resource: String,
    /// Used by the harness and the design.
    pub used: u64,
    /// On the device.
    pub available: u64,
}

/// The outcome of place and route.
#[derive(Clone, Debug, Serialize)]
pub struct PlaceAndRoute {
    /// Device and package.
    pub device: String,
    /// Device utilisation of the design inside its harness.
    pub utilisation: Vec<Utilisation>,
    /// Why it does not fit, if it does not.
    pub failure: Option<String>,
    /// The nextpnr log.
    pub log: PathBuf,
}

/// Everything `linecompress synth` measured. The first ten fields are the report's contract.
#[derive(Clone, Debug, Serialize)]
pub struct SynthReport {
    /// Which design.
    pub design: Design,
    /// Which target.
    pub target: Target,
    /// Cells of the design alone (not of the timing harness), flattened.
    #[serde(flatten)]
    pub counts: CellCounts,
    /// Fmax of the design's clock in MHz after place and route; `None` when it was not placed.
    pub fmax_mhz: Option<f64>,
    /// Whether the design placed and routed on the device; `None` for the generic target.
    pub fits: Option<bool>,
    /// Top module.
    pub top: String,
    /// Decompressor lanes (1 for the QSPI reader).
    pub lanes: usize,
    /// MAC lanes (accelerator only).
    pub mac_lanes: Option<usize>,
    /// Every cell of the design.
    pub cells: u64,
    /// Count per cell type.
    pub cells_by_type: BTreeMap<String, u64>,
    /// Place and route of the harness (iCE40 targets).
    pub place_and_route: Option<PlaceAndRoute>,
    /// The board build (`board`): clock, host chain, pin constraints and bitstream.
    pub board: Option<crate::board::BoardReport>,
    /// Wall time of the whole flow, seconds.
    pub seconds: f64,
}

/// Run the flow; write everything, `report.json` included, into `opts.out_dir`.
pub fn run_synth(opts: &SynthOptions) -> Result<SynthReport> {
    if opts.board {
        return crate::board::run_board(opts);
    }
    let start = Instant::now();
    let device = opts.target.device();
    let yosys = YOSYS.locate()?;
    let nextpnr = device.map(|_| NEXTPNR_ICE40.locate()).transpose()?;
    let design = generate(opts.design, &opts.profile, opts.lanes, opts.mac_lanes)?;
    let out = &opts.out_dir;
    let rtl = lc_hw::emit::write_design(
        out,
        &design.verilog,
        design.manifest,
        design.waivers_file,
        design.waivers,
    )?;
    let top = rtl.manifest.top.clone();
    let target = opts.target;
    let netlist = out.join(format!("{top}.{}.netlist.json", target.name()));
    let stat = run_yosys(
        &yosys,
        &YosysJob {
            top: &top,
            target,
            verilog: std::slice::from_ref(&rtl.verilog),
            netlists: &[],
            json: device.map(|_| netlist.as_path()),
            out,
        },
    )?;
    let pnr = match (device, nextpnr) {
        (Some(device), Some(nextpnr)) => {
            let harness = out.join(format!("{HARNESS_MODULE}.v"));
            std::fs::write(&harness, render_harness(&rtl.manifest)?)
                .with_context(|| format!("writing {}", harness.display()))?;
            let harness_json = out.join(format!("{HARNESS_MODULE}.{}.json", target.name()));
            run_yosys(
                &yosys,
                &YosysJob {
                    top: HARNESS_MODULE,
                    target,
                    verilog: std::slice::from_ref(&harness),
                    netlists: std::slice::from_ref(&netlist),
                    json: Some(&harness_json),
                    out,
                },
            )?;
            let log = out.join(format!("nextpnr.{}.log", target.name()));
            Some(place_and_route(
                &nextpnr,
                &PnrJob {
                    device,
                    json: &harness_json,
                    log: &log,
                    clock: HARNESS_CLOCK,
                    freq_mhz: 12.0,
                    pcf: None,
                    asc: None,
                },
            )?)
        }
        _ => None,
    };
    let (fits, fmax_mhz) = match &pnr {
        Some((pnr, fmax)) => (Some(pnr.failure.is_none()), *fmax),
        None => (None, None),
    };
    let report = SynthReport {
        design: opts.design,
        target,
        counts: stat.counts,
        fmax_mhz,
        fits,
        top,
        lanes: opts.lanes,
        mac_lanes: (opts.design == Design::Accel).then(|| opts.mac_lanes.unwrap_or(opts.lanes)),
        cells: stat.cells,
        cells_by_type: stat.cells_by_type,
        place_and_route: pnr.map(|(pnr, _)| pnr),
        board: None,
        seconds: start.elapsed().as_secs_f64(),
    };
    let path = out.join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(report)
}

/// Print a progress line on stderr around a long step.
pub(crate) fn step<T>(what: &str, log: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    eprintln!("synth: {what} (log: {})", log.display());
    let start = Instant::now();
    let result = f();
    if result.is_ok() {
        eprintln!(
            "synth: {what}: done in {:.1} s",
            start.elapsed().as_secs_f64()
        );
    }
    result
}

/// One Yosys run.
pub(crate) struct YosysJob<'a> {
    pub top: &'a str,
    pub target: Target,
    pub verilog: &'a [PathBuf],
    /// Netlists already synthesised (Yosys JSON), read alongside the Verilog.
    pub netlists: &'a [PathBuf],
    /// Where to write the synthesised netlist, if wanted.
    pub json: Option<&'a Path>,
    pub out: &'a Path,
}

/// Render the Yosys script, run it and read the statistics.
pub(crate) fn run_yosys(yosys: &str, job: &YosysJob) -> Result<Stat> {
    let base = format!("{}.{}", job.top, job.target.name());
    let script = job.out.join(format!("{base}.ys"));
    let stat = job.out.join(format!("{base}.stat.json"));
    let log = job.out.join(format!("{base}.log"));
    let paths = |ps: &[PathBuf]| {
        ps.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
    };
    let mut ctx = tera::Context::new();
    ctx.insert("top", job.top);
    ctx.insert("target", job.target.name());
    ctx.insert("dsp", &(job.target == Target::Up5k));
    // Modules that stay unflattened so that the DSP pass sees them alone.
    let keep: &[&str] = match job.target {
        Target::Up5k => &[lc_hw::accel::emit::MAC_ACC_MODULE],
        _ => &[],
    };
    ctx.insert("keep", keep);
    ctx.insert("verilog", &paths(job.verilog));
    ctx.insert("netlists", &paths(job.netlists));
    ctx.insert("json", &job.json.map(|p| p.display().to_string()));
    ctx.insert("stat", &stat.display().to_string());
    let text = tera::Tera::one_off(SYNTH_TEMPLATE, &ctx, false)
        .map_err(|e| anyhow::anyhow!("rendering the Yosys script: {e:?}"))?;
    std::fs::write(&script, text).with_context(|| format!("writing {}", script.display()))?;
    let pass = match job.target {
        Target::Generic => "synth",
        Target::Hx8k => "synth_ice40",
        Target::Up5k => "synth_ice40 -dsp",
    };
    step(&format!("yosys {pass} of {}", job.top), &log, || {
        let run = Command::new(yosys)
            .arg("-q")
            .arg("-l")
            .arg(&log)
            .arg("-s")
            .arg(&script)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .with_context(|| format!("running {yosys}"))?;
        if !run.success() {
            bail!(
                "yosys failed on {} ({}): {}; see {}",
                job.top,
                job.target.name(),
                last_error(&std::fs::read_to_string(&log).unwrap_or_default())
                    .unwrap_or("no error message"),
                log.display()
            );
        }
        Ok(())
    })?;
    let text =
        std::fs::read_to_string(&stat).with_context(|| format!("reading {}", stat.display()))?;
    parse_stat(&text)
}

/// The last line of a tool log that reports an error.
pub(crate) fn last_error(log: &str) -> Option<&str> {
    log.lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with("ERROR") || l.starts_with("Error"))
}

/// Cell counts from the output of Yosys `stat -json` (its `design` section: the whole design).
pub fn parse_stat(text: &str) -> Result<Stat> {
    let v: serde_json::Value = serde_json::from_str(text).context("parsing yosys stat -json")?;
    let design = v
        .get("design")
        .context("yosys stat without a design section")?;
    let mut s = Stat {
        cells: design
            .get("num_cells")
            .and_then(|n| n.as_u64())
            .unwrap_or(0),
        ..Default::default()
    };
    let types = design.get("num_cells_by_type").and_then(|t| t.as_object());
    for (name, n) in types.into_iter().flatten() {
        let n = n.as_u64().unwrap_or(0);
        s.cells_by_type.insert(name.clone(), n);
        let c = &mut s.counts;
        match name.as_str() {
            "SB_LUT4" => c.lut4 += n,
            "SB_CARRY" => c.carry += n,
            "SB_SPRAM256KA" => c.spram += n,
            "SB_MAC16" => c.dsp += n,
            _ if name.starts_with("SB_RAM40_4K") => c.bram += n,
            _ if name.contains("DFF") => c.ff += n,
            _ => {}
        }
    }
    Ok(s)
}

/// One nextpnr-ice40 run.
pub(crate) struct PnrJob<'a> {
    pub device: Device,
    /// The synthesised netlist.
    pub json: &'a Path,
    pub log: &'a Path,
    /// Name of the clock net whose Fmax is reported.
    pub clock: &'a str,
    /// Clock constraint in MHz.
    pub freq_mhz: f64,
    /// Pin constraints; without them every I/O is placed freely.
    pub pcf: Option<&'a Path>,
    /// Where to write the placed and routed design (for icepack).
    pub asc: Option<&'a Path>,
}

/// Place and route a synthesised netlist; a design too large for the device is a result
/// (`failure` set), not an error. Also returns Fmax when it placed and routed.
pub(crate) fn place_and_route(nextpnr: &str, job: &PnrJob) -> Result<(PlaceAndRoute, Option<f64>)> {
    let (device, log) = (job.device, job.log);
    let name = format!("iCE40 {} ({})", device.part.to_uppercase(), device.package);
    let run = step(&format!("nextpnr-ice40 on {name}"), log, || {
        let mut cmd = Command::new(nextpnr);
        cmd.arg(format!("--{}", device.part))
            .args(["--package", device.package])
            .arg("--json")
            .arg(job.json);
        match job.pcf {
            Some(pcf) => cmd.arg("--pcf").arg(pcf),
            None => cmd.arg("--pcf-allow-unconstrained"),
        };
        if let Some(asc) = job.asc {
            cmd.arg("--asc").arg(asc);
        }
        cmd.args(["--timing-allow-fail", "--freq"])
            .arg(format!("{}", job.freq_mhz))
            .args(["--seed", "1", "-q", "-l"])
            .arg(log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .with_context(|| format!("running {nextpnr}"))
    })?;
    let text =
        std::fs::read_to_string(log).with_context(|| format!("reading {}", log.display()))?;
    let utilisation = parse_utilisation(&text);
    let failure = if run.success() {
        None
    } else if let Some(why) = resource_shortage(&text, &utilisation) {
        Some(why)
    } else {
        bail!(
            "nextpnr-ice40 failed: {}; see {}",
            last_error(&text).unwrap_or("no error message"),
            log.display()
        );
    };
    let fmax = if failure.is_none() {
        parse_fmax(&text, job.clock)
    } else {
        None
    };
    let pnr = PlaceAndRoute {
        device: name,
        utilisation,
        failure,
        log: log.to_path_buf(),
    };
    Ok((pnr, fmax))
}

/// The `Device utilisation` table of a nextpnr log (the last one if there are several).
pub fn parse_utilisation(log: &str) -> Vec<Utilisation> {
    let mut table = Vec::new();
    for line in log.lines() {
        if line.contains("Device utilisation:") {
            table.clear();
            continue;
        }
        // `Info:          ICESTORM_LC:  5396/ 7680    70%`
        let Some(rest) = line.strip_prefix("Info:") else {
            continue;
        };
        let Some((resource, counts)) = rest.trim().split_once(':') else {
            continue;
        };
        let Some((used, available)) = counts.split_once('/') else {
            continue;
        };
        let available = available.split_whitespace().next().unwrap_or("");
        if let (Ok(used), Ok(available)) = (used.trim().parse(), available.parse()) {
            if !resource.contains(' ') {
                table.push(Utilisation {
                    resource: resource.to_string(),
                    used,
                    available,
                });
            }
        }
    }
    table
}

/// Why nextpnr could not place the design for lack of resources, if that is why it failed.
pub fn resource_shortage(log: &str, utilisation: &[Utilisation]) -> Option<String> {
    let over: Vec<String> = utilisation
        .iter()
        .filter(|u| u.used > u.available)
        .map(|u| format!("{} {} of {}", u.resource, u.used, u.available))
        .collect();
    if !over.is_empty() {
        return Some(format!("needs {}", over.join(", ")));
    }
    log.lines()
        .map(|l| l.trim().trim_start_matches("ERROR:").trim())
        .find(|l| {
            l.contains("no BELs remaining")
                || l.contains("Unable to find legal placement")
                || l.contains("utilisation limit")
        })
        .map(str::to_string)
}

/// The last `Max frequency for clock '<clock>...'` of a nextpnr log, in MHz.
pub fn parse_fmax(log: &str, clock: &str) -> Option<f64> {
    log.lines()
        .filter_map(|l| {
            l.split_once("Max frequency for clock")?
                .1
                .split_once('\'')?
                .1
                .split_once("':")
        })
        .filter(|(net, _)| net.starts_with(clock))
        .filter_map(|(_, value)| value.split_whitespace().next()?.parse().ok())
        .next_back()
}

#[derive(Serialize)]
struct HarnessPort {
    name: String,
    hi: usize,
    lo: usize,
}

/// The timing harness of a top described by its manifest: every input from a scan chain, every
/// output captured in flip-flops and reduced by an XOR tree to one pin.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_counts_by_kind() {
        let text = r#"{"design": {"num_cells": 12, "num_cells_by_type": {
            "SB_LUT4": 5, "SB_CARRY": 2, "SB_DFFE": 1, "SB_DFFESR": 1, "SB_RAM40_4K": 1,
            "SB_SPRAM256KA": 1, "SB_MAC16": 1}}}"#;
        let s = parse_stat(text).unwrap();
        assert_eq!(
            s.counts,
            CellCounts {
                lut4: 5,
                carry: 2,
                ff: 2,
                bram: 1,
                spram: 1,
                dsp: 1
            }
        );
        assert_eq!(s.cells, 12);
        assert!(parse_stat("{}").is_err());
    }

    const LOG: &str = "Info: Device utilisation:\n\
        Info: \t         ICESTORM_LC: 21396/ 7680   278%\n\
        Info: \t        ICESTORM_RAM:     0/   32     0%\n\
        Info: Max frequency for clock 'clock$SB_IO_IN_$glb_clk': 21.31 MHz (PASS at 12.00 MHz)\n\
        Info: Max frequency for clock 'other': 99.00 MHz (PASS at 12.00 MHz)\n\
        Info: Max frequency for clock 'clock$SB_IO_IN_$glb_clk': 22.48 MHz (PASS at 12.00 MHz)Warning: x\n";

    #[test]
    fn nextpnr_log() {
        assert_eq!(parse_fmax(LOG, "clock"), Some(22.48));
        assert_eq!(parse_fmax(LOG, "nothing"), None);
        let u = parse_utilisation(LOG);
        assert_eq!(u.len(), 2);
        assert_eq!(
            (u[0].resource.as_str(), u[0].used, u[0].available),
            ("ICESTORM_LC", 21396, 7680)
        );
        assert_eq!(
            resource_shortage(LOG, &u).as_deref(),
            Some("needs ICESTORM_LC 21396 of 7680")
        );
        assert_eq!(resource_shortage("ERROR: something else", &[]), None);
    }
}
