//! Verilog of the accelerator: the rust-hdl blocks emitted as modules and a structural top
//! `lc_accel_p<P>` (`lc_accel_p<P>_d<D>` with D < P) that instantiates the decompressor's
//! configuration block, D decompressor lanes, P MAC lanes and the controller. With D = P the
//! decompressor output of lane `p` is the only weight input of MAC lane `p`; with D < P a
//! [`WeightRouter`] hands the weights of decompressor lane `d` to MAC lanes `d, d + D, ...` in
//! turn, one output channel (K weights) each ([`AccelLanes`]). The decompressor (configuration block and lane) is the one a hardware profile
//! generates ([`Design::for_profile`]): the shipped `compact` lane with 32-bit memory words, or the
//! general `full` lane with 64-bit words.
//!
//! Ports of the top: the decompressor layer parameters (`cfg_*`), the accelerator layer registers
//! (`lay_*`), the parameter memory port (`prm_*`), the activation buffer host port (`act_*`),
//! `start` / `busy` / `done` / `error`, per decompressor lane the memory word interface
//! (`in_data`, `in_valid`, `in_ready`), the lane stream (`length_bits`, `count`) and its flags
//! (`dec_error`, `dec_done`), and per MAC lane the number of channels it computes
//! (`lane_channels`).

use super::act_buf::ActMemory;
use super::ctrl::AccelCtrl;
use super::lane::AccelLane;
use super::router::{WeightRouter, SEL_BITS};
pub use super::split::{AccelLanes, MAX_ACCEL_LANES};
use crate::emit::{block_verilog, range, write_design, Design, Manifest, Port, PortDirection};
use anyhow::Result;
use lc_format::{Profile, DEFAULT_PROFILE};
use std::fmt::Write as _;

/// Module name of the controller.
pub const CTRL_MODULE: &str = "lc_accel_ctrl";
/// Module name of one MAC lane.
pub const MAC_MODULE: &str = "lc_accel_lane";
/// Module name of a MAC lane's multiply-accumulate (`lane::MacAcc`, the child `mac` of
/// [`MAC_MODULE`]). Synthesis with DSPs keeps it a module of its own: Yosys's DSP pass folds the
/// 32-bit adder and the accumulator register into the SB_MAC16 when it sees the module alone, and
/// leaves them in the fabric once the module is flattened into the whole top.
pub const MAC_ACC_MODULE: &str = "lc_accel_lane__mac";
/// Module name of the weight router of a decompressor lane that feeds F MAC lanes (`_f<F>`).
pub const ROUTER_MODULE: &str = "lc_accel_router";
/// Verilator configuration with the justified lint waivers of the accelerator Verilog.
pub const ACCEL_LINT_WAIVERS: &str = include_str!("../../lint/lc_accel.vlt");
/// File name of the waivers.
pub const ACCEL_LINT_WAIVERS_FILE: &str = "lc_accel.vlt";

/// Buffer sizes of the emitted design (fixed at compile time: rust-hdl widths are constants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccelSizes {
    /// Activation buffer bytes.
    pub act_bytes: usize,
    /// Weights per bank of a lane (largest K = C * KH * KW).
    pub bank_weights: usize,
    /// Output channels with parameters (largest O).
    pub channels: usize,
}

/// Address bits of the activation buffer in block RAM ([`ActMemory::Dual`]).
pub const ACT_ADDR_BITS: usize = 15;
/// Address bits of the activation buffer in UP5K single-port RAM ([`ActMemory::Spram`]): two
/// 32 KiB `SB_SPRAM256KA` blocks, the most the 16-bit buffer addresses of the controller reach.
pub const SPRAM_ACT_ADDR_BITS: usize = 16;
/// Address bits of a lane's weight store (two banks).
pub const WEIGHT_ADDR_BITS: usize = 11;
/// Address bits of the parameter memory.
pub const PARAM_ADDR_BITS: usize = 10;
/// Address bits of the parameter memory of the UP5K build ([`ActMemory::Spram`]): 256 channels
/// of 80 bits fill 5 EBR, which the 30 EBR of the part leave next to the weight banks.
pub const SPRAM_PARAM_ADDR_BITS: usize = 8;

