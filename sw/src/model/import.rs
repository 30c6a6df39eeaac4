//! ONNX to [`Graph`] import: constants, operator mapping, folding of bias adds and batch
//! normalization into the preceding convolution or dense layer.

use std::collections::HashMap;
use std::path::Path;

use onnx_protobuf::{AttributeProto, Message, ModelProto, NodeProto, TensorProto};
use thiserror::Error;

use super::fold;
use super::graph::{
    AutoPad, Conv, Dense, Graph, Node, Op, Pool, Preprocess, Tensor, ValueId, Window,
};

/// Errors of the ONNX import.
#[derive(Debug, Error)]
pub enum ImportError {
    /// File could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Bytes are not an ONNX model.
    #[error("not a valid ONNX model: {0}")]
    Decode(String),
    /// An operator this importer does not support.
    #[error("unsupported operator {op} in node '{node}'")]
    UnsupportedOp {
        /// ONNX op_type.
        op: String,
        /// Node name.
        node: String,
    },
    /// A supported operator used in a way that is not supported or is malformed.
    #[error("node '{node}' ({op}): {reason}")]
    Invalid {
        /// ONNX op_type.
        op: String,
        /// Node name.
        node: String,
        /// What is wrong.
        reason: String,
    },
    /// Problem with the graph as a whole.
    #[error("graph: {0}")]
    Graph(String),
}

/// Import an ONNX file.
pub fn load_graph(path: impl AsRef<Path>) -> Result<Graph, ImportError> {
    load_graph_shaped(path, None).map(|(g, _)| g)
}

/// Import an ONNX file, giving its input the shape `shape` (`[N, ...]`, the model's own axis
/// order) where the model leaves dimensions dynamic; also returns the input's name.
pub fn load_graph_shaped(
    path: impl AsRef<Path>,
    shape: Option<&[usize]>,
) -> Result<(Graph, String), ImportError> {
    let p = path.as_ref();
    let bytes = std::fs::read(p).map_err(|source| ImportError::Io {
        path: p.display().to_string(),
        source,
    })?;
    let model =
        ModelProto::parse_from_bytes(&bytes).map_err(|e| ImportError::Decode(e.to_string()))?;
    graph_from_model_shaped(&model, shape)
}

/// Import an ONNX model from its serialized bytes.
pub fn graph_from_bytes(bytes: &[u8]) -> Result<Graph, ImportError> {
    let model =
        ModelProto::parse_from_bytes(bytes).map_err(|e| ImportError::Decode(e.to_string()))?;
    graph_from_model(&model)
}

/// The input shape without batch axis: the model's dimensions (`-1` for dynamic ones) with
/// `given` (`[N, ...]`, batch 1) filling the dynamic ones and agreeing with the static ones.
fn input_shape(name: &str, dims: &[i64], given: Option<&[usize]>) -> Result<Vec<usize>, String> {
    let shown = |d: &[i64]| {
        let v: Vec<String> = d
            .iter()
            .map(|&x| if x > 0 { x.to_string() } else { "?".into() })
            .collect();
        format!("[{}]", v.join(", "))
    };
    let Some(given) = given else {
        if dims.len() < 2 || dims[1..].iter().any(|&d| d <= 0) {
            return Err(format!(
                "input '{name}' has shape {}: give its dynamic dimensions with --input-shape",
                shown(dims)
            ));
        }
        return Ok(dims[1..].iter().map(|&d| d as usize).collect());
    };
    let agrees = given.len() == dims.len()
        && given.len() >= 2
        && given[0] == 1
        && given.iter().all(|&g| g > 0)
        && given
            .iter()
            .zip(dims)
            .all(|(&g, &d)| d <= 0 || g as i64 == d);
    if !agrees {
        return Err(format!(
            "input '{name}' has shape {}; --input-shape {given:?} does not fit it (batch 1, \
             static dimensions kept)",
            shown(dims)
        ));
    }
    Ok(given[1..].to_vec())
}

/// A constant known at import time.
#[derive(Debug, Clone)]
struct Const {
    dims: Vec<usize>,
    f: Vec<f32>,
    i: Vec<i64>,
}

