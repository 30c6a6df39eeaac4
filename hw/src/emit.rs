//! Verilog emission of the N-lane decompressor and its JSON port manifest.
//!
//! The configuration block and the lane datapath are emitted from rust-hdl as the modules
//! `lc_layer_config` and `lc_lane_core`; the top `lc_decompressor_x<N>` instantiates one
//! configuration block and N lanes. Ports shared by all lanes (clock, reset, start and the layer
//! parameters) appear once; every per-lane port is a bus of N fields, lane `l` in bits
//! `[l*w +: w]`. The top is generated from the ports that rust-hdl reports for the two blocks, so it
//! cannot drift from them.

use crate::compact::{CompactConfig, CompactLane, CompactShape};
use crate::config::{LayerConfig, WORD_BITS};
use crate::core::LaneCore;
use anyhow::{bail, Context};
use lc_format::Profile;
use rust_hdl::core::check_error::check_all;
use rust_hdl::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Largest number of lanes [`emit_rtl`] accepts.
pub const MAX_LANES: usize = 64;
/// Module name of the configuration block.
pub const CONFIG_MODULE: &str = "lc_layer_config";
/// Module name of one lane.
pub const LANE_MODULE: &str = "lc_lane_core";
/// Module name of the compact configuration block.
pub const COMPACT_CONFIG_MODULE: &str = "lc_compact_config";
/// Module name of one compact lane.
pub const COMPACT_LANE_MODULE: &str = "lc_compact_lane";
/// Verilator configuration with the justified lint waivers of the emitted Verilog.
pub const LINT_WAIVERS: &str = include_str!("../lint/lc_decompressor.vlt");
/// File name [`emit_rtl`] gives the waivers.
pub const LINT_WAIVERS_FILE: &str = "lc_decompressor.vlt";
/// Ports of the lane that all lanes share.
const SHARED_LANE_PORTS: [&str; 3] = ["clock", "reset", "start"];

/// Direction of a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortDirection {
    /// Driven by the environment.
    Input,
    /// Driven by the design.
    Output,
}

/// One port of an emitted top module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    /// Verilog name.
    pub name: String,
    /// Direction.
    pub direction: PortDirection,
    /// Total width in bits.
    pub width: usize,
    /// Width of one lane's field for per-lane buses; `None` for ports shared by all lanes.
    pub lane_width: Option<usize>,
}

/// The JSON port manifest of an emitted top.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Name of the top module.
    pub top: String,
    /// Number of (decompressor) lanes: the lane count of the memory word buses.
    pub lanes: usize,
    /// MAC lanes of an accelerator (`None` for the decompressor alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_lanes: Option<usize>,
    /// Width of a memory word.
    pub word_bits: usize,
    /// The clock port.
    pub clock: String,
    /// Every port, clock included, in declaration order.
    pub ports: Vec<Port>,
}

impl Manifest {
    /// The port called `name`.
    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name == name)
    }
}

/// What [`emit_rtl`] wrote.
#[derive(Clone, Debug)]
pub struct RtlOutput {
    /// The Verilog file (all modules of the design).
    pub verilog: PathBuf,
    /// The JSON port manifest.
    pub manifest_path: PathBuf,
    /// The Verilator lint waivers (pass them before the Verilog).
    pub waivers: PathBuf,
    /// The manifest itself.
    pub manifest: Manifest,
}

/// Name of the N-lane top module.
pub fn top_name(lanes: usize) -> String {
    format!("lc_decompressor_x{lanes}")
}

/// Write `<top>.v`, `<top>.json` and the lint waivers for an N-lane decompressor into `out_dir` (created if needed).
pub fn emit_rtl(lanes: usize, out_dir: &Path) -> anyhow::Result<RtlOutput> {
    let (verilog, manifest) = generate(lanes)?;
    write_design(out_dir, &verilog, manifest, LINT_WAIVERS_FILE, LINT_WAIVERS)
}

/// Write `<top>.v`, `<top>.json` (the port manifest) and the lint waivers into `out_dir`.
pub fn write_design(
    out_dir: &Path,
    verilog: &str,
    manifest: Manifest,
    waivers_file: &str,
    waivers: &str,
) -> anyhow::Result<RtlOutput> {
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let v_path = out_dir.join(format!("{}.v", manifest.top));
    let m_path = out_dir.join(format!("{}.json", manifest.top));
    let w_path = out_dir.join(waivers_file);
    std::fs::write(&v_path, verilog).with_context(|| format!("writing {}", v_path.display()))?;
    std::fs::write(&m_path, serde_json::to_string_pretty(&manifest)?)
        .with_context(|| format!("writing {}", m_path.display()))?;
    std::fs::write(&w_path, waivers).with_context(|| format!("writing {}", w_path.display()))?;
    Ok(RtlOutput {
        verilog: v_path,
        manifest_path: m_path,
        waivers: w_path,
        manifest,
    })
}

