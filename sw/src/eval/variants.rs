//! Weight representations compared by the evaluation: each turns the float weights of every
//! layer into the integer weights the golden model runs with, and counts the bits they occupy.
//!
//! Footprints count the weights of convolution and dense layers only (biases and per-channel
//! scales are the same for every method and are left out): FP32 is 32 bits per weight.

use crate::codec::{Mode, Strategy};
use crate::container::{compress_layer, CompressOptions, Container, Layer};
use crate::model::graph::Graph;
use crate::quant::{quantize_grid, quantize_per_channel, Grid, Quantized};
use lc_format::{LayerParams, Profile, DEFAULT_PROFILE};

use super::EvalError;

/// How one layer's weights are represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Per-channel uniform quantization to B bits, stored at B bits per weight.
    Uniform(u8),
    /// A per-layer codebook of K float centroids (1-D k-means), log2(K)-bit indices plus the
    /// codebook; executed as the centroids re-quantized to INT8 per channel.
    KMeans(u16),
    /// B-bit per channel ([`CodecSettings::bits`], 8 by default), then LineCompress with the
    /// mode and error bound.
    LineCompress {
        /// Residual mode.
        mode: Mode,
        /// Error bound in LSB.
        eps: u16,
    },
}

impl Method {
    /// Short label, e.g. `int6`, `kmeans16`, `lc-rice-eps3`.
    pub fn label(&self) -> String {
        match self {
            Method::Uniform(b) => format!("int{b}"),
            Method::KMeans(k) => format!("kmeans{k}"),
            Method::LineCompress { mode, eps } => format!("lc-{}-eps{eps}", mode_name(*mode)),
        }
    }

    /// The method family (for grouping in plots): `int`, `kmeans`, `lc-lines`, `lc-rice`.
    pub fn family(&self) -> String {
        match self {
            Method::Uniform(_) => "uniform".into(),
            Method::KMeans(_) => "kmeans".into(),
            Method::LineCompress { mode, .. } => format!("lc-{}", mode_name(*mode)),
        }
    }
}

/// `lines` or `rice`.
pub fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Lines => "lines",
        Mode::Rice => "rice",
    }
}

/// LineCompress settings besides mode and error bound, and the quantization grid of every
/// method.
#[derive(Debug, Clone, Copy)]
pub struct CodecSettings {
    /// MSE-optimal clipping of each channel's grid ([`Grid::MseClip`]) for uniform and
    /// LineCompress weights (k-means centroids are least-squares already) instead of max-abs.
    pub mse_clip: bool,
    /// Channel scales drawn this many percent towards one float step per layer
    /// ([`Grid::LayerStep`]) for uniform and LineCompress weights; 0 is max-abs.
    pub layer_step: u8,
    /// Refit each channel's scale to the stored integers by least squares
    /// ([`Quantized::refit_scales`]), for every method.
    pub refit_scales: bool,
    /// The rice budget ladder also offers dead-zone eps ([`super::ladder::DEAD_ZONE_EPS`]).
    pub dead_zone: bool,
    /// The hardware profile the streams must decode on.
    pub profile: &'static Profile,
    /// Quantized width B before compression.
    pub bits: u8,
    /// Lanes per layer.
    pub lanes: usize,
    /// Segmentation strategy.
    pub strategy: Strategy,
}

impl Default for CodecSettings {
    fn default() -> Self {
        Self {
            profile: Profile::shared(DEFAULT_PROFILE)
                .expect("the built-in default profile is valid"),
            bits: 8,
            lanes: 1,
            strategy: Strategy::Optimal,
            mse_clip: false,
            layer_step: 0,
            refit_scales: false,
            dead_zone: false,
        }
    }
}

impl CodecSettings {
    /// The grid for integers later rounded to multiples of `step` LSB.
    fn grid(&self, step: u32) -> Grid {
        if self.mse_clip {
            Grid::MseClip { step }
        } else if self.layer_step > 0 {
            Grid::LayerStep {
                toward: self.layer_step,
            }
        } else {
            Grid::MaxAbs
        }
    }
}

/// One layer in a given representation.
#[derive(Debug, Clone)]
pub struct LayerVariant {
    /// Integer weights the golden model uses.
    pub weights: Quantized,
    /// Bits this layer's weights occupy.
    pub bits: u64,
}

/// Represent one layer's float weights.
pub fn layer_variant(
    name: &str,
    data: &[f32],
    dims: &[usize],
    m: Method,
    codec: CodecSettings,
) -> Result<LayerVariant, EvalError> {
    let mut v = stored_variant(name, data, dims, m, codec)?;
    if codec.refit_scales {
        v.weights.refit_scales(data);
    }
    Ok(v)
}

