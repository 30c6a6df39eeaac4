//! Memory-bandwidth sweep: cycles per inference of the raw INT8 and the LineCompress weight
//! stores as the weight memory bandwidth changes. The datapath's timing does not depend on the
//! activation values, so one image per point suffices.

use super::device::AccelDevice;
use super::dram::DramConfig;
use super::network::{run_image, RunImageOptions};
use super::plan::NetworkPlan;
use anyhow::{bail, Result};
use lc_sw::model::golden::QTensor;

/// One bandwidth point.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SweepPoint {
    /// Weight memory bandwidth, bytes per cycle.
    pub bytes_per_cycle: f64,
    /// Cycles per inference, per plan (in the order given).
    pub cycles: Vec<u64>,
}

/// Cycles per inference of every plan at every bandwidth (latency and queue from `base`).
pub fn bandwidth_sweep(
    plans: &[&NetworkPlan],
    input: &QTensor,
    bandwidths: &[f64],
    base: DramConfig,
) -> Result<Vec<SweepPoint>> {
    if plans.is_empty() {
        bail!("no plans to sweep");
    }
    let mut devs = plans
        .iter()
        .map(|p| AccelDevice::for_plan(p))
        .collect::<Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(bandwidths.len());
    for &bw in bandwidths {
        let dram = DramConfig {
            bytes_per_cycle: bw,
            ..base
        };
        let mut cycles = Vec::with_capacity(plans.len());
        for (plan, dev) in plans.iter().zip(devs.iter_mut()) {
            let run = run_image(
                dev,
                plan,
                input,
                &RunImageOptions {
                    dram,
                    ..Default::default()
                },
            )?;
            if let Some(m) = run.mismatch {
                bail!("bandwidth {bw}: {m}");
            }
            cycles.push(run.cycles());
        }
        out.push(SweepPoint {
            bytes_per_cycle: bw,
            cycles,
        });
    }
    Ok(out)
}

/// The smallest swept bandwidth at which a plan's cycles are within `tolerance` (e.g. 0.05) of
/// its cycles at the largest swept bandwidth: below it the accelerator is weight-bound.
pub fn knee(points: &[SweepPoint], plan: usize, tolerance: f64) -> Option<f64> {
    let best = points
        .iter()
        .filter_map(|p| p.cycles.get(plan))
        .min()
        .copied()? as f64;
    points
        .iter()
        .filter(|p| {
            p.cycles
                .get(plan)
                .is_some_and(|&c| c as f64 <= best * (1.0 + tolerance))
        })
        .map(|p| p.bytes_per_cycle)
        .fold(None, |m: Option<f64>, b| Some(m.map_or(b, |m| m.min(b))))
}
