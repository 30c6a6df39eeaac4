//! The internal CNN graph: a topologically ordered list of nodes over numbered values, with the
//! weights of convolution and dense layers folded and laid out in one canonical order.
//!
//! Tensors carry no batch axis: a feature map is `[C, H, W]`, a feature vector `[N]`.
//! Weights are stored in the natural order the codec and the accelerator consume them:
//! convolution `[O, I/groups, KH, KW]`, dense `[O, I]`.

use serde::{Deserialize, Serialize};

pub use super::elementwise::Pointwise;

/// A dense f32 tensor without batch axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Row-major data, `shape.iter().product()` elements.
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor of the given shape and data; `None` when the sizes disagree.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Option<Self> {
        (shape.iter().product::<usize>() == data.len()).then_some(Self { shape, data })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no element.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Index of a value (an edge of the graph).
pub type ValueId = usize;

/// How explicit padding is derived (ONNX `auto_pad`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AutoPad {
    /// Use the explicit `pads`.
    NotSet,
    /// No padding.
    Valid,
    /// Output size `ceil(in / stride)`, extra padding at the end.
    SameUpper,
    /// Output size `ceil(in / stride)`, extra padding at the beginning.
    SameLower,
}

/// Spatial window geometry shared by convolution and pooling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Strides (height, width).
    pub stride: [usize; 2],
    /// Dilations (height, width).
    pub dilation: [usize; 2],
    /// Explicit pads: top, left, bottom, right.
    pub pads: [usize; 4],
    /// Automatic padding mode; overrides `pads` unless `NotSet`.
    pub auto_pad: AutoPad,
    /// Pooling only: output size rounds up instead of down.
    pub ceil_mode: bool,
}

/// Resolved geometry of one window operation on a concrete input size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// Input height and width.
    pub in_hw: [usize; 2],
    /// Output height and width.
    pub out_hw: [usize; 2],
    /// Padding before (top, left).
    pub pad_begin: [usize; 2],
}

impl Window {
    /// Output size and leading padding for an input of `in_hw`; `None` when the window does not
    /// fit (output would be empty).
    pub fn resolve(&self, in_hw: [usize; 2]) -> Option<Resolved> {
        let mut out_hw = [0usize; 2];
        let mut pad_begin = [0usize; 2];
        for a in 0..2 {
            let (i, k, s, d) = (
                in_hw[a],
                self.kernel[a],
                self.stride[a].max(1),
                self.dilation[a].max(1),
            );
            let eff = (k.checked_sub(1)?) * d + 1;
            match self.auto_pad {
                AutoPad::NotSet | AutoPad::Valid => {
                    let (pb, pe) = if self.auto_pad == AutoPad::Valid {
                        (0, 0)
                    } else {
                        (self.pads[a], self.pads[a + 2])
                    };
                    let total = i + pb + pe;
                    if total < eff {
                        return None;
                    }
                    let span = total - eff;
                    let mut o = span / s + 1;
                    if self.ceil_mode && span % s != 0 {
                        o += 1;
                        // The last window must start inside the input or the leading padding.
                        if (o - 1) * s >= i + pb {
                            o -= 1;
                        }
                    }
                    out_hw[a] = o;
                    pad_begin[a] = pb;
                }
                AutoPad::SameUpper | AutoPad::SameLower => {
                    let o = i.div_ceil(s);
                    let need = ((o - 1) * s + eff).saturating_sub(i);
                    out_hw[a] = o;
                    pad_begin[a] = if self.auto_pad == AutoPad::SameUpper {
                        need / 2
                    } else {
                        need - need / 2
                    };
                }
            }
            if out_hw[a] == 0 {
                return None;
            }
        }
        Some(Resolved {
            in_hw,
            out_hw,
            pad_begin,
        })
    }
}

/// A 2-D convolution with folded bias (and folded batch normalization, if the model had one).
#[derive(Debug, Clone, PartialEq)]
pub struct Conv {
    /// Weights `[O, I/groups, KH, KW]`.
    pub weight: Tensor,
    /// One bias per output channel.
    pub bias: Vec<f32>,
    /// Window geometry (kernel size equals the weight's KH, KW).
    pub window: Window,
    /// Number of groups (1 = dense convolution, I = depthwise).
    pub groups: usize,
}

/// A fully connected layer `y = W x + b`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Weights `[O, I]`.
    pub weight: Tensor,
    /// One bias per output.
    pub bias: Vec<f32>,
}

/// Pooling parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pool {
    /// Window geometry.
    pub window: Window,
    /// Average pooling only: padded positions count in the divisor.
    pub count_include_pad: bool,
}

/// The operators of the internal graph.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// 2-D convolution.
    Conv(Conv),
    /// Fully connected layer (from Gemm, or MatMul + Add).
    Dense(Dense),
    /// `max(x, 0)`.
    Relu,
    /// `x >= 0 ? x : slope[c] * x`, one slope per channel (or one for all).
    PRelu(Vec<f32>),
    /// `min(max(x, min), max)`.
    Clip {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
    /// Max pooling (padding never wins).
    MaxPool(Pool),
    /// Average pooling.
    AvgPool(Pool),
    /// Mean over each channel's plane, giving `[C, 1, 1]`.
    GlobalAvgPool,
    /// An element-wise function of one value (constant add/multiply/divide, HardSigmoid ...).
    Pointwise(Pointwise),
    /// Element-wise sum of two values of the same shape.
    Add,
    /// Element-wise product of two values of the same shape, or of a feature map and a
    /// per-channel gate `[C, 1, 1]` (squeeze-excitation).
    Mul,
    /// Concatenation of the inputs along the channel axis (the first axis, batch removed).
    Concat,
    /// Row-major flatten to a vector.
    Flatten,
    /// Row-major reshape to the given shape (batch axis removed).
    Reshape(Vec<usize>),
    /// Axis permutation (batch axis removed).
    Transpose(Vec<usize>),
    /// Softmax over the last axis; `axis` is the ONNX axis (batch axis counted) when the model
    /// names one, checked to be the last when the tensor's rank is known.
    Softmax {
        /// The axis the model names (`None`: the last).
        axis: Option<usize>,
    },
}

