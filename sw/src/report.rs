//! Per-layer compression statistics, as printed by `linecompress inspect`.

use serde::Serialize;

use crate::codec::{decode_lane_segments, Mode};
use crate::container::{Container, ContainerError};

/// Statistics of one compressed layer.
#[derive(Clone, Debug, Serialize)]
pub struct LayerStats {
    /// Tensor name.
    pub name: String,
    /// Number of weights.
    pub params: u64,
    /// Compressed size in bits (all lane streams, without word padding).
    pub bits: u64,
    /// `bits / params`.
    pub bits_per_weight: f64,
    /// Footprint ratio against 32-bit floats.
    pub ratio_fp32: f64,
    /// Footprint ratio against 8-bit integers.
    pub ratio_int8: f64,
    /// Largest `|w - q|` in LSB, as measured by the encoder.
    pub max_abs_error: u16,
    /// Mean number of weights per segment.
    pub mean_segment_len: f64,
    /// Residual mode.
    pub mode: Mode,
    /// Value width B.
    pub bit_width: u8,
    /// Error bound.
    pub eps: u16,
    /// Number of lanes.
    pub lanes: usize,
}

/// Totals over all layers.
#[derive(Clone, Debug, Serialize)]
pub struct Totals {
    /// Number of weights.
    pub params: u64,
    /// Compressed size in bits.
    pub bits: u64,
    /// Footprint ratio against 32-bit floats.
    pub ratio_fp32: f64,
    /// Footprint ratio against 8-bit integers.
    pub ratio_int8: f64,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// One entry per layer.
    pub layers: Vec<LayerStats>,
    /// Totals.
    pub total: Totals,
}

fn ratio(params: u64, width: u64, bits: u64) -> f64 {
    (params * width) as f64 / bits.max(1) as f64
}

/// Decode every lane (validating the streams) and gather the statistics.
pub fn inspect(c: &Container) -> Result<Report, ContainerError> {
    let mut layers = Vec::new();
    for layer in &c.layers {
        let mut segments = 0usize;
        for lane in &layer.lanes {
            match decode_lane_segments(&layer.params, &lane.bytes, lane.length_bits, lane.count) {
                Ok((_, n)) => segments += n,
                // The container-level decode names the layer, lane and file offset.
                Err(_) => return Err(c.decode().expect_err("the same stream fails again")),
            }
        }
        let params = layer.params_count() as u64;
        let bits = layer.total_bits();
        layers.push(LayerStats {
            name: layer.name.clone(),
            params,
            bits,
            bits_per_weight: bits as f64 / params as f64,
            ratio_fp32: ratio(params, 32, bits),
            ratio_int8: ratio(params, 8, bits),
            max_abs_error: layer.max_error,
            mean_segment_len: params as f64 / segments.max(1) as f64,
            mode: layer.params.mode,
            bit_width: layer.params.bits,
            eps: layer.params.eps,
            lanes: layer.lanes.len(),
        });
    }
    let params = layers.iter().map(|l| l.params).sum();
    let bits = layers.iter().map(|l| l.bits).sum();
    let total = Totals {
        params,
        bits,
        ratio_fp32: ratio(params, 32, bits),
        ratio_int8: ratio(params, 8, bits),
    };
    Ok(Report { layers, total })
}

/// The report as an aligned text table.
pub fn table(r: &Report) -> String {
    let mut s = format!(
        "{:<28} {:>9} {:>10} {:>6} {:>8} {:>8} {:>7} {:>7} {:>5} {:>4} {:>5}\n",
        "layer",
        "params",
        "bits",
        "b/w",
        "x fp32",
        "x int8",
        "maxerr",
        "seglen",
        "mode",
        "eps",
        "lanes"
    );
    for l in &r.layers {
        let skip = l.name.chars().count().saturating_sub(28);
        let name: String = l.name.chars().skip(skip).collect();
        s += &format!(
            "{:<28} {:>9} {:>10} {:>6.2} {:>8.2} {:>8.2} {:>7} {:>7.2} {:>5} {:>4} {:>5}\n",
            name,
            l.params,
            l.bits,
            l.bits_per_weight,
            l.ratio_fp32,
            l.ratio_int8,
            l.max_abs_error,
            l.mean_segment_len,
            l.mode,
            l.eps,
            l.lanes
        );
    }
    let t = &r.total;
    s += &format!(
        "{:<28} {:>9} {:>10} {:>6.2} {:>8.2} {:>8.2}\n",
        "total",
        t.params,
        t.bits,
        t.bits as f64 / t.params.max(1) as f64,
        t.ratio_fp32,
        t.ratio_int8
    );
    s
}