/// [`layer_variant`] with the scales of the method's grid.
fn stored_variant(
    name: &str,
    data: &[f32],
    dims: &[usize],
    m: Method,
    codec: CodecSettings,
) -> Result<LayerVariant, EvalError> {
    let n = data.len() as u64;
    match m {
        Method::Uniform(b) => {
            let q = quantize_grid(data, dims, b, codec.grid(1))?;
            Ok(LayerVariant {
                weights: q,
                bits: n * b as u64,
            })
        }
        Method::KMeans(k) => {
            let (recon, kk) = kmeans_1d(data, k as usize);
            let q = quantize_per_channel(&recon, dims, 8)?;
            let index_bits = (kk.max(2) as f64).log2().ceil() as u64;
            Ok(LayerVariant {
                weights: q,
                bits: n * index_bits + 32 * kk as u64,
            })
        }
        Method::LineCompress { mode, eps } => {
            let (q, layer) = compressed_layer(name, data, dims, mode, eps, codec)?;
            let values = layer.decode().map_err(|(lane, e)| EvalError::Compress {
                layer: name.to_string(),
                reason: format!("lane {lane}: {e}"),
            })?;
            Ok(LayerVariant {
                weights: Quantized { values, ..q },
                bits: layer.total_bits(),
            })
        }
    }
}

/// One layer's float weights quantized to `codec.bits` and compressed with `mode` and `eps`:
/// the quantized weights and the container layer.
fn compressed_layer(
    name: &str,
    data: &[f32],
    dims: &[usize],
    mode: Mode,
    eps: u16,
    codec: CodecSettings,
) -> Result<(Quantized, Layer), EvalError> {
    let shift = codec
        .profile
        .shift
        .clamp(LayerParams::shift_for_eps(codec.bits, eps));
    let q = quantize_grid(data, dims, codec.bits, codec.grid(1u32 << shift))?;
    let opts = CompressOptions {
        profile: codec.profile.clone(),
        mode,
        eps,
        lanes: codec.lanes,
        strategy: codec.strategy,
    };
    let layer = compress_layer(name, &q, &opts).map_err(|e| EvalError::Compress {
        layer: name.to_string(),
        reason: e.to_string(),
    })?;
    Ok((q, layer))
}

