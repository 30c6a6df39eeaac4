//! Runs a whole CNN on the accelerator model, layer by layer: every Conv/Dense layer on the RTL
//! (input written into the activation buffer, layer programmed, output read back), every other
//! operator on the host with the golden model's own code. Each layer's output is compared bit for
//! bit with the golden model; the RTL output feeds the next layer.

use super::device::{AccelDevice, LayerRun};
use super::dram::DramConfig;
use super::job::{check_fits, Geometry};
use super::plan::{NetworkPlan, PartJob};
use anyhow::{anyhow, bail, Result};
use lc_sw::model::golden::{QModel, QOp, QTensor};
use std::ops::Range;
use std::path::PathBuf;

/// The first output that differs from the golden model.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Mismatch {
    /// Index of the layer in the model.
    pub layer_index: usize,
    /// Layer name.
    pub layer: String,
    /// Output channel.
    pub channel: usize,
    /// Index inside the channel (row-major position).
    pub index: usize,
    /// RTL value.
    pub got: i8,
    /// Golden value.
    pub expected: i8,
    /// VCD of the failing layer, when one was written.
    pub vcd: Option<PathBuf>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "layer {} ('{}'): first mismatch at channel {}, index {}: RTL {}, golden {}",
            self.layer_index, self.layer, self.channel, self.index, self.got, self.expected
        )?;
        if let Some(v) = &self.vcd {
            write!(f, " (VCD: {})", v.display())?;
        }
        Ok(())
    }
}

/// Per-layer record of one image.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LayerRecord {
    /// Layer name.
    pub name: String,
    /// Operator kind: `Conv`, `Dense` (on the RTL) or the host operator.
    pub kind: String,
    /// Why a Conv/Dense layer ran on the host instead of the RTL (host fallback only).
    pub fallback: Option<String>,
    /// Counts of the RTL run (`None` for host operators).
    pub run: Option<LayerRun>,
    /// Useful MACs.
    pub macs: u64,
    /// MACs the lanes performed (including idle lanes of a partial group).
    pub lane_macs: u64,
    /// Activation buffer bytes read by the address generator.
    pub act_reads: u64,
    /// Activation buffer bytes written (outputs and host input).
    pub act_writes: u64,
    /// Requantized outputs.
    pub outputs: u64,
    /// Bytes read from the lanes' weight banks.
    pub wbuf_reads: u64,
    /// Bytes written into the weight banks.
    pub wbuf_writes: u64,
    /// Weights per output channel (K).
    pub k_len: u64,
    /// Output positions per channel.
    pub positions: u64,
}

/// What one image did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ImageRun {
    /// Per layer.
    pub layers: Vec<LayerRecord>,
    /// The first mismatch, if any.
    pub mismatch: Option<Mismatch>,
    /// The model outputs as the RTL produced them.
    pub outputs: Vec<QTensor>,
}

impl ImageRun {
    /// Datapath cycles of all RTL layers.
    pub fn cycles(&self) -> u64 {
        self.layers
            .iter()
            .filter_map(|l| l.run)
            .map(|r| r.cycles)
            .sum()
    }
}

/// Options of [`run_image`] (`Default`: no trace, no host fallback).
#[derive(Clone, Debug, Default)]
pub struct RunImageOptions {
    /// The weight memory.
    pub dram: DramConfig,
    /// Write a VCD of layer `.0` to `.1`.
    pub trace_layer: Option<(usize, PathBuf)>,
    /// Restrict that VCD to these datapath cycles of the layer (`None`: the whole layer).
    pub trace_window: Option<(u64, u64)>,
    /// Run a Conv/Dense layer that does not fit the datapath on the host with the golden model
    /// (its record's kind names the reason) instead of failing.
    pub host_fallback: bool,
}

/// Execute layer `layer_index` on the host with the golden model's own code; `inputs` in the
/// layer's input order.
pub fn host_op(q: &QModel, layer_index: usize, inputs: &[&QTensor]) -> Result<QTensor> {
    let l = &q.layers[layer_index];
    l.apply(inputs)
        .map_err(|e| anyhow!("host operator '{}': {e}", l.name))
}