/// The Verilog text and manifest of an N-lane decompressor, without touching the file system.
pub fn generate(lanes: usize) -> anyhow::Result<(String, Manifest)> {
    generate_for(&Profile::load("full")?, lanes)
}

/// The decompressor a profile is generated as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    /// Every v1 parameter at run time ([`LayerConfig`] + [`LaneCore`], 64-bit words).
    Full,
    /// The segment header fixed by the profile ([`crate::compact`], 32-bit words).
    Compact(CompactShape),
}

impl Design {
    /// The design that decodes exactly what `profile` accepts.
    pub fn for_profile(profile: &Profile) -> anyhow::Result<Design> {
        let full = Profile::shared("full")?;
        let same_ranges = Profile {
            name: full.name.clone(),
            description: full.description.clone(),
            ..profile.clone()
        };
        if &same_ranges == full {
            return Ok(Design::Full);
        }
        CompactShape::from_profile(profile)
            .map(Design::Compact)
            .map_err(|why| {
                anyhow::anyhow!(
                    "profile {}: no decompressor can be generated for it: it is not the full v1 \
                     range, and the compact lane needs every header parameter fixed ({why})",
                    profile.name
                )
            })
    }

    /// Memory word width.
    pub fn word_bits(&self) -> usize {
        match self {
            Design::Full => WORD_BITS,
            Design::Compact(_) => crate::compact::shape::WORD_BITS,
        }
    }

    /// Module names of the configuration block and of one lane.
    pub fn modules(&self) -> (&'static str, &'static str) {
        match self {
            Design::Full => (CONFIG_MODULE, LANE_MODULE),
            Design::Compact(_) => (COMPACT_CONFIG_MODULE, COMPACT_LANE_MODULE),
        }
    }

    /// Verilog and ports of the configuration block and of one lane.
    pub(crate) fn blocks(&self) -> anyhow::Result<[(String, Vec<Port>); 2]> {
        let (config, lane) = self.modules();
        Ok(match self {
            Design::Full => [
                block_verilog(LayerConfig::default(), config)?,
                block_verilog(LaneCore::default(), lane)?,
            ],
            Design::Compact(shape) => [
                block_verilog(CompactConfig::new(shape), config)?,
                block_verilog(CompactLane::new(shape), lane)?,
            ],
        })
    }
}

/// Name of the N-lane top generated for `profile` (`lc_decompressor_x<N>` for the full profile).
pub fn top_name_for(profile: &Profile, lanes: usize) -> String {
    if profile.name == "full" {
        top_name(lanes)
    } else {
        format!(
            "lc_decompressor_{}_x{lanes}",
            profile.name.replace(['-', '.', '/'], "_")
        )
    }
}

/// The Verilog text and the port manifest of the N-lane decompressor for `profile`.
pub fn generate_for(profile: &Profile, lanes: usize) -> anyhow::Result<(String, Manifest)> {
    if lanes == 0 || lanes > MAX_LANES {
        bail!("the number of lanes must be 1..={MAX_LANES}, not {lanes}");
    }
    let design = Design::for_profile(profile)?;
    let [config, lane] = design.blocks()?;
    let top = top_name_for(profile, lanes);
    let (top_v, manifest) = top_module(&top, design, lanes, &config.1, &lane.1)?;
    let mut text = String::new();
    writeln!(
        text,
        "// LineCompress v1 decompressor, profile {}, {lanes} lane(s), {}-bit memory words.\n\
         // Generated by lc-hw; the format is specified in docs/FORMAT.md.\n",
        profile.name,
        design.word_bits()
    )?;
    text.push_str(&config.0);
    text.push_str(&lane.0);
    text.push_str(&top_v);
    Ok((text, manifest))
}

/// Emit the N-lane decompressor for `profile` into `out_dir` (as [`emit_rtl`] does for `full`).
pub fn emit_rtl_for(profile: &Profile, lanes: usize, out_dir: &Path) -> anyhow::Result<RtlOutput> {
    let (verilog, manifest) = generate_for(profile, lanes)?;
    write_design(out_dir, &verilog, manifest, LINT_WAIVERS_FILE, LINT_WAIVERS)
}