impl Op {
    /// Short operator name, as in ONNX where one exists.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Conv(_) => "Conv",
            Op::Dense(_) => "Dense",
            Op::Relu => "Relu",
            Op::PRelu(_) => "PRelu",
            Op::Clip { .. } => "Clip",
            Op::MaxPool(_) => "MaxPool",
            Op::AvgPool(_) => "AveragePool",
            Op::GlobalAvgPool => "GlobalAveragePool",
            Op::Pointwise(p) => p.kind(),
            Op::Add => "Add",
            Op::Mul => "Mul",
            Op::Concat => "Concat",
            Op::Flatten => "Flatten",
            Op::Reshape(_) => "Reshape",
            Op::Transpose(_) => "Transpose",
            Op::Softmax { .. } => "Softmax",
        }
    }
}

/// One node: an operator applied to values, producing one value.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Name (from the ONNX node, or generated `op_index` when it had none).
    pub name: String,
    /// The operator and its constant parameters.
    pub op: Op,
    /// Input values (two for `Add` and `Mul`, one or more for `Concat`, one otherwise).
    pub inputs: Vec<ValueId>,
    /// The produced value.
    pub output: ValueId,
}

/// Input normalisation `x = (pixel - mean) / std` the model expects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preprocess {
    /// Subtracted from raw pixel values (0..255).
    pub mean: f32,
    /// Divides after the subtraction.
    pub std: f32,
}

impl Default for Preprocess {
    fn default() -> Self {
        Self {
            mean: 0.0,
            std: 255.0,
        }
    }
}

/// A whole CNN.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// Input shape without the batch axis (e.g. `[1, 28, 28]` or `[48, 48, 3]`).
    pub input_shape: Vec<usize>,
    /// The input's value id (always 0).
    pub input: ValueId,
    /// Nodes in execution order.
    pub nodes: Vec<Node>,
    /// Graph outputs, in ONNX order.
    pub outputs: Vec<ValueId>,
    /// Number of values (ids are `0..num_values`).
    pub num_values: usize,
    /// Input normalisation.
    pub preprocess: Preprocess,
}

/// A weight layer seen from outside: what the codec compresses.
#[derive(Debug, Clone, Copy)]
pub struct WeightLayer<'a> {
    /// Node index in [`Graph::nodes`].
    pub node: usize,
    /// Node name.
    pub name: &'a str,
    /// Weight tensor (natural order, output channel outermost).
    pub weight: &'a Tensor,
}

impl Graph {
    /// The convolution and dense layers, in execution order.
    pub fn weight_layers(&self) -> Vec<WeightLayer<'_>> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| match &n.op {
                Op::Conv(c) => Some(WeightLayer {
                    node: i,
                    name: &n.name,
                    weight: &c.weight,
                }),
                Op::Dense(d) => Some(WeightLayer {
                    node: i,
                    name: &n.name,
                    weight: &d.weight,
                }),
                _ => None,
            })
            .collect()
    }

    /// Total number of weights and biases.
    pub fn num_params(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| match &n.op {
                Op::Conv(c) => c.weight.len() + c.bias.len(),
                Op::Dense(d) => d.weight.len() + d.bias.len(),
                Op::PRelu(s) => s.len(),
                _ => 0,
            })
            .sum()
    }

    /// How many nodes read each value (graph outputs count as one reader each).
    pub fn use_counts(&self) -> Vec<usize> {
        let mut uses = vec![0usize; self.num_values];
        for n in &self.nodes {
            for &i in &n.inputs {
                if let Some(u) = uses.get_mut(i) {
                    *u += 1;
                }
            }
        }
        for &o in &self.outputs {
            if let Some(u) = uses.get_mut(o) {
                *u += 1;
            }
        }
        uses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(k: usize, s: usize, pads: usize, auto_pad: AutoPad, ceil_mode: bool) -> Window {
        Window {
            kernel: [k; 2],
            stride: [s; 2],
            dilation: [1; 2],
            pads: [pads; 4],
            auto_pad,
            ceil_mode,
        }
    }

    #[test]
    fn output_sizes_follow_onnx() {
        // floor((in + pads - k) / s) + 1
        assert_eq!(
            win(3, 2, 1, AutoPad::NotSet, false)
                .resolve([8, 8])
                .unwrap()
                .out_hw,
            [4, 4]
        );
        // ceil_mode: ceil((10 - 3) / 2) + 1 = 5
        assert_eq!(
            win(3, 2, 0, AutoPad::NotSet, true)
                .resolve([10, 10])
                .unwrap()
                .out_hw,
            [5, 5]
        );
        // SAME_UPPER: ceil(23 / 2) = 12, total pad 2, one before.
        let r = win(3, 2, 0, AutoPad::SameUpper, false)
            .resolve([23, 23])
            .unwrap();
        assert_eq!((r.out_hw, r.pad_begin), ([12, 12], [1, 1]));
        let r = win(2, 2, 0, AutoPad::SameLower, false)
            .resolve([5, 5])
            .unwrap();
        assert_eq!((r.out_hw, r.pad_begin), ([3, 3], [1, 1]));
        assert!(win(5, 1, 0, AutoPad::Valid, false)
            .resolve([4, 4])
            .is_none());
        assert!(win(0, 1, 0, AutoPad::NotSet, false)
            .resolve([4, 4])
            .is_none());
    }
}
