//! A CNN prepared for the accelerator: the golden model it must match, and the weight streams of
//! every Conv/Dense layer in one DRAM image. Two kinds of streams go through the same datapath:
//! LineCompress streams (a `.lcw` container's data area), and the raw INT8 weights, which are the
//! LineCompress stream with 1-weight segments, no slope and no residuals (`len_bits = 0`,
//! `slope_bits = 0`, lines mode, B = 8): exactly one byte per weight.
//!
//! A layer whose output does not fit the activation buffer next to its input, or with more output
//! channels than the parameter memory holds, is split by output channels into parts, each its own
//! container layer run as its own job; the host reads each part's channels back and writes the
//! next part's into the same place.
//!
//! The compressed streams are made for the decompressor lanes of the shipped hardware profile
//! ([`accel_profile`], 32-bit words). The raw INT8 stream is one that only the general lane of the
//! `full` profile decodes, so the INT8 baseline runs on the accelerator built with `full` lanes
//! (64-bit words) and otherwise the same datapath.

use super::job::{channel_params, Geometry, LaneStreamRef, LayerJob};
use anyhow::{bail, Context, Result};
use lc_format::{Profile, DEFAULT_PROFILE};
use lc_hw::accel::emit::{sizes, AccelSizes};
use lc_hw::accel::point::memory_for;
use lc_hw::accel::AccelLanes;
use lc_hw::emit::Design;
use lc_sw::codec::{LaneStream, LayerParams, Mode, Strategy};
use lc_sw::container::{compress_layer, split_lanes, CompressOptions, Container, Layer};
use lc_sw::model::golden::{QModel, QOp, QTensor, QWeighted};
use lc_sw::quant::Quantized;
use std::ops::Range;

/// How the weights are stored in the weight memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightStore {
    /// Raw INT8 weights, one byte each.
    Int8,
    /// The same weights stored as FP32, 4 bytes each, converted to int8 at the memory
    /// interface: the raw INT8 streams with 4 times their memory traffic.
    Fp32,
    /// LineCompress streams, one setting for every layer.
    Compressed {
        /// Residual mode.
        mode: Mode,
        /// Error bound in LSB.
        eps: u16,
    },
    /// LineCompress streams with each layer's own setting: a given container
    /// ([`NetworkPlan::from_container`]).
    PerLayer,
}

impl WeightStore {
    /// The hardware profile whose decompressor lanes decode this store.
    pub fn profile(&self) -> &'static Profile {
        match self {
            WeightStore::Int8 | WeightStore::Fp32 => {
                Profile::shared("full").expect("the built-in full profile is valid")
            }
            WeightStore::Compressed { .. } | WeightStore::PerLayer => accel_profile(),
        }
    }

    /// Short label.
    pub fn label(&self) -> String {
        match self {
            WeightStore::Int8 => "int8".into(),
            WeightStore::Fp32 => "fp32".into(),
            WeightStore::Compressed { mode, eps } => format!("lc-{mode}-eps{eps}"),
            WeightStore::PerLayer => "lc-per-layer".into(),
        }
    }

    /// Memory bytes per stored stream byte: 4 for FP32 storage, else 1.
    pub fn traffic_scale(&self) -> f64 {
        match self {
            WeightStore::Fp32 => 4.0,
            _ => 1.0,
        }
    }

    /// The streams are raw INT8 weights (one byte each, read by the general lane).
    pub fn is_raw(&self) -> bool {
        matches!(self, WeightStore::Int8 | WeightStore::Fp32)
    }
}

/// The golden model and the DRAM image of one CNN for a datapath with P MAC lanes and D
/// decompressor lanes (the container's lane split follows D).
#[derive(Clone, Debug)]
pub struct NetworkPlan {
    /// The integer model the RTL must reproduce (its weights are the ones the streams decode to).
    pub reference: QModel,
    /// The container whose data area is the DRAM image (one layer per Conv/Dense layer).
    pub container: Container,
    /// The DRAM image in words of `word_bits` bits (each in the low bits of a `u64`).
    pub words: Vec<u64>,
    /// Width of a memory word of the decompressor lanes.
    pub word_bits: usize,
    /// The hardware profile of the decompressor lanes the streams are made for.
    pub profile: &'static Profile,
    /// Per container layer, per lane: the stream in the DRAM image.
    pub streams: Vec<Vec<LaneStreamRef>>,
    /// Per Conv/Dense layer: its parts, in channel order.
    pub parts: Vec<Vec<Part>>,
    /// MAC lanes P.
    pub lanes: usize,
    /// Decompressor lanes D, the lanes the streams were split for.
    pub dec_lanes: usize,
    /// How the weights are stored.
    pub store: WeightStore,
}