/// The container of `graph`'s weight layers, each compressed with its LineCompress method
/// (what `eval` evaluated), packed for `word_bits`-bit words.
pub fn model_container(
    graph: &Graph,
    methods: &[Method],
    codec: CodecSettings,
    word_bits: u8,
) -> Result<Container, EvalError> {
    let layers = graph.weight_layers();
    if methods.len() != layers.len() {
        return Err(EvalError::Invalid(format!(
            "{} methods for {} layers",
            methods.len(),
            layers.len()
        )));
    }
    let layers = layers
        .iter()
        .zip(methods)
        .map(|(l, &m)| match m {
            Method::LineCompress { mode, eps } => {
                compressed_layer(l.name, &l.weight.data, &l.weight.shape, mode, eps, codec)
                    .map(|(_, layer)| layer)
            }
            other => Err(EvalError::Invalid(format!(
                "layer {}: {} weights are not LineCompress streams and cannot be saved as a \
                 container",
                l.name,
                other.label()
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Container { word_bits, layers })
}

/// All layers of `graph`, each with its own method.
pub fn model_variant(
    graph: &Graph,
    methods: &[Method],
    codec: CodecSettings,
) -> Result<Vec<LayerVariant>, EvalError> {
    let layers = graph.weight_layers();
    if methods.len() != layers.len() {
        return Err(EvalError::Invalid(format!(
            "{} methods for {} layers",
            methods.len(),
            layers.len()
        )));
    }
    layers
        .iter()
        .zip(methods)
        .map(|(l, &m)| layer_variant(l.name, &l.weight.data, &l.weight.shape, m, codec))
        .collect()
}

/// Number of weights in the weight layers.
pub fn weight_count(graph: &Graph) -> u64 {
    graph
        .weight_layers()
        .iter()
        .map(|l| l.weight.len() as u64)
        .sum()
}

/// 1-D k-means with `k` centroids initialised at evenly spaced quantiles, 30 Lloyd iterations;
/// returns the reconstructed values and the number of distinct centroids used.
pub fn kmeans_1d(data: &[f32], k: usize) -> (Vec<f32>, usize) {
    if data.is_empty() || k == 0 {
        return (data.to_vec(), 0);
    }
    let mut sorted: Vec<f32> = data.to_vec();
    sorted.sort_by(f32::total_cmp);
    let k = k.min(sorted.len());
    let mut c: Vec<f64> = (0..k)
        .map(|i| sorted[((2 * i + 1) * sorted.len()) / (2 * k)] as f64)
        .collect();
    c.dedup();
    let mut assign = vec![0usize; sorted.len()];
    for _ in 0..30 {
        // Sorted data and sorted centroids: each boundary is a midpoint, so assignment is a sweep.
        let mut j = 0;
        for (i, &x) in sorted.iter().enumerate() {
            while j + 1 < c.len() && (x as f64 - c[j]).abs() > (x as f64 - c[j + 1]).abs() {
                j += 1;
            }
            assign[i] = j;
        }
        let mut sum = vec![0f64; c.len()];
        let mut cnt = vec![0usize; c.len()];
        for (i, &x) in sorted.iter().enumerate() {
            sum[assign[i]] += x as f64;
            cnt[assign[i]] += 1;
        }
        let mut moved = false;
        for j in 0..c.len() {
            if cnt[j] > 0 {
                let nc = sum[j] / cnt[j] as f64;
                moved |= nc != c[j];
                c[j] = nc;
            }
        }
        c.sort_by(f64::total_cmp);
        if !moved {
            break;
        }
    }
    let recon = data
        .iter()
        .map(|&x| {
            let i = c.partition_point(|&v| v < x as f64);
            let best = [i.saturating_sub(1), i.min(c.len() - 1)]
                .into_iter()
                .min_by(|&a, &b| (x as f64 - c[a]).abs().total_cmp(&(x as f64 - c[b]).abs()))
                .unwrap_or(0);
            c[best] as f32
        })
        .collect();
    (recon, c.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kmeans_recovers_clusters() {
        let data: Vec<f32> = (0..300)
            .map(|i| [-1.0, 0.0, 2.0][i % 3] + ((i * 7919) % 13) as f32 * 1e-3)
            .collect();
        let (r, k) = kmeans_1d(&data, 3);
        assert_eq!(k, 3);
        for (a, b) in data.iter().zip(&r) {
            assert!((a - b).abs() < 0.02, "{a} -> {b}");
        }
        let (r16, _) = kmeans_1d(&data, 16);
        let err = |r: &[f32]| {
            data.iter()
                .zip(r)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f32>()
        };
        assert!(err(&r16) <= err(&r));
    }

    #[test]
    fn uniform_and_linecompress_bits() {
        let data: Vec<f32> = (0..256).map(|i| ((i as f32) * 0.37).sin()).collect();
        let u4 = layer_variant(
            "l",
            &data,
            &[4, 64],
            Method::Uniform(4),
            CodecSettings::default(),
        )
        .unwrap();
        assert_eq!(u4.bits, 256 * 4);
        let u2 = layer_variant(
            "l",
            &data,
            &[4, 64],
            Method::Uniform(2),
            CodecSettings::default(),
        )
        .unwrap();
        assert_eq!(u2.bits, 256 * 2);
        assert!(u2.weights.values.iter().all(|v| (-1..=1).contains(v)));
        // Per channel, the largest magnitude maps to the largest level.
        for c in u2.weights.values.chunks(64) {
            assert!(c.iter().any(|v| v.abs() == 1));
        }
        let lc = layer_variant(
            "l",
            &data,
            &[4, 64],
            Method::LineCompress {
                mode: Mode::Rice,
                eps: 2,
            },
            CodecSettings::default(),
        )
        .unwrap();
        let q8 = quantize_per_channel(&data, &[4, 64], 8).unwrap();
        assert!(lc
            .weights
            .values
            .iter()
            .zip(&q8.values)
            .all(|(a, b)| (a - b).abs() <= 2));
        assert!(lc.bits > 0);
    }

    /// Rice weights on a layer-step grid: the container written with them reads back with the
    /// same scales and decodes to the same integers the evaluation ran with, each within eps
    /// of the grid's INT8 value and inside the INT8 range.
    #[test]
    fn layer_step_weights_round_trip_through_a_container() {
        let data: Vec<f32> = (0..512)
            .map(|i| ((i as f32) * 0.37).sin() * [1.0, 0.3, 0.05, 0.6][i / 128])
            .collect();
        let (dims, eps) = ([4usize, 128], 8u16);
        let codec = CodecSettings {
            layer_step: 100,
            profile: Profile::shared("full").unwrap(),
            ..CodecSettings::default()
        };
        let m = Method::LineCompress {
            mode: Mode::Rice,
            eps,
        };
        let v = layer_variant("l", &data, &dims, m, codec).unwrap();
        let grid = quantize_grid(&data, &dims, 8, Grid::LayerStep { toward: 100 }).unwrap();
        assert_eq!(v.weights.scales, grid.scales);
        assert!(v.weights.scales.windows(2).all(|s| s[0] == s[1]));
        assert!(v
            .weights
            .values
            .iter()
            .zip(&grid.values)
            .all(|(a, b)| { (a - b).abs() <= eps as i32 && a.abs() <= 127 }));
        let (_, layer) = compressed_layer("l", &data, &dims, Mode::Rice, eps, codec).unwrap();
        let bytes = Container {
            word_bits: 32,
            layers: vec![layer],
        }
        .to_bytes();
        let back = Container::from_bytes(&bytes).unwrap();
        assert_eq!(back.layers[0].scales, v.weights.scales);
        assert_eq!(back.decode().unwrap(), vec![v.weights.values.clone()]);
    }
}
