//! Per-output-channel symmetric quantization of f32 tensors to B-bit signed integers.

use serde::{Deserialize, Serialize};

/// A quantized tensor: `values[i] * scales[channel(i)]` approximates the original weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quantized {
    /// Value width B.
    pub bits: u8,
    /// Tensor shape; `dims[0]` is the output channel.
    pub dims: Vec<usize>,
    /// Integer values in row-major order, in `-(2^(B-1)-1) ..= 2^(B-1)-1`.
    pub values: Vec<i32>,
    /// One scale per output channel.
    pub scales: Vec<f32>,
}

/// Why a tensor could not be quantized.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantError {
    /// B outside the allowed range (4..=16 for the codec, 2..=16 for plain quantization).
    #[error("bit width {bits} is outside {min}..=16")]
    Bits {
        /// The width asked for.
        bits: u8,
        /// The smallest allowed width.
        min: u8,
    },
    /// The data length does not match the shape.
    #[error("shape {dims:?} holds {expected} values but {actual} were given")]
    Shape {
        /// The shape.
        dims: Vec<usize>,
        /// Its element count.
        expected: usize,
        /// The data length.
        actual: usize,
    },
    /// NaN or infinity in the weights.
    #[error("weight {0} is not finite")]
    NotFinite(usize),
}

impl Quantized {
    /// Number of output channels.
    pub fn channels(&self) -> usize {
        self.dims.first().copied().unwrap_or(1)
    }

    /// Weights per output channel.
    pub fn channel_len(&self) -> usize {
        self.values.len() / self.channels().max(1)
    }

    /// Back to f32 with the per-channel scales.
    pub fn dequantize(&self) -> Vec<f32> {
        dequantize(&self.values, &self.scales, self.channel_len())
    }

    /// Refit each output channel's scale to the integers it holds: the least-squares
    /// `sum(w q) / sum(q q)` against the float weights `data` (of this tensor's shape), so the
    /// scale absorbs a systematic shrink or growth of the integers (a dead zone moves them
    /// towards the prediction). Channels with no non-zero integer, or whose fit is not positive,
    /// keep their scale.
    pub fn refit_scales(&mut self, data: &[f32]) {
        let per = self.channel_len().max(1);
        for ((scale, q), w) in self
            .scales
            .iter_mut()
            .zip(self.values.chunks(per))
            .zip(data.chunks(per))
        {
            let (wq, qq) = q.iter().zip(w).fold((0f64, 0f64), |(wq, qq), (&q, &w)| {
                (wq + w as f64 * q as f64, qq + q as f64 * q as f64)
            });
            if qq > 0.0 && wq > 0.0 {
                *scale = (wq / qq) as f32;
            }
        }
    }
}

/// `values[i] * scales[i / channel_len]`.
pub fn dequantize(values: &[i32], scales: &[f32], channel_len: usize) -> Vec<f32> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| v as f32 * scales[i / channel_len.max(1)])
        .collect()
}

/// How each output channel's scale is chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grid {
    /// `scale = max|w| / qmax`: no weight is clipped.
    #[default]
    MaxAbs,
    /// The scale `alpha * max|w| / qmax` (alpha in 0.30, 0.31 .. 1.00) with the least squared
    /// error once the integers are rounded to multiples of `step` LSB (1 for plain B-bit
    /// quantization; LineCompress with error bound eps >= 1 keeps about every `2 eps`-th level):
    /// the largest weights are clipped when that lowers the error of all the others.
    MseClip {
        /// The coarsest step the integers will be rounded to later, in LSB.
        step: u32,
    },
    /// Channel scales drawn towards one float step for the whole layer:
    /// `scale_c = (max|w_c| / qmax)^(1 - t) * (max|w| / qmax)^t` with `t = toward / 100`
    /// (`max|w|` over the layer; 0 is [`Grid::MaxAbs`], 100 one scale for every channel). An
    /// entropy-coded grid spends bits where its step is fine: a common step spends them evenly.
    /// No weight is clipped.
    LayerStep {
        /// How far towards the layer's step, in percent (0..=100).
        toward: u8,
    },
}

