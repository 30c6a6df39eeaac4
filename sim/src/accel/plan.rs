//! A CNN prepared for the accelerator: the golden model it must match, and the weight streams of
//! every Conv/Dense layer in one DRAM image. Two kinds of streams go through the same datapath:
//! LineCompress streams (a `.lcw` container's data area), and the raw INT8 weights, which are the
//! LineCompress stream with 1-weight segments, no slope and no residuals (`len_bits = 0`,
//! `slope_bits = 0`, lines mode, B = 8): exactly one byte per weight.
//!
//! The compressed streams are made for the decompressor lanes of the shipped hardware profile
//! ([`accel_profile`], 32-bit words). The raw INT8 stream is one that only the general lane of the
//! `full` profile decodes, so the INT8 baseline runs on the accelerator built with `full` lanes
//! (64-bit words) and otherwise the same datapath.

use super::job::{channel_params, Geometry, LaneStreamRef, LayerJob};
use anyhow::{bail, Context, Result};
use lc_format::{Profile, DEFAULT_PROFILE};
use lc_hw::accel::AccelLanes;
use lc_hw::emit::Design;
use lc_sw::codec::{LaneStream, LayerParams, Mode, Strategy};
use lc_sw::container::{compress_layer, split_lanes, CompressOptions, Container, Layer};
use lc_sw::model::golden::{QModel, QOp, QWeighted};
use lc_sw::quant::Quantized;

/// How the weights are stored in the DRAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightStore {
    /// Raw INT8 weights, one byte each.
    Int8,
    /// LineCompress streams.
    Compressed {
        /// Residual mode.
        mode: Mode,
        /// Error bound in LSB.
        eps: u16,
    },
}

impl WeightStore {
    /// The hardware profile whose decompressor lanes decode this store.
    pub fn profile(&self) -> &'static Profile {
        match self {
            WeightStore::Int8 => {
                Profile::shared("full").expect("the built-in full profile is valid")
            }
            WeightStore::Compressed { .. } => accel_profile(),
        }
    }

    /// Short label.
    pub fn label(&self) -> String {
        match self {
            WeightStore::Int8 => "int8".into(),
            WeightStore::Compressed { mode, eps } => format!("lc-{mode}-eps{eps}"),
        }
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
    /// MAC lanes P.
    pub lanes: usize,
    /// Decompressor lanes D, the lanes the streams were split for.
    pub dec_lanes: usize,
    /// How the weights are stored.
    pub store: WeightStore,
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

fn quantized(l: &QWeighted) -> Quantized {
    Quantized {
        bits: l.bits,
        dims: l.dims.clone(),
        values: l.weights.clone(),
        scales: l.weight_scales.clone(),
    }
}

/// Output channels of a weighted layer.
fn out_channels(l: &QWeighted) -> Result<usize> {
    match l.dims.first() {
        Some(&o) if o > 0 => Ok(o),
        _ => bail!("weight shape {:?} has no output channels", l.dims),
    }
}

/// The raw INT8 layer: lanes split like a container's (channel `c` to lane `c mod N`).
fn raw_layer(name: &str, l: &QWeighted, lanes: usize) -> Result<Layer> {
    if l.bits > 8 || l.weights.iter().any(|&w| !(-128..=127).contains(&w)) {
        bail!("layer {name}: weights do not fit int8");
    }
    let o = out_channels(l)?;
    let n = lanes.min(o);
    let streams = split_lanes(&l.weights, o, n)
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
        scales: l.weight_scales.clone(),
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
        let word_bits = Design::for_profile(profile)?.word_bits();
        let mut reference = model.clone();
        let mut layers = Vec::new();
        for ql in reference.layers.iter_mut() {
            let name = ql.name.clone();
            let layer = match &mut ql.op {
                QOp::Conv { layer, .. } | QOp::Dense(layer) => layer,
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
            let c = match store {
                WeightStore::Int8 => raw_layer(&name, layer, lanes)?,
                WeightStore::Compressed { mode, eps } => {
                    let opts = CompressOptions {
                        profile: profile.clone(),
                        mode,
                        eps,
                        lanes,
                        strategy: Strategy::Optimal,
                    };
                    let c = compress_layer(&name, &quantized(layer), &opts)
                        .with_context(|| format!("compressing layer {name}"))?;
                    layer.weights = c
                        .decode()
                        .map_err(|(lane, e)| anyhow::anyhow!("layer {name} lane {lane}: {e}"))?;
                    c
                }
            };
            layers.push(c);
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

    /// Total weight bits stored (sum of the lane streams).
    pub fn weight_bits(&self) -> u64 {
        self.container.layers.iter().map(|l| l.total_bits()).sum()
    }

    /// The job of weighted layer `wi` (its index among the Conv/Dense layers) on an input shape.
    pub fn job(&self, wi: usize, name: &str, op: &QOp, in_shape: &[usize]) -> Result<LayerJob> {
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
        let c = self
            .container
            .layers
            .get(wi)
            .ok_or_else(|| anyhow::anyhow!("no weight streams for layer {name}"))?;
        Ok(LayerJob {
            name: name.to_string(),
            geom,
            params,
            lo: layer.lo,
            hi: layer.hi,
            prelu,
            codec: c.params,
            lanes: self.streams[wi].clone(),
        })
    }
}

/// The profile of the decompressor lanes inside the accelerator for compressed weights: the
/// shipped one.
pub fn accel_profile() -> &'static Profile {
    Profile::shared(DEFAULT_PROFILE).expect("the built-in default profile is valid")
}
