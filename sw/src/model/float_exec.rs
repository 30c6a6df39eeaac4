//! The float reference executor: runs a [`Graph`] on one f32 input in f32 arithmetic.

use thiserror::Error;

use super::elementwise::{broadcast_mul, clip, relu};
use super::float_kernels;
use super::graph::{Graph, Op, Tensor};
use super::kernels::{self, ConvShape};

/// Errors while running a graph (shape mismatches between the model and its input).
#[derive(Debug, Error, PartialEq)]
#[error("node '{node}' ({op}): {reason}")]
pub struct ExecError {
    /// Node name ("input" for the graph input).
    pub node: String,
    /// Operator kind.
    pub op: String,
    /// What went wrong.
    pub reason: String,
}

impl ExecError {
    pub(crate) fn new(node: &str, op: &str, reason: impl Into<String>) -> Self {
        Self {
            node: node.into(),
            op: op.into(),
            reason: reason.into(),
        }
    }
}

/// Split a feature-map shape into `(C, H, W)`: rank 3 as is, rank 1 as `(N, 1, 1)`.
pub(crate) fn chw(shape: &[usize]) -> Option<(usize, usize, usize)> {
    match *shape {
        [c, h, w] => Some((c, h, w)),
        [n] => Some((n, 1, 1)),
        _ => None,
    }
}

/// Output shape of a reshape, checked against the element count.
pub(crate) fn reshape_to(shape: &[usize], len: usize) -> Option<Vec<usize>> {
    (shape.iter().product::<usize>() == len).then(|| shape.to_vec())
}

/// Concatenate tensors `(shape, data)` along the first (channel) axis; the other axes must
/// agree.
pub(crate) fn concat_channels<T: Copy>(
    parts: &[(&[usize], &[T])],
) -> Result<(Vec<usize>, Vec<T>), String> {
    let Some(&(first, _)) = parts.first() else {
        return Err("no input".into());
    };
    let Some((_, rest)) = first.split_first() else {
        return Err("a scalar input has no channel axis".into());
    };
    let mut channels = 0;
    let mut data = Vec::new();
    for (shape, d) in parts {
        if shape.len() != first.len() || &shape[1..] != rest {
            return Err(format!(
                "shapes {first:?} and {shape:?} differ outside the channel axis"
            ));
        }
        channels += shape[0];
        data.extend_from_slice(d);
    }
    let mut shape = first.to_vec();
    shape[0] = channels;
    Ok((shape, data))
}