/// Decode an ONNX tensor (float, double, int32, int64) into both float and integer views.
fn decode_tensor(t: &TensorProto) -> Result<Const, String> {
    let dims: Vec<usize> = t
        .dims
        .iter()
        .map(|&d| {
            usize::try_from(d).map_err(|_| format!("negative dimension {d} in tensor '{}'", t.name))
        })
        .collect::<Result<_, _>>()?;
    let n: usize = dims.iter().product();
    let raw = &t.raw_data;
    let (f, i): (Vec<f32>, Vec<i64>) = match t.data_type {
        1 => {
            let v: Vec<f32> = if !raw.is_empty() {
                raw.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            } else {
                t.float_data.clone()
            };
            let i = v.iter().map(|&x| x as i64).collect();
            (v, i)
        }
        11 => {
            let v: Vec<f64> = if !raw.is_empty() {
                raw.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                    .collect()
            } else {
                t.double_data.clone()
            };
            (
                v.iter().map(|&x| x as f32).collect(),
                v.iter().map(|&x| x as i64).collect(),
            )
        }
        7 => {
            let v: Vec<i64> = if !raw.is_empty() {
                raw.chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                    .collect()
            } else {
                t.int64_data.clone()
            };
            (v.iter().map(|&x| x as f32).collect(), v)
        }
        6 => {
            let v: Vec<i32> = if !raw.is_empty() {
                raw.chunks_exact(4)
                    .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            } else {
                t.int32_data.clone()
            };
            (
                v.iter().map(|&x| x as f32).collect(),
                v.iter().map(|&x| x as i64).collect(),
            )
        }
        other => {
            return Err(format!(
                "tensor '{}' has unsupported data type {other}",
                t.name
            ))
        }
    };
    if f.len() != n {
        return Err(format!(
            "tensor '{}' holds {} values for shape {:?}",
            t.name,
            f.len(),
            dims
        ));
    }
    Ok(Const { dims, f, i })
}

/// Attribute lookup helpers for one node.
struct Attrs<'a> {
    node: &'a NodeProto,
}

impl<'a> Attrs<'a> {
    fn get(&self, name: &str) -> Option<&'a AttributeProto> {
        self.node.attribute.iter().find(|a| a.name == name)
    }
    fn int(&self, name: &str, default: i64) -> i64 {
        self.get(name).map_or(default, |a| a.i)
    }
    fn float(&self, name: &str, default: f32) -> f32 {
        self.get(name).map_or(default, |a| a.f)
    }
    fn ints(&self, name: &str) -> Option<&'a [i64]> {
        self.get(name).map(|a| a.ints.as_slice())
    }
    fn string(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }
}

/// Import state: value numbering, constants and the nodes built so far.
struct Builder {
    ids: HashMap<String, ValueId>,
    consts: HashMap<String, Const>,
    nodes: Vec<Node>,
    producer: HashMap<ValueId, usize>,
    uses: HashMap<String, usize>,
    num_values: usize,
}

impl Builder {
    fn value(&self, name: &str) -> Option<ValueId> {
        self.ids.get(name).copied()
    }
    fn new_value(&mut self, name: &str) -> ValueId {
        let id = self.num_values;
        self.num_values += 1;
        self.ids.insert(name.to_string(), id);
        id
    }
    fn push(&mut self, name: String, op: Op, inputs: Vec<ValueId>, out_name: &str) {
        let output = self.new_value(out_name);
        self.producer.insert(output, self.nodes.len());
        self.nodes.push(Node {
            name,
            op,
            inputs,
            output,
        });
    }
    fn alias(&mut self, out_name: &str, id: ValueId) {
        self.ids.insert(out_name.to_string(), id);
    }
    /// The node producing `v` if it is a weight layer whose output nobody else reads.
    fn sole_weight_producer(&self, v: ValueId, v_name: &str) -> Option<usize> {
        let &idx = self.producer.get(&v)?;
        let single = self.uses.get(v_name).copied().unwrap_or(0) == 1;
        matches!(self.nodes[idx].op, Op::Conv(_) | Op::Dense(_))
            .then_some(idx)
            .filter(|_| single)
    }
}

