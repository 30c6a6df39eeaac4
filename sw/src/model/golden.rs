//! The integer golden model: the exact computation the accelerator performs, specified in
//! `docs/GOLDEN_MODEL.md`. INT8 activations (symmetric, zero point 0), per-output-channel B-bit
//! weights, INT32 wrapping accumulation, INT32 bias, requantization by [`Requant`] with
//! round-half-up, saturation to int8 with the fused activation's bounds.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::bias_correction::expected_error;
use super::calib::Calibration;
use super::elementwise::broadcast_mul;
use super::float_exec::{chw, concat_channels, reshape_to, ExecError};
use super::graph::{Graph, Op, Pool, Tensor, ValueId, Window};
use super::int_kernels;
use super::kernels::{self, ConvShape};
use super::lut::{look_up, lookup_table, Chain};
use super::requant::{rounded_mean, AddRequant, Requant, RequantError};
use crate::quant::Quantized;

/// Errors while building the integer model.
#[derive(Debug, Error)]
pub enum GoldenError {
    /// A node the integer model cannot express.
    #[error("node '{node}' ({op}): {reason}")]
    Unsupported {
        /// Node name.
        node: String,
        /// Operator kind.
        op: String,
        /// Why.
        reason: String,
    },
    /// A multiplier out of range.
    #[error("node '{node}': {source}")]
    Requant {
        /// Node name.
        node: String,
        /// The cause.
        source: RequantError,
    },
    /// Weights given do not match the graph's weight layers.
    #[error("weights: {0}")]
    Weights(String),
}

/// An int8 tensor without batch axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QTensor {
    /// Shape, as in the float graph.
    pub shape: Vec<usize>,
    /// Row-major int8 values.
    pub data: Vec<i8>,
}

/// Activation applied between requantization and storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Act {
    /// Saturate to `[lo, hi]` only (ReLU: `lo = 0`; Clip: its bounds in the output scale).
    Clamp,
    /// Negative accumulators use the second multiplier of their channel (PReLU fused).
    PRelu(Vec<Requant>),
}

/// A convolution or dense layer with everything the datapath needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QWeighted {
    /// B-bit weights in natural order (`[O, I/g, KH, KW]` or `[O, I]`), as i32.
    pub weights: Vec<i32>,
    /// Weight shape.
    pub dims: Vec<usize>,
    /// Weight bit width B.
    pub bits: u8,
    /// Per-channel weight scales (for reporting; not used by the integer arithmetic).
    pub weight_scales: Vec<f32>,
    /// Per-channel int32 bias, in units of `input_scale * weight_scale[o]`.
    pub bias: Vec<i32>,
    /// Per-channel multiplier for non-negative accumulators (or all when no PReLU).
    pub requant: Vec<Requant>,
    /// Fused activation.
    pub act: Act,
    /// Lower saturation bound.
    pub lo: i32,
    /// Upper saturation bound.
    pub hi: i32,
}

/// The integer operators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum QOp {
    /// Convolution + bias + requantization + fused activation.
    Conv {
        /// Weights, bias, requantization.
        layer: QWeighted,
        /// Window geometry.
        window: Window,
        /// Groups.
        groups: usize,
    },
    /// Dense + bias + requantization + fused activation.
    Dense(QWeighted),
    /// Max pooling on int8 values.
    MaxPool(Pool),
    /// Average pooling with [`rounded_mean`].
    AvgPool(Pool),
    /// Channel means with [`rounded_mean`].
    GlobalAvgPool,
    /// Saturating `requant(a, b)` with two multipliers.
    Add(AddRequant),
    /// Product of two int8 tensors (equal shapes, or a feature map and a per-channel gate),
    /// requantized to the output scale.
    Mul(Requant),
    /// A chain of element-wise operators as a 256-entry table, entry `x + 128` for input `x`.
    Lut(Vec<i8>),
    /// Channel concatenation, each input requantized to the output scale by its multiplier.
    Concat(Vec<Requant>),
    /// Stand-alone clamp (ReLU / Clip not fused into a layer).
    Clamp {
        /// Lower bound.
        lo: i32,
        /// Upper bound.
        hi: i32,
    },
    /// Stand-alone PReLU: negatives multiplied by the channel's multiplier.
    PRelu(Vec<Requant>),
    /// Flatten (no data change).
    Flatten,
    /// Reshape (no data change).
    Reshape(Vec<usize>),
    /// Axis permutation.
    Transpose(Vec<usize>),
}

