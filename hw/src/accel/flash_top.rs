//! The accelerator with its weights in a QSPI flash: a structural top `<core>_qspi` that puts the
//! flash reader ([`crate::qspi`]) in front of the decompressor lane of an accelerator core.
//!
//! The core is any accelerator top with one decompressor lane (D = 1), given as its Verilog and
//! port manifest (from [`generate_accel`] or any other generator of the same ports). A QSPI
//! flash delivers 4 bits per SCK clock and SCK runs at half the clock, so about 2 bits per clock:
//! less than one decompressor lane decodes. One lane, and one continuous read command per layer,
//! is therefore the design point; more lanes would only wait for the same flash.
//!
//! Ports of the top: every port of the core except the lane's memory word interface (`in_data`,
//! `in_valid`, `in_last`, `in_ready`), then the reader's request port and flash pins with the
//! prefix `flash_`: the host offers one request per layer (`flash_req_addr`, the flash byte
//! address of the lane stream, and `flash_req_words`, its length in 32-bit flash words) on
//! `flash_req_valid` / `flash_req_ready`, and the pads are `flash_sck`, `flash_cs_n`,
//! `flash_io_out`, `flash_io_oe` (output enables) and `flash_io_in`. The reader's `last` is the
//! lane's `in_last`. A core whose lane reads 64-bit words gets a [`FlashWords`] adapter between
//! reader and lane, and the extra input `flash_narrow` (one stream byte per flash word: the
//! FP32 baseline).

use super::emit::{generate_accel_in, instance, module_header};
use super::flash_words::FlashWords;
use super::AccelLanes;
use crate::emit::{block_verilog, write_design, Manifest, Port, RtlOutput};
use crate::qspi::generate_qspi;
use anyhow::{bail, Result};
use lc_format::Profile;
use std::fmt::Write as _;
use std::path::Path;

/// Suffix of the flash top's name after the core's.
pub const FLASH_TOP_SUFFIX: &str = "_qspi";
/// Module name of the word adapter.
pub const FLASH_WORDS_MODULE: &str = "lc_flash_words";
/// Prefix of the top's flash ports (the reader's request and pin ports).
pub const FLASH_PREFIX: &str = "flash_";
/// The lane's memory word interface, which the reader drives.
pub const LANE_MEMORY_PORTS: [&str; 4] = ["in_data", "in_valid", "in_last", "in_ready"];
/// File name of the flash top's lint waivers.
pub const FLASH_LINT_WAIVERS_FILE: &str = "lc_accel_qspi.vlt";
/// Lint waivers of the flash top: the accelerator's, plus the reader's and the adapter's.
pub const FLASH_LINT_WAIVERS: &str = concat!(
    include_str!("../../lint/lc_accel.vlt"),
    include_str!("../../lint/lc_accel_flash.vlt")
);

/// Name of the flash top around the core `core_top`.
pub fn flash_top_name(core_top: &str) -> String {
    format!("{core_top}{FLASH_TOP_SUFFIX}")
}

/// The flash top of the accelerator for `profile` and `lanes`, its activations where the design
/// point of those lanes keeps them ([`super::point::memory_for`]).
pub fn generate_flash_accel(profile: &Profile, lanes: AccelLanes) -> Result<(String, Manifest)> {
    let memory = super::point::memory_for(lanes);
    wrap_with_flash(generate_accel_in(profile, lanes, memory)?)
}