/// The sizes of the designs [`generate_accel`] emits (activations in block RAM).
pub const SIZES: AccelSizes = AccelSizes {
    act_bytes: 1 << ACT_ADDR_BITS,
    bank_weights: 1 << (WEIGHT_ADDR_BITS - 1),
    channels: 1 << PARAM_ADDR_BITS,
};

/// The sizes of a design whose activations live in `memory`.
pub fn sizes(memory: ActMemory) -> AccelSizes {
    match memory {
        ActMemory::Dual => SIZES,
        ActMemory::Spram => AccelSizes {
            act_bytes: 1 << SPRAM_ACT_ADDR_BITS,
            channels: 1 << SPRAM_PARAM_ADDR_BITS,
            ..SIZES
        },
    }
}

/// Name of the accelerator top for `profile`: `lc_accel_p<P>` for the shipped profile,
/// `lc_accel_<profile>_p<P>` for any other, with `_d<D>` appended when D < P.
pub fn accel_top_name(profile: &Profile, lanes: AccelLanes) -> String {
    accel_top_name_in(profile, lanes, ActMemory::Dual)
}

/// [`accel_top_name`] of the design whose activations live in `memory` (`_spram` appended for
/// [`ActMemory::Spram`]).
pub fn accel_top_name_in(profile: &Profile, lanes: AccelLanes, memory: ActMemory) -> String {
    let mut name = if profile.name == DEFAULT_PROFILE {
        format!("lc_accel_p{}", lanes.mac())
    } else {
        format!(
            "lc_accel_{}_p{}",
            profile.name.replace(['-', '.', '/'], "_"),
            lanes.mac()
        )
    };
    if lanes.dec() != lanes.mac() {
        name.push_str(&format!("_d{}", lanes.dec()));
    }
    if memory == ActMemory::Spram {
        name.push_str("_spram");
    }
    name
}

/// Ports of the MAC lanes that the top drives from the controller (shared by all lanes).
const BROADCAST: [&str; 11] = [
    "free_bank",
    "free_sel",
    "rd_bank",
    "rd_index",
    "mac_en",
    "mac_first",
    "act",
    "capture",
    "shift",
    "start",
    "reset",
];

/// The Verilog text and the port manifest of the accelerator with `lanes` (P MAC lanes, D
/// decompressor lanes) whose decompressor lanes are the ones `profile` generates.
pub fn generate_accel(profile: &Profile, lanes: AccelLanes) -> Result<(String, Manifest)> {
    generate_accel_in(profile, lanes, ActMemory::Dual)
}

/// [`generate_accel`] with the activation buffer in `memory`.
pub fn generate_accel_in(
    profile: &Profile,
    lanes: AccelLanes,
    memory: ActMemory,
) -> Result<(String, Manifest)> {
    let design = Design::for_profile(profile)?;
    let [config, core] = design.blocks()?;
    let mac = block_verilog(AccelLane::<WEIGHT_ADDR_BITS>::default(), MAC_MODULE)?;
    let p = lanes.mac();
    let ctrl_name = format!("{CTRL_MODULE}_p{p}");
    let ctrl = match memory {
        ActMemory::Dual => block_verilog(
            AccelCtrl::<ACT_ADDR_BITS, PARAM_ADDR_BITS>::new(p, memory),
            &ctrl_name,
        )?,
        ActMemory::Spram => block_verilog(
            AccelCtrl::<SPRAM_ACT_ADDR_BITS, SPRAM_PARAM_ADDR_BITS>::new(p, memory),
            &ctrl_name,
        )?,
    };
    let router = match lanes.fan() {
        1 => None,
        f => Some(block_verilog(
            WeightRouter::new(f),
            &format!("{ROUTER_MODULE}_f{f}"),
        )?),
    };
    let blocks = Blocks {
        design,
        config: &config.1,
        core: &core.1,
        mac: &mac.1,
        ctrl: &ctrl.1,
        router: router.as_ref().map(|r| r.1.as_slice()),
    };
    let (top, manifest) = top_module(&accel_top_name_in(profile, lanes, memory), lanes, &blocks)?;
    let mut text = String::new();
    writeln!(
        text,
        "// LineCompress accelerator datapath, {p} MAC lane(s), {} decompressor lane(s) of profile \
         {}, {}-bit memory words.\n// Generated by lc-hw (hw/src/accel).\n",
        lanes.dec(),
        profile.name,
        design.word_bits()
    )?;
    for part in [&config.0, &core.0, &mac.0, &ctrl.0] {
        text.push_str(part);
    }
    if let Some((v, _)) = &router {
        text.push_str(v);
    }
    text.push_str(&top);
    Ok((text, manifest))
}

