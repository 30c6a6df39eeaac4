//! Weights that are already integers: an int8/uint8 initializer behind a `DequantizeLinear` node
//! (QDQ graphs), or the weight input of `ConvInteger` / `MatMulInteger` with its zero point. The
//! integers minus their zero point are taken as they are, on the model's own grid, so that
//! compression at eps 0 is lossless on them and decompression writes the same bytes back.

use std::collections::HashMap;

use onnx_protobuf::{GraphProto, NodeProto, TensorProto};

use super::onnx::ModelError;
use super::onnx_tensor::{tensor_f32, tensor_int8, transpose, UINT8};
use crate::quant::Quantized;

/// Integer weights on the model's own grid, output channel first.
#[derive(Clone, Debug, PartialEq)]
pub struct IntWeights {
    /// Stored integer minus its zero point, row-major, output channel first.
    pub values: Vec<i32>,
    /// Zero point of each output channel.
    pub zero_points: Vec<i32>,
    /// Dequantization scale of each output channel (1 for `ConvInteger` / `MatMulInteger`, whose
    /// scales are applied by other nodes of the graph).
    pub scales: Vec<f32>,
    /// Element type of the stored tensor ([`super::onnx_tensor::INT8`] or [`UINT8`]).
    pub elem_type: i32,
}

/// Where the integer weight of a node comes from.
pub struct IntSource<'a> {
    /// The integer tensor.
    pub tensor: &'a TensorProto,
    /// Per-tensor or per-axis scale (`DequantizeLinear` only).
    pub scale: Option<&'a TensorProto>,
    /// Per-tensor or per-axis zero point, when given.
    pub zero_point: Option<&'a TensorProto>,
    /// Axis of a per-axis scale / zero point in the stored layout.
    pub axis: i64,
}

/// The integer weight source of `node` (a weight operator), if its weight input is integer:
/// `ConvInteger` / `MatMulInteger` directly, `Conv` / `Gemm` / `MatMul` through a
/// `DequantizeLinear` node whose input is a constant.
pub fn int_source<'a>(
    node: &NodeProto,
    graph: &'a GraphProto,
    consts: &HashMap<String, &'a TensorProto>,
) -> Option<IntSource<'a>> {
    let name = node.input.get(1)?;
    let input = |n: &NodeProto, i: usize| {
        n.input
            .get(i)
            .filter(|s| !s.is_empty())
            .and_then(|s| consts.get(s).copied())
    };
    if matches!(node.op_type.as_str(), "ConvInteger" | "MatMulInteger") {
        return Some(IntSource {
            tensor: consts.get(name).copied()?,
            scale: None,
            zero_point: input(node, 3),
            axis: if node.op_type == "ConvInteger" { 0 } else { 1 },
        });
    }
    let dq = graph
        .node
        .iter()
        .find(|n| n.op_type == "DequantizeLinear" && n.output.first() == Some(name))?;
    Some(IntSource {
        tensor: input(dq, 0)?,
        scale: input(dq, 1),
        zero_point: input(dq, 2),
        axis: dq
            .attribute
            .iter()
            .find(|a| a.name == "axis")
            .map_or(1, |a| a.i),
    })
}

/// One value per output channel from a scalar or a per-axis tensor of `channels` values.
fn per_channel<T: Copy>(
    values: &[T],
    channels: usize,
    per_axis: bool,
    name: &str,
) -> Result<Vec<T>, ModelError> {
    match values.len() {
        1 => Ok(vec![values[0]; channels]),
        n if n == channels && per_axis => Ok(values.to_vec()),
        n => Err(ModelError::Tensor {
            name: name.into(),
            detail: format!(
                "{n} quantization parameters for {channels} output channels; only per-tensor or \
                 per-output-channel quantization is supported"
            ),
        }),
    }
}

