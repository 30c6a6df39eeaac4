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

/// Assert a failed run: non-zero exit, a one-line `error:` message, no panic.
pub fn assert_clean_failure(out: &Output, mentions: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(mentions), "'{mentions}' not in: {err}");
}
