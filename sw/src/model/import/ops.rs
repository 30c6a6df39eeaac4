//! The operator registry of the importer: one parser per ONNX operator, turning a node (seen
//! through [`Ctx`]) into what it becomes in the graph ([`Lowered`]). Supporting another
//! operator is one parser function here and one line in [`OPERATORS`].

use super::const_fold::{self, concat_consts, reshape_const};
use super::elementwise::{self, add_const};
use super::{Const, Ctx, ImportError, Lowered};
use crate::model::fold;
use crate::model::graph::{AutoPad, Conv, Dense, Op, Pool, Tensor, Window};
use crate::model::onnx_tensor::output_channel_first;

/// The parser of one operator.
pub type Parser = fn(&mut Ctx) -> Result<Lowered, ImportError>;

/// Every supported ONNX operator with its parser.
pub const OPERATORS: &[(&str, Parser)] = &[
    ("Constant", constant),
    ("Identity", identity),
    ("Dropout", identity),
    ("Conv", conv),
    ("Gemm", dense),
    ("MatMul", dense),
    ("Add", add),
    ("Sum", add),
    ("Concat", concat),
    ("BatchNormalization", batch_norm),
    ("Relu", relu),
    ("LeakyRelu", leaky_relu),
    ("PRelu", prelu),
    ("Clip", clip),
    ("MaxPool", max_pool),
    ("AveragePool", average_pool),
    ("GlobalAveragePool", global_average_pool),
    ("Flatten", flatten),
    ("Reshape", reshape),
    ("Transpose", transpose_op),
    ("Softmax", softmax),
    ("Mul", elementwise::mul),
    ("Div", elementwise::div),
    ("HardSigmoid", elementwise::hard_sigmoid),
    ("HardSwish", elementwise::hard_swish),
    ("Sigmoid", elementwise::sigmoid),
    ("Shape", const_fold::shape),
    ("Cast", const_fold::cast),
    ("Slice", const_fold::slice),
    ("Gather", const_fold::gather),
];

/// The parser of `op_type`, if the importer supports it.
pub fn parser(op_type: &str) -> Option<Parser> {
    OPERATORS
        .iter()
        .find(|(name, _)| *name == op_type)
        .map(|&(_, p)| p)
}

/// A node computing `op` from input 0.
pub(super) fn unary(c: &Ctx, op: Op) -> Result<Lowered, ImportError> {
    Ok(Lowered::Op(op, vec![c.value(0)?]))
}

fn constant(c: &mut Ctx) -> Result<Lowered, ImportError> {
    let t = c
        .tensor("value")
        .ok_or_else(|| c.err("only the 'value' tensor attribute is supported"))?;
    Ok(Lowered::Const(Const::decode(t)?))
}

fn identity(c: &mut Ctx) -> Result<Lowered, ImportError> {
    match c.const_opt(0) {
        Some(k) => Ok(Lowered::Const(k.clone())),
        None => Ok(Lowered::Alias(c.value(0)?)),
    }
}

/// The sliding window of a convolution or pooling node with kernel `kernel`.
fn window(c: &Ctx, kernel: [usize; 2]) -> Result<Window, ImportError> {
    let pair = |name: &str, default: usize| -> Result<[usize; 2], ImportError> {
        match c.ints(name) {
            None => Ok([default; 2]),
            Some([h, w]) if *h >= 1 && *w >= 1 => Ok([*h as usize, *w as usize]),
            Some(v) => Err(c.err(format!(
                "attribute {name} = {v:?} is not two positive integers"
            ))),
        }
    };
    let pads = match c.ints("pads") {
        None => [0; 4],
        Some(p) if p.len() == 4 && p.iter().all(|&x| x >= 0) => {
            [p[0] as usize, p[1] as usize, p[2] as usize, p[3] as usize]
        }
        Some(p) => {
            return Err(c.err(format!(
                "pads {p:?} are not four non-negative integers (2-D only)"
            )))
        }
    };
    let auto_pad = match c.string("auto_pad").as_deref() {
        None | Some("NOTSET") | Some("") => AutoPad::NotSet,
        Some("VALID") => AutoPad::Valid,
        Some("SAME_UPPER") => AutoPad::SameUpper,
        Some("SAME_LOWER") => AutoPad::SameLower,
        Some(o) => return Err(c.err(format!("auto_pad {o} unknown"))),
    };
    Ok(Window {
        kernel,
        stride: pair("strides", 1)?,
        dilation: pair("dilations", 1)?,
        pads,
        auto_pad,
        ceil_mode: c.int("ceil_mode", 0) != 0,
    })
}