/// Decode an integer weight source into (stored shape, values in the stored layout, zero point
/// and scale per output channel) and bring it to output-channel-first order when `transposed`
/// (a `[K, N]` matrix).
pub fn decode(src: &IntSource, transposed: bool) -> Result<(Vec<usize>, IntWeights), ModelError> {
    let (mut dims, stored) = tensor_int8(src.tensor)?;
    let name = src.tensor.name.as_str();
    if dims.is_empty() {
        dims = vec![stored.len()];
    }
    let out_axis = if transposed { dims.len() - 1 } else { 0 };
    let channels = dims[out_axis];
    let axis = if src.axis < 0 {
        src.axis + dims.len() as i64
    } else {
        src.axis
    };
    let per_axis = axis == out_axis as i64;
    let zero_points = match src.zero_point {
        Some(z) => per_channel(&tensor_int8(z)?.1, channels, per_axis, name)?,
        None => vec![0; channels],
    };
    let scales = match src.scale {
        Some(s) => per_channel(&tensor_f32(s)?.1, channels, per_axis, name)?,
        None => vec![1.0; channels],
    };
    let (rows, cols) = (dims[0], stored.len() / dims[0].max(1));
    let mut values = if transposed {
        transpose(&stored, rows, cols)
    } else {
        stored
    };
    let per = values.len() / channels.max(1);
    for (chunk, &z) in values.chunks_mut(per.max(1)).zip(&zero_points) {
        chunk.iter_mut().for_each(|v| *v -= z);
    }
    if transposed {
        dims.swap(0, 1);
    }
    Ok((
        dims,
        IntWeights {
            values,
            zero_points,
            scales,
            elem_type: src.tensor.data_type,
        },
    ))
}

impl IntWeights {
    /// The dequantized values (`value * scale` of the channel).
    pub fn dequantized(&self) -> Vec<f32> {
        let per = self.values.len() / self.scales.len().max(1);
        self.values
            .chunks(per.max(1))
            .zip(&self.scales)
            .flat_map(|(c, &s)| c.iter().map(move |&v| v as f32 * s))
            .collect()
    }

    /// The integers as a [`Quantized`] tensor of shape `dims`, with the narrowest bit width B
    /// (at least 4) whose range `±(2^(B-1) - 1)` holds every value.
    pub fn quantized(&self, dims: &[usize]) -> Quantized {
        let max = self
            .values
            .iter()
            .map(|v| v.unsigned_abs())
            .max()
            .unwrap_or(0);
        let bits = (4u8..=16).find(|b| max < 1 << (b - 1)).unwrap_or(16);
        Quantized {
            bits,
            dims: dims.to_vec(),
            values: self.values.clone(),
            scales: self.scales.clone(),
        }
    }

    /// The bytes of the stored tensor of shape `dims` (output channel first) holding these
    /// values with the zero points added back, in the stored layout (`transposed`: a `[K, N]`
    /// matrix whose output channel is the last dimension). A value outside the stored type's
    /// range is saturated: the original integer is inside it, so saturation moves a decoded
    /// value only towards the original and the error bound still holds.
    pub fn stored_bytes(&self, dims: &[usize], transposed: bool) -> Vec<u8> {
        let (lo, hi) = if self.elem_type == UINT8 {
            (0, 255)
        } else {
            (-128, 127)
        };
        let per = self.values.len() / self.zero_points.len().max(1);
        let mut stored: Vec<i32> = self
            .values
            .chunks(per.max(1))
            .zip(&self.zero_points)
            .flat_map(|(c, &z)| c.iter().map(move |&v| (v + z).clamp(lo, hi)))
            .collect();
        if transposed {
            stored = transpose(&stored, dims[0], dims[1]);
        }
        stored.iter().map(|&q| q as u8).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::onnx_tensor::INT8;

    #[test]
    fn parameters_are_per_tensor_or_per_output_channel() {
        assert_eq!(per_channel(&[3], 4, false, "w").unwrap(), vec![3; 4]);
        assert_eq!(per_channel(&[1, 2], 2, true, "w").unwrap(), vec![1, 2]);
        // Per-axis on another axis than the output channel, or a wrong count: a clear error.
        for (n, per_axis) in [(2, false), (3, true)] {
            let e = per_channel(&vec![0; n], 2, per_axis, "w").unwrap_err();
            assert!(e.to_string().contains("per-output-channel"), "{e}");
        }
    }

    #[test]
    fn bit_width_is_the_narrowest_that_holds_the_values() {
        let w = |values: Vec<i32>| IntWeights {
            zero_points: vec![0],
            scales: vec![1.0],
            elem_type: INT8,
            values,
        };
        assert_eq!(w(vec![-7, 7]).quantized(&[1, 2]).bits, 4);
        assert_eq!(w(vec![-127, 8]).quantized(&[1, 2]).bits, 8);
        assert_eq!(w(vec![-128, 0]).quantized(&[1, 2]).bits, 9);
    }
}
