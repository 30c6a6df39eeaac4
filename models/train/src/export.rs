//! ONNX export of a trained [`Net`]: Conv / BatchNormalization / Relu / Clip / MaxPool /
//! GlobalAveragePool / Add / Flatten / Gemm, opset 13, weights as float initializers.

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

use crate::nets::{Act, Layer, Net};

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

fn float(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        type_: AttributeType::FLOAT.into(),
        f: v,
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

/// The ONNX nodes and initializers of a network, built layer by layer.
struct Emitter<'a> {
    varmap: &'a VarMap,
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    count: usize,
}

impl Emitter<'_> {
    fn next(&mut self, tag: &str) -> String {
        self.count += 1;
        format!("{tag}_{}", self.count)
    }

    fn init(&mut self, key: &str) -> Result<String> {
        self.inits.push(initializer(self.varmap, key, key)?);
        Ok(key.to_string())
    }

    /// A scalar float constant, added once.
    fn scalar(&mut self, name: &str, v: f32) -> String {
        if !self.inits.iter().any(|t| t.name == name) {
            self.inits.push(TensorProto {
                name: name.into(),
                data_type: 1,
                raw_data: v.to_le_bytes().to_vec(),
                ..Default::default()
            });
        }
        name.into()
    }

    fn push(
        &mut self,
        op: &str,
        name: &str,
        inputs: &[&str],
        attrs: Vec<AttributeProto>,
    ) -> String {
        let out = format!("{name}_out");
        self.nodes.push(node(op, name, inputs, &out, attrs));
        out
    }

    fn act(&mut self, name: &str, act: Act, x: String) -> String {
        match act {
            Act::Linear => x,
            Act::Relu => self.push("Relu", &format!("{name}_relu"), &[&x], vec![]),
            Act::Relu6 => {
                let (lo, hi) = (self.scalar("relu6_min", 0.0), self.scalar("relu6_max", 6.0));
                self.push("Clip", &format!("{name}_relu6"), &[&x, &lo, &hi], vec![])
            }
        }
    }

    /// Emit `layers` reading `cur`; returns the name of the last output.
    fn layers(&mut self, layers: &[Layer], mut cur: String) -> Result<String> {
        for l in layers {
            cur = match l {
                Layer::Conv { spec, bn, act, .. } => {
                    let name = &spec.name;
                    let w = self.init(&format!("{name}.weight"))?;
                    let mut inputs = vec![cur.clone(), w];
                    if bn.is_none() {
                        inputs.push(self.init(&format!("{name}.bias"))?);
                    }
                    let p = spec.pad as i64;
                    let s = spec.stride as i64;
                    let attrs = vec![
                        ints("kernel_shape", &[spec.k as i64; 2]),
                        ints("pads", &[p; 4]),
                        ints("strides", &[s, s]),
                        int("group", spec.groups as i64),
                    ];
                    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                    let mut y = self.push("Conv", name, &refs, attrs);
                    if bn.is_some() {
                        let bn_name = format!("{name}_bn");
                        let params = ["weight", "bias", "running_mean", "running_var"]
                            .map(|p| self.init(&format!("{bn_name}.{p}")));
                        let [g, b, m, v] = params;
                        let (g, b, m, v) = (g?, b?, m?, v?);
                        y = self.push(
                            "BatchNormalization",
                            &bn_name,
                            &[&y, &g, &b, &m, &v],
                            vec![float("epsilon", 1e-5)],
                        );
                    }
                    self.act(name, *act, y)
                }
                Layer::Pool => {
                    let attrs = vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])];
                    let name = self.next("pool");
                    self.push("MaxPool", &name, &[&cur], attrs)
                }
                Layer::GlobalAvgPool => {
                    let name = self.next("gap");
                    self.push("GlobalAveragePool", &name, &[&cur], vec![])
                }
                Layer::Flatten => {
                    let name = self.next("flatten");
                    self.push("Flatten", &name, &[&cur], vec![int("axis", 1)])
                }
                Layer::Dense { name, relu, .. } => {
                    let w = self.init(&format!("{name}.weight"))?;
                    let b = self.init(&format!("{name}.bias"))?;
                    let y = self.push("Gemm", name, &[&cur, &w, &b], vec![int("transB", 1)]);
                    let act = if *relu { Act::Relu } else { Act::Linear };
                    self.act(name, act, y)
                }
                Layer::Residual {
                    name,
                    body,
                    shortcut,
                } => {
                    let y = self.layers(body, cur.clone())?;
                    let s = self.layers(shortcut, cur)?;
                    let sum = self.push("Add", &format!("{name}_add"), &[&y, &s], vec![]);
                    self.act(name, Act::Relu, sum)
                }
            };
        }
        Ok(cur)
    }
}

/// Write `net` as an ONNX model; `acc` (test accuracy) and `epochs` go into the metadata.
pub fn write_onnx(net: &Net, varmap: &VarMap, path: &Path, acc: f64, epochs: usize) -> Result<()> {
    let mut e = Emitter {
        varmap,
        nodes: Vec::new(),
        inits: Vec::new(),
        count: 0,
    };
    e.layers(&net.layers, "input".into())?;
    let (mut nodes, inits) = (e.nodes, e.inits);
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