fn window_from(
    a: &Attrs,
    kernel: [usize; 2],
    err: &dyn Fn(String) -> ImportError,
) -> Result<Window, ImportError> {
    let pair = |name: &str, default: usize| -> Result<[usize; 2], ImportError> {
        match a.ints(name) {
            None => Ok([default; 2]),
            Some([h, w]) if *h >= 1 && *w >= 1 => Ok([*h as usize, *w as usize]),
            Some(v) => Err(err(format!(
                "attribute {name} = {v:?} is not two positive integers"
            ))),
        }
    };
    let pads = match a.ints("pads") {
        None => [0; 4],
        Some(p) if p.len() == 4 && p.iter().all(|&x| x >= 0) => {
            [p[0] as usize, p[1] as usize, p[2] as usize, p[3] as usize]
        }
        Some(p) => {
            return Err(err(format!(
                "pads {p:?} are not four non-negative integers (2-D only)"
            )))
        }
    };
    let auto_pad = match a.string("auto_pad").as_deref() {
        None | Some("NOTSET") | Some("") => AutoPad::NotSet,
        Some("VALID") => AutoPad::Valid,
        Some("SAME_UPPER") => AutoPad::SameUpper,
        Some("SAME_LOWER") => AutoPad::SameLower,
        Some(o) => return Err(err(format!("auto_pad {o} unknown"))),
    };
    Ok(Window {
        kernel,
        stride: pair("strides", 1)?,
        dilation: pair("dilations", 1)?,
        pads,
        auto_pad,
        ceil_mode: a.int("ceil_mode", 0) != 0,
    })
}

/// Convert an ONNX model into the internal graph.
pub fn graph_from_model(model: &ModelProto) -> Result<Graph, ImportError> {
    graph_from_model_shaped(model, None).map(|(g, _)| g)
}

