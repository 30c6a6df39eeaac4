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
    /// B outside 4..=16.
    #[error("bit width {0} is outside 4..=16")]
    Bits(u8),
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
}

/// `values[i] * scales[i / channel_len]`.
pub fn dequantize(values: &[i32], scales: &[f32], channel_len: usize) -> Vec<f32> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| v as f32 * scales[i / channel_len.max(1)])
        .collect()
}

/// Quantize `data` (shape `dims`, row-major, `dims[0]` = output channels) per output channel:
/// `scale_c = max|w_c| / (2^(B-1) - 1)` (1 for an all-zero channel), `q = round(w / scale_c)`.
pub fn quantize_per_channel(
    data: &[f32],
    dims: &[usize],
    bits: u8,
) -> Result<Quantized, QuantError> {
    if !(4..=16).contains(&bits) {
        return Err(QuantError::Bits(bits));
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
    let mut values = Vec::with_capacity(expected);
    let mut scales = Vec::with_capacity(dims[0]);
    for chunk in data.chunks(per) {
        let amax = chunk.iter().fold(0f32, |m, w| m.max(w.abs()));
        let scale = if amax > 0.0 { amax / qmax } else { 1.0 };
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