fn find<'a>(ports: &'a [Port], name: &str) -> Result<&'a Port> {
    ports
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| anyhow::anyhow!("no port {name}"))
}

/// Slice of lane `l` of a bus of `width`-bit fields.
fn slice(bus: &str, width: usize, l: usize) -> String {
    if width == 1 {
        format!("{bus}[{l}]")
    } else {
        format!("{bus}[{}:{}]", (l + 1) * width - 1, l * width)
    }
}

/// `module top(` with the declarations of `ports` and `);`.
pub(super) fn module_header(top: &str, ports: &[Port]) -> Result<String> {
    let mut v = String::new();
    writeln!(v, "module {top}(")?;
    for (i, port) in ports.iter().enumerate() {
        let dir = match port.direction {
            PortDirection::Input => "input wire",
            PortDirection::Output => "output wire",
        };
        let sep = if i + 1 == ports.len() { "" } else { "," };
        // Per-lane buses always carry a range, so that lane 0 of a one-lane design is `x[0]`.
        let r = match port.lane_width {
            Some(_) => format!("[{}:0] ", port.width - 1),
            None => range(port.width),
        };
        writeln!(v, "    {dir} {r}{}{sep}", port.name)?;
    }
    writeln!(v, ");")?;
    Ok(v)
}

/// One instance: `module name (.port(signal), ...);` with the signal of each port from `sig`.
pub(super) fn instance(
    v: &mut String,
    module: &str,
    name: &str,
    ports: &[Port],
    sig: impl Fn(&Port) -> String,
) -> Result<()> {
    let conns: Vec<String> = ports
        .iter()
        .map(|p| format!("        .{}({})", p.name, sig(p)))
        .collect();
    writeln!(v, "    {module} {name} (\n{}\n    );", conns.join(",\n"))?;
    Ok(())
}

/// The ports of the blocks the top instantiates, and the decompressor design.
struct Blocks<'a> {
    design: Design,
    config: &'a [Port],
    core: &'a [Port],
    mac: &'a [Port],
    ctrl: &'a [Port],
    /// The weight router, when D < P.
    router: Option<&'a [Port]>,
}

/// Controller ports that face the host.
fn host_facing(n: &str) -> bool {
    n.starts_with("lay_") || n.starts_with("prm_") || n.starts_with("act_") && n != "act"
}

/// The ports of the top: shared ones, then the per-decompressor-lane and per-MAC-lane buses.
/// Inputs of a decompressor lane that the accelerator's memory side drives, one bus per lane.
const LANE_STREAM_INPUTS: [&str; 5] = ["length_bits", "count", "in_data", "in_valid", "in_last"];

