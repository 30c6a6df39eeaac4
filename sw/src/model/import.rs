//! ONNX to [`Graph`] import: the input and its shape, constants, and each node lowered by the
//! parser of its operator (see [`ops`]: one small function per operator and one registry line),
//! which may fold bias adds and batch normalization into the preceding convolution or dense
//! layer. Tensors are decoded by [`super::onnx_tensor`], as for the weight reader.

mod const_fold;
mod elementwise;
mod ops;

use std::collections::HashMap;
use std::path::Path;

use onnx_protobuf::{AttributeProto, ModelProto, NodeProto, TensorProto};
use thiserror::Error;

use super::float_exec;
use super::graph::{Graph, Node, Op, Preprocess, Tensor, ValueId};
use super::onnx::{self, ModelError};
use super::onnx_tensor;

pub use ops::{parser, Parser, OPERATORS};

/// Errors of the ONNX import.
#[derive(Debug, Error)]
pub enum ImportError {
    /// The file cannot be read, is not an ONNX model, or holds a tensor that cannot be decoded.
    #[error(transparent)]
    Model(#[from] ModelError),
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
    let model = onnx::load_model(path.as_ref())?;
    graph_from_model_shaped(&model, shape)
}

/// Import an ONNX model from its serialized bytes.
pub fn graph_from_bytes(bytes: &[u8]) -> Result<Graph, ImportError> {
    graph_from_model(&onnx::parse_model(bytes, "model")?)
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

/// A constant known at import time, in float and integer views.
#[derive(Debug, Clone)]
pub struct Const {
    /// Shape.
    pub dims: Vec<usize>,
    /// Values as f32.
    pub f: Vec<f32>,
    /// Values as i64 (floats truncated).
    pub i: Vec<i64>,
}

impl Const {
    /// Decode an ONNX tensor (see [`onnx_tensor::decode`]).
    pub fn decode(t: &TensorProto) -> Result<Const, ModelError> {
        let d = onnx_tensor::decode(t)?;
        Ok(Const {
            f: d.to_f32(),
            i: d.to_i64(),
            dims: d.dims,
        })
    }
}

/// What one ONNX node becomes in the graph.
pub enum Lowered {
    /// A node computing `op` from the values `inputs`.
    Op(Op, Vec<ValueId>),
    /// Another name for an existing value (Identity, or a node folded into its producer).
    Alias(ValueId),
    /// A constant known at import time.
    Const(Const),
}

/// Import state: value numbering, constants and the nodes built so far.
struct Builder {
    ids: HashMap<String, ValueId>,
    consts: HashMap<String, Const>,
    nodes: Vec<Node>,
    producer: HashMap<ValueId, usize>,
    uses: HashMap<String, usize>,
    num_values: usize,
    /// The graph input's shape (batch axis removed).
    input_shape: Vec<usize>,
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
    /// Record what node `name` became, under its output name `out`.
    fn add(&mut self, name: String, lowered: Lowered, out: &str) {
        match lowered {
            Lowered::Op(op, inputs) => {
                let output = self.new_value(out);
                self.producer.insert(output, self.nodes.len());
                self.nodes.push(Node {
                    name,
                    op,
                    inputs,
                    output,
                });
            }
            Lowered::Alias(id) => {
                self.ids.insert(out.to_string(), id);
            }
            Lowered::Const(c) => {
                self.consts.insert(out.to_string(), c);
            }
        }
    }
}

/// One node being imported, as its operator parser sees it: attributes, inputs (computed values
/// or constants) and the node producing an input, for folding.
pub struct Ctx<'a> {
    node: &'a NodeProto,
    name: &'a str,
    b: &'a mut Builder,
}

impl<'a> Ctx<'a> {
    /// The ONNX node.
    pub fn node(&self) -> &'a NodeProto {
        self.node
    }
    /// An error about this node.
    pub fn err(&self, reason: impl Into<String>) -> ImportError {
        ImportError::Invalid {
            op: self.node.op_type.clone(),
            node: self.name.to_string(),
            reason: reason.into(),
        }
    }
    fn attr(&self, name: &str) -> Option<&'a AttributeProto> {
        self.node.attribute.iter().find(|a| a.name == name)
    }
    /// Integer attribute, `default` when absent.
    pub fn int(&self, name: &str, default: i64) -> i64 {
        self.attr(name).map_or(default, |a| a.i)
    }
    /// Float attribute, `default` when absent.
    pub fn float(&self, name: &str, default: f32) -> f32 {
        self.attr(name).map_or(default, |a| a.f)
    }
    /// Integer list attribute.
    pub fn ints(&self, name: &str) -> Option<&'a [i64]> {
        self.attr(name).map(|a| a.ints.as_slice())
    }
    /// String attribute.
    pub fn string(&self, name: &str) -> Option<String> {
        self.attr(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }
    /// Tensor attribute.
    pub fn tensor(&self, name: &str) -> Option<&'a TensorProto> {
        self.attr(name).and_then(|a| a.t.as_ref())
    }
    /// Number of inputs, counting empty (omitted optional) ones.
    pub fn input_count(&self) -> usize {
        self.node.input.len()
    }
    /// Is optional input `i` given?
    pub fn has_input(&self, i: usize) -> bool {
        self.node.input.get(i).is_some_and(|s| !s.is_empty())
    }
    /// Name of input `i`.
    pub fn input_name(&self, i: usize) -> Result<&'a str, ImportError> {
        self.node
            .input
            .get(i)
            .map(|s| s.as_str())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.err(format!("missing input {i}")))
    }
    /// Input `i` as a computed value.
    pub fn value(&self, i: usize) -> Result<ValueId, ImportError> {
        let nm = self.input_name(i)?;
        self.b.value(nm).ok_or_else(|| {
            self.err(format!(
                "input '{nm}' is not a computed value (constant or unknown)"
            ))
        })
    }
    /// Input `i` as a constant, if it is one.
    pub fn const_opt(&self, i: usize) -> Option<&Const> {
        self.b.consts.get(self.node.input.get(i)?)
    }
    /// Input `i`, which must be a constant.
    pub fn constant(&self, i: usize) -> Result<Const, ImportError> {
        let nm = self.input_name(i)?;
        self.const_opt(i)
            .cloned()
            .ok_or_else(|| self.err(format!("input '{nm}' must be a constant")))
    }
    /// The operator of the Conv or Dense node producing input `i`, when nothing else reads its
    /// output, for folding this node into it; `what` names the fold in the error otherwise.
    pub fn fold_target(&mut self, i: usize, what: &str) -> Result<&mut Op, ImportError> {
        let nm = self.input_name(i)?;
        let v = self.value(i)?;
        let single = self.b.uses.get(nm).copied().unwrap_or(0) == 1;
        let idx = self
            .b
            .producer
            .get(&v)
            .copied()
            .filter(|&idx| single && matches!(self.b.nodes[idx].op, Op::Conv(_) | Op::Dense(_)))
            .ok_or_else(|| self.err(what.to_string()))?;
        Ok(&mut self.b.nodes[idx].op)
    }
    /// The shape (batch axis removed) of computed input `i`: the graph imported so far run by
    /// the float executor on a zero input, so every operator's shape rule is the executor's.
    pub fn value_shape(&self, i: usize) -> Result<Vec<usize>, ImportError> {
        let v = self.value(i)?;
        let shape = self.b.input_shape.clone();
        let graph = Graph {
            input: 0,
            nodes: self.b.nodes.clone(),
            outputs: vec![v],
            num_values: self.b.num_values,
            preprocess: Preprocess::default(),
            input_shape: shape.clone(),
        };
        let zero = Tensor {
            data: vec![0.0; shape.iter().product()],
            shape,
        };
        let out = float_exec::run(&graph, &zero).map_err(|e| self.err(e.to_string()))?;
        Ok(out[0].shape.clone())
    }
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
        input_shape: Vec::new(),
    };
    for t in &g.initializer {
        let c = Const::decode(t)?;
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
    b.input_shape.clone_from(&input_shape);

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
    let parse = ops::parser(&n.op_type).ok_or_else(|| ImportError::UnsupportedOp {
        op: n.op_type.clone(),
        node: name.clone(),
    })?;
    let mut ctx = Ctx {
        node: n,
        name: &name,
        b,
    };
    let out = n
        .output
        .first()
        .ok_or_else(|| ctx.err("node has no output"))?;
    let lowered = parse(&mut ctx)?;
    b.add(name, lowered, out);
    Ok(())
}