fn conv(c: &mut Ctx) -> Result<Lowered, ImportError> {
    let x = c.value(0)?;
    let w = c.constant(1)?;
    if w.dims.len() != 4 {
        return Err(c.err(format!(
            "only 2-D convolution is supported, weight shape {:?}",
            w.dims
        )));
    }
    let o = w.dims[0];
    let bias = if c.has_input(2) {
        c.constant(2)?.f
    } else {
        vec![0.0; o]
    };
    if bias.len() != o {
        return Err(c.err(format!(
            "bias has {} values for {o} output channels",
            bias.len()
        )));
    }
    let groups = c.int("group", 1);
    if groups < 1 || o % groups as usize != 0 {
        return Err(c.err(format!(
            "group = {groups} does not divide {o} output channels"
        )));
    }
    let kernel = [w.dims[2], w.dims[3]];
    if let Some(ks) = c.ints("kernel_shape") {
        if ks.len() != 2 || ks[0] as usize != kernel[0] || ks[1] as usize != kernel[1] {
            return Err(c.err(format!(
                "kernel_shape {ks:?} disagrees with weight shape {:?}",
                w.dims
            )));
        }
    }
    let conv = Conv {
        window: window(c, kernel)?,
        weight: Tensor {
            shape: w.dims,
            data: w.f,
        },
        bias,
        groups: groups as usize,
    };
    Ok(Lowered::Op(Op::Conv(conv), vec![x]))
}

/// `Gemm` and `MatMul` with a constant 2-D weight: a dense layer.
fn dense(c: &mut Ctx) -> Result<Lowered, ImportError> {
    let x = c.value(0)?;
    let w = c.constant(1)?;
    if c.int("transA", 0) != 0 {
        return Err(c.err("transA = 1 is not supported"));
    }
    if w.dims.len() != 2 {
        return Err(c.err(format!(
            "only a constant 2-D weight is supported, shape {:?}",
            w.dims
        )));
    }
    let (shape, mut data, _) = output_channel_first(c.node(), w.dims, w.f);
    let (alpha, beta) = (c.float("alpha", 1.0), c.float("beta", 1.0));
    data.iter_mut().for_each(|v| *v *= alpha);
    let o = shape[0];
    let bias = if c.has_input(2) {
        let k = c.constant(2)?;
        match k.f.len() {
            1 => vec![k.f[0] * beta; o],
            l if l == o => k.f.iter().map(|v| v * beta).collect(),
            l => return Err(c.err(format!("C has {l} values for {o} outputs"))),
        }
    } else {
        vec![0.0; o]
    };
    let weight = Tensor { shape, data };
    Ok(Lowered::Op(Op::Dense(Dense { weight, bias }), vec![x]))
}

/// Two computed values added, a constant added to a Conv/Gemm/MatMul output folded into its
/// bias, or else a scalar constant added element-wise.
fn add(c: &mut Ctx) -> Result<Lowered, ImportError> {
    if c.input_count() != 2 {
        return Err(c.err(format!(
            "{} inputs; only two are supported",
            c.input_count()
        )));
    }
    let (k0, k1) = (c.const_opt(0).cloned(), c.const_opt(1).cloned());
    let (k, vi) = match (k0, k1) {
        (None, None) => return Ok(Lowered::Op(Op::Add, vec![c.value(0)?, c.value(1)?])),
        (Some(_), Some(_)) => return Err(c.err("constant folding of Add is not supported")),
        (Some(k), None) => (k, 1),
        (None, Some(k)) => (k, 0),
    };
    let v = c.value(vi)?;
    match c.fold_target(vi, "") {
        Ok(target) => {
            fold::add_bias(target, &k.f).map_err(|e| c.err(e))?;
            Ok(Lowered::Alias(v))
        }
        Err(_) => add_const(c, &k, vi),
    }
}

fn concat(c: &mut Ctx) -> Result<Lowered, ImportError> {
    if c.const_opt(0).is_some() {
        return concat_consts(c);
    }
    let axis = c.int("axis", 0);
    if axis != 1 {
        return Err(c.err(format!(
            "axis {axis}: only the channel axis (1) is supported"
        )));
    }
    let xs = (0..c.input_count())
        .map(|i| c.value(i))
        .collect::<Result<Vec<_>, _>>()?;
    if xs.is_empty() {
        return Err(c.err("no input"));
    }
    Ok(Lowered::Op(Op::Concat, xs))
}

/// Batch normalization, folded into the Conv or Gemm before it.
fn batch_norm(c: &mut Ctx) -> Result<Lowered, ImportError> {
    let x = c.value(0)?;
    let [scale, bias, mean, var] = [1, 2, 3, 4].map(|i| c.constant(i));
    let (scale, bias, mean, var) = (scale?.f, bias?.f, mean?.f, var?.f);
    let eps = c.float("epsilon", 1e-5);
    let target = c.fold_target(
        0,
        "BatchNormalization must directly follow a Conv or Gemm to be folded",
    )?;
    fold::fold_batch_norm(target, &scale, &bias, &mean, &var, eps).map_err(|e| c.err(e))?;
    Ok(Lowered::Alias(x))
}