/// Output channels `channels` of a Conv/Dense layer, all in convolution group `group`, stored as
/// container layer `layer` and run as one job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// Index of the container layer.
    pub layer: usize,
    /// Output channels of the Conv/Dense layer.
    pub channels: Range<usize>,
    /// The convolution group (0 for a dense layer or an ungrouped convolution).
    pub group: usize,
}

/// The job of one part, where its input channels start in the activation buffer, and the output
/// channels it produces.
#[derive(Clone, Debug)]
pub struct PartJob {
    /// Output channels of the layer.
    pub channels: Range<usize>,
    /// Activation buffer address of the part's first input channel (the layer input is at 0).
    pub in_base: usize,
    /// The job.
    pub job: LayerJob,
}

/// The codec parameters of the raw INT8 stream.
pub fn raw_int8_params() -> LayerParams {
    LayerParams {
        bits: 8,
        mode: Mode::Lines,
        eps: 0,
        frac_bits: 1,
        len_bits: 0,
        slope_bits: 0,
        shift: 0,
    }
}

/// The weighted layers of a model, in order.
pub fn weighted_layers(q: &QModel) -> Vec<&QWeighted> {
    q.layers
        .iter()
        .filter_map(|l| match &l.op {
            QOp::Conv { layer, .. } | QOp::Dense(layer) => Some(layer),
            _ => None,
        })
        .collect()
}

/// Output channels `ch` of a layer's weights.
fn quantized(l: &QWeighted, ch: &Range<usize>) -> Quantized {
    let per: usize = l.dims.iter().skip(1).product();
    let mut dims = l.dims.clone();
    dims[0] = ch.len();
    Quantized {
        bits: l.bits,
        dims,
        values: l.weights[ch.start * per..ch.end * per].to_vec(),
        scales: l.weight_scales[ch.clone()].to_vec(),
    }
}

/// Channel ranges of a layer with `out_c` channels of `plane` outputs each, reading `in_len`
/// input bytes, on a design with `sizes`: parts of at most the parameter memory's channels whose
/// output fits the activation buffer next to the input, of whole groups of `lanes` channels
/// where one fits (one part when all fit or no channel does).
pub fn channel_parts(
    out_c: usize,
    plane: usize,
    in_len: usize,
    lanes: usize,
    sizes: &AccelSizes,
) -> Vec<Range<usize>> {
    let room = (sizes.act_bytes.saturating_sub(in_len) / plane.max(1)).min(sizes.channels);
    if room >= out_c || room == 0 {
        return std::iter::once(0..out_c).collect();
    }
    let step = match room / lanes.max(1) * lanes.max(1) {
        0 => room,
        s => s,
    };
    (0..out_c)
        .step_by(step)
        .map(|c| c..(c + step).min(out_c))
        .collect()
}

/// LineCompress streams of one part on `lanes` decompressor lanes of `profile`.
fn compress_part(
    name: &str,
    q: &Quantized,
    profile: &Profile,
    mode: Mode,
    eps: u16,
    lanes: usize,
) -> Result<Layer> {
    let opts = CompressOptions {
        profile: profile.clone(),
        mode,
        eps,
        lanes,
        strategy: Strategy::Optimal,
    };
    compress_layer(name, q, &opts).with_context(|| format!("compressing layer {name}"))
}

/// Output channels of a weighted layer.
fn out_channels(l: &QWeighted) -> Result<usize> {
    match l.dims.first() {
        Some(&o) if o > 0 => Ok(o),
        _ => bail!("weight shape {:?} has no output channels", l.dims),
    }
}

