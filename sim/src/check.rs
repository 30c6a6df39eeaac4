//! Runs a layer through the Verilator model and compares it with the software reference decoder
//! `lc_sw::codec::decode_lane`, lane by lane. On a mismatch the run is repeated with tracing on
//! and the VCD path is part of the error.

use crate::driver::{run_layer, LaneInput, LayerOutcome, RunOptions};
use crate::model::Model;
use anyhow::{bail, Result};
use lc_format::Profile;
use lc_sw::codec::{decode_lane, LayerParams};
use std::path::{Path, PathBuf};

/// Environment variable: when set, every checked case writes a VCD trace into this directory.
pub const TRACE_DIR_ENV: &str = "LC_SIM_TRACE_DIR";

/// One lane stream of a case, as the software produced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaneBytes {
    /// Packed stream.
    pub bytes: Vec<u8>,
    /// Exact length in bits (at most `8 * bytes.len()`).
    pub length_bits: u64,
    /// Number of weights.
    pub count: u64,
}

/// A layer to decode: parameters and one stream per hardware lane.
#[derive(Clone, Debug)]
pub struct Case {
    /// Name used in reports and trace file names.
    pub name: String,
    /// The profile whose decompressor decodes it.
    pub profile: &'static Profile,
    /// Layer parameters.
    pub params: LayerParams,
    /// One stream per lane.
    pub lanes: Vec<LaneBytes>,
}

impl Case {
    /// The lane streams as a memory of `word_bits`-bit words holds them.
    pub fn inputs(&self, word_bits: u64) -> Result<Vec<LaneInput>> {
        self.lanes
            .iter()
            .map(|l| LaneInput::from_bytes(&l.bytes, l.length_bits, l.count, word_bits))
            .collect()
    }
}

/// Bounds the hardware must meet on a rejected stream.
#[derive(Clone, Copy, Debug)]
pub struct ErrorBound {
    /// Cycles the error flag may lag behind the work done: words taken plus weights emitted, plus
    /// one clock per segment header on designs that read a header in a clock of its own (the
    /// compact lane; at most one header per weight, and the failing one).
    pub slack: u64,
}

/// Result of a passing case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseReport {
    /// Weights compared with the reference (accepted lanes).
    pub weights: u64,
    /// Lanes the reference accepted.
    pub accepted_lanes: usize,
    /// Lanes the reference rejected (and the hardware flagged).
    pub rejected_lanes: usize,
    /// Cycles of the run.
    pub cycles: u64,
}

/// Decode `case` on a fresh model of its lane count and compare every lane with the reference.
pub fn check_case(case: &Case, opts: &RunOptions, bound: Option<ErrorBound>) -> Result<CaseReport> {
    let mut model = Model::decompressor_for(case.profile, case.lanes.len())?;
    let inputs = case.inputs(model.manifest().word_bits as u64)?;
    if let Some(dir) = std::env::var_os(TRACE_DIR_ENV) {
        model.trace_to(&PathBuf::from(dir).join(format!("{}.vcd", case.name)))?;
    }
    let outcome = run_layer(&mut model, &case.params, &inputs, opts)?;
    model.trace_close();
    match compare(case, &outcome, bound) {
        Ok(report) => Ok(report),
        Err(problem) => {
            let vcd = failure_trace(case, &inputs, opts);
            bail!(
                "{}: {problem:#}\n  VCD of the failing run: {vcd}",
                case.name
            )
        }
    }
}

/// `target/lc-sim-failures` of the workspace.
fn default_failure_dir() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir
        .parent()
        .unwrap_or(crate_dir)
        .join("target/lc-sim-failures")
}

/// Repeat a failing run with tracing on; returns where the trace went (or why there is none).
fn failure_trace(case: &Case, inputs: &[LaneInput], opts: &RunOptions) -> String {
    let dir = std::env::var_os(TRACE_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(default_failure_dir);
    let path = dir.join(format!("{}.vcd", case.name));
    let run = || -> Result<()> {
        let mut model = Model::decompressor_for(case.profile, case.lanes.len())?;
        model.trace_to(&path)?;
        run_layer(&mut model, &case.params, inputs, opts)?;
        model.trace_close();
        Ok(())
    };
    match run() {
        Ok(()) => path.display().to_string(),
        Err(e) => format!("(not written: {e:#})"),
    }
}

/// Compare a run with the reference decoder.
pub fn compare(
    case: &Case,
    outcome: &LayerOutcome,
    bound: Option<ErrorBound>,
) -> Result<CaseReport> {
    if outcome.hung {
        bail!(
            "the design hung: no done or error flag after {} cycles",
            outcome.cycles
        );
    }
    let mut report = CaseReport {
        cycles: outcome.cycles,
        ..Default::default()
    };
    for (l, (lane, got)) in case.lanes.iter().zip(&outcome.lanes).enumerate() {
        if got.weights.len() as u64 > lane.count {
            bail!(
                "lane {l}: emitted {} weights, the lane has {}",
                got.weights.len(),
                lane.count
            );
        }
        match decode_lane(&case.params, &lane.bytes, lane.length_bits, lane.count) {
            Ok(expected) => {
                if got.error {
                    bail!("lane {l}: error flag on a stream the reference accepts");
                }
                if let Some(i) =
                    (0..expected.len()).find(|&i| got.weights.get(i) != Some(&expected[i]))
                {
                    bail!(
                        "lane {l}: first mismatch at weight {i} of {}: hardware {:?}, reference {}",
                        expected.len(),
                        got.weights.get(i),
                        expected[i]
                    );
                }
                let want_last: Vec<usize> = expected.len().checked_sub(1).into_iter().collect();
                if got.last_at != want_last {
                    bail!(
                        "lane {l}: out_last at {:?}, expected at {want_last:?}",
                        got.last_at
                    );
                }
                if !got.done {
                    bail!("lane {l}: done flag never raised");
                }
                report.weights += expected.len() as u64;
                report.accepted_lanes += 1;
            }
            Err(why) => {
                if !got.error {
                    bail!("lane {l}: reference rejects ({why}) but no error flag was raised");
                }
                if got.done {
                    bail!("lane {l}: done and error flags both raised");
                }
                if let (Some(b), Some(at)) = (bound, got.error_cycle) {
                    let weights = got.weights.len() as u64;
                    let headers = match lc_hw::emit::Design::for_profile(case.profile) {
                        Ok(lc_hw::emit::Design::Compact(_)) => weights + 1,
                        _ => 0,
                    };
                    let work = got.words_taken as u64 + weights + headers;
                    if at > work + b.slack {
                        bail!(
                            "lane {l}: error flag after {at} cycles, {work} words+weights+headers \
                             (allowed slack {})",
                            b.slack
                        );
                    }
                }
                report.rejected_lanes += 1;
            }
        }
    }
    Ok(report)
}