/// Quantize `data` (shape `dims`, row-major, `dims[0]` = output channels) per output channel:
/// `scale_c = max|w_c| / (2^(B-1) - 1)` (1 for an all-zero channel), `q = round(w / scale_c)`.
/// B in 4..=16 (the codec's widths).
pub fn quantize_per_channel(
    data: &[f32],
    dims: &[usize],
    bits: u8,
) -> Result<Quantized, QuantError> {
    if bits < 4 {
        return Err(QuantError::Bits { bits, min: 4 });
    }
    quantize_grid(data, dims, bits, Grid::MaxAbs)
}

/// Quantize per output channel as [`quantize_per_channel`], the scales chosen by `grid`;
/// B in 2..=16.
pub fn quantize_grid(
    data: &[f32],
    dims: &[usize],
    bits: u8,
    grid: Grid,
) -> Result<Quantized, QuantError> {
    if !(2..=16).contains(&bits) {
        return Err(QuantError::Bits { bits, min: 2 });
    }
    let expected: usize = dims.iter().product();
    if expected != data.len() || dims.is_empty() || expected == 0 {
        return Err(QuantError::Shape {
            dims: dims.to_vec(),
            expected,
            actual: data.len(),
        });
    }
    if let Some(i) = data.iter().position(|w| !w.is_finite()) {
        return Err(QuantError::NotFinite(i));
    }
    let qmax = ((1i32 << (bits - 1)) - 1) as f32;
    let per = expected / dims[0];
    let layer_amax = data.iter().fold(0f32, |m, w| m.max(w.abs()));
    let mut values = Vec::with_capacity(expected);
    let mut scales = Vec::with_capacity(dims[0]);
    for chunk in data.chunks(per) {
        let amax = chunk.iter().fold(0f32, |m, w| m.max(w.abs()));
        let scale = match grid {
            _ if amax == 0.0 => 1.0,
            Grid::MaxAbs => amax / qmax,
            Grid::MseClip { step } => mse_scale(chunk, amax / qmax, qmax, step.max(1) as f32),
            Grid::LayerStep { toward } => {
                let t = toward.min(100) as f32 / 100.0;
                (amax / qmax).powf(1.0 - t) * (layer_amax / qmax).powf(t)
            }
        };
        values.extend(
            chunk
                .iter()
                .map(|w| (w / scale).round().clamp(-qmax, qmax) as i32),
        );
        scales.push(scale);
    }
    Ok(Quantized {
        bits,
        dims: dims.to_vec(),
        values,
        scales,
    })
}