fn relu(c: &mut Ctx) -> Result<Lowered, ImportError> {
    unary(c, Op::Relu)
}

fn leaky_relu(c: &mut Ctx) -> Result<Lowered, ImportError> {
    unary(c, Op::PRelu(vec![c.float("alpha", 0.01)]))
}

fn prelu(c: &mut Ctx) -> Result<Lowered, ImportError> {
    unary(c, Op::PRelu(c.constant(1)?.f))
}

fn clip(c: &mut Ctx) -> Result<Lowered, ImportError> {
    let bound = |i: usize, attr: &str, default: f32| -> Result<f32, ImportError> {
        if c.has_input(i) {
            c.constant(i)?
                .f
                .first()
                .copied()
                .ok_or_else(|| c.err(format!("empty bound {i}")))
        } else {
            Ok(c.float(attr, default))
        }
    };
    let min = bound(1, "min", f32::NEG_INFINITY)?;
    let max = bound(2, "max", f32::INFINITY)?;
    unary(c, Op::Clip { min, max })
}

/// The window of a 2-D pooling node.
fn pool(c: &Ctx) -> Result<Pool, ImportError> {
    let k = c
        .ints("kernel_shape")
        .ok_or_else(|| c.err("kernel_shape missing"))?;
    if k.len() != 2 || k.iter().any(|&v| v < 1) {
        return Err(c.err(format!("kernel_shape {k:?}: only 2-D pooling is supported")));
    }
    if c.node().output.iter().skip(1).any(|o| !o.is_empty()) {
        return Err(c.err("the Indices output is not supported"));
    }
    Ok(Pool {
        window: window(c, [k[0] as usize, k[1] as usize])?,
        count_include_pad: c.int("count_include_pad", 0) != 0,
    })
}

fn max_pool(c: &mut Ctx) -> Result<Lowered, ImportError> {
    unary(c, Op::MaxPool(pool(c)?))
}

fn average_pool(c: &mut Ctx) -> Result<Lowered, ImportError> {
    unary(c, Op::AvgPool(pool(c)?))
}

fn global_average_pool(c: &mut Ctx) -> Result<Lowered, ImportError> {
    unary(c, Op::GlobalAvgPool)
}

fn flatten(c: &mut Ctx) -> Result<Lowered, ImportError> {
    if c.int("axis", 1) != 1 {
        return Err(c.err("only axis = 1 is supported"));
    }
    unary(c, Op::Flatten)
}

fn reshape(c: &mut Ctx) -> Result<Lowered, ImportError> {
    if let Some(k) = c.const_opt(0).cloned() {
        return reshape_const(c, k);
    }
    let shape = c.constant(1)?.i;
    let rest = match shape.split_first() {
        Some((&first, rest))
            if first == 1 || first == 0 || (first == -1 && rest.iter().all(|&d| d > 0)) =>
        {
            rest
        }
        _ => {
            return Err(c.err(format!(
                "target shape {shape:?} must keep the batch axis first"
            )))
        }
    };
    if rest == [-1] {
        unary(c, Op::Flatten)
    } else if rest.iter().all(|&d| d > 0) {
        unary(c, Op::Reshape(rest.iter().map(|&d| d as usize).collect()))
    } else {
        Err(c.err(format!(
            "target shape {rest:?}: only -1 alone or positive sizes are supported"
        )))
    }
}

fn transpose_op(c: &mut Ctx) -> Result<Lowered, ImportError> {
    let perm = c.ints("perm").ok_or_else(|| c.err("perm missing"))?;
    if perm.first() != Some(&0) || perm[1..].iter().any(|&p| p < 1) {
        return Err(c.err(format!("perm {perm:?} must keep the batch axis first")));
    }
    let p: Vec<usize> = perm[1..].iter().map(|&v| (v - 1) as usize).collect();
    let mut sorted = p.clone();
    sorted.sort_unstable();
    if sorted != (0..p.len()).collect::<Vec<_>>() {
        return Err(c.err(format!("perm {perm:?} is not a permutation")));
    }
    unary(c, Op::Transpose(p))
}

fn softmax(c: &mut Ctx) -> Result<Lowered, ImportError> {
    let axis = match c.int("axis", -1) {
        -1 => None,
        k if k >= 1 => Some(k as usize),
        k => return Err(c.err(format!("axis {k}: only the last axis is supported"))),
    };
    unary(c, Op::Softmax { axis })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operator_has_one_parser() {
        let mut names: Vec<&str> = OPERATORS.iter().map(|&(n, _)| n).collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "an operator is registered twice");
        assert!(parser("Conv").is_some() && parser("conv").is_none());
    }
}