fn top_ports(lanes: AccelLanes, b: &Blocks<'_>) -> Result<Vec<Port>> {
    let shared = |p: &Port| Port {
        lane_width: None,
        ..p.clone()
    };
    let bus = |p: &Port, name: &str, direction: PortDirection, n: usize| Port {
        name: name.to_string(),
        direction,
        width: p.width * n,
        lane_width: Some(p.width),
    };
    let mut ports: Vec<Port> = Vec::new();
    // Shared inputs: clock, reset, start, the decompressor layer parameters.
    for p in b
        .config
        .iter()
        .filter(|p| p.direction == PortDirection::Input)
    {
        ports.push(shared(p));
    }
    ports.push(shared(find(b.core, "reset")?));
    for p in b.ctrl.iter().filter(|p| host_facing(&p.name)) {
        ports.push(shared(p));
    }
    for name in ["busy", "done", "error"] {
        ports.push(shared(find(b.ctrl, name)?));
    }
    let (d, p) = (lanes.dec(), lanes.mac());
    for name in LANE_STREAM_INPUTS {
        // `in_last` is a port of the compact lane only.
        if let Some(port) = b.core.iter().find(|p| p.name == name) {
            ports.push(bus(port, name, PortDirection::Input, d));
        }
    }
    let channels = find(b.mac, "channels")?;
    ports.push(bus(channels, "lane_channels", PortDirection::Input, p));
    for (port, name) in [
        ("in_ready", "in_ready"),
        ("error", "dec_error"),
        ("done", "dec_done"),
    ] {
        ports.push(bus(find(b.core, port)?, name, PortDirection::Output, d));
    }
    Ok(ports)
}

fn top_module(top: &str, lanes: AccelLanes, b: &Blocks<'_>) -> Result<(String, Manifest)> {
    let (config, core, mac, ctrl) = (b.config, b.core, b.mac, b.ctrl);
    let (config_module, lane_module) = b.design.modules();
    let (d, p) = (lanes.dec(), lanes.mac());
    let ports = top_ports(lanes, b)?;

    let mut v = module_header(top, &ports)?;
    // Decompressor configuration outputs, shared by the decompressor lanes.
    for port in config
        .iter()
        .filter(|p| p.direction == PortDirection::Output)
    {
        writeln!(v, "    wire {}{};", range(port.width), port.name)?;
    }
    // Controller outputs to the lanes, and its error flag.
    for port in ctrl.iter().filter(|p| p.direction == PortDirection::Output) {
        if !host_facing(&port.name) && !["busy", "done", "error"].contains(&port.name.as_str()) {
            writeln!(v, "    wire {}{};", range(port.width), port.name)?;
        }
    }
    writeln!(v, "    wire ctrl_error;")?;
    // Internal buses: decompressor outputs (D lanes), MAC lane handshakes (P lanes).
    let wbits = find(core, "out_weight")?.width;
    let hold = find(mac, "hold_out")?.width;
    writeln!(v, "    wire [{}:0] dec_weight;", d * wbits - 1)?;
    for name in ["dec_valid", "dec_ready"] {
        writeln!(v, "    wire [{}:0] {name};", d - 1)?;
    }
    for name in ["mac_valid", "mac_ready", "filled0_v", "filled1_v"] {
        writeln!(v, "    wire [{}:0] {name};", p - 1)?;
    }
    writeln!(v, "    wire [{}:0] hold_chain;", (p + 1) * hold - 1)?;
    writeln!(
        v,
        "    assign hold_chain[{}:{}] = {hold}'d0;",
        (p + 1) * hold - 1,
        p * hold
    )?;
    writeln!(v, "    assign error = ctrl_error | (|dec_error);")?;

    instance(&mut v, config_module, "layer_config", config, |p| {
        p.name.clone()
    })?;
    instance(
        &mut v,
        &format!("{CTRL_MODULE}_p{p}"),
        "ctrl",
        ctrl,
        |port| match port.name.as_str() {
            "all_filled0" => "&filled0_v".to_string(),
            "all_filled1" => "&filled1_v".to_string(),
            "chain_head" => format!("hold_chain[{}:0]", hold - 1),
            "error" => "ctrl_error".to_string(),
            n => n.to_string(),
        },
    )?;
    for l in 0..d {
        instance(
            &mut v,
            lane_module,
            &format!("dec{l}"),
            core,
            |port| match port.name.as_str() {
                "out_weight" => slice("dec_weight", wbits, l),
                "out_valid" => slice("dec_valid", 1, l),
                "out_ready" => slice("dec_ready", 1, l),
                "out_last" => String::new(),
                "error" => slice("dec_error", 1, l),
                "done" => slice("dec_done", 1, l),
                n if n == "in_ready" || LANE_STREAM_INPUTS.contains(&n) => {
                    slice(&port.name, port.width, l)
                }
                n => n.to_string(),
            },
        )?;
        route(&mut v, lanes, l, b.router)?;
    }
    for l in 0..p {
        let src = l % d;
        instance(
            &mut v,
            MAC_MODULE,
            &format!("mac{l}"),
            mac,
            |port| match port.name.as_str() {
                n if BROADCAST.contains(&n) || n == "clock" => n.to_string(),
                "k_len" => "lay_k_len".to_string(),
                "groups" => "lay_groups".to_string(),
                "channels" => slice("lane_channels", port.width, l),
                "w_in" => slice("dec_weight", wbits, src),
                "w_valid" => slice("mac_valid", 1, l),
                "w_ready" => slice("mac_ready", 1, l),
                "filled0" => slice("filled0_v", 1, l),
                "filled1" => slice("filled1_v", 1, l),
                "chain_in" => slice("hold_chain", hold, l + 1),
                "hold_out" => slice("hold_chain", hold, l),
                n => format!("UNCONNECTED_{n}"),
            },
        )?;
    }
    writeln!(v, "endmodule")?;
    let manifest = Manifest {
        top: top.to_string(),
        lanes: d,
        mac_lanes: Some(p),
        word_bits: b.design.word_bits(),
        clock: "clock".into(),
        ports,
    };
    Ok((v, manifest))
}