impl QOp {
    /// The ONNX operator name this operation comes from.
    pub fn kind(&self) -> &'static str {
        match self {
            QOp::Conv { .. } => "Conv",
            QOp::Dense(_) => "Dense",
            QOp::MaxPool(_) => "MaxPool",
            QOp::AvgPool(_) => "AveragePool",
            QOp::GlobalAvgPool => "GlobalAveragePool",
            QOp::Add(_) => "Add",
            QOp::Mul(_) => "Mul",
            QOp::Lut(_) => "Lut",
            QOp::Concat(_) => "Concat",
            QOp::Clamp { .. } => "Clamp",
            QOp::PRelu(_) => "PRelu",
            QOp::Flatten => "Flatten",
            QOp::Reshape(_) => "Reshape",
            QOp::Transpose(_) => "Transpose",
        }
    }
}

/// One integer layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QLayer {
    /// Name of the graph node (the convolution for a fused layer).
    pub name: String,
    /// The operation.
    pub op: QOp,
    /// Input value ids.
    pub inputs: Vec<ValueId>,
    /// Output value id.
    pub output: ValueId,
    /// Real value of one output step.
    pub out_scale: f32,
}

impl QLayer {
    /// Apply this layer to its int8 inputs, given in [`QLayer::inputs`] order (the host side
    /// of a layer-by-layer run uses this for the operators it executes).
    pub fn apply(&self, inputs: &[&QTensor]) -> Result<QTensor, ExecError> {
        let l = self;
        let kind = l.op.kind();
        let err = |r: String| ExecError::new(&l.name, kind, r);
        if inputs.len() != l.inputs.len() {
            return Err(err(format!(
                "{} inputs given, the layer takes {}",
                inputs.len(),
                l.inputs.len()
            )));
        }
        let get = |i: usize| -> Result<&QTensor, ExecError> {
            inputs
                .get(i)
                .copied()
                .ok_or_else(|| err(format!("input {i} missing")))
        };
        let x = get(0)?;
        let out = match &l.op {
            QOp::Conv {
                layer,
                window,
                groups,
            } => {
                let (ci, h, w) = chw(&x.shape)
                    .ok_or_else(|| err(format!("input shape {:?} is not [C, H, W]", x.shape)))?;
                let (o, ig) = (layer.dims[0], layer.dims[1]);
                if ci != ig * groups {
                    return Err(err(format!(
                        "{ci} input channels, weights expect {}",
                        ig * groups
                    )));
                }
                let res = window
                    .resolve([h, w])
                    .ok_or_else(|| err(format!("window does not fit input {h}x{w}")))?;
                let acc = int_kernels::conv2d(
                    &x.data,
                    &layer.weights,
                    &ConvShape::new(ci, o, *groups, window, res),
                );
                let plane = res.out_hw[0] * res.out_hw[1];
                QTensor {
                    shape: vec![o, res.out_hw[0], res.out_hw[1]],
                    data: finish(&acc, plane, layer),
                }
            }
            QOp::Dense(layer) => {
                let (o, i) = (layer.dims[0], layer.dims[1]);
                if x.data.len() != i {
                    return Err(err(format!("{} inputs, weights expect {i}", x.data.len())));
                }
                let acc = int_kernels::dense(&x.data, &layer.weights, o);
                QTensor {
                    shape: vec![o],
                    data: finish(&acc, 1, layer),
                }
            }
            QOp::MaxPool(p) | QOp::AvgPool(p) => {
                let (c, h, w) = chw(&x.shape)
                    .ok_or_else(|| err(format!("input shape {:?} is not [C, H, W]", x.shape)))?;
                let res = p
                    .window
                    .resolve([h, w])
                    .ok_or_else(|| err(format!("window does not fit input {h}x{w}")))?;
                let mut data = vec![0i8; c * res.out_hw[0] * res.out_hw[1]];
                let is_max = matches!(l.op, QOp::MaxPool(_));
                kernels::pool_windows(c, &res, &p.window, |o, ch, idx, padded| {
                    let plane = &x.data[ch * h * w..(ch + 1) * h * w];
                    data[o] = if is_max {
                        idx.iter().map(|&i| plane[i]).max().unwrap_or(0)
                    } else {
                        let n = idx.len() + if p.count_include_pad { padded } else { 0 };
                        let s: i32 = idx.iter().map(|&i| plane[i] as i32).sum();
                        sat8(rounded_mean(s, n as i32), -128, 127)
                    };
                });
                QTensor {
                    shape: vec![c, res.out_hw[0], res.out_hw[1]],
                    data,
                }
            }
            QOp::GlobalAvgPool => {
                let (c, h, w) = chw(&x.shape)
                    .ok_or_else(|| err(format!("input shape {:?} is not [C, H, W]", x.shape)))?;
                let data = x
                    .data
                    .chunks(h * w)
                    .map(|p| {
                        sat8(
                            rounded_mean(p.iter().map(|&v| v as i32).sum(), (h * w) as i32),
                            -128,
                            127,
                        )
                    })
                    .collect();
                QTensor {
                    shape: vec![c, 1, 1],
                    data,
                }
            }
            QOp::Add(r) => {
                let y = get(1)?;
                if x.shape != y.shape {
                    return Err(err(format!(
                        "shapes {:?} and {:?} differ",
                        x.shape, y.shape
                    )));
                }
                let data = x
                    .data
                    .iter()
                    .zip(&y.data)
                    .map(|(&a, &b)| sat8(r.apply(a as i32, b as i32), -128, 127))
                    .collect();
                QTensor {
                    shape: x.shape.clone(),
                    data,
                }
            }
            QOp::Mul(r) => {
                let y = get(1)?;
                let (shape, data) = broadcast_mul(
                    (x.shape.as_slice(), x.data.as_slice()),
                    (y.shape.as_slice(), y.data.as_slice()),
                    |a, b| sat8(r.apply(a as i32 * b as i32), -128, 127),
                )
                .map_err(err)?;
                QTensor { shape, data }
            }
            QOp::Lut(table) => {
                if table.len() != 256 {
                    return Err(err(format!("table of {} entries, not 256", table.len())));
                }
                QTensor {
                    shape: x.shape.clone(),
                    data: x.data.iter().map(|&v| look_up(table, v)).collect(),
                }
            }
            QOp::Concat(r) => {
                if r.len() != inputs.len() {
                    return Err(err(format!(
                        "{} multipliers for {} inputs",
                        r.len(),
                        inputs.len()
                    )));
                }
                let parts: Vec<(&[usize], Vec<i8>)> = inputs
                    .iter()
                    .zip(r)
                    .map(|(t, r)| {
                        let d = t.data.iter().map(|&v| sat8(r.apply(v as i32), -128, 127));
                        (t.shape.as_slice(), d.collect())
                    })
                    .collect();
                let parts: Vec<(&[usize], &[i8])> =
                    parts.iter().map(|(s, d)| (*s, d.as_slice())).collect();
                let (shape, data) = concat_channels(&parts).map_err(err)?;
                QTensor { shape, data }
            }
            QOp::Clamp { lo, hi } => QTensor {
                shape: x.shape.clone(),
                data: x.data.iter().map(|&v| sat8(v as i32, *lo, *hi)).collect(),
            },
            QOp::PRelu(neg) => {
                let (c, h, w) = chw(&x.shape)
                    .ok_or_else(|| err(format!("input shape {:?} unsupported", x.shape)))?;
                if neg.len() != 1 && neg.len() != c {
                    return Err(err(format!("{} slopes for {c} channels", neg.len())));
                }
                let data = x
                    .data
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| {
                        if v >= 0 {
                            v
                        } else {
                            sat8(
                                neg[if neg.len() == 1 { 0 } else { k / (h * w) }].apply(v as i32),
                                -128,
                                127,
                            )
                        }
                    })
                    .collect();
                QTensor {
                    shape: x.shape.clone(),
                    data,
                }
            }
            QOp::Flatten => QTensor {
                shape: vec![x.data.len()],
                data: x.data.clone(),
            },
            QOp::Reshape(s) => {
                let shape = reshape_to(s, x.data.len())
                    .ok_or_else(|| err(format!("cannot reshape {:?} to {s:?}", x.shape)))?;
                QTensor {
                    shape,
                    data: x.data.clone(),
                }
            }
            QOp::Transpose(perm) => {
                if perm.len() != x.shape.len() {
                    return Err(err(format!("perm {perm:?} for shape {:?}", x.shape)));
                }
                let (data, shape) = kernels::transpose(&x.data, &x.shape, perm);
                QTensor { shape, data }
            }
        };
        Ok(out)
    }
}

