//! Whole-model compression: every weight tensor of an ONNX model quantized and compressed into
//! one container (what `linecompress compress` writes and the demo and sweeps measure).

use std::path::Path;

use crate::container::{compress_layer, CompressError, CompressOptions, Container};
use crate::model::onnx::{load_weights, ModelError};
use crate::quant::{quantize_per_channel, QuantError};

/// Why a model could not be compressed.
#[derive(Debug, thiserror::Error)]
pub enum ModelCompressError {
    /// The model could not be read or has no weights.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A tensor could not be quantized.
    #[error("quantizing '{layer}': {source}")]
    Quantize {
        /// Tensor name.
        layer: String,
        /// Cause.
        source: QuantError,
    },
    /// A tensor could not be compressed.
    #[error("compressing '{layer}': {source}")]
    Compress {
        /// Tensor name.
        layer: String,
        /// Cause.
        source: CompressError,
    },
}

/// Quantize and compress every weight tensor of the ONNX model at `path` with `opts`, packed for
/// `word_bits`-bit words. Weights that are already integers keep the model's own grid and bit
/// width; `bits` applies to f32 weights. `on_layer` is called with each tensor's name before it
/// is compressed and with the count of tensors first (for progress reports).
pub fn compress_model(
    path: &Path,
    opts: &CompressOptions,
    bits: u8,
    word_bits: u8,
    mut on_layer: impl FnMut(Progress<'_>),
) -> Result<Container, ModelCompressError> {
    let tensors = load_weights(path)?;
    on_layer(Progress::Start(tensors.len()));
    let mut layers = Vec::with_capacity(tensors.len());
    for t in &tensors {
        on_layer(Progress::Layer(&t.name));
        let q = match &t.int {
            Some(int) => int.quantized(&t.dims),
            None => quantize_per_channel(&t.data, &t.dims, bits).map_err(|source| {
                ModelCompressError::Quantize {
                    layer: t.name.clone(),
                    source,
                }
            })?,
        };
        let layer =
            compress_layer(&t.name, &q, opts).map_err(|source| ModelCompressError::Compress {
                layer: t.name.clone(),
                source,
            })?;
        layers.push(layer);
    }
    Ok(Container { word_bits, layers })
}

/// Progress of [`compress_model`].
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// The model holds this many weight tensors.
    Start(usize),
    /// This tensor is compressed next.
    Layer(&'a str),
}