pub fn block_verilog<B: Block>(mut block: B, name: &str) -> anyhow::Result<(String, Vec<Port>)> {
    block.connect_all();
    check_all(&block).map_err(|e| anyhow::anyhow!("rust-hdl check of {name} failed: {e:?}"))?;
    let raw = generate_verilog_unchecked(&block);
    let mut probe = PortProbe::default();
    block.accept("top", &mut probe);
    Ok((direct_clocks(&rename_modules(&raw, name)), probe.ports))
}

/// Rename the `top` module and its `top$child` sub-modules of rust-hdl output. A `$` inside an
/// identifier (rust-hdl's hierarchy separator) becomes `__`; a `$` that starts a token
/// (`$signed`, `$display`) is Verilog's and stays.
fn rename_modules(verilog: &str, name: &str) -> String {
    let prefixed = verilog.replace("top$", &format!("{name}__"));
    let mut out = String::with_capacity(prefixed.len());
    for line in prefixed.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("module top(") {
            out.push_str(&format!(
                "module {name}({}",
                separators_to_underscores(rest)
            ));
        } else if let Some(rest) = trimmed.strip_prefix("module top (") {
            out.push_str(&format!(
                "module {name} ({}",
                separators_to_underscores(rest)
            ));
        } else {
            out.push_str(&separators_to_underscores(line));
        }
        out.push('\n');
    }
    out
}

/// `a$b` -> `a__b` where `$` follows an identifier character.
fn separators_to_underscores(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut prev: Option<char> = None;
    for c in line.chars() {
        if c == '$' && prev.is_some_and(|p| p.is_ascii_alphanumeric() || p == '_') {
            out.push_str("__");
        } else {
            out.push(c);
        }
        prev = Some(c);
    }
    out
}

/// Connect flip-flop clocks straight to the module clock.
///
/// rust-hdl routes each flip-flop's clock through the combinational block (`x__clock = clock;`
/// inside `always @(*)`), which makes every clock edge re-evaluate all combinational logic of the
/// module in an event-driven simulator. Within each module, every `x__clock` that is only ever
/// assigned `clock` is replaced by `clock` itself (its declaration and assignment are dropped);
/// the netlist is unchanged.
fn direct_clocks(verilog: &str) -> String {
    let mut out = String::with_capacity(verilog.len());
    let mut module = Vec::new();
    for line in verilog.lines() {
        module.push(line);
        if line.starts_with("endmodule") {
            out.push_str(&direct_clocks_in_module(&module));
            module.clear();
        }
    }
    out.push_str(&direct_clocks_in_module(&module));
    out
}

fn direct_clocks_in_module(lines: &[&str]) -> String {
    let name_of = |l: &str, prefix: &str, suffix: &str| -> Option<String> {
        let t = l.trim();
        let inner = t.strip_prefix(prefix)?.strip_suffix(suffix)?.trim();
        let ok = !inner.is_empty() && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        ok.then(|| inner.to_string())
    };
    let assigned = |l: &str| name_of(l, "", "__clock = clock;");
    let names: Vec<String> = lines.iter().filter_map(|l| assigned(l)).collect();
    // Only clocks with no other assignment qualify.
    let names: Vec<String> = names
        .into_iter()
        .filter(|n| {
            let target = format!("{n}__clock =");
            lines
                .iter()
                .filter(|l| l.trim_start().starts_with(&target))
                .count()
                == 1
        })
        .collect();
    let mut out = String::new();
    for line in lines {
        let declared = name_of(line, "reg", "__clock;");
        if assigned(line).is_some_and(|n| names.contains(&n))
            || declared.is_some_and(|n| names.contains(&n))
        {
            continue;
        }
        let mut text = line.to_string();
        for n in &names {
            text = text.replace(&format!(".clock({n}__clock)"), ".clock(clock)");
        }
        out.push_str(&text);
        out.push('\n');
    }
    out
}

/// Collects the ports (top-level inputs and outputs) of a block. A port inside an interface is
/// named as in the emitted Verilog: `interface__field`.
#[derive(Default)]
struct PortProbe {
    depth: usize,
    namespace: Vec<String>,
    ports: Vec<Port>,
}

