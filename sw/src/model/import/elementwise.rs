//! Parsers of the element-wise operators: a scalar constant added (outside a bias), multiplied
//! or divided, the product of two computed values (squeeze-excitation gates, HardSwish written
//! as `x * clip(x + 3, 0, 6) / 6`), HardSigmoid, HardSwish and Sigmoid.

use super::ops::unary;
use super::{Const, Ctx, ImportError, Lowered};
use crate::model::elementwise::Pointwise;
use crate::model::graph::Op;

/// The value of a constant with one element (a scalar, or any shape of size 1).
fn scalar(c: &Ctx, k: &Const) -> Result<f32, ImportError> {
    match k.f.as_slice() {
        [v] => Ok(*v),
        _ => Err(c.err(format!(
            "constant of shape {:?}: only a scalar constant is supported here",
            k.dims
        ))),
    }
}

/// Input `vi` plus the scalar constant `k`, when the constant is not a bias to fold.
pub(super) fn add_const(c: &Ctx, k: &Const, vi: usize) -> Result<Lowered, ImportError> {
    let p = Pointwise::AddConst(scalar(c, k)?);
    Ok(Lowered::Op(Op::Pointwise(p), vec![c.value(vi)?]))
}

/// Two computed values multiplied, or a computed value and a scalar constant.
pub(super) fn mul(c: &mut Ctx) -> Result<Lowered, ImportError> {
    if c.input_count() != 2 {
        return Err(c.err(format!("{} inputs; Mul takes two", c.input_count())));
    }
    let (k0, k1) = (c.const_opt(0).cloned(), c.const_opt(1).cloned());
    let (k, vi) = match (k0, k1) {
        (None, None) => return Ok(Lowered::Op(Op::Mul, vec![c.value(0)?, c.value(1)?])),
        (Some(_), Some(_)) => return Err(c.err("constant folding of Mul is not supported")),
        (Some(k), None) => (k, 1),
        (None, Some(k)) => (k, 0),
    };
    let p = Pointwise::MulConst(scalar(c, &k)?);
    Ok(Lowered::Op(Op::Pointwise(p), vec![c.value(vi)?]))
}

/// A computed value divided by a non-zero scalar constant.
pub(super) fn div(c: &mut Ctx) -> Result<Lowered, ImportError> {
    let k = c
        .const_opt(1)
        .cloned()
        .ok_or_else(|| c.err("only division by a constant is supported"))?;
    match scalar(c, &k)? {
        0.0 => Err(c.err("division by the constant 0")),
        d => Ok(Lowered::Op(
            Op::Pointwise(Pointwise::DivConst(d)),
            vec![c.value(0)?],
        )),
    }
}

pub(super) fn hard_sigmoid(c: &mut Ctx) -> Result<Lowered, ImportError> {
    let p = Pointwise::HardSigmoid {
        alpha: c.float("alpha", 0.2),
        beta: c.float("beta", 0.5),
    };
    unary(c, Op::Pointwise(p))
}

pub(super) fn hard_swish(c: &mut Ctx) -> Result<Lowered, ImportError> {
    unary(c, Op::Pointwise(Pointwise::HardSwish))
}

pub(super) fn sigmoid(c: &mut Ctx) -> Result<Lowered, ImportError> {
    unary(c, Op::Pointwise(Pointwise::Sigmoid))
}