/// The raw INT8 layer: lanes split like a container's (channel `c` to lane `c mod N`).
fn raw_layer(name: &str, l: &Quantized, lanes: usize) -> Result<Layer> {
    if l.bits > 8 || l.values.iter().any(|&w| !(-128..=127).contains(&w)) {
        bail!("layer {name}: weights do not fit int8");
    }
    let o = l.dims[0];
    let n = lanes.min(o);
    let streams = split_lanes(&l.values, o, n)
        .into_iter()
        .map(|v| LaneStream {
            bytes: v.iter().map(|&w| w as i8 as u8).collect(),
            length_bits: 8 * v.len() as u64,
            count: v.len() as u64,
        })
        .collect();
    Ok(Layer {
        name: name.to_string(),
        dims: l.dims.clone(),
        params: raw_int8_params(),
        order: 0,
        max_error: 0,
        scales: l.scales.clone(),
        lanes: streams,
    })
}

impl NetworkPlan {
    /// Prepare `model` (built with INT8 weights) for a `lanes`-lane datapath (one decompressor
    /// lane per MAC lane) with `store`. For compressed storage the reference model gets the
    /// decoded weights.
    pub fn new(model: &QModel, lanes: usize, store: WeightStore) -> Result<Self> {
        Self::split(model, AccelLanes::matched(lanes)?, store)
    }

    /// Prepare `model` for a datapath with `split.mac()` MAC lanes and `split.dec()` decompressor
    /// lanes: the weight streams are split over the decompressor lanes.
    pub fn split(model: &QModel, split: AccelLanes, store: WeightStore) -> Result<Self> {
        let lanes = split.dec();
        let profile = store.profile();
        Self::build(model, split, store, |_, part_name, q, _| match store {
            WeightStore::Compressed { mode, eps } => {
                compress_part(part_name, q, profile, mode, eps, lanes)
            }
            _ => raw_layer(part_name, q, lanes),
        })
    }

    /// Prepare `model` with the weights of `container` (one layer per Conv/Dense layer, made
    /// for the shipped profile, e.g. by `eval --max-drop ... --save`; the streams are packed
    /// again for the lanes' word width): a layer that runs as one
    /// part on as many decompressor lanes as the container has keeps its streams; any other
    /// layer is encoded again, part by part, with the container layer's mode and error bound.
    /// Fails when the container does not match the model's layers and weights.
    pub fn from_container(
        model: &QModel,
        split: AccelLanes,
        container: &Container,
    ) -> Result<Self> {
        let profile = accel_profile();
        let weighted = weighted_layers(model);
        if container.layers.len() != weighted.len() {
            bail!(
                "the container has {} layers, the model {} Conv/Dense layers",
                container.layers.len(),
                weighted.len()
            );
        }
        for (i, (c, l)) in container.layers.iter().zip(&weighted).enumerate() {
            if c.dims != l.dims {
                bail!(
                    "container layer {i} ('{}') has weights {:?}, the model's layer {i} {:?}",
                    c.name,
                    c.dims,
                    l.dims
                );
            }
            profile.check(&c.params).map_err(|e| {
                anyhow::anyhow!(
                    "container layer '{}' does not decode on the {} lanes: {e}",
                    c.name,
                    profile.name
                )
            })?;
            let decoded = c.decode().map_err(|(lane, e)| {
                anyhow::anyhow!("container layer '{}' lane {lane}: {e}", c.name)
            })?;
            let off = decoded
                .iter()
                .zip(&l.weights)
                .map(|(a, b)| (a - b).unsigned_abs())
                .max()
                .unwrap_or(0);
            if off > c.params.eps as u32 {
                bail!(
                    "container layer '{}' is {off} LSB away from the model's INT8 weights (error \
                     bound {}): it was not made from this model",
                    c.name,
                    c.params.eps
                );
            }
        }
        let lanes = split.dec();
        Self::build(
            model,
            split,
            WeightStore::PerLayer,
            |wi, part_name, q, whole| {
                let c = &container.layers[wi];
                if whole && c.lanes.len() == lanes {
                    return Ok(Layer {
                        name: part_name.to_string(),
                        ..c.clone()
                    });
                }
                compress_part(part_name, q, profile, c.params.mode, c.params.eps, lanes)
            },
        )
    }