/// The whole integer model.
#[derive(Debug, Clone, PartialEq)]
pub struct QModel {
    /// Scale of the int8 input.
    pub input_scale: f32,
    /// Input value id.
    pub input: ValueId,
    /// Input shape.
    pub input_shape: Vec<usize>,
    /// Layers in execution order.
    pub layers: Vec<QLayer>,
    /// Output value ids (a final Softmax is dropped: the output is its input).
    pub outputs: Vec<ValueId>,
    /// Scales of the outputs.
    pub output_scales: Vec<f32>,
    /// Number of value ids.
    pub num_values: usize,
}

/// Quantize a real value to int8 with scale `s`: `clamp(round(x / s), -128, 127)`, ties away
/// from zero.
pub fn quantize_value(x: f32, s: f32) -> i8 {
    (x / s).round().clamp(-128.0, 127.0) as i8
}

fn sat8(v: i32, lo: i32, hi: i32) -> i8 {
    v.clamp(lo, hi) as i8
}

fn bound(v: f32, s: f32) -> i32 {
    if v.is_finite() {
        (v / s).round().clamp(-128.0, 127.0) as i32
    } else if v > 0.0 {
        127
    } else {
        -128
    }
}

/// Choices made when building the integer model (they change parameters, not the arithmetic).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildOptions {
    /// Subtract each output channel's expected weight error from its bias
    /// ([`super::bias_correction`], with the calibration's input means).
    pub bias_correction: bool,
}