/// The handshake between decompressor lane `l` and its MAC lanes `l, l + D, ...`: direct when
/// D = P, through a weight router otherwise.
fn route(v: &mut String, lanes: AccelLanes, l: usize, router: Option<&[Port]>) -> Result<()> {
    let (d, fan) = (lanes.dec(), lanes.fan());
    let Some(ports) = router.filter(|_| fan > 1) else {
        writeln!(v, "    assign mac_valid[{l}] = dec_valid[{l}];")?;
        writeln!(v, "    assign dec_ready[{l}] = mac_ready[{l}];")?;
        return Ok(());
    };
    let sel = format!("route{l}_sel");
    writeln!(v, "    wire [{}:0] {sel};", SEL_BITS - 1)?;
    let module = format!("{ROUTER_MODULE}_f{fan}");
    instance(v, &module, &format!("route{l}"), ports, |port| {
        match port.name.as_str() {
            "k_len" => "lay_k_len".to_string(),
            "take" => format!("dec_valid[{l}] & dec_ready[{l}]"),
            "sel" => sel.clone(),
            n => n.to_string(),
        }
    })?;
    let mut ready = Vec::with_capacity(fan);
    for j in 0..fan {
        let m = l + j * d;
        let hit = format!("({sel} == {SEL_BITS}'d{j})");
        writeln!(v, "    assign mac_valid[{m}] = dec_valid[{l}] & {hit};")?;
        ready.push(format!("(mac_ready[{m}] & {hit})"));
    }
    writeln!(v, "    assign dec_ready[{l}] = {};", ready.join(" | "))?;
    Ok(())
}

/// Write `<top>.v`, `<top>.json` and the lint waivers of the accelerator with `lanes` for
/// `profile` into `out_dir` (the UP5K build for the lane counts of [`super::UP5K`]).
pub fn emit_accel(
    profile: &Profile,
    lanes: AccelLanes,
    out_dir: &std::path::Path,
) -> Result<crate::emit::RtlOutput> {
    let memory = super::point::memory_for(lanes);
    let (verilog, manifest) = generate_accel_in(profile, lanes, memory)?;
    write_design(
        out_dir,
        &verilog,
        manifest,
        ACCEL_LINT_WAIVERS_FILE,
        ACCEL_LINT_WAIVERS,
    )
}
