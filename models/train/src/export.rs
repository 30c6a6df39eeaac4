//! ONNX export of a trained [`Net`]: Conv / Relu / MaxPool / Flatten / Gemm, opset 13, weights
//! as float initializers.

use std::path::Path;

use anyhow::{Context, Result};
use candle_nn::VarMap;
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_shape_proto::{dimension, Dimension};
use onnx_protobuf::type_proto::{self, Tensor as TypeTensor};
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

use crate::nets::{Layer, Net};

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        type_: AttributeType::INTS.into(),
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        type_: AttributeType::INT.into(),
        i: v,
        ..Default::default()
    }
}

fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    output: &str,
    attribute: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute,
        ..Default::default()
    }
}

fn value_info(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Some(v) => dimension::Value::DimValue(*v),
                None => dimension::Value::DimParam("N".into()),
            }),
            ..Default::default()
        })
        .collect();
    let tt = TypeTensor {
        elem_type: 1,
        shape: Some(TensorShapeProto {
            dim,
            ..Default::default()
        })
        .into(),
        ..Default::default()
    };
    ValueInfoProto {
        name: name.into(),
        type_: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(tt)),
            ..Default::default()
        })
        .into(),
        ..Default::default()
    }
}

fn initializer(varmap: &VarMap, key: &str, onnx_name: &str) -> Result<TensorProto> {
    let data = varmap
        .data()
        .lock()
        .map_err(|_| anyhow::anyhow!("varmap lock poisoned"))?;
    let var = data
        .get(key)
        .with_context(|| format!("no variable {key}"))?;
    let t = var.as_tensor();
    let dims = t.dims().iter().map(|&d| d as i64).collect();
    let values: Vec<f32> = t.flatten_all()?.to_vec1()?;
    Ok(TensorProto {
        name: onnx_name.into(),
        dims,
        data_type: 1,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    })
}

/// Write `net` as an ONNX model; `acc` (test accuracy) and `epochs` go into the metadata.
pub fn write_onnx(net: &Net, varmap: &VarMap, path: &Path, acc: f64, epochs: usize) -> Result<()> {
    let mut nodes = Vec::new();
    let mut inits = Vec::new();
    let mut cur = "input".to_string();
    let mut k = 0usize;
    let mut next = |tag: &str| {
        k += 1;
        format!("{tag}_{k}")
    };
    for l in &net.layers {
        match l {
            Layer::ConvRelu {
                name, k: ks, pad, ..
            } => {
                let (w, b) = (format!("{name}.weight"), format!("{name}.bias"));
                inits.push(initializer(varmap, &w, &w)?);
                inits.push(initializer(varmap, &b, &b)?);
                let p = *pad as i64;
                let out = next(name);
                let attrs = vec![
                    ints("kernel_shape", &[*ks as i64; 2]),
                    ints("pads", &[p; 4]),
                    ints("strides", &[1, 1]),
                ];
                nodes.push(node("Conv", name, &[&cur, &w, &b], &out, attrs));
                let r = next("relu");
                nodes.push(node("Relu", &format!("{name}_relu"), &[&out], &r, vec![]));
                cur = r;
            }
            Layer::Pool => {
                let out = next("pool");
                let attrs = vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])];
                nodes.push(node("MaxPool", &out.clone(), &[&cur], &out, attrs));
                cur = out;
            }
            Layer::Flatten => {
                let out = next("flatten");
                nodes.push(node(
                    "Flatten",
                    &out.clone(),
                    &[&cur],
                    &out,
                    vec![int("axis", 1)],
                ));
                cur = out;
            }
            Layer::Dense { name, relu, .. } => {
                let (w, b) = (format!("{name}.weight"), format!("{name}.bias"));
                inits.push(initializer(varmap, &w, &w)?);
                inits.push(initializer(varmap, &b, &b)?);
                let out = next(name);
                nodes.push(node(
                    "Gemm",
                    name,
                    &[&cur, &w, &b],
                    &out,
                    vec![int("transB", 1)],
                ));
                cur = out;
                if *relu {
                    let r = next("relu");
                    nodes.push(node("Relu", &format!("{name}_relu"), &[&cur], &r, vec![]));
                    cur = r;
                }
            }
        }
    }
    // The last node produces the graph output "logits".
    if let Some(last) = nodes.last_mut() {
        last.output = vec!["logits".into()];
    }
    let graph = GraphProto {
        name: "fashion_mnist_cnn".into(),
        node: nodes,
        initializer: inits,
        input: vec![value_info("input", &[None, Some(1), Some(28), Some(28)])],
        output: vec![value_info("logits", &[None, Some(10)])],
        ..Default::default()
    };
    let meta = |k: &str, v: String| StringStringEntryProto {
        key: k.into(),
        value: v,
        ..Default::default()
    };
    let model = ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13, ..Default::default() }],
        producer_name: "lc-train".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: "Fashion-MNIST classifier; input (pixel - 128) / 128, NCHW 1x28x28; output logits of 10 classes".into(),
        graph: Some(graph).into(),
        metadata_props: vec![
            meta("input_mean", "128".into()),
            meta("input_std", "128".into()),
            meta("test_accuracy", format!("{acc:.4}")),
            meta("epochs", epochs.to_string()),
        ],
        ..Default::default()
    };
    let bytes = model.write_to_bytes()?;
    let tmp = path.with_extension("onnx.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Set every variable of `varmap` from the initializer of the same name in an ONNX file.
pub fn load_onnx_weights(varmap: &VarMap, path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let model = ModelProto::parse_from_bytes(&bytes)?;
    let graph = model.graph.as_ref().context("model without graph")?;
    let data = varmap
        .data()
        .lock()
        .map_err(|_| anyhow::anyhow!("varmap lock poisoned"))?;
    for (name, var) in data.iter() {
        let t = graph
            .initializer
            .iter()
            .find(|t| &t.name == name)
            .with_context(|| format!("{name} missing"))?;
        let v: Vec<f32> = t
            .raw_data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let new = candle_core::Tensor::from_vec(v, var.shape(), var.device())?;
        var.set(&new)?;
    }
    Ok(())
}
