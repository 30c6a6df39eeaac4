//! Verification of a CNN on the accelerator: from a model prepared by
//! [`lc_sw::eval::prepared`] (golden model and quantized inputs), prepare the raw INT8 and the
//! LineCompress weight stores, run N images through the RTL for both, and total the mismatches,
//! cycles, DRAM bytes and energy.

use super::device::{AccelDevice, Memory};
use super::dram::DramConfig;
use super::energy::{EnergyBreakdown, EnergyModel};
use super::network::{run_image, ImageRun, LayerRecord, Mismatch, RunImageOptions};
use super::plan::{NetworkPlan, WeightStore};
use anyhow::{anyhow, bail, Context, Result};
use lc_hw::accel::AccelLanes;
use lc_sw::eval::prepared::PreparedModel;
use lc_sw::model::golden::{QModel, QTensor};
use std::path::PathBuf;
use std::time::Instant;

/// The images a verification runs: an INT8 golden model, its quantized inputs and labels.
#[derive(Clone, Copy)]
pub struct Workload<'a> {
    /// The INT8 golden model (the plan swaps in decoded weights for compressed storage).
    pub qmodel: &'a QModel,
    /// Quantized inputs.
    pub inputs: &'a [QTensor],
    /// Labels (may be empty).
    pub labels: &'a [usize],
    /// Index of the classification output among the model outputs.
    pub classifier: usize,
}

impl<'a> Workload<'a> {
    /// The images of a prepared model.
    pub fn of(m: &'a PreparedModel) -> Self {
        Workload {
            qmodel: &m.qmodel,
            inputs: &m.inputs,
            labels: &m.labels,
            classifier: m.classifier,
        }
    }
}

/// Options of a verification run.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// MAC lanes P of the datapath (a compiled model must exist).
    pub lanes: usize,
    /// Decompressor lanes D for the compressed weights (`None`: D = P). The raw INT8 baseline
    /// always runs with D = P: its lanes only pass bytes through.
    pub decoders: Option<usize>,
    /// Where the weights come from: the DRAM model (`dram`) or a QSPI flash on the flash top
    /// (one decompressor lane for every store).
    pub memory: Memory,
    /// The DRAM (for [`Memory::Dram`]).
    pub dram: DramConfig,
    /// Energy constants.
    pub energy: EnergyModel,
    /// Where VCDs of failing layers go.
    pub vcd_dir: PathBuf,
    /// Worker threads (each with its own model).
    pub threads: usize,
    /// Run Conv/Dense layers that do not fit the datapath on the host (see
    /// [`RunImageOptions::host_fallback`]).
    pub host_fallback: bool,
}

impl VerifyOptions {
    /// The lane counts `store` runs with. From DRAM: D = `decoders` for compressed weights, D = P
    /// for the raw INT8 and FP32 baselines. From the QSPI flash: D = 1 for every store.
    pub fn accel_lanes(&self, store: WeightStore) -> Result<AccelLanes> {
        let d = match (self.memory, store.is_raw()) {
            (Memory::Qspi, _) => match self.decoders {
                None | Some(1) => 1,
                Some(d) => bail!(
                    "the QSPI flash feeds one decompressor lane, not {d} (its ~2 bits per clock \
                     are below what one lane decodes)"
                ),
            },
            (Memory::Dram, true) => self.lanes,
            (Memory::Dram, false) => self.decoders.unwrap_or(self.lanes),
        };
        AccelLanes::new(self.lanes, d)
    }
}

/// What a worker thread returns: its (image index, run) pairs and the cycles it simulated.
type WorkerResult = (Vec<(usize, ImageRun)>, u64);

/// Totals of one weight store over all images.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StoreSummary {
    /// Store label (`int8`, `lc-rice-eps2`, ...).
    pub store: String,
    /// Images run.
    pub images: usize,
    /// Images with a mismatch.
    pub mismatches: usize,
    /// The first mismatch found (lowest image index).
    pub first_mismatch: Option<(usize, Mismatch)>,
    /// Correct top-1 classifications (of the RTL outputs) among the images without mismatch.
    pub correct: usize,
    /// Datapath cycles of all images.
    pub cycles_total: u64,
    /// Energy of all images, pJ.
    pub energy_total_pj: f64,
    /// Mean datapath cycles per image.
    pub cycles_per_image: f64,
    /// Mean host I/O cycles per image (activation and parameter ports).
    pub io_cycles_per_image: f64,
    /// Mean DRAM bytes per image.
    pub dram_bytes_per_image: f64,
    /// Mean flash bytes per image.
    pub flash_bytes_per_image: f64,
    /// Flash read commands of the first image.
    pub flash_commands: u64,
    /// Mean energy per image.
    pub energy_per_image: EnergyBreakdown,
    /// Weight bits stored.
    pub weight_bits: u64,
    /// Layers of the first image (per-layer cycles and counts).
    pub layers: Vec<LayerRecord>,
    /// Simulated clock cycles (datapath + I/O) per wall-clock second.
    pub sim_cycles_per_second: f64,
    /// Wall-clock seconds per image.
    pub wall_seconds_per_image: f64,
}

