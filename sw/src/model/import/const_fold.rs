//! Parsers that compute constants at import time: `Shape` of a computed value (its shape is
//! fixed once the input shape is known), and `Cast`, `Slice`, `Gather`, `Concat` and `Reshape`
//! of constants, as in exported graphs that compute a `Reshape` target from `Shape`.

use super::{Const, Ctx, ImportError, Lowered};

/// A 1-D integer constant.
fn ints(v: Vec<i64>) -> Const {
    Const {
        dims: vec![v.len()],
        f: v.iter().map(|&x| x as f32).collect(),
        i: v,
    }
}

/// Input `i`, which must be a 1-D constant (a shape or index list).
fn vector(c: &Ctx, i: usize) -> Result<Const, ImportError> {
    let k = c.constant(i)?;
    if k.dims.len() > 1 {
        return Err(c.err(format!(
            "constant input {i} of shape {:?}: only 0-D or 1-D constants are folded",
            k.dims
        )));
    }
    Ok(k)
}

/// The shape of a computed value, batch axis (1) included, as a 1-D int64 constant (the
/// `start`/`end` range of the axes, as in ONNX).
pub(super) fn shape(c: &mut Ctx) -> Result<Lowered, ImportError> {
    let dims: Vec<i64> = std::iter::once(1)
        .chain(c.value_shape(0)?.iter().map(|&d| d as i64))
        .collect();
    let rank = dims.len() as i64;
    let at = |x: i64| (if x < 0 { x + rank } else { x }).clamp(0, rank) as usize;
    let (s, e) = (at(c.int("start", 0)), at(c.int("end", rank)));
    Ok(Lowered::Const(ints(dims[s..e.max(s)].to_vec())))
}

/// A constant converted to another element type: integer types truncate.
pub(super) fn cast(c: &mut Ctx) -> Result<Lowered, ImportError> {
    let mut k = c
        .const_opt(0)
        .cloned()
        .ok_or_else(|| c.err("only a Cast of a constant is supported"))?;
    match c.int("to", 0) {
        // float, float16, double, bfloat16
        1 | 10 | 11 | 16 => {}
        // the integer types and bool
        2..=7 | 9 | 12 | 13 => k.f = k.i.iter().map(|&x| x as f32).collect(),
        t => return Err(c.err(format!("cast to element type {t} is not supported"))),
    }
    Ok(Lowered::Const(k))
}

/// A range `[start, end)` of a 1-D constant, with ONNX's negative indices and clamping.
pub(super) fn slice(c: &mut Ctx) -> Result<Lowered, ImportError> {
    let data = vector(c, 0)?;
    let arg = |i: usize, attr: &str| -> Result<Option<Vec<i64>>, ImportError> {
        if c.has_input(i) {
            Ok(Some(vector(c, i)?.i))
        } else {
            Ok(c.ints(attr).map(|v| v.to_vec()))
        }
    };
    let starts = arg(1, "starts")?.ok_or_else(|| c.err("starts missing"))?;
    let ends = arg(2, "ends")?.ok_or_else(|| c.err("ends missing"))?;
    let axes = arg(3, "axes")?.unwrap_or_else(|| vec![0]);
    let steps = if c.has_input(4) {
        vector(c, 4)?.i
    } else {
        vec![1]
    };
    let ([start], [end], [0 | -1], [1]) = (&starts[..], &ends[..], &axes[..], &steps[..]) else {
        return Err(c.err(format!(
            "starts {starts:?}, ends {ends:?}, axes {axes:?}, steps {steps:?}: only one range \
             with step 1 of a 1-D constant is supported"
        )));
    };
    let n = data.i.len() as i64;
    let at = |x: i64| (if x < 0 { x + n } else { x }).clamp(0, n) as usize;
    let (s, e) = (at(*start), at(*end).max(at(*start)));
    Ok(Lowered::Const(Const {
        dims: vec![e - s],
        f: data.f[s..e].to_vec(),
        i: data.i[s..e].to_vec(),
    }))
}

/// Elements of a 1-D constant picked by constant indices (axis 0).
pub(super) fn gather(c: &mut Ctx) -> Result<Lowered, ImportError> {
    let (data, idx) = (vector(c, 0)?, vector(c, 1)?);
    if c.int("axis", 0) != 0 || data.dims.len() != 1 {
        return Err(c.err("only Gather on axis 0 of a 1-D constant is supported"));
    }
    let n = data.i.len() as i64;
    let picks = idx
        .i
        .iter()
        .map(|&k| {
            let j = if k < 0 { k + n } else { k };
            (0..n)
                .contains(&j)
                .then_some(j as usize)
                .ok_or_else(|| c.err(format!("index {k} out of range for {n} elements")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Lowered::Const(Const {
        dims: idx.dims.clone(),
        f: picks.iter().map(|&j| data.f[j]).collect(),
        i: picks.iter().map(|&j| data.i[j]).collect(),
    }))
}

/// 1-D constants joined end to end (`Concat` whose inputs are all constants).
pub(super) fn concat_consts(c: &Ctx) -> Result<Lowered, ImportError> {
    let parts = (0..c.input_count())
        .map(|i| vector(c, i))
        .collect::<Result<Vec<_>, _>>()?;
    if !matches!(c.int("axis", 0), 0 | -1) {
        return Err(c.err("constants are joined on axis 0 only"));
    }
    let (f, i) = parts
        .into_iter()
        .fold((vec![], vec![]), |(mut f, mut i), k| {
            f.extend(k.f);
            i.extend(k.i);
            (f, i)
        });
    Ok(Lowered::Const(Const {
        dims: vec![f.len()],
        f,
        i,
    }))
}

/// A constant with new dimensions (`0` copies the dimension, one `-1` takes the rest).
pub(super) fn reshape_const(c: &Ctx, k: Const) -> Result<Lowered, ImportError> {
    let target = vector(c, 1)?.i;
    let mut dims = Vec::with_capacity(target.len());
    for (a, &d) in target.iter().enumerate() {
        dims.push(match d {
            0 => k
                .dims
                .get(a)
                .copied()
                .ok_or_else(|| c.err("0 beyond the input's rank"))?,
            d if d > 0 => d as usize,
            _ => 0,
        });
    }
    let known: usize = dims.iter().filter(|&&d| d > 0).product();
    let holes = target.iter().filter(|&&d| d < 0).count();
    if holes > 1 || known == 0 || (holes == 1 && !k.f.len().is_multiple_of(known)) {
        return Err(c.err(format!("cannot reshape {:?} to {target:?}", k.dims)));
    }
    for (d, &t) in dims.iter_mut().zip(&target) {
        if t < 0 {
            *d = k.f.len() / known;
        }
    }
    if dims.iter().product::<usize>() != k.f.len() {
        return Err(c.err(format!("cannot reshape {:?} to {target:?}", k.dims)));
    }
    Ok(Lowered::Const(Const { dims, ..k }))
}
