//! Element-wise operators: the scalar functions of one value (constant add/multiply/divide,
//! HardSigmoid, HardSwish, Sigmoid, ReLU, Clip) shared by the float executor and the integer
//! golden model's lookup tables, and the broadcast of a per-channel tensor `[C, 1, 1]` onto a
//! feature map `[C, H, W]` used by the two-input `Mul` (squeeze-excitation gates).

use serde::{Deserialize, Serialize};

/// A function of one real value, applied to every element of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Pointwise {
    /// `x + c`.
    AddConst(f32),
    /// `x * c`.
    MulConst(f32),
    /// `x / c`.
    DivConst(f32),
    /// `max(0, min(1, alpha * x + beta))`.
    HardSigmoid {
        /// Slope.
        alpha: f32,
        /// Offset.
        beta: f32,
    },
    /// `x * max(0, min(1, x / 6 + 1 / 2))`.
    HardSwish,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
}

impl Pointwise {
    /// The function's value at `x` (f32 arithmetic, as the float executor computes it).
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Pointwise::AddConst(c) => x + c,
            Pointwise::MulConst(c) => x * c,
            Pointwise::DivConst(c) => x / c,
            Pointwise::HardSigmoid { alpha, beta } => (alpha * x + beta).clamp(0.0, 1.0),
            Pointwise::HardSwish => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
            Pointwise::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        }
    }

    /// The ONNX operator name.
    pub fn kind(self) -> &'static str {
        match self {
            Pointwise::AddConst(_) => "Add",
            Pointwise::MulConst(_) => "Mul",
            Pointwise::DivConst(_) => "Div",
            Pointwise::HardSigmoid { .. } => "HardSigmoid",
            Pointwise::HardSwish => "HardSwish",
            Pointwise::Sigmoid => "Sigmoid",
        }
    }
}

/// `max(x, 0)`.
pub fn relu(x: f32) -> f32 {
    x.max(0.0)
}

/// `min(max(x, min), max)`.
pub fn clip(x: f32, min: f32, max: f32) -> f32 {
    x.max(min).min(max)
}

/// Element-wise product of two tensors `(shape, data)` of the same shape, or of a feature map
/// `[C, H, W]` and a per-channel tensor `[C, 1, 1]` (either order), with `mul` combining one
/// element of `a` with one of `b`. Returns the larger shape and the products.
pub fn broadcast_mul<T: Copy, U>(
    a: (&[usize], &[T]),
    b: (&[usize], &[T]),
    mul: impl Fn(T, T) -> U,
) -> Result<(Vec<usize>, Vec<U>), String> {
    if a.0 == b.0 {
        let data = a.1.iter().zip(b.1).map(|(&x, &y)| mul(x, y)).collect();
        return Ok((a.0.to_vec(), data));
    }
    let per_channel = |map: &[usize], gate: &[usize]| match (map, gate) {
        ([c, h, w], [g, 1, 1]) if c == g => Some(h * w),
        _ => None,
    };
    if let Some(plane) = per_channel(a.0, b.0) {
        let data = a.1.iter().enumerate().map(|(k, &x)| mul(x, b.1[k / plane]));
        Ok((a.0.to_vec(), data.collect()))
    } else if let Some(plane) = per_channel(b.0, a.0) {
        let data = b.1.iter().enumerate().map(|(k, &y)| mul(a.1[k / plane], y));
        Ok((b.0.to_vec(), data.collect()))
    } else {
        Err(format!(
            "shapes {:?} and {:?}: only equal shapes or [C, H, W] times [C, 1, 1] are supported",
            a.0, b.0
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_functions_match_their_definitions() {
        let hs = Pointwise::HardSigmoid {
            alpha: 0.2,
            beta: 0.5,
        };
        assert_eq!(hs.apply(-3.0), 0.0);
        assert_eq!(hs.apply(0.0), 0.5);
        assert_eq!(hs.apply(10.0), 1.0);
        // HardSwish(x) = x * relu6(x + 3) / 6.
        for x in [-4.0f32, -3.0, -1.5, 0.0, 0.7, 2.9, 3.0, 5.0] {
            let want = x * clip(x + 3.0, 0.0, 6.0) / 6.0;
            assert!((Pointwise::HardSwish.apply(x) - want).abs() < 1e-6, "{x}");
        }
        assert!((Pointwise::Sigmoid.apply(0.0) - 0.5).abs() < 1e-7);
    }

    #[test]
    fn channel_gate_broadcasts_over_the_plane() {
        let map = [1, 2, 3, 4, 5, 6, 7, 8];
        let gate = [10, 100];
        let (shape, got) = broadcast_mul((&[2, 2, 2], &map), (&[2, 1, 1], &gate), |a, b| a * b)
            .expect("per-channel gate");
        assert_eq!(shape, vec![2, 2, 2]);
        assert_eq!(got, vec![10, 20, 30, 40, 500, 600, 700, 800]);
        let (_, swapped) =
            broadcast_mul((&[2, 1, 1], &gate), (&[2, 2, 2], &map), |a, b| a * b).unwrap();
        assert_eq!(swapped, got);
        assert!(broadcast_mul((&[3, 1, 1], &[1, 2, 3]), (&[2, 2, 2], &map), |a, b| a * b).is_err());
    }
}
