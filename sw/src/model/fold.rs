//! Import-time rewrites: folding a constant bias add and a batch
//! normalization into the preceding convolution or dense layer.

use super::graph::Op;

fn bias_of(op: &mut Op) -> Result<&mut Vec<f32>, String> {
    match op {
        Op::Conv(c) => Ok(&mut c.bias),
        Op::Dense(d) => Ok(&mut d.bias),
        other => Err(format!("cannot fold into {}", other.kind())),
    }
}

/// Add a constant (one value, or one per output channel) to a layer's bias.
pub fn add_bias(op: &mut Op, add: &[f32]) -> Result<(), String> {
    let bias = bias_of(op)?;
    let o = bias.len();
    match add.len() {
        1 => bias.iter_mut().for_each(|b| *b += add[0]),
        l if l == o => bias.iter_mut().zip(add).for_each(|(b, a)| *b += a),
        l => {
            return Err(format!(
                "bias add of {l} values does not broadcast to {o} channels"
            ))
        }
    }
    Ok(())
}

/// Fold `y = gamma * (x - mean) / sqrt(var + eps) + beta` into the weights and bias of the
/// layer producing `x`: each output channel's weights scale by `gamma / sqrt(var + eps)`.
pub fn fold_batch_norm(
    op: &mut Op,
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
    eps: f32,
) -> Result<(), String> {
    let (weight, bias) = match op {
        Op::Conv(c) => (&mut c.weight, &mut c.bias),
        Op::Dense(d) => (&mut d.weight, &mut d.bias),
        other => {
            return Err(format!(
                "cannot fold batch normalization into {}",
                other.kind()
            ))
        }
    };
    let o = bias.len();
    if [gamma.len(), beta.len(), mean.len(), var.len()]
        .iter()
        .any(|&l| l != o)
    {
        return Err(format!(
            "batch normalization parameters do not have {o} channels"
        ));
    }
    if var.iter().any(|&v| v + eps <= 0.0 || !v.is_finite()) {
        return Err("batch normalization variance + epsilon must be positive".into());
    }
    let per = weight.data.len() / o.max(1);
    for ch in 0..o {
        let s = gamma[ch] / (var[ch] + eps).sqrt();
        weight.data[ch * per..(ch + 1) * per]
            .iter_mut()
            .for_each(|w| *w *= s);
        bias[ch] = (bias[ch] - mean[ch]) * s + beta[ch];
    }
    Ok(())
}
