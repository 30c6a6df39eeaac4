//! `linecompress synth --design accel --target up5k`: the UP5K design point with the QSPI flash
//! reader in front of its decompressor lane (hw/src/accel/flash_top.rs), on its board top
//! (hw/src/accel/board.rs), through Yosys `synth_ice40 -dsp`, nextpnr-ice40 with the iCEBreaker
//! pin constraints and icepack: cell counts, utilisation, Fmax and a bitstream.

use crate::synth::{
    place_and_route, run_yosys, step, Design, PnrJob, SynthOptions, SynthReport, Target, Tool,
    NEXTPNR_ICE40, YOSYS,
};
use anyhow::{bail, Context, Result};
use lc_hw::accel::board::{board_top, ChainField, BOARD_MODULE, CLOCK_MHZ};
use lc_hw::accel::flash_top::{FLASH_LINT_WAIVERS, FLASH_LINT_WAIVERS_FILE};
use lc_hw::accel::{generate_accel_in, wrap_with_flash, UP5K};
use serde::Serialize;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

/// icepack (bitstream writer).
pub const ICEPACK: Tool = Tool {
    binary: "icepack",
    env: "ICEPACK",
    package: "fpga-icestorm",
    version_arg: "-h",
};

/// What the board build adds to the synthesis report.
#[derive(Clone, Debug, Serialize)]
pub struct BoardReport {
    /// System clock in MHz (PLL or oscillator; the timing constraint of place and route).
    pub clock_mhz: f64,
    /// Whether the placed design meets that clock.
    pub timing_met: bool,
    /// Pin constraints file.
    pub pcf: PathBuf,
    /// Bitstream written by icepack (when it placed and routed).
    pub bitstream: Option<PathBuf>,
    /// Length of the host chain in bits.
    pub chain_bits: usize,
    /// Host chain layout.
    pub chain: Vec<ChainField>,
}

/// Build the board top of the UP5K design point; write everything into `opts.out_dir`.
pub fn run_board(opts: &SynthOptions) -> Result<SynthReport> {
    if opts.design != Design::Accel || opts.target != Target::Up5k {
        bail!("the board build is the accelerator on the UP5K (--design accel --target up5k)");
    }
    let start = Instant::now();
    let yosys = YOSYS.locate()?;
    let nextpnr = NEXTPNR_ICE40.locate()?;
    // icepack prints its usage and exits with 1 on -h: check that it starts.
    let icepack = std::env::var(ICEPACK.env).unwrap_or_else(|_| ICEPACK.binary.to_string());
    if Command::new(&icepack)
        .arg(ICEPACK.version_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        bail!(
            "{icepack} not found: install the Debian package {p} (apt-get install {p}), or set {}",
            ICEPACK.env,
            p = ICEPACK.package
        );
    }
    let out = &opts.out_dir;
    let lanes = UP5K.lanes()?;
    let core = generate_accel_in(&opts.profile, lanes, UP5K.memory)?;
    let (flash_v, flash_m) = wrap_with_flash(core)?;
    let accel = lc_hw::emit::write_design(
        out,
        &flash_v,
        flash_m,
        FLASH_LINT_WAIVERS_FILE,
        FLASH_LINT_WAIVERS,
    )?;
    let board = board_top(&accel.manifest, CLOCK_MHZ)?;
    let write = |name: String, text: &str| -> Result<PathBuf> {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    };
    let board_v = write(format!("{BOARD_MODULE}.v"), &board.verilog)?;
    let pcf = write(format!("{BOARD_MODULE}.pcf"), &board.pcf)?;
    let netlist = out.join(format!("{BOARD_MODULE}.up5k.json"));
    let stat = run_yosys(
        &yosys,
        &crate::synth::YosysJob {
            top: BOARD_MODULE,
            target: Target::Up5k,
            verilog: &[accel.verilog.clone(), board_v],
            netlists: &[],
            json: Some(&netlist),
            out,
        },
    )?;
    let asc = out.join(format!("{BOARD_MODULE}.asc"));
    let log = out.join("nextpnr.up5k.log");
    let device = Target::Up5k
        .device()
        .context("the UP5K is placed and routed")?;
    let (pnr, fmax) = place_and_route(
        &nextpnr,
        &PnrJob {
            device,
            json: &netlist,
            log: &log,
            clock: board.clock_net(),
            freq_mhz: board.clock_mhz(),
            pcf: Some(&pcf),
            asc: Some(&asc),
        },
    )?;
    let fits = pnr.failure.is_none();
    let bitstream = if fits {
        let bin = out.join(format!("{BOARD_MODULE}.bin"));
        step("icepack", &bin, || {
            let run = Command::new(&icepack)
                .arg(&asc)
                .arg(&bin)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .with_context(|| format!("running {icepack}"))?;
            if !run.success() {
                bail!("icepack failed on {} ({run})", asc.display());
            }
            Ok(())
        })?;
        Some(bin)
    } else {
        None
    };
    let report = SynthReport {
        design: opts.design,
        target: opts.target,
        counts: stat.counts,
        fmax_mhz: fmax,
        fits: Some(fits),
        top: BOARD_MODULE.to_string(),
        lanes: lanes.dec(),
        mac_lanes: Some(lanes.mac()),
        cells: stat.cells,
        cells_by_type: stat.cells_by_type,
        place_and_route: Some(pnr),
        board: Some(BoardReport {
            clock_mhz: board.clock_mhz(),
            timing_met: fmax.is_some_and(|f| f >= board.clock_mhz()),
            pcf,
            bitstream,
            chain_bits: board.chain_bits(),
            chain: board.fields,
        }),
        seconds: start.elapsed().as_secs_f64(),
    };
    let path = out.join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(report)
}