    /// Prepare `model`, encoding the weights of every part with `encode(weighted layer index,
    /// part name, weights, part is the whole layer)`.
    fn build(
        model: &QModel,
        split: AccelLanes,
        store: WeightStore,
        mut encode: impl FnMut(usize, &str, &Quantized, bool) -> Result<Layer>,
    ) -> Result<Self> {
        let lanes = split.dec();
        let profile = store.profile();
        let word_bits = Design::for_profile(profile)?.word_bits();
        let sizes = sizes(memory_for(split));
        let mut reference = model.clone();
        let shapes = value_shapes(model)?;
        let mut layers = Vec::new();
        let mut parts = Vec::new();
        let mut wi = 0;
        for ql in reference.layers.iter_mut() {
            let name = ql.name.clone();
            let (in_len, out_shape) = match ql.inputs.first() {
                Some(&i) => (shapes[i].iter().product(), &shapes[ql.output]),
                None => bail!("layer {name} has no input"),
            };
            let (layer, groups) = match &mut ql.op {
                QOp::Conv { layer, groups, .. } => (layer, (*groups).max(1)),
                QOp::Dense(layer) => (layer, 1),
                _ => continue,
            };
            let n: usize = layer.dims.iter().product();
            if !matches!(layer.dims.first(), Some(&o) if o > 0) || n != layer.weights.len() {
                bail!(
                    "layer {name}: weight shape {:?} does not match {} weights",
                    layer.dims,
                    layer.weights.len()
                );
            }
            let plane = out_shape.iter().skip(1).product();
            let per_group = layer.dims[0] / groups;
            let ranges = (0..groups).flat_map(|g| {
                channel_parts(per_group, plane, in_len, split.mac(), &sizes)
                    .into_iter()
                    .map(move |r| (g, g * per_group + r.start..g * per_group + r.end))
            });
            let mut decoded = Vec::with_capacity(n);
            let mut layer_parts = Vec::new();
            for (group, ch) in ranges.collect::<Vec<_>>() {
                let whole = ch.len() == layer.dims[0];
                let part_name = if whole {
                    name.clone()
                } else {
                    format!("{name}[{}..{}]", ch.start, ch.end)
                };
                let q = quantized(layer, &ch);
                let c = encode(wi, &part_name, &q, whole)?;
                if !store.is_raw() {
                    decoded.extend(c.decode().map_err(|(lane, e)| {
                        anyhow::anyhow!("layer {part_name} lane {lane}: {e}")
                    })?);
                }
                layer_parts.push(Part {
                    layer: layers.len(),
                    channels: ch,
                    group,
                });
                layers.push(c);
            }
            if !store.is_raw() {
                layer.weights = decoded;
            }
            parts.push(layer_parts);
            wi += 1;
        }
        let container = Container {
            word_bits: word_bits as u8,
            layers,
        };
        let (bytes, offsets) = container.data_area();
        let words: Vec<u64> = bytes
            .chunks(word_bits / 8)
            .map(|c| {
                let mut w = [0u8; 8];
                w[..c.len()].copy_from_slice(c);
                u64::from_le_bytes(w)
            })
            .collect();
        let streams = container
            .layers
            .iter()
            .zip(&offsets)
            .map(|(l, offs)| {
                l.lanes
                    .iter()
                    .zip(offs)
                    .map(|(s, &o)| LaneStreamRef {
                        first_word: o as usize,
                        length_bits: s.length_bits,
                        count: s.count,
                        word_bits,
                    })
                    .collect()
            })
            .collect();
        Ok(NetworkPlan {
            reference,
            container,
            words,
            streams,
            parts,
            word_bits,
            profile,
            lanes: split.mac(),
            dec_lanes: lanes,
            store,
        })
    }

    /// The lane counts of the datapath.
    pub fn accel_lanes(&self) -> Result<AccelLanes> {
        AccelLanes::new(self.lanes, self.dec_lanes)
    }

    /// Buffer sizes of the design the plan runs on.
    pub fn sizes(&self) -> Result<AccelSizes> {
        Ok(sizes(memory_for(self.accel_lanes()?)))
    }

    /// Total weight bits stored (sum of the lane streams).
    pub fn weight_bits(&self) -> u64 {
        self.container.layers.iter().map(|l| l.total_bits()).sum()
    }