impl StoreSummary {
    /// Why each Conv/Dense layer that ran on the host (host fallback) did, naming the layer.
    pub fn host_layers(&self) -> Vec<String> {
        self.layers
            .iter()
            .filter_map(|l| l.fallback.clone())
            .collect()
    }

    /// Mean energy per image, pJ.
    pub fn energy_pj(&self) -> f64 {
        self.energy_per_image.total()
    }
}

/// Run `images` images of `m` through the datapath with weights stored as `store`.
pub fn verify_store(
    m: Workload<'_>,
    store: WeightStore,
    opts: &VerifyOptions,
) -> Result<StoreSummary> {
    let plan = NetworkPlan::split(m.qmodel, opts.accel_lanes(store)?, store)?;
    verify_plan(m, &plan, opts)
}

/// The options of one image run of `plan`: the DRAM carries the store's traffic scale.
fn run_options(plan: &NetworkPlan, opts: &VerifyOptions) -> RunImageOptions {
    RunImageOptions {
        dram: DramConfig {
            traffic_scale: opts.dram.traffic_scale * plan.store.traffic_scale(),
            ..opts.dram
        },
        host_fallback: opts.host_fallback,
        ..Default::default()
    }
}

/// Run the images of `m` through the datapath with the weights of `plan` (made for
/// `m.qmodel` and `opts.accel_lanes(plan.store)`).
pub fn verify_plan(
    m: Workload<'_>,
    plan: &NetworkPlan,
    opts: &VerifyOptions,
) -> Result<StoreSummary> {
    let store = plan.store;
    let n = m.inputs.len();
    if n == 0 {
        bail!("no images to verify");
    }
    let threads = opts.threads.clamp(1, n);
    let run_opts = run_options(plan, opts);
    let start = Instant::now();
    let chunk = n.div_ceil(threads);
    let parts: Vec<Result<WorkerResult>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let run_opts = &run_opts;
                s.spawn(move || -> Result<WorkerResult> {
                    let mut dev = AccelDevice::for_plan_on(plan, opts.memory)?;
                    let mut out = Vec::new();
                    for i in (t * chunk)..((t + 1) * chunk).min(n) {
                        let r = run_image(&mut dev, plan, &m.inputs[i], run_opts)
                            .with_context(|| format!("image {i}"))?;
                        out.push((i, r));
                    }
                    Ok((out, dev.cycle()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow!("worker panicked"))))
            .collect()
    });
    let wall = start.elapsed().as_secs_f64();
    let mut runs = Vec::with_capacity(n);
    let mut sim_cycles = 0u64;
    for p in parts {
        let (r, c) = p?;
        runs.extend(r);
        sim_cycles += c;
    }
    runs.sort_by_key(|(i, _)| *i);

    let mut s = StoreSummary {
        store: store.label(),
        images: n,
        mismatches: 0,
        first_mismatch: None,
        correct: 0,
        cycles_total: 0,
        energy_total_pj: 0.0,
        cycles_per_image: 0.0,
        io_cycles_per_image: 0.0,
        dram_bytes_per_image: 0.0,
        flash_bytes_per_image: 0.0,
        flash_commands: runs.first().map_or(0, |(_, r)| {
            r.layers
                .iter()
                .filter_map(|l| l.run)
                .map(|x| x.flash_commands)
                .sum()
        }),
        energy_per_image: EnergyBreakdown::default(),
        weight_bits: (plan.weight_bits() as f64 * store.traffic_scale()) as u64,
        layers: runs
            .first()
            .map(|(_, r)| r.layers.clone())
            .unwrap_or_default(),
        sim_cycles_per_second: sim_cycles as f64 / wall.max(1e-9),
        wall_seconds_per_image: wall * threads as f64 / n as f64,
    };
    for (i, r) in &runs {
        let runs_of = || r.layers.iter().filter_map(|l| l.run);
        s.cycles_total += r.cycles();
        s.io_cycles_per_image += runs_of().map(|x| x.io_cycles).sum::<u64>() as f64;
        s.dram_bytes_per_image += runs_of().map(|x| x.dram_bytes).sum::<f64>();
        s.flash_bytes_per_image += runs_of().map(|x| x.flash_bytes).sum::<f64>();
        let energy = opts.energy.total(&r.layers);
        s.energy_total_pj += energy.total();
        s.energy_per_image.add(&energy);
        match &r.mismatch {
            Some(mm) => {
                s.mismatches += 1;
                if s.first_mismatch.is_none() {
                    let mut mm = mm.clone();
                    let record = r.layers.get(mm.layer_index);
                    mm.vcd = trace_failure(plan, &m.inputs[*i], &mm, record, opts, *i);
                    s.first_mismatch = Some((*i, mm));
                }
            }
            None => {
                let logits = r
                    .outputs
                    .get(m.classifier)
                    .map_or(&[][..], |t| t.data.as_slice());
                if m.labels.get(*i).is_some_and(|&l| argmax(logits) == Some(l)) {
                    s.correct += 1;
                }
            }
        }
    }
    let k = 1.0 / n as f64;
    s.cycles_per_image = s.cycles_total as f64 * k;
    s.io_cycles_per_image *= k;
    s.dram_bytes_per_image *= k;
    s.flash_bytes_per_image *= k;
    s.energy_per_image.scale(k);
    Ok(s)
}