/// The scale `alpha * full` (alpha = 0.30 ..= 1.00 in steps of 0.01) that minimises the squared
/// error of `w` against `scale * round_step(clamp(round(w / scale), qmax))`; the largest alpha
/// among equals.
fn mse_scale(w: &[f32], full: f32, qmax: f32, step: f32) -> f32 {
    let err = |scale: f32| -> f64 {
        w.iter()
            .map(|&x| {
                let q = (x / scale).round().clamp(-qmax, qmax);
                let r = ((q / step).round() * step).clamp(-qmax, qmax);
                let d = (x - r * scale) as f64;
                d * d
            })
            .sum()
    };
    (30..=100)
        .rev()
        .map(|a| full * a as f32 / 100.0)
        .map(|s| (s, err(s)))
        .fold((full, f64::INFINITY), |best, (s, e)| {
            if e < best.1 {
                (s, e)
            } else {
                best
            }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Squared error of the dequantized values, the integers rounded to multiples of `step`.
    fn sq_err(data: &[f32], q: &Quantized, step: i32) -> f64 {
        let qmax = (1i32 << (q.bits - 1)) - 1;
        let per = q.channel_len();
        data.iter()
            .zip(&q.values)
            .enumerate()
            .map(|(i, (&w, &v))| {
                let r = ((v as f64 / step as f64).round() as i32 * step).clamp(-qmax, qmax);
                (w as f64 - r as f64 * q.scales[i / per] as f64).powi(2)
            })
            .sum()
    }

    /// Laplacian-like weights (as trained weights are): many small, a long tail.
    fn heavy_tailed() -> Vec<f32> {
        (0..512)
            .map(|i| {
                let u = ((i * 7919 % 1021) as f32 + 0.5) / 1021.0;
                let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
                -u.ln() * 0.02 * sign
            })
            .collect()
    }

    #[test]
    fn mse_clipping_never_loses_to_max_abs_and_clips_outliers_at_coarse_steps() {
        let data = heavy_tailed();
        for (bits, step) in [(8u8, 1i32), (8, 16), (4, 1), (3, 1), (2, 1)] {
            let max_abs = quantize_grid(&data, &[4, 128], bits, Grid::MaxAbs).unwrap();
            let mse =
                quantize_grid(&data, &[4, 128], bits, Grid::MseClip { step: step as u32 }).unwrap();
            let (a, b) = (sq_err(&data, &max_abs, step), sq_err(&data, &mse, step));
            assert!(b <= a, "INT{bits} step {step}: {b} > {a}");
            if bits <= 4 || step > 1 {
                assert!(b < 0.95 * a, "INT{bits} step {step}: only {b} vs {a}");
                assert!(mse.scales.iter().zip(&max_abs.scales).all(|(m, x)| m < x));
            }
        }
    }

    /// A dead zone's shrink: integers that round every weight towards zero by a step of 16
    /// LSB. The refitted scale never has more squared error than the grid's, and lowers it
    /// by far here; an all-zero channel keeps its scale.
    #[test]
    fn refitted_scales_absorb_a_shrink() {
        let mut data = heavy_tailed();
        data[384..].fill(0.0);
        let mut q = quantize_grid(&data, &[4, 128], 8, Grid::MaxAbs).unwrap();
        for v in &mut q.values {
            *v = *v / 16 * 16;
        }
        let before = q.clone();
        q.refit_scales(&data);
        let per_channel = |q: &Quantized, c: usize| {
            let r = c * 128..(c + 1) * 128;
            let sub = Quantized {
                dims: vec![1, 128],
                values: q.values[r.clone()].to_vec(),
                scales: vec![q.scales[c]],
                ..q.clone()
            };
            sq_err(&data[r], &sub, 1)
        };
        for c in 0..3 {
            let (a, b) = (per_channel(&before, c), per_channel(&q, c));
            assert!(b < 0.9 * a, "channel {c}: {b} vs {a}");
            assert!(
                q.scales[c] > before.scales[c],
                "channel {c}: a shrink needs a larger scale"
            );
        }
        assert_eq!(q.scales[3], before.scales[3]);
    }

    /// Channels of very different magnitude: at 100 % every channel gets the layer's scale, at
    /// 0 % its own max-abs scale, in between a scale between the two; no integer leaves the
    /// B-bit range and the largest weight of the layer still maps to the largest level.
    #[test]
    fn layer_step_draws_channel_scales_towards_one_step() {
        let mut data = heavy_tailed();
        for (c, gain) in [1.0f32, 0.25, 0.05, 0.0].iter().enumerate() {
            data[c * 128..(c + 1) * 128]
                .iter_mut()
                .for_each(|w| *w *= gain);
        }
        let max_abs = quantize_grid(&data, &[4, 128], 8, Grid::MaxAbs).unwrap();
        let layer_scale = max_abs.scales[0];
        for toward in [0u8, 50, 100] {
            let q = quantize_grid(&data, &[4, 128], 8, Grid::LayerStep { toward }).unwrap();
            assert!(q.values.iter().all(|v| v.abs() <= 127), "{toward} %");
            assert_eq!(q.values.iter().map(|v| v.abs()).max(), Some(127));
            for c in 0..3 {
                let (s, own) = (q.scales[c], max_abs.scales[c]);
                match toward {
                    0 => assert_eq!(s, own),
                    100 => assert!((s - layer_scale).abs() <= 1e-6 * layer_scale),
                    _ => assert!(
                        c == 0 || (own < s && s < layer_scale),
                        "channel {c}: {own} < {s} < {layer_scale}"
                    ),
                }
            }
            // The all-zero channel keeps the scale 1 of every grid.
            assert_eq!(q.scales[3], 1.0);
        }
    }

    #[test]
    fn widths_outside_the_range_are_errors() {
        let data = [0.5f32; 8];
        assert_eq!(
            quantize_per_channel(&data, &[2, 4], 3),
            Err(QuantError::Bits { bits: 3, min: 4 })
        );
        assert!(quantize_grid(&data, &[2, 4], 1, Grid::MaxAbs).is_err());
        assert!(quantize_grid(&data, &[2, 4], 17, Grid::MaxAbs).is_err());
        assert!(quantize_grid(&data, &[3, 4], 8, Grid::MaxAbs).is_err());
    }
}