    /// The jobs of weighted layer `wi` (its index among the Conv/Dense layers) on an input
    /// shape, one per part.
    pub fn jobs(
        &self,
        wi: usize,
        name: &str,
        op: &QOp,
        in_shape: &[usize],
    ) -> Result<Vec<PartJob>> {
        let (layer, geom) = match op {
            QOp::Conv {
                layer,
                window,
                groups,
            } => (
                layer,
                Geometry::conv(in_shape, window, *groups, out_channels(layer)?)?,
            ),
            QOp::Dense(layer) => {
                let inputs: usize = in_shape.iter().product();
                if layer.dims.len() != 2 || layer.dims[1] != inputs {
                    bail!("layer {name}: {inputs} inputs for weights {:?}", layer.dims);
                }
                (layer, Geometry::dense(inputs, out_channels(layer)?))
            }
            _ => bail!("layer {name} is not a Conv or Dense layer"),
        };
        let (params, prelu) = channel_params(layer).with_context(|| format!("layer {name}"))?;
        let parts = self
            .parts
            .get(wi)
            .ok_or_else(|| anyhow::anyhow!("no weight streams for layer {name}"))?;
        parts
            .iter()
            .map(|p| {
                let c = &self.container.layers[p.layer];
                let job = LayerJob {
                    name: c.name.clone(),
                    geom: Geometry {
                        out_c: p.channels.len(),
                        ..geom
                    },
                    params: params[p.channels.clone()].to_vec(),
                    lo: layer.lo,
                    hi: layer.hi,
                    prelu,
                    codec: c.params,
                    lanes: self.streams[p.layer].clone(),
                };
                Ok(PartJob {
                    channels: p.channels.clone(),
                    in_base: p.group * geom.in_len(),
                    job,
                })
            })
            .collect()
    }
}

/// The shape of every value of `model` (from one run on a zero input).
fn value_shapes(model: &QModel) -> Result<Vec<Vec<usize>>> {
    let zero = QTensor {
        shape: model.input_shape.clone(),
        data: vec![0; model.input_shape.iter().product()],
    };
    let vals = model
        .run_all(&zero)
        .map_err(|e| anyhow::anyhow!("golden model: {e}"))?;
    Ok(vals
        .into_iter()
        .map(|v| v.map(|t| t.shape).unwrap_or_default())
        .collect())
}

/// The profile of the decompressor lanes inside the accelerator for compressed weights: the
/// shipped one.
pub fn accel_profile() -> &'static Profile {
    Profile::shared(DEFAULT_PROFILE).expect("the built-in default profile is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_parts_fill_the_activation_buffer_by_whole_lane_groups() {
        let sizes = AccelSizes {
            act_bytes: 1 << 15,
            bank_weights: 1024,
            channels: 1024,
        };
        let act = sizes.act_bytes;
        let parts = |o, plane, in_len, lanes| channel_parts(o, plane, in_len, lanes, &sizes);
        let one = |p: Vec<Range<usize>>| (p.len(), p.first().cloned());
        assert_eq!(one(parts(32, 100, 1000, 4)), (1, Some(0..32)));
        // Room for 10 planes next to the input: parts of 8 channels (two groups of 4).
        assert_eq!(parts(20, 1000, act - 10_000, 4), [0..8, 8..16, 16..20]);
        // Room for fewer channels than one group: parts of that many.
        assert_eq!(parts(5, 1000, act - 3_000, 4), [0..3, 3..5]);
        // No room at all: one part, which the driver then refuses with a clear message.
        assert_eq!(one(parts(5, 1000, act, 4)), (1, Some(0..5)));
    }

    #[test]
    fn channel_parts_stay_within_the_parameter_memory() {
        let sizes = AccelSizes {
            act_bytes: 1 << 16,
            bank_weights: 1024,
            channels: 256,
        };
        // A dense layer of 576 channels (one output each) on 6 lanes: parts of 252 channels,
        // the most whole groups of 6 that the 256 parameters hold.
        assert_eq!(
            channel_parts(576, 1, 864, 6, &sizes),
            [0..252, 252..504, 504..576]
        );
        let whole = channel_parts(256, 1, 864, 6, &sizes);
        assert_eq!((whole.len(), whole.first()), (1, Some(&(0..256))));
    }
}
