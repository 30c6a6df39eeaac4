//! Helpers shared by the end-to-end tests: a small ONNX model built in memory, and the CLI.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use onnx_protobuf::{AttributeProto, GraphProto, Message, ModelProto, NodeProto, TensorProto};

/// Deterministic pseudo-random weights in [-1, 1).
pub fn weights(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 20001) as f32 / 10000.0 - 1.0
        })
        .collect()
}

fn tensor(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.dims = dims.to_vec();
    t.data_type = 1;
    t.raw_data = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    t
}

fn node(op: &str, name: &str, inputs: &[&str], output: &str) -> NodeProto {
    let mut n = NodeProto::new();
    n.op_type = op.into();
    n.name = name.into();
    n.input = inputs.iter().map(|s| s.to_string()).collect();
    n.output = vec![output.into()];
    n
}

/// A Conv (initializer weights) followed by a Gemm whose weights come from a `Constant` node
/// and are stored `[K, N]` (no transB), so both import paths and the transpose are exercised.
pub fn tiny_model() -> ModelProto {
    let mut g = GraphProto::new();
    g.name = "tiny".into();
    g.initializer
        .push(tensor("conv.w", &[8, 1, 3, 3], &weights(72, 7)));
    let mut c = node("Constant", "fc_weight", &[], "fc.w");
    let mut a = AttributeProto::new();
    a.name = "value".into();
    a.type_ = onnx_protobuf::attribute_proto::AttributeType::TENSOR.into();
    a.t = protobuf::MessageField::some(tensor("", &[32, 10], &weights(320, 11)));
    c.attribute.push(a);
    g.node.push(c);
    g.node.push(node("Conv", "conv", &["x", "conv.w"], "y"));
    g.node.push(node("Flatten", "flat", &["y"], "f"));
    g.node.push(node("Gemm", "fc", &["f", "fc.w"], "out"));
    let mut m = ModelProto::new();
    m.ir_version = 8;
    m.graph = protobuf::MessageField::some(g);
    m
}

/// Write [`tiny_model`] into `dir` and return its path.
pub fn write_tiny_model(dir: &Path) -> PathBuf {
    let p = dir.join("tiny.onnx");
    std::fs::write(&p, tiny_model().write_to_bytes().unwrap()).unwrap();
    p
}

/// Run the CLI with arguments.
pub fn cli(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_linecompress"))
        .args(args)
        .output()
        .expect("the CLI binary runs")
}

/// Run the CLI and assert that it succeeded (stderr shown otherwise).
pub fn cli_ok(args: &[&str]) -> Output {
    let out = cli(args);
    assert!(
        out.status.success(),
        "linecompress {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Assert a failed run: non-zero exit, a one-line `error:` message, no panic.
pub fn assert_clean_failure(out: &Output, mentions: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(mentions), "'{mentions}' not in: {err}");
}

/// An int8 (`elem` 3) or uint8 (`elem` 2) tensor.
fn int_tensor(name: &str, elem: i32, dims: &[i64], data: &[i32]) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.dims = dims.to_vec();
    t.data_type = elem;
    t.raw_data = data.iter().map(|&v| v as u8).collect();
    t
}

/// Deterministic pseudo-random integers in `lo..=hi`.
fn ints(n: usize, seed: u64, lo: i32, hi: i32) -> Vec<i32> {
    weights(n, seed)
        .iter()
        .map(|w| lo + (((w + 1.0) / 2.0) * (hi - lo) as f32).round() as i32)
        .collect()
}