/// Run `graph` on `input` (shape [`Graph::input_shape`]); returns every value, indexed by id.
pub fn run_all(graph: &Graph, input: &Tensor) -> Result<Vec<Option<Tensor>>, ExecError> {
    if input.shape != graph.input_shape {
        return Err(ExecError::new(
            "input",
            "Input",
            format!(
                "shape {:?}, model expects {:?}",
                input.shape, graph.input_shape
            ),
        ));
    }
    let mut vals: Vec<Option<Tensor>> = vec![None; graph.num_values];
    vals[graph.input] = Some(input.clone());
    for node in &graph.nodes {
        let get = |i: usize| -> Result<&Tensor, ExecError> {
            node.inputs
                .get(i)
                .and_then(|&v| vals.get(v))
                .and_then(|v| v.as_ref())
                .ok_or_else(|| {
                    ExecError::new(
                        &node.name,
                        node.op.kind(),
                        format!("input {i} not computed"),
                    )
                })
        };
        let x = get(0)?;
        let err = |r: String| ExecError::new(&node.name, node.op.kind(), r);
        let out = match &node.op {
            Op::Conv(c) => {
                let (ci, h, w) = chw(&x.shape)
                    .ok_or_else(|| err(format!("input shape {:?} is not [C, H, W]", x.shape)))?;
                let (o, ig) = (c.weight.shape[0], c.weight.shape[1]);
                if ci != ig * c.groups {
                    return Err(err(format!(
                        "{ci} input channels, weights expect {}",
                        ig * c.groups
                    )));
                }
                let res = c
                    .window
                    .resolve([h, w])
                    .ok_or_else(|| err(format!("window does not fit input {h}x{w}")))?;
                let sh = ConvShape::new(ci, o, c.groups, &c.window, res);
                let mut acc = float_kernels::conv2d(&x.data, &c.weight.data, &sh);
                let plane = res.out_hw[0] * res.out_hw[1];
                for (ch, b) in c.bias.iter().enumerate() {
                    acc[ch * plane..(ch + 1) * plane]
                        .iter_mut()
                        .for_each(|v| *v += b);
                }
                Tensor {
                    shape: vec![o, res.out_hw[0], res.out_hw[1]],
                    data: acc,
                }
            }
            Op::Dense(d) => {
                let (o, i) = (d.weight.shape[0], d.weight.shape[1]);
                if x.len() != i {
                    return Err(err(format!("{} inputs, weights expect {i}", x.len())));
                }
                let mut acc = kernels::dense(&x.data, &d.weight.data, o);
                acc.iter_mut().zip(&d.bias).for_each(|(a, b)| *a += b);
                Tensor {
                    shape: vec![o],
                    data: acc,
                }
            }
            Op::Relu => map(x, relu),
            Op::Clip { min, max } => map(x, |v| clip(v, *min, *max)),
            Op::Pointwise(p) => map(x, |v| p.apply(v)),
            Op::Mul => {
                let y = get(1)?;
                let (shape, data) = broadcast_mul(
                    (x.shape.as_slice(), x.data.as_slice()),
                    (y.shape.as_slice(), y.data.as_slice()),
                    |a, b| a * b,
                )
                .map_err(err)?;
                Tensor { shape, data }
            }
            Op::PRelu(slope) => {
                let (c, h, w) = chw(&x.shape)
                    .ok_or_else(|| err(format!("input shape {:?} unsupported", x.shape)))?;
                if slope.len() != 1 && slope.len() != c {
                    return Err(err(format!("{} slopes for {c} channels", slope.len())));
                }
                let plane = h * w;
                let data = x
                    .data
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| {
                        if v >= 0.0 {
                            v
                        } else {
                            v * slope[if slope.len() == 1 { 0 } else { k / plane }]
                        }
                    })
                    .collect();
                Tensor {
                    shape: x.shape.clone(),
                    data,
                }
            }
            Op::MaxPool(p) | Op::AvgPool(p) => {
                let (c, h, w) = chw(&x.shape)
                    .ok_or_else(|| err(format!("input shape {:?} is not [C, H, W]", x.shape)))?;
                let res = p
                    .window
                    .resolve([h, w])
                    .ok_or_else(|| err(format!("window does not fit input {h}x{w}")))?;
                let mut data = vec![0.0f32; c * res.out_hw[0] * res.out_hw[1]];
                let is_max = matches!(node.op, Op::MaxPool(_));
                kernels::pool_windows(c, &res, &p.window, |o, ch, idx, padded| {
                    let plane = &x.data[ch * h * w..(ch + 1) * h * w];
                    data[o] = if is_max {
                        idx.iter()
                            .map(|&i| plane[i])
                            .fold(f32::NEG_INFINITY, f32::max)
                    } else {
                        let n = idx.len() + if p.count_include_pad { padded } else { 0 };
                        idx.iter().map(|&i| plane[i]).sum::<f32>() / n.max(1) as f32
                    };
                });
                Tensor {
                    shape: vec![c, res.out_hw[0], res.out_hw[1]],
                    data,
                }
            }
            Op::GlobalAvgPool => {
                let (c, h, w) = chw(&x.shape)
                    .ok_or_else(|| err(format!("input shape {:?} is not [C, H, W]", x.shape)))?;
                let data = x
                    .data
                    .chunks(h * w)
                    .map(|p| p.iter().sum::<f32>() / (h * w) as f32)
                    .collect();
                Tensor {
                    shape: vec![c, 1, 1],
                    data,
                }
            }
            Op::Add => {
                let y = get(1)?;
                if x.shape != y.shape {
                    return Err(err(format!(
                        "shapes {:?} and {:?} differ",
                        x.shape, y.shape
                    )));
                }
                Tensor {
                    shape: x.shape.clone(),
                    data: x.data.iter().zip(&y.data).map(|(a, b)| a + b).collect(),
                }
            }
            Op::Concat => {
                let parts = (0..node.inputs.len())
                    .map(|i| get(i).map(|t| (t.shape.as_slice(), t.data.as_slice())))
                    .collect::<Result<Vec<_>, _>>()?;
                let (shape, data) = concat_channels(&parts).map_err(err)?;
                Tensor { shape, data }
            }
            Op::Flatten => Tensor {
                shape: vec![x.len()],
                data: x.data.clone(),
            },
            Op::Reshape(s) => {
                let shape = reshape_to(s, x.len())
                    .ok_or_else(|| err(format!("cannot reshape {:?} to {s:?}", x.shape)))?;
                Tensor {
                    shape,
                    data: x.data.clone(),
                }
            }
            Op::Transpose(perm) => {
                if perm.len() != x.shape.len() {
                    return Err(err(format!("perm {perm:?} for shape {:?}", x.shape)));
                }
                let (data, shape) = kernels::transpose(&x.data, &x.shape, perm);
                Tensor { shape, data }
            }
            Op::Softmax { axis } => {
                if axis.is_some_and(|a| a != x.shape.len()) {
                    return Err(err(format!(
                        "axis {axis:?} of a {}-D tensor (batch included): only the last axis \
                         is supported",
                        x.shape.len() + 1
                    )));
                }
                let row = x.shape.last().copied().unwrap_or(1).max(1);
                let mut data = Vec::with_capacity(x.len());
                for r in x.data.chunks(row) {
                    let m = r.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let e: Vec<f32> = r.iter().map(|v| (v - m).exp()).collect();
                    let s: f32 = e.iter().sum();
                    data.extend(e.iter().map(|v| v / s));
                }
                Tensor {
                    shape: x.shape.clone(),
                    data,
                }
            }
        };
        vals[node.output] = Some(out);
    }
    Ok(vals)
}

fn map(x: &Tensor, f: impl Fn(f32) -> f32) -> Tensor {
    Tensor {
        shape: x.shape.clone(),
        data: x.data.iter().map(|&v| f(v)).collect(),
    }
}

/// Run `graph` on `input` and return its outputs, in ONNX output order.
pub fn run(graph: &Graph, input: &Tensor) -> Result<Vec<Tensor>, ExecError> {
    let vals = run_all(graph, input)?;
    graph
        .outputs
        .iter()
        .map(|&o| {
            vals[o].clone().ok_or_else(|| {
                ExecError::new("output", "Output", format!("value {o} not computed"))
            })
        })
        .collect()
}