/// Put the QSPI flash reader in front of the decompressor lane of `core` (its Verilog and port
/// manifest): the Verilog of core, reader (and adapter) and the flash top, and its manifest.
pub fn wrap_with_flash(core: (String, Manifest)) -> Result<(String, Manifest)> {
    let (core_v, core_m) = core;
    if core_m.lanes != 1 {
        bail!(
            "{}: the flash top feeds one decompressor lane, the core has {} (a QSPI flash \
             delivers about 2 bits per clock, below what one lane decodes)",
            core_m.top,
            core_m.lanes
        );
    }
    let adapter = match core_m.word_bits {
        32 => None,
        64 => Some(block_verilog(FlashWords::default(), FLASH_WORDS_MODULE)?),
        w => bail!(
            "{}: memory words of {w} bits (the flash top feeds 32- or 64-bit lanes)",
            core_m.top
        ),
    };
    for name in ["in_data", "in_valid", "in_ready", "clock", "reset"] {
        if core_m.port(name).is_none() {
            bail!(
                "{}: no port {name} to connect the flash reader to",
                core_m.top
            );
        }
    }
    let (reader_v, reader_m) = generate_qspi()?;
    let top = flash_top_name(&core_m.top);

    let mut ports: Vec<Port> = core_m
        .ports
        .iter()
        .filter(|p| !LANE_MEMORY_PORTS.contains(&p.name.as_str()))
        .cloned()
        .collect();
    let flash_port = |p: &Port| Port {
        name: format!("{FLASH_PREFIX}{}", p.name),
        lane_width: None,
        ..p.clone()
    };
    ports.extend(
        reader_m
            .ports
            .iter()
            .filter(|p| reader_facing_host(&p.name))
            .map(flash_port),
    );
    if let Some((_, adapter_ports)) = &adapter {
        let narrow = adapter_ports
            .iter()
            .find(|p| p.name == "narrow")
            .ok_or_else(|| anyhow::anyhow!("{FLASH_WORDS_MODULE} has no port narrow"))?;
        ports.push(flash_port(narrow));
    }

    let mut v = module_header(&top, &ports)?;
    // mem_*: reader to adapter (or lane); word_*: adapter to lane.
    writeln!(v, "    wire [31:0] mem_data;")?;
    writeln!(
        v,
        "    wire mem_valid;\n    wire mem_last;\n    wire mem_ready;"
    )?;
    // The compact lane takes the end of its stream; the full lane counts its words itself.
    let lane_last = core_m.port("in_last").is_some();
    let lane_side = if adapter.is_some() {
        writeln!(v, "    wire [{}:0] word_data;", core_m.word_bits - 1)?;
        writeln!(v, "    wire word_valid;\n    wire word_ready;")?;
        if lane_last {
            writeln!(v, "    wire word_last;")?;
        }
        "word"
    } else {
        "mem"
    };
    instance(&mut v, &reader_m.top, "flash", &reader_m.ports, |p| {
        reader_signal(&p.name)
    })?;
    if let Some((_, adapter_ports)) = &adapter {
        instance(
            &mut v,
            FLASH_WORDS_MODULE,
            "words",
            adapter_ports,
            |p| match p.name.as_str() {
                "narrow" => format!("{FLASH_PREFIX}narrow"),
                "out_last" if !lane_last => String::new(),
                n => match n.split_once('_') {
                    Some(("in", rest)) => format!("mem_{rest}"),
                    Some(("out", rest)) => format!("word_{rest}"),
                    _ => n.to_string(),
                },
            },
        )?;
    }
    instance(&mut v, &core_m.top, "core", &core_m.ports, |p| {
        match p.name.as_str() {
            n if LANE_MEMORY_PORTS.contains(&n) => format!("{lane_side}_{}", &n[3..]),
            n => n.to_string(),
        }
    })?;
    writeln!(v, "endmodule")?;

    let mut text = core_v;
    text.push('\n');
    text.push_str(&reader_v);
    if let Some((adapter_v, _)) = &adapter {
        text.push_str(adapter_v);
    }
    writeln!(
        text,
        "// {top}: {} with its weights from a QSPI flash (hw/src/accel/flash_top.rs).",
        core_m.top
    )?;
    text.push_str(&v);
    let manifest = Manifest {
        top,
        ports,
        ..core_m
    };
    Ok((text, manifest))
}

/// Reader ports that become ports of the top: the request port and the flash pins.
fn reader_facing_host(name: &str) -> bool {
    !matches!(name, "clock" | "reset") && !name.starts_with("out_")
}

/// The signal a reader port connects to in the top.
fn reader_signal(name: &str) -> String {
    match name.strip_prefix("out_") {
        Some(rest) => format!("mem_{rest}"),
        None if reader_facing_host(name) => format!("{FLASH_PREFIX}{name}"),
        None => name.to_string(),
    }
}

/// Write `<top>.v`, `<top>.json` and the lint waivers of the flash top of the accelerator with
/// `lanes` (D = 1) for `profile` into `out_dir`.
pub fn emit_flash_accel(profile: &Profile, lanes: AccelLanes, out_dir: &Path) -> Result<RtlOutput> {
    let (verilog, manifest) = generate_flash_accel(profile, lanes)?;
    write_design(
        out_dir,
        &verilog,
        manifest,
        FLASH_LINT_WAIVERS_FILE,
        FLASH_LINT_WAIVERS,
    )
}
