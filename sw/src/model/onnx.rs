//! Reading ONNX models: the weight tensors of every Conv, Gemm and MatMul, from initializers and
//! `Constant` nodes alike (f32, or integers behind `DequantizeLinear` and the weights of
//! `ConvInteger` / `MatMulInteger`, see [`super::qdq`]), and writing them back after compression.

use std::collections::HashMap;
use std::path::Path;

use onnx_protobuf::{GraphProto, Message, ModelProto, TensorProto};

use super::onnx_tensor::{output_channel_first, tensor_f32, transpose, weight_input_major, FLOAT};
use super::qdq::{self, IntWeights};

/// Operators whose second input is a weight tensor that LineCompress compresses.
const WEIGHT_OPS: [&str; 6] = [
    "Conv",
    "ConvTranspose",
    "Gemm",
    "MatMul",
    "ConvInteger",
    "MatMulInteger",
];

/// A weight tensor with the output channel first.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightTensor {
    /// Tensor name in the graph.
    pub name: String,
    /// Shape, `dims[0]` = output channels.
    pub dims: Vec<usize>,
    /// Values in row-major order (dequantized, for integer weights).
    pub data: Vec<f32>,
    /// True when the stored tensor is `[K, N]` (MatMul, Gemm without transB) and was transposed
    /// to put the output channel first.
    pub transposed: bool,
    /// The integers of a pre-quantized weight, on the model's own grid.
    pub int: Option<IntWeights>,
}

/// Why a model could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The bytes are not an ONNX model.
    #[error("{path}: not an ONNX model ({detail})")]
    Parse {
        /// The path.
        path: String,
        /// Parser message.
        detail: String,
    },
    /// A tensor that cannot be used.
    #[error("tensor '{name}': {detail}")]
    Tensor {
        /// Tensor name.
        name: String,
        /// What is wrong.
        detail: String,
    },
    /// The model has no weights to compress.
    #[error("{0}: no f32 or int8/uint8 Conv/Gemm/MatMul weights found")]
    NoWeights(String),
}

fn no_graph() -> ModelError {
    ModelError::Parse {
        path: "model".into(),
        detail: "no graph".into(),
    }
}

/// Read and parse an ONNX file.
pub fn load_model(path: &Path) -> Result<ModelProto, ModelError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: shown.clone(),
        source,
    })?;
    parse_model(&bytes, &shown)
}

/// Parse the bytes of an ONNX model (`shown` names them in errors); a model without graph
/// nodes is an error.
pub fn parse_model(bytes: &[u8], shown: &str) -> Result<ModelProto, ModelError> {
    let model = ModelProto::parse_from_bytes(bytes).map_err(|e| ModelError::Parse {
        path: shown.into(),
        detail: e.to_string(),
    })?;
    if model.graph.as_ref().is_none_or(|g| g.node.is_empty()) {
        return Err(ModelError::Parse {
            path: shown.into(),
            detail: "no graph nodes".into(),
        });
    }
    Ok(model)
}

/// Every named f32 tensor of the graph: initializers and `Constant` node values.
fn constants(graph: &GraphProto) -> HashMap<String, &TensorProto> {
    let mut map: HashMap<String, &TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.clone(), t))
        .collect();
    for node in graph.node.iter().filter(|n| n.op_type == "Constant") {
        let value = node
            .attribute
            .iter()
            .find(|a| a.name == "value")
            .and_then(|a| a.t.as_ref());
        if let (Some(t), Some(out)) = (value, node.output.first()) {
            map.insert(out.clone(), t);
        }
    }
    map
}

/// The weight tensors of every Conv, ConvTranspose, Gemm and MatMul, in graph order, output
/// channel first.
pub fn weights(model: &ModelProto) -> Result<Vec<WeightTensor>, ModelError> {
    let graph = model.graph.as_ref().ok_or_else(no_graph)?;
    let consts = constants(graph);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for node in graph
        .node
        .iter()
        .filter(|n| WEIGHT_OPS.contains(&n.op_type.as_str()))
    {
        let Some(name) = node.input.get(1) else {
            continue;
        };
        let tensor = if let Some(src) = qdq::int_source(node, graph, &consts) {
            if !seen.insert(src.tensor.name.clone()) {
                continue;
            }
            let transposed = weight_input_major(node) && src.tensor.dims.len() == 2;
            let (dims, int) = qdq::decode(&src, transposed)?;
            WeightTensor {
                name: src.tensor.name.clone(),
                dims,
                data: int.dequantized(),
                transposed,
                int: Some(int),
            }
        } else {
            let Some(t) = consts.get(name) else { continue };
            if t.data_type != FLOAT || !seen.insert(name.clone()) {
                continue;
            }
            let (dims, data) = tensor_f32(t)?;
            let (dims, data, transposed) = output_channel_first(node, dims, data);
            WeightTensor {
                name: name.clone(),
                dims,
                data,
                transposed,
                int: None,
            }
        };
        if !tensor.dims.is_empty() && !tensor.data.is_empty() {
            out.push(tensor);
        }
    }
    Ok(out)
}

/// Load the weight tensors of an ONNX file (see [`weights`]).
pub fn load_weights(path: &Path) -> Result<Vec<WeightTensor>, ModelError> {
    let model = load_model(path)?;
    let w = weights(&model)?;
    if w.is_empty() {
        return Err(ModelError::NoWeights(path.display().to_string()));
    }
    Ok(w)
}

/// Replace the named weight tensors of `model` (as returned by [`weights`], output channel
/// first) with new values, restoring the stored layout.
pub fn replace_weights(model: &mut ModelProto, tensors: &[WeightTensor]) -> Result<(), ModelError> {
    let by_name: HashMap<&str, &WeightTensor> =
        tensors.iter().map(|t| (t.name.as_str(), t)).collect();
    let graph = model.graph.as_mut().ok_or_else(no_graph)?;
    let replace = |key: &str, t: &mut TensorProto| {
        if let Some(w) = by_name.get(key) {
            t.raw_data = match &w.int {
                Some(int) => int.stored_bytes(&w.dims, w.transposed),
                None if w.transposed => f32_bytes(&transpose(&w.data, w.dims[0], w.dims[1])),
                None => f32_bytes(&w.data),
            };
            t.float_data.clear();
            t.int32_data.clear();
        }
    };
    for t in graph.initializer.iter_mut() {
        let key = t.name.clone();
        replace(&key, t);
    }
    for node in graph.node.iter_mut().filter(|n| n.op_type == "Constant") {
        let key = node.output.first().cloned().unwrap_or_default();
        for a in node.attribute.iter_mut().filter(|a| a.name == "value") {
            if let Some(t) = a.t.as_mut() {
                replace(&key, t);
            }
        }
    }
    Ok(())
}

/// Little-endian bytes of f32 values.
fn f32_bytes(data: &[f32]) -> Vec<u8> {
    data.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Write a model to a file.
pub fn save_model(model: &ModelProto, path: &Path) -> Result<(), ModelError> {
    let shown = path.display().to_string();
    let bytes = model.write_to_bytes().map_err(|e| ModelError::Parse {
        path: shown.clone(),
        detail: e.to_string(),
    })?;
    std::fs::write(path, bytes).map_err(|source| ModelError::Io {
        path: shown,
        source,
    })
}