/// A pre-quantized model with the three ways integer weights appear in ONNX: a Conv whose int8
/// weights go through `DequantizeLinear` with per-output-channel scales and zero points, a Gemm
/// (stored `[K, N]`) behind a uint8 `DequantizeLinear` with one scale and zero point, and a
/// `MatMulInteger` with an int8 weight and per-column zero points. Written into `dir`; returns
/// the path and the stored integer tensors (name, raw bytes).
pub fn write_qdq_model(dir: &Path) -> (PathBuf, Vec<(String, Vec<u8>)>) {
    let mut g = GraphProto::new();
    g.name = "qdq".into();
    let ints = [
        int_tensor("conv.wq", 3, &[4, 1, 3, 3], &ints(36, 3, -128, 127)),
        int_tensor("fc.wq", 2, &[64, 5], &ints(320, 5, 0, 255)),
        int_tensor("mm.wq", 3, &[5, 3], &ints(15, 9, -100, 100)),
    ];
    let stored = ints
        .iter()
        .map(|t| (t.name.clone(), t.raw_data.clone()))
        .collect();
    g.initializer.extend(ints);
    g.initializer
        .push(tensor("conv.s", &[4], &[0.01, 0.02, 0.03, 0.04]));
    g.initializer
        .push(int_tensor("conv.zp", 3, &[4], &[0, -3, 2, 5]));
    g.initializer.push(tensor("fc.s", &[], &[0.005]));
    g.initializer.push(int_tensor("fc.zp", 2, &[], &[120]));
    g.initializer
        .push(int_tensor("mm.zp", 3, &[3], &[1, 0, -2]));
    g.initializer.push(int_tensor("x.zp", 2, &[], &[128]));
    let mut dq = node(
        "DequantizeLinear",
        "conv.dq",
        &["conv.wq", "conv.s", "conv.zp"],
        "conv.w",
    );
    let mut axis = AttributeProto::new();
    axis.name = "axis".into();
    axis.type_ = onnx_protobuf::attribute_proto::AttributeType::INT.into();
    axis.i = 0;
    dq.attribute.push(axis);
    g.node.push(dq);
    g.node.push(node("Conv", "conv", &["x", "conv.w"], "y"));
    g.node.push(node("Flatten", "flat", &["y"], "f"));
    g.node.push(node(
        "DequantizeLinear",
        "fc.dq",
        &["fc.wq", "fc.s", "fc.zp"],
        "fc.w",
    ));
    g.node.push(node("Gemm", "fc", &["f", "fc.w"], "h"));
    g.node
        .push(node("QuantizeLinear", "hq", &["h", "fc.s", "x.zp"], "hq"));
    g.node.push(node(
        "MatMulInteger",
        "mm",
        &["hq", "mm.wq", "x.zp", "mm.zp"],
        "out",
    ));
    let mut m = ModelProto::new();
    m.ir_version = 8;
    m.graph = protobuf::MessageField::some(g);
    let p = dir.join("qdq.onnx");
    std::fs::write(&p, m.write_to_bytes().unwrap()).unwrap();
    (p, stored)
}

/// An input or output declaration; a dimension `<= 0` is dynamic.
fn value_info(name: &str, dims: &[i64]) -> onnx_protobuf::ValueInfoProto {
    use onnx_protobuf::tensor_shape_proto::{dimension, Dimension};
    use onnx_protobuf::type_proto::{Tensor as TypeTensor, Value};
    let dim = dims
        .iter()
        .map(|&d| Dimension {
            value: Some(if d > 0 {
                dimension::Value::DimValue(d)
            } else {
                dimension::Value::DimParam("dyn".into())
            }),
            ..Default::default()
        })
        .collect();
    let tt = TypeTensor {
        elem_type: 1,
        shape: Some(onnx_protobuf::TensorShapeProto {
            dim,
            ..Default::default()
        })
        .into(),
        ..Default::default()
    };
    onnx_protobuf::ValueInfoProto {
        name: name.into(),
        type_: Some(onnx_protobuf::TypeProto {
            value: Some(Value::TensorType(tt)),
            ..Default::default()
        })
        .into(),
        ..Default::default()
    }
}

/// A classifier of any input size: input `x` of shape `[?, in_c, ?, ?]`, a `k x k` Conv with 4
/// channels, Relu, GlobalAveragePool, Flatten and a Gemm to 3 outputs. Written into `dir`.
pub fn write_dynamic_model(dir: &Path, in_c: usize, k: usize) -> PathBuf {
    let mut g = GraphProto::new();
    g.name = "dynamic".into();
    let n = 4 * in_c * k * k;
    g.initializer.push(tensor(
        "conv.w",
        &[4, in_c as i64, k as i64, k as i64],
        &weights(n, 5),
    ));
    g.initializer.push(tensor("fc.w", &[4, 3], &weights(12, 9)));
    g.node.push(node("Conv", "conv", &["x", "conv.w"], "c"));
    g.node.push(node("Relu", "relu", &["c"], "r"));
    g.node.push(node("GlobalAveragePool", "gap", &["r"], "p"));
    g.node.push(node("Flatten", "flat", &["p"], "f"));
    g.node.push(node("Gemm", "fc", &["f", "fc.w"], "out"));
    g.input.push(value_info("x", &[-1, in_c as i64, -1, -1]));
    g.output.push(value_info("out", &[-1, 3]));
    let mut m = ModelProto::new();
    m.ir_version = 8;
    m.graph = protobuf::MessageField::some(g);
    let p = dir.join(format!("dynamic_c{in_c}_k{k}.onnx"));
    std::fs::write(&p, m.write_to_bytes().unwrap()).unwrap();
    p
}