/// Run one image through the accelerator and compare every layer with the golden model.
pub fn run_image(
    dev: &mut AccelDevice,
    plan: &NetworkPlan,
    input: &QTensor,
    opts: &RunImageOptions,
) -> Result<ImageRun> {
    let device = (dev.lanes(), dev.dec_lanes(), dev.profile());
    if device != (plan.lanes, plan.dec_lanes, plan.profile.name.as_str()) {
        bail!(
            "the plan is for P = {}, D = {} of profile {}; the device has P = {}, D = {} of {}",
            plan.lanes,
            plan.dec_lanes,
            plan.profile.name,
            device.0,
            device.1,
            device.2
        );
    }
    let sizes = plan.sizes()?;
    let q = &plan.reference;
    let golden = q.run_all(input).map_err(|e| anyhow!("golden model: {e}"))?;
    let mut vals: Vec<Option<QTensor>> = vec![None; q.num_values];
    vals[q.input] = Some(input.clone());
    let mut records = Vec::new();
    let mut wi = 0usize;
    for (li, l) in q.layers.iter().enumerate() {
        let inputs = l
            .inputs
            .iter()
            .map(|&v| vals.get(v).and_then(|t| t.as_ref()))
            .collect::<Option<Vec<_>>>()
            .filter(|i| !i.is_empty())
            .ok_or_else(|| anyhow!("layer '{}': input not computed", l.name))?;
        let x = inputs[0];
        let weighted = matches!(l.op, QOp::Conv { .. } | QOp::Dense(_));
        let jobs = if weighted {
            wi += 1;
            plan.jobs(wi - 1, &l.name, &l.op, &x.shape)?
        } else {
            Vec::new()
        };
        let passes = passes(&jobs, &x.data, sizes.act_bytes);
        let misfit = passes.iter().find_map(|pass| {
            let mut fits = pass.jobs.iter().zip(&pass.placements);
            fits.find_map(|(p, at)| {
                check_fits(&p.job, plan.lanes, at.in_base, at.out_base, &sizes).err()
            })
        });
        let on_host = match misfit {
            Some(e) if opts.host_fallback => Some(e.to_string()),
            Some(e) => return Err(e),
            None => None,
        };
        let (out, record) = if weighted && on_host.is_none() {
            let tracing = matches!(&opts.trace_layer, Some((t, _)) if *t == li);
            if let Some((_, path)) = opts.trace_layer.as_ref().filter(|_| tracing) {
                match opts.trace_window {
                    Some((start, end)) => dev.trace_window(path, start, end),
                    None => dev.trace_to(path)?,
                }
            }
            let result = run_passes(dev, plan, &passes, opts.dram);
            if tracing {
                dev.trace_close();
            }
            let (data, run, group_positions) = result?;
            let first = jobs
                .first()
                .ok_or_else(|| anyhow!("layer '{}' has no job", l.name))?;
            let g = Geometry {
                out_c: jobs.iter().map(|p| p.job.geom.out_c).sum(),
                ..first.job.geom
            };
            let shape = match l.op {
                QOp::Dense(_) => vec![g.out_c],
                _ => vec![g.out_c, g.out_h, g.out_w],
            };
            let positions = g.out_plane() as u64;
            let k = g.k_len() as u64;
            let lane_macs = group_positions * plan.lanes as u64 * k;
            let record = LayerRecord {
                name: l.name.clone(),
                kind: if matches!(l.op, QOp::Dense(_)) {
                    "Dense"
                } else {
                    "Conv"
                }
                .into(),
                fallback: None,
                run: Some(run),
                macs: g.macs(),
                lane_macs,
                act_reads: group_positions * k + (x.data.len() + g.out_len()) as u64,
                act_writes: (g.out_len() + x.data.len()) as u64,
                outputs: g.out_len() as u64,
                wbuf_reads: lane_macs,
                wbuf_writes: run.weights,
                k_len: k,
                positions,
            };
            (QTensor { shape, data }, record)
        } else {
            let out = host_op(q, li, &inputs)?;
            let record = LayerRecord {
                name: l.name.clone(),
                kind: l.op.kind().into(),
                fallback: on_host,
                run: None,
                macs: 0,
                lane_macs: 0,
                act_reads: 0,
                act_writes: 0,
                outputs: 0,
                wbuf_reads: 0,
                wbuf_writes: 0,
                k_len: 0,
                positions: 0,
            };
            (out, record)
        };
        records.push(record);
        let want = golden[l.output]
            .as_ref()
            .ok_or_else(|| anyhow!("golden model did not compute layer '{}'", l.name))?;
        if let Some(m) = first_difference(li, &l.name, &out, want) {
            return Ok(ImageRun {
                layers: records,
                mismatch: Some(m),
                outputs: Vec::new(),
            });
        }
        vals[l.output] = Some(out);
    }
    let outputs = q
        .outputs
        .iter()
        .map(|&o| {
            vals[o]
                .clone()
                .ok_or_else(|| anyhow!("output {o} not computed"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ImageRun {
        layers: records,
        mismatch: None,
        outputs,
    })
}

/// Run the jobs of one layer's parts: the input is written once (at 0), each part reads its
/// group's input channels and its output channels are read back after its run. Returns the
/// output, the summed counts and the lane groups of channels.
/// Where one part of a layer reads and writes the activation buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Placement {
    /// Address of the part's first input channel.
    in_base: usize,
    /// Address of its output.
    out_base: usize,
    /// The input bytes the host writes at address 0 before this part (`None`: already there).
    stage: Option<std::ops::Range<usize>>,
}

/// The placement of every part of a layer with `input_len` input bytes: the whole input at 0 and
/// each part's output after it; or, for a grouped convolution whose whole input and output part
/// do not fit side by side, only the part's group of input channels at 0 (written when the group
/// changes) and the output after it.
fn placements(jobs: &[PartJob], input_len: usize, act_bytes: usize) -> Vec<Placement> {
    let too_big = |p: &PartJob| input_len + p.job.geom.out_len() > act_bytes;
    let grouped = jobs.iter().all(|p| p.job.geom.in_len() < input_len);
    if !(grouped && jobs.iter().any(too_big)) {
        let whole = |(i, p): (usize, &PartJob)| Placement {
            in_base: p.in_base,
            out_base: input_len,
            stage: (i == 0).then_some(0..input_len),
        };
        return jobs.iter().enumerate().map(whole).collect();
    }
    let mut staged = None;
    jobs.iter()
        .map(|p| {
            let group = p.in_base..p.in_base + p.job.geom.in_len();
            let stage = (staged.as_ref() != Some(&group)).then(|| group.clone());
            staged = Some(group);
            Placement {
                in_base: 0,
                out_base: p.job.geom.in_len(),
                stage,
            }
        })
        .collect()
}

/// One pass of a layer's jobs over its input, or over a band of its input rows.
struct Pass {
    /// The input bytes of the pass, `[C, rows, W]`.
    input: Vec<i8>,
    /// The jobs, their geometry restricted to the band.
    jobs: Vec<PartJob>,
    /// The output rows the pass computes.
    rows: Range<usize>,
    /// Where each job reads and writes the activation buffer.
    placements: Vec<Placement>,
}

/// The passes of a layer with `jobs` over `input`: one over the whole input; or, for a 1x1
/// convolution (stride 1, no padding, one group) whose input does not fit the activation buffer
/// next to an output part, one per band of as many rows as fit next to the band's output (each
/// output row reads only its own input row).
fn passes(jobs: &[PartJob], input: &[i8], act_bytes: usize) -> Vec<Pass> {
    let whole = || {
        let rows = 0..jobs.first().map_or(1, |p| p.job.geom.out_h);
        vec![Pass {
            placements: placements(jobs, input.len(), act_bytes),
            input: input.to_vec(),
            jobs: jobs.to_vec(),
            rows,
        }]
    };
    let Some(g) = jobs.first().map(|p| p.job.geom) else {
        return whole();
    };
    let widest = jobs.iter().map(|p| p.job.geom.out_c).max().unwrap_or(0);
    let pointwise = (g.kh, g.kw, g.stride_h, g.stride_w, g.pad_t, g.pad_l) == (1, 1, 1, 1, 0, 0)
        && g.in_len() == input.len()
        && g.out_h == g.in_h;
    let band = act_bytes / ((g.in_c + widest) * g.in_w).max(1);
    if !pointwise || input.len() + widest * g.out_plane() <= act_bytes || band == 0 {
        return whole();
    }
    let plane = g.in_h * g.in_w;
    (0..g.in_h)
        .step_by(band)
        .map(|r0| {
            let rows = r0..(r0 + band).min(g.in_h);
            let span = rows.start * g.in_w..rows.end * g.in_w;
            let input: Vec<i8> = input
                .chunks(plane)
                .flat_map(|channel| &channel[span.clone()])
                .copied()
                .collect();
            let geom = Geometry {
                in_h: rows.len(),
                out_h: rows.len(),
                ..g
            };
            let jobs: Vec<PartJob> = jobs
                .iter()
                .map(|p| {
                    let mut p = p.clone();
                    p.job.geom = Geometry {
                        out_c: p.job.geom.out_c,
                        ..geom
                    };
                    p
                })
                .collect();
            let placements = placements(&jobs, input.len(), act_bytes);
            Pass {
                input,
                jobs,
                rows,
                placements,
            }
        })
        .collect()
}

/// Run the passes of one layer; returns its output `[O, H, W]`, the summed counts, and the lane
/// groups times output positions the jobs went through.
fn run_passes(
    dev: &mut AccelDevice,
    plan: &NetworkPlan,
    passes: &[Pass],
    dram: DramConfig,
) -> Result<(Vec<i8>, LayerRun, u64)> {
    let mut io = 0;
    let mut total = LayerRun::default();
    let mut bands = Vec::new();
    let mut group_positions = 0u64;
    for pass in passes {
        let mut data = Vec::new();
        for (PartJob { job, .. }, at) in pass.jobs.iter().zip(&pass.placements) {
            if let Some(r) = at.stage.clone() {
                io += dev.write_activations(0, &pass.input[r])?;
            }
            let run = dev.run_layer(job, &plan.words, dram, at.in_base, at.out_base)?;
            let n = job.geom.out_len();
            data.extend(dev.read_activations(at.out_base, n)?);
            io += n as u64;
            total.cycles += run.cycles;
            total.io_cycles += run.io_cycles;
            total.dram_bytes += run.dram_bytes;
            total.flash_bytes += run.flash_bytes;
            total.flash_commands += run.flash_commands;
            total.weights += run.weights;
            group_positions += (job.geom.groups(plan.lanes) * job.geom.out_plane()) as u64;
        }
        bands.push((pass.rows.clone(), data));
    }
    total.io_cycles += io;
    let data = match (bands.len(), passes.first()) {
        (2.., Some(first)) => {
            let channels = first.jobs.iter().map(|p| p.job.geom.out_c).sum();
            let w = first.jobs.first().map_or(1, |p| p.job.geom.out_w);
            interleave_rows(&bands, channels, w)
        }
        _ => bands.pop().map(|(_, d)| d).unwrap_or_default(),
    };
    Ok((data, total, group_positions))
}

/// The outputs `[O, rows, W]` of consecutive row bands laid out as one `[O, H, W]` tensor.
fn interleave_rows(bands: &[(Range<usize>, Vec<i8>)], channels: usize, w: usize) -> Vec<i8> {
    let h = bands.last().map_or(0, |(rows, _)| rows.end);
    let mut out = vec![0i8; channels * h * w];
    for (rows, d) in bands {
        let band = (rows.len() * w).max(1);
        for (c, chunk) in d.chunks(band).enumerate() {
            let at = (c * h + rows.start) * w;
            out[at..at + chunk.len()].copy_from_slice(chunk);
        }
    }
    out
}

/// The first element where `got` differs from `want` (shape differences count as index 0).
pub fn first_difference(li: usize, name: &str, got: &QTensor, want: &QTensor) -> Option<Mismatch> {
    let plane: usize = want.shape.iter().skip(1).product::<usize>().max(1);
    let n = got.data.len().max(want.data.len());
    let at = if got.shape != want.shape {
        Some(0)
    } else {
        (0..n).find(|&i| got.data.get(i) != want.data.get(i))
    }?;
    Some(Mismatch {
        layer_index: li,
        layer: name.to_string(),
        channel: at / plane,
        index: at % plane,
        got: got.data.get(at).copied().unwrap_or(0),
        expected: want.data.get(at).copied().unwrap_or(0),
        vcd: None,
    })
}