impl QModel {
    /// Build the integer model from the float graph, its calibration and one [`Quantized`]
    /// per weight layer (in [`Graph::weight_layers`] order), without bias correction.
    pub fn build(
        graph: &Graph,
        calib: &Calibration,
        weights: &[Quantized],
    ) -> Result<Self, GoldenError> {
        Self::build_with(graph, calib, weights, BuildOptions::default())
    }

    /// [`QModel::build`] with `options`.
    pub fn build_with(
        graph: &Graph,
        calib: &Calibration,
        weights: &[Quantized],
        options: BuildOptions,
    ) -> Result<Self, GoldenError> {
        let wl = graph.weight_layers();
        if wl.len() != weights.len() {
            return Err(GoldenError::Weights(format!(
                "{} weight layers, {} quantized tensors",
                wl.len(),
                weights.len()
            )));
        }
        for (l, q) in wl.iter().zip(weights) {
            if l.weight.shape != q.dims
                || q.values.len() != l.weight.len()
                || q.scales.len() != q.dims[0]
            {
                return Err(GoldenError::Weights(format!(
                    "layer '{}': shape {:?} vs quantized {:?}",
                    l.name, l.weight.shape, q.dims
                )));
            }
        }
        let uses = graph.use_counts();
        let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); graph.num_values];
        for (i, n) in graph.nodes.iter().enumerate() {
            for &v in &n.inputs {
                consumers[v].push(i);
            }
        }
        let mut scale = vec![0f32; graph.num_values];
        let mut alias: Vec<ValueId> = (0..graph.num_values).collect();
        scale[graph.input] = calib.scale(graph.input);
        let mut skip = vec![false; graph.nodes.len()];
        let mut layers = Vec::new();
        let mut wi = 0usize;
        for (i, node) in graph.nodes.iter().enumerate() {
            if skip[i] {
                continue;
            }
            let unsupported = |r: &str| GoldenError::Unsupported {
                node: node.name.clone(),
                op: node.op.kind().into(),
                reason: r.into(),
            };
            let rq = |m: f64| {
                Requant::from_real(m).map_err(|source| GoldenError::Requant {
                    node: node.name.clone(),
                    source,
                })
            };
            let mut inputs: Vec<ValueId> = node.inputs.iter().map(|&v| alias[v]).collect();
            let s_in = scale[inputs[0]];
            let chain = Chain::from_node(graph, i, &uses, &skip).filter(|c| !c.is_clamp(graph));
            let (op, output, out_scale) = match &node.op {
                // An element-wise chain on one tensor: one table from its input to its output
                // scale.
                _ if let Some(chain) = &chain => {
                    chain.nodes.iter().for_each(|&j| skip[j] = true);
                    inputs = vec![alias[chain.input]];
                    let s_out = calib.scale(chain.output);
                    let table = lookup_table(|v| chain.eval(graph, v), scale[inputs[0]], s_out);
                    (QOp::Lut(table), chain.output, s_out)
                }
                Op::Conv(_) | Op::Dense(_) => {
                    let q = &weights[wi];
                    wi += 1;
                    let (bias_f, float_w, groups) = match &node.op {
                        Op::Conv(c) => (&c.bias, &c.weight.data, c.groups),
                        Op::Dense(d) => (&d.bias, &d.weight.data, 1),
                        _ => unreachable!("matched above"),
                    };
                    let correction = if options.bias_correction {
                        calib
                            .mean(node.inputs[0])
                            .and_then(|m| expected_error(float_w, q, groups, &m))
                            .ok_or_else(|| {
                                unsupported("no calibration mean of the input to correct the bias")
                            })?
                    } else {
                        vec![0.0; q.dims[0]]
                    };
                    // Fuse a following activation that is the only reader of this output.
                    let fused = (uses[node.output] == 1)
                        .then(|| consumers[node.output].first().copied())
                        .flatten()
                        .filter(|&j| {
                            matches!(graph.nodes[j].op, Op::Relu | Op::Clip { .. } | Op::PRelu(_))
                        });
                    let out_v = fused.map_or(node.output, |j| graph.nodes[j].output);
                    let s_out = calib.scale(out_v);
                    let (mut lo, mut hi) = (-128, 127);
                    let o = q.dims[0];
                    let mut act = Act::Clamp;
                    let ws: Vec<f64> = q
                        .scales
                        .iter()
                        .map(|&s| if s > 0.0 { s as f64 } else { 1.0 })
                        .collect();
                    if let Some(j) = fused {
                        skip[j] = true;
                        match &graph.nodes[j].op {
                            Op::Relu => lo = 0,
                            Op::Clip { min, max } => {
                                lo = bound(*min, s_out);
                                hi = bound(*max, s_out);
                            }
                            Op::PRelu(slope) => {
                                if slope.len() != 1 && slope.len() != o {
                                    return Err(unsupported(&format!(
                                        "{} PReLU slopes for {o} channels",
                                        slope.len()
                                    )));
                                }
                                let neg = (0..o)
                                    .map(|c| {
                                        let a = slope[if slope.len() == 1 { 0 } else { c }] as f64;
                                        rq(s_in as f64 * ws[c] * a / s_out as f64)
                                    })
                                    .collect::<Result<Vec<_>, _>>()?;
                                act = Act::PRelu(neg);
                            }
                            _ => unreachable!("filtered above"),
                        }
                    }
                    let requant = (0..o)
                        .map(|c| rq(s_in as f64 * ws[c] / s_out as f64))
                        .collect::<Result<Vec<_>, _>>()?;
                    let bias = (0..o)
                        .map(|c| {
                            ((bias_f[c] as f64 - correction[c]) / (s_in as f64 * ws[c]))
                                .round()
                                .clamp(i32::MIN as f64, i32::MAX as f64)
                                as i32
                        })
                        .collect();
                    let layer = QWeighted {
                        weights: q.values.clone(),
                        dims: q.dims.clone(),
                        bits: q.bits,
                        weight_scales: q.scales.clone(),
                        bias,
                        requant,
                        act,
                        lo,
                        hi,
                    };
                    let op = match &node.op {
                        Op::Conv(c) => QOp::Conv {
                            layer,
                            window: c.window.clone(),
                            groups: c.groups,
                        },
                        _ => QOp::Dense(layer),
                    };
                    (op, out_v, s_out)
                }
                Op::Relu => (QOp::Clamp { lo: 0, hi: 127 }, node.output, s_in),
                Op::Clip { min, max } => (
                    QOp::Clamp {
                        lo: bound(*min, s_in),
                        hi: bound(*max, s_in),
                    },
                    node.output,
                    s_in,
                ),
                Op::PRelu(slope) => {
                    let neg = slope
                        .iter()
                        .map(|&a| rq(a as f64))
                        .collect::<Result<Vec<_>, _>>()?;
                    (QOp::PRelu(neg), node.output, s_in)
                }
                Op::MaxPool(p) => (QOp::MaxPool(p.clone()), node.output, s_in),
                Op::AvgPool(p) => (QOp::AvgPool(p.clone()), node.output, s_in),
                Op::GlobalAvgPool => (QOp::GlobalAvgPool, node.output, s_in),
                Op::Flatten => (QOp::Flatten, node.output, s_in),
                Op::Reshape(s) => (QOp::Reshape(s.clone()), node.output, s_in),
                Op::Transpose(p) => (QOp::Transpose(p.clone()), node.output, s_in),
                Op::Pointwise(_) => {
                    return Err(unsupported("an element-wise operator outside a chain"))
                }
                Op::Mul => {
                    let s_out = calib.scale(node.output);
                    let m = s_in as f64 * scale[inputs[1]] as f64 / s_out as f64;
                    (QOp::Mul(rq(m)?), node.output, s_out)
                }
                Op::Add => {
                    let s_out = calib.scale(node.output);
                    let s_b = scale[inputs[1]];
                    let r = AddRequant::from_real(
                        s_in as f64 / s_out as f64,
                        s_b as f64 / s_out as f64,
                    )
                    .map_err(|source| GoldenError::Requant {
                        node: node.name.clone(),
                        source,
                    })?;
                    (QOp::Add(r), node.output, s_out)
                }
                Op::Concat => {
                    let s_out = calib.scale(node.output);
                    let r = inputs
                        .iter()
                        .map(|&v| rq(scale[v] as f64 / s_out as f64))
                        .collect::<Result<Vec<_>, _>>()?;
                    (QOp::Concat(r), node.output, s_out)
                }
                Op::Softmax { .. } => {
                    if !graph.outputs.contains(&node.output) || uses[node.output] != 1 {
                        return Err(unsupported(
                            "only a final Softmax (a graph output) is supported; it is dropped",
                        ));
                    }
                    alias[node.output] = inputs[0];
                    continue;
                }
            };
            scale[output] = out_scale;
            layers.push(QLayer {
                name: node.name.clone(),
                op,
                inputs,
                output,
                out_scale,
            });
        }
        let outputs: Vec<ValueId> = graph.outputs.iter().map(|&o| alias[o]).collect();
        let output_scales = outputs.iter().map(|&o| scale[o]).collect();
        Ok(Self {
            input_scale: scale[graph.input],
            input: graph.input,
            input_shape: graph.input_shape.clone(),
            layers,
            outputs,
            output_scales,
            num_values: graph.num_values,
        })
    }

    /// Quantize a float input with the input scale.
    pub fn quantize_input(&self, x: &Tensor) -> QTensor {
        QTensor {
            shape: x.shape.clone(),
            data: x
                .data
                .iter()
                .map(|&v| quantize_value(v, self.input_scale))
                .collect(),
        }
    }

    /// Run on an int8 input; returns every value (indexed by id; `None` for unused ids).
    pub fn run_all(&self, input: &QTensor) -> Result<Vec<Option<QTensor>>, ExecError> {
        if input.shape != self.input_shape
            || input.data.len() != input.shape.iter().product::<usize>()
        {
            return Err(ExecError::new(
                "input",
                "Input",
                format!(
                    "shape {:?}, model expects {:?}",
                    input.shape, self.input_shape
                ),
            ));
        }
        let mut vals: Vec<Option<QTensor>> = vec![None; self.num_values];
        vals[self.input] = Some(input.clone());
        self.run_layers(0, &mut vals)?;
        Ok(vals)
    }

    /// Run the layers from index `from` on, in order, on `vals` (indexed by value id): every
    /// value they read that an earlier layer or the input produces must be there.
    pub fn run_layers(&self, from: usize, vals: &mut [Option<QTensor>]) -> Result<(), ExecError> {
        for l in self.layers.iter().skip(from) {
            let inputs = l
                .inputs
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    vals.get(v).and_then(|t| t.as_ref()).ok_or_else(|| {
                        ExecError::new(&l.name, l.op.kind(), format!("input {i} not computed"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = l.apply(&inputs)?;
            vals[l.output] = Some(out);
        }
        Ok(())
    }

    /// Index in [`QModel::layers`] of weight layer `w` (the `w`-th convolution or dense layer,
    /// [`Graph::weight_layers`] order): the layers before it do not depend on its weights or on
    /// those of any later weight layer.
    pub fn weight_layer_position(&self, w: usize) -> Option<usize> {
        self.layers
            .iter()
            .enumerate()
            .filter(|(_, l)| matches!(l.op, QOp::Conv { .. } | QOp::Dense(_)))
            .nth(w)
            .map(|(i, _)| i)
    }

    /// Output `index` of a run's values (see [`QModel::run_all`]), dequantized.
    pub fn output_float(
        &self,
        vals: &[Option<QTensor>],
        index: usize,
    ) -> Result<Tensor, ExecError> {
        let missing = |r: String| ExecError::new("output", "Output", r);
        let (&o, &s) = self
            .outputs
            .get(index)
            .zip(self.output_scales.get(index))
            .ok_or_else(|| missing(format!("no output {index}")))?;
        let q = vals
            .get(o)
            .and_then(|v| v.as_ref())
            .ok_or_else(|| missing(format!("value {o} not computed")))?;
        Ok(Tensor {
            shape: q.shape.clone(),
            data: q.data.iter().map(|&v| v as f32 * s).collect(),
        })
    }

    /// Run on an int8 input and return the outputs.
    pub fn run(&self, input: &QTensor) -> Result<Vec<QTensor>, ExecError> {
        let vals = self.run_all(input)?;
        self.outputs
            .iter()
            .map(|&o| {
                vals[o].clone().ok_or_else(|| {
                    ExecError::new("output", "Output", format!("value {o} not computed"))
                })
            })
            .collect()
    }

    /// Quantize `x`, run, and dequantize the outputs.
    pub fn run_float(&self, x: &Tensor) -> Result<Vec<Tensor>, ExecError> {
        let vals = self.run_all(&self.quantize_input(x))?;
        (0..self.outputs.len())
            .map(|i| self.output_float(&vals, i))
            .collect()
    }
}

/// Bias, requantization, activation and saturation of accumulators laid out `[O, plane]`.
fn finish(acc: &[i32], plane: usize, l: &QWeighted) -> Vec<i8> {
    acc.iter()
        .enumerate()
        .map(|(k, &a)| {
            let o = k / plane;
            let a = a.wrapping_add(l.bias[o]);
            let r = match &l.act {
                Act::PRelu(neg) if a < 0 => neg[o],
                _ => l.requant[o],
            };
            sat8(r.apply(a), l.lo, l.hi)
        })
        .collect()
}