/// The datapath cycles of a layer around the moment output `(channel, index)` is produced:
/// outputs are produced group by group (P channels), position by position, so the failing one
/// sits at about `(group * positions + index + 1) / (groups * positions)` of the layer's cycles.
pub fn failure_window(r: &LayerRecord, m: &Mismatch, lanes: usize) -> Option<(u64, u64)> {
    let run = r.run?;
    let lanes = lanes.max(1) as u64;
    let groups = (r.lane_macs / (lanes * r.k_len.max(1) * r.positions.max(1))).max(1);
    let total = groups * r.positions.max(1);
    let ordinal = (m.channel as u64 / lanes) * r.positions + m.index as u64 + 1;
    let at = run.cycles.saturating_mul(ordinal.min(total)) / total;
    let half = (4 * (r.k_len + lanes + 8)).max(run.cycles / 50);
    Some((at.saturating_sub(half), at + half))
}

/// Re-run a failing image with a VCD of the window of the failing layer where the first
/// differing output is produced; returns the path when written.
fn trace_failure(
    plan: &NetworkPlan,
    input: &QTensor,
    m: &Mismatch,
    record: Option<&LayerRecord>,
    opts: &VerifyOptions,
    image: usize,
) -> Option<PathBuf> {
    let layer = m.layer_index;
    let path = opts.vcd_dir.join(format!(
        "{}_image{image}_layer{layer}.vcd",
        plan.store.label()
    ));
    let run = || -> Result<()> {
        let mut dev = AccelDevice::for_plan_on(plan, opts.memory)?;
        let o = RunImageOptions {
            trace_layer: Some((layer, path.clone())),
            trace_window: record.and_then(|r| failure_window(r, m, opts.lanes)),
            ..run_options(plan, opts)
        };
        run_image(&mut dev, plan, input, &o)?;
        Ok(())
    };
    run().ok().map(|_| path)
}

/// Index of the largest value (first on ties).
pub fn argmax(v: &[i8]) -> Option<usize> {
    v.iter()
        .enumerate()
        .fold(None, |best: Option<(usize, i8)>, (i, &x)| match best {
            Some((_, b)) if b >= x => best,
            _ => Some((i, x)),
        })
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::device::LayerRun;

    #[test]
    fn the_failure_window_follows_the_output_order() {
        // 2 groups of 4 lanes, 100 positions, K = 25, 10,000 cycles.
        let record = LayerRecord {
            name: "conv".into(),
            kind: "Conv".into(),
            fallback: None,
            run: Some(LayerRun {
                cycles: 10_000,
                ..Default::default()
            }),
            macs: 0,
            lane_macs: 2 * 4 * 100 * 25,
            act_reads: 0,
            act_writes: 0,
            outputs: 0,
            wbuf_reads: 0,
            wbuf_writes: 0,
            k_len: 25,
            positions: 100,
        };
        let at = |channel, index| {
            let m = Mismatch {
                layer_index: 0,
                layer: "conv".into(),
                channel,
                index,
                got: 0,
                expected: 1,
                vcd: None,
            };
            failure_window(&record, &m, 4).unwrap()
        };
        let (a0, b0) = at(0, 10);
        let (a1, b1) = at(5, 10);
        // Channel 5 is in the second group: its window comes half a layer later.
        assert!(a0 < 600 && b0 > 600 && b0 - a0 < 1000, "{a0}..{b0}");
        assert!(a1 < 5600 && b1 > 5600 && a1 > b0, "{a1}..{b1}");
        let none = LayerRecord {
            run: None,
            ..record.clone()
        };
        let m = Mismatch {
            layer_index: 0,
            layer: String::new(),
            channel: 0,
            index: 0,
            got: 0,
            expected: 0,
            vcd: None,
        };
        assert!(failure_window(&none, &m, 4).is_none());
    }
}