impl Probe for PortProbe {
    fn visit_start_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth += 1;
    }

    fn visit_start_namespace(&mut self, name: &str, _node: &dyn Block) {
        self.namespace.push(name.to_string());
    }

    fn visit_end_namespace(&mut self, _name: &str, _node: &dyn Block) {
        self.namespace.pop();
    }

    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        if self.depth != 1 {
            return;
        }
        let direction = match signal.kind() {
            AtomKind::InputParameter => PortDirection::Input,
            AtomKind::OutputParameter | AtomKind::OutputPassthrough => PortDirection::Output,
            _ => return,
        };
        let mut path = self.namespace.clone();
        path.push(name.to_string());
        self.ports.push(Port {
            name: path.join("__"),
            direction,
            width: signal.bits(),
            lane_width: None,
        });
    }

    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth = self.depth.saturating_sub(1);
    }
}

/// The structural N-lane top and its manifest.
fn top_module(
    top: &str,
    design: Design,
    lanes: usize,
    config_ports: &[Port],
    lane_ports: &[Port],
) -> anyhow::Result<(String, Manifest)> {
    let top = top.to_string();
    let (config_module, lane_module) = design.modules();
    let is_config_output = |n: &str| {
        config_ports
            .iter()
            .any(|p| p.name == n && p.direction == PortDirection::Output)
    };
    let mut ports: Vec<Port> = Vec::new();
    // Shared inputs: those of the configuration block, then the lane's shared control inputs.
    for p in config_ports
        .iter()
        .filter(|p| p.direction == PortDirection::Input)
    {
        ports.push(p.clone());
    }
    for p in lane_ports {
        if is_config_output(&p.name) {
            continue;
        }
        if SHARED_LANE_PORTS.contains(&p.name.as_str()) {
            if !ports.iter().any(|q| q.name == p.name) {
                ports.push(p.clone());
            }
        } else {
            ports.push(Port {
                width: p.width * lanes,
                lane_width: Some(p.width),
                ..p.clone()
            });
        }
    }
    for p in lane_ports.iter().filter(|p| is_config_output(&p.name)) {
        let source = config_ports.iter().find(|c| c.name == p.name);
        if source.map(|c| c.width) != Some(p.width) {
            bail!(
                "lane input {} does not match the configuration output",
                p.name
            );
        }
    }

    let mut v = String::new();
    writeln!(v, "module {top}(")?;
    for (i, p) in ports.iter().enumerate() {
        let dir = match p.direction {
            PortDirection::Input => "input wire",
            PortDirection::Output => "output wire",
        };
        let sep = if i + 1 == ports.len() { "" } else { "," };
        writeln!(v, "    {dir} {}{}{sep}", range(p.width), p.name)?;
    }
    writeln!(v, ");")?;
    for p in config_ports
        .iter()
        .filter(|p| p.direction == PortDirection::Output)
    {
        writeln!(v, "    wire {}{};", range(p.width), p.name)?;
    }
    let connections = |ports: &[Port], lane: Option<usize>| -> Vec<String> {
        ports
            .iter()
            .map(|p| {
                let shared = is_config_output(&p.name)
                    || SHARED_LANE_PORTS.contains(&p.name.as_str())
                    || lane.is_none();
                let signal = match lane {
                    Some(_) if !shared && lanes == 1 => p.name.clone(),
                    Some(l) if !shared && p.width == 1 => format!("{}[{l}]", p.name),
                    Some(l) if !shared => {
                        format!("{}[{}:{}]", p.name, (l + 1) * p.width - 1, l * p.width)
                    }
                    _ => p.name.clone(),
                };
                format!("        .{}({})", p.name, signal)
            })
            .collect()
    };
    writeln!(
        v,
        "    {config_module} layer_config (\n{}\n    );",
        connections(config_ports, None).join(",\n")
    )?;
    for l in 0..lanes {
        writeln!(
            v,
            "    {lane_module} lane{l} (\n{}\n    );",
            connections(lane_ports, Some(l)).join(",\n")
        )?;
    }
    writeln!(v, "endmodule")?;

    let manifest = Manifest {
        top,
        lanes,
        mac_lanes: None,
        word_bits: design.word_bits(),
        clock: "clock".to_string(),
        ports,
    };
    Ok((v, manifest))
}

/// The Verilog range of a `width`-bit port (`[w-1:0] `, empty for one bit).
pub(crate) fn range(width: usize) -> String {
    if width == 1 {
        String::new()
    } else {
        format!("[{}:0] ", width - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::separators_to_underscores;

    #[test]
    fn only_hierarchy_separators_are_rewritten() {
        assert_eq!(
            separators_to_underscores("x = $signed(lc_lane$acc$q) + $unsigned(b);"),
            "x = $signed(lc_lane__acc__q) + $unsigned(b);"
        );
    }
}