/// Convert an ONNX model into the internal graph with the input shape `shape` (see
/// [`load_graph_shaped`]); also returns the input's name.
pub fn graph_from_model_shaped(
    model: &ModelProto,
    shape: Option<&[usize]>,
) -> Result<(Graph, String), ImportError> {
    let g = model
        .graph
        .as_ref()
        .ok_or_else(|| ImportError::Graph("model has no graph".into()))?;
    let mut b = Builder {
        ids: HashMap::new(),
        consts: HashMap::new(),
        nodes: Vec::new(),
        producer: HashMap::new(),
        uses: HashMap::new(),
        num_values: 0,
    };
    for t in &g.initializer {
        let c = decode_tensor(t).map_err(ImportError::Graph)?;
        b.consts.insert(t.name.clone(), c);
    }
    for n in &g.node {
        for i in &n.input {
            *b.uses.entry(i.clone()).or_insert(0) += 1;
        }
    }
    for o in &g.output {
        *b.uses.entry(o.name.clone()).or_insert(0) += 1;
    }
    let inputs: Vec<_> = g
        .input
        .iter()
        .filter(|i| !b.consts.contains_key(&i.name))
        .collect();
    let [input] = inputs.as_slice() else {
        return Err(ImportError::Graph(format!(
            "expected one non-constant input, found {}",
            inputs.len()
        )));
    };
    let dims: Vec<i64> = input
        .type_
        .as_ref()
        .map(|t| {
            t.tensor_type()
                .shape
                .as_ref()
                .map(|s| {
                    s.dim
                        .iter()
                        .map(|d| match &d.value {
                            Some(
                                onnx_protobuf::tensor_shape_proto::dimension::Value::DimValue(v),
                            ) => *v,
                            _ => -1,
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let input_shape = input_shape(&input.name, &dims, shape).map_err(ImportError::Graph)?;
    let input_id = b.new_value(&input.name);

    for (k, n) in g.node.iter().enumerate() {
        let name = if n.name.is_empty() {
            format!("{}_{k}", n.op_type)
        } else {
            n.name.clone()
        };
        import_node(&mut b, n, name)?;
    }
    let outputs = g
        .output
        .iter()
        .map(|o| {
            b.value(&o.name)
                .ok_or_else(|| ImportError::Graph(format!("output '{}' is never produced", o.name)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if outputs.is_empty() {
        return Err(ImportError::Graph("graph has no output".into()));
    }
    let meta = |key: &str| {
        model
            .metadata_props
            .iter()
            .find(|p| p.key == key)
            .and_then(|p| p.value.parse::<f32>().ok())
    };
    let preprocess = match (meta("input_mean"), meta("input_std")) {
        (Some(mean), Some(std)) if std != 0.0 => Preprocess { mean, std },
        _ => Preprocess::default(),
    };
    let graph = Graph {
        input_shape,
        input: input_id,
        nodes: b.nodes,
        outputs,
        num_values: b.num_values,
        preprocess,
    };
    Ok((graph, input.name.clone()))
}

fn import_node(b: &mut Builder, n: &NodeProto, name: String) -> Result<(), ImportError> {
    let a = Attrs { node: n };
    let op_type = n.op_type.as_str();
    let err = |reason: String| ImportError::Invalid {
        op: op_type.to_string(),
        node: name.clone(),
        reason,
    };
    let out = n
        .output
        .first()
        .ok_or_else(|| err("node has no output".into()))?
        .clone();
    let input_name = |i: usize| -> Result<&str, ImportError> {
        n.input
            .get(i)
            .map(|s| s.as_str())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| err(format!("missing input {i}")))
    };
    let value_in = |b: &Builder, i: usize| -> Result<ValueId, ImportError> {
        let nm = input_name(i)?;
        b.value(nm).ok_or_else(|| {
            err(format!(
                "input '{nm}' is not a computed value (constant or unknown)"
            ))
        })
    };
    let const_in = |b: &Builder, i: usize| -> Result<Const, ImportError> {
        let nm = input_name(i)?;
        b.consts
            .get(nm)
            .cloned()
            .ok_or_else(|| err(format!("input '{nm}' must be a constant")))
    };
    match op_type {
        "Constant" => {
            let t = a
                .get("value")
                .and_then(|v| v.t.as_ref())
                .ok_or_else(|| err("only the 'value' tensor attribute is supported".into()))?;
            let c = decode_tensor(t).map_err(err)?;
            b.consts.insert(out, c);
        }
        "Identity" | "Dropout" => {
            let x = input_name(0)?;
            if let Some(c) = b.consts.get(x).cloned() {
                b.consts.insert(out, c);
            } else {
                let v = value_in(b, 0)?;
                b.alias(&out, v);
            }
        }
        "Conv" => {
            let x = value_in(b, 0)?;
            let w = const_in(b, 1)?;
            if w.dims.len() != 4 {
                return Err(err(format!(
                    "only 2-D convolution is supported, weight shape {:?}",
                    w.dims
                )));
            }
            let o = w.dims[0];
            let bias = if n.input.len() > 2 && !n.input[2].is_empty() {
                const_in(b, 2)?.f
            } else {
                vec![0.0; o]
            };
            if bias.len() != o {
                return Err(err(format!(
                    "bias has {} values for {o} output channels",
                    bias.len()
                )));
            }
            let groups = a.int("group", 1);
            if groups < 1 || o % groups as usize != 0 {
                return Err(err(format!(
                    "group = {groups} does not divide {o} output channels"
                )));
            }
            let kernel = [w.dims[2], w.dims[3]];
            if let Some(ks) = a.ints("kernel_shape") {
                if ks.len() != 2 || ks[0] as usize != kernel[0] || ks[1] as usize != kernel[1] {
                    return Err(err(format!(
                        "kernel_shape {ks:?} disagrees with weight shape {:?}",
                        w.dims
                    )));
                }
            }
            let window = window_from(&a, kernel, &err)?;
            let weight = Tensor {
                shape: w.dims,
                data: w.f,
            };
            b.push(
                name,
                Op::Conv(Conv {
                    weight,
                    bias,
                    window,
                    groups: groups as usize,
                }),
                vec![x],
                &out,
            );
        }
        "Gemm" => {
            let x = value_in(b, 0)?;
            let w = const_in(b, 1)?;
            if a.int("transA", 0) != 0 {
                return Err(err("transA = 1 is not supported".into()));
            }
            if w.dims.len() != 2 {
                return Err(err(format!("B must be 2-D, has shape {:?}", w.dims)));
            }
            let (alpha, beta) = (a.float("alpha", 1.0), a.float("beta", 1.0));
            let mut weight = if a.int("transB", 0) != 0 {
                Tensor {
                    shape: w.dims,
                    data: w.f,
                }
            } else {
                fold::transpose_2d(&Tensor {
                    shape: w.dims,
                    data: w.f,
                })
            };
            weight.data.iter_mut().for_each(|v| *v *= alpha);
            let o = weight.shape[0];
            let bias = if n.input.len() > 2 && !n.input[2].is_empty() {
                let c = const_in(b, 2)?;
                match c.f.len() {
                    1 => vec![c.f[0] * beta; o],
                    l if l == o => c.f.iter().map(|v| v * beta).collect(),
                    l => return Err(err(format!("C has {l} values for {o} outputs"))),
                }
            } else {
                vec![0.0; o]
            };
            b.push(name, Op::Dense(Dense { weight, bias }), vec![x], &out);
        }
        "MatMul" => {
            let x = value_in(b, 0)?;
            let w = const_in(b, 1)?;
            if w.dims.len() != 2 {
                return Err(err(format!(
                    "only a constant 2-D right operand is supported, shape {:?}",
                    w.dims
                )));
            }
            let weight = fold::transpose_2d(&Tensor {
                shape: w.dims,
                data: w.f,
            });
            let bias = vec![0.0; weight.shape[0]];
            b.push(name, Op::Dense(Dense { weight, bias }), vec![x], &out);
        }
        "Add" | "Sum" => {
            let (n0, n1) = (input_name(0)?, input_name(1)?);
            if n.input.len() != 2 {
                return Err(err(format!(
                    "{} inputs; only two are supported",
                    n.input.len()
                )));
            }
            let (c0, c1) = (b.consts.get(n0).cloned(), b.consts.get(n1).cloned());
            match (c0, c1) {
                (None, None) => {
                    let (x, y) = (value_in(b, 0)?, value_in(b, 1)?);
                    b.push(name, Op::Add, vec![x, y], &out);
                }
                (Some(c), None) | (None, Some(c)) => {
                    let (vn, vi) = if b.consts.contains_key(n0) {
                        (n1, 1)
                    } else {
                        (n0, 0)
                    };
                    let v = value_in(b, vi)?;
                    let idx = b.sole_weight_producer(v, vn).ok_or_else(|| {
                        err(
                            "adding a constant is only supported as the bias of a Conv/Gemm/MatMul"
                                .into(),
                        )
                    })?;
                    fold::add_bias(&mut b.nodes[idx].op, &c.f).map_err(err)?;
                    b.alias(&out, v);
                }
                (Some(_), Some(_)) => {
                    return Err(err("constant folding of Add is not supported".into()))
                }
            }
        }
        "Concat" => {
            if a.int("axis", 0) != 1 {
                return Err(err(format!(
                    "axis {}: only the channel axis (1) is supported",
                    a.int("axis", 0)
                )));
            }
            let xs = (0..n.input.len())
                .map(|i| value_in(b, i))
                .collect::<Result<Vec<_>, _>>()?;
            if xs.is_empty() {
                return Err(err("no input".into()));
            }
            b.push(name, Op::Concat, xs, &out);
        }
        "BatchNormalization" => {
            let x_name = input_name(0)?;
            let x = value_in(b, 0)?;
            let [scale, bias, mean, var] = [1, 2, 3, 4].map(|i| const_in(b, i));
            let (scale, bias, mean, var) = (scale?.f, bias?.f, mean?.f, var?.f);
            let eps = a.float("epsilon", 1e-5);
            let idx = b.sole_weight_producer(x, x_name).ok_or_else(|| {
                err("BatchNormalization must directly follow a Conv or Gemm to be folded".into())
            })?;
            fold::fold_batch_norm(&mut b.nodes[idx].op, &scale, &bias, &mean, &var, eps)
                .map_err(err)?;
            b.alias(&out, x);
        }
        "Relu" => {
            let x = value_in(b, 0)?;
            b.push(name, Op::Relu, vec![x], &out);
        }
        "LeakyRelu" => {
            let x = value_in(b, 0)?;
            b.push(name, Op::PRelu(vec![a.float("alpha", 0.01)]), vec![x], &out);
        }
        "PRelu" => {
            let x = value_in(b, 0)?;
            let s = const_in(b, 1)?;
            b.push(name, Op::PRelu(s.f), vec![x], &out);
        }
        "Clip" => {
            let x = value_in(b, 0)?;
            let bound = |i: usize, attr: &str, default: f32| -> Result<f32, ImportError> {
                if n.input.len() > i && !n.input[i].is_empty() {
                    const_in(b, i)?
                        .f
                        .first()
                        .copied()
                        .ok_or_else(|| err(format!("empty bound {i}")))
                } else {
                    Ok(a.float(attr, default))
                }
            };
            let (min, max) = (
                bound(1, "min", f32::NEG_INFINITY)?,
                bound(2, "max", f32::INFINITY)?,
            );
            b.push(name, Op::Clip { min, max }, vec![x], &out);
        }
        "MaxPool" | "AveragePool" => {
            let x = value_in(b, 0)?;
            let k = a
                .ints("kernel_shape")
                .ok_or_else(|| err("kernel_shape missing".into()))?;
            if k.len() != 2 || k.iter().any(|&v| v < 1) {
                return Err(err(format!(
                    "kernel_shape {k:?}: only 2-D pooling is supported"
                )));
            }
            if n.output.len() > 1 && n.output[1..].iter().any(|o| !o.is_empty()) {
                return Err(err("the Indices output is not supported".into()));
            }
            let window = window_from(&a, [k[0] as usize, k[1] as usize], &err)?;
            let pool = Pool {
                window,
                count_include_pad: a.int("count_include_pad", 0) != 0,
            };
            let op = if op_type == "MaxPool" {
                Op::MaxPool(pool)
            } else {
                Op::AvgPool(pool)
            };
            b.push(name, op, vec![x], &out);
        }
        "GlobalAveragePool" => {
            let x = value_in(b, 0)?;
            b.push(name, Op::GlobalAvgPool, vec![x], &out);
        }
        "Flatten" => {
            let x = value_in(b, 0)?;
            if a.int("axis", 1) != 1 {
                return Err(err("only axis = 1 is supported".into()));
            }
            b.push(name, Op::Flatten, vec![x], &out);
        }
        "Reshape" => {
            let x = value_in(b, 0)?;
            let shape = const_in(b, 1)?.i;
            let shape = match shape.split_first() {
                Some((&first, rest))
                    if first == 1 || first == 0 || (first == -1 && rest.iter().all(|&d| d > 0)) =>
                {
                    rest
                }
                _ => {
                    return Err(err(format!(
                        "target shape {shape:?} must keep the batch axis first"
                    )))
                }
            };
            if shape.len() == 1 && shape[0] == -1 {
                b.push(name, Op::Flatten, vec![x], &out);
            } else if shape.iter().all(|&d| d > 0) {
                b.push(
                    name,
                    Op::Reshape(shape.iter().map(|&d| d as usize).collect()),
                    vec![x],
                    &out,
                );
            } else {
                return Err(err(format!(
                    "target shape {shape:?}: only -1 alone or positive sizes are supported"
                )));
            }
        }
        "Transpose" => {
            let x = value_in(b, 0)?;
            let perm = a.ints("perm").ok_or_else(|| err("perm missing".into()))?;
            if perm.first() != Some(&0) || perm[1..].iter().any(|&p| p < 1) {
                return Err(err(format!("perm {perm:?} must keep the batch axis first")));
            }
            let p: Vec<usize> = perm[1..].iter().map(|&v| (v - 1) as usize).collect();
            let mut sorted = p.clone();
            sorted.sort_unstable();
            if sorted != (0..p.len()).collect::<Vec<_>>() {
                return Err(err(format!("perm {perm:?} is not a permutation")));
            }
            b.push(name, Op::Transpose(p), vec![x], &out);
        }
        "Softmax" => {
            let x = value_in(b, 0)?;
            let axis = match a.int("axis", -1) {
                -1 => None,
                k if k >= 1 => Some(k as usize),
                k => return Err(err(format!("axis {k}: only the last axis is supported"))),
            };
            b.push(name, Op::Softmax { axis }, vec![x], &out);
        }
        other => {
            return Err(ImportError::UnsupportedOp {
                op: other.to_string(),
                node: name,
            })
        }
    }
    Ok(())
}
