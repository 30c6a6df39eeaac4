//! Rate-distortion sweep: quality against bits per weight for every method, measured the same
//! way (integer golden model, same calibration, same inputs).

use std::io::Write;
use std::path::Path;

use crate::codec::Mode;

use super::budget::{accept, measure, select};
use super::ladder::Family;
use super::runner::{Evaluator, Score};
use super::variants::{model_variant, weight_count, CodecSettings, Method};
use super::EvalError;

/// One measured point.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Point {
    /// Model name.
    pub model: String,
    /// Method family (`uniform`, `kmeans`, `lc-lines`, `lc-rice`).
    pub family: String,
    /// Method label.
    pub method: String,
    /// Bits per weight.
    pub bits_per_weight: f64,
    /// FP32 footprint / this footprint.
    pub ratio_fp32: f64,
    /// Quality (accuracy, or agreement with float when unlabelled), percent.
    pub quality: f64,
    /// Float quality minus this quality, points.
    pub drop: f64,
    /// Output SQNR against float, dB.
    pub sqnr_db: f64,
}

impl Point {
    /// The point of `bits` for `n` weights scored `s`, against float quality `float_q` (percent).
    fn new(
        model: &str,
        family: String,
        method: String,
        bits: u64,
        n: f64,
        float_q: f64,
        s: &Score,
    ) -> Self {
        Point {
            model: model.to_string(),
            family,
            method,
            bits_per_weight: bits as f64 / n,
            ratio_fp32: 32.0 * n / bits.max(1) as f64,
            quality: s.quality() * 100.0,
            drop: float_q - s.quality() * 100.0,
            sqnr_db: s.sqnr_db,
        }
    }
}

/// The default list of methods: INT8/6/5/4/3/2, k-means 16/32, LineCompress lines and rice
/// over a range of error bounds.
pub fn default_methods() -> Vec<Method> {
    let mut m: Vec<Method> = [8, 6, 5, 4, 3, 2].map(Method::Uniform).to_vec();
    m.extend([16, 32].map(Method::KMeans));
    m.extend([1, 2, 4, 8, 16, 32].map(|eps| Method::LineCompress {
        mode: Mode::Lines,
        eps,
    }));
    m.extend([0, 1, 2, 4, 8, 16, 32].map(|eps| Method::LineCompress {
        mode: Mode::Rice,
        eps,
    }));
    m
}

/// Measure every method (the same method on all layers) on one model.
pub fn sweep_model(
    model: &str,
    ev: &Evaluator,
    methods: &[Method],
    codec: CodecSettings,
    mut progress: impl FnMut(&str),
) -> Result<Vec<Point>, EvalError> {
    let n = weight_count(ev.graph) as f64;
    let float_q = ev.float_score().quality() * 100.0;
    let layers = ev.graph.weight_layers().len();
    let mut out = Vec::new();
    for &m in methods {
        progress(&format!("{model}: {}", m.label()));
        let v = model_variant(ev.graph, &vec![m; layers], codec)?;
        let bits: u64 = v.iter().map(|l| l.bits).sum();
        let weights: Vec<_> = v.into_iter().map(|l| l.weights).collect();
        let s: Score = ev.score(&weights)?;
        out.push(Point::new(
            model,
            m.family(),
            m.label(),
            bits,
            n,
            float_q,
            &s,
        ));
    }
    Ok(out)
}

/// Budgets (points below float) of the per-layer points of the sweep.
pub const BUDGETS: [f64; 5] = [0.25, 0.5, 1.0, 2.0, 4.0];

/// The per-layer budget points of `families`: for each budget, the shared search of
/// `eval --max-drop` (sensitivities measured once per family on `held_out`, the choice checked
/// on the images of `ev` and backed off there). Family `<name> per-layer`, method
/// `<name>-budget<D>`.
pub fn budget_points(
    model: &str,
    held_out: &Evaluator,
    ev: &Evaluator,
    families: &[Family],
    budgets: &[f64],
    codec: CodecSettings,
    mut progress: impl FnMut(&str),
) -> Result<Vec<Point>, EvalError> {
    let n = weight_count(ev.graph) as f64;
    let float_q = ev.float_score().quality() * 100.0;
    let mut out = Vec::new();
    for &f in families {
        let m = measure(held_out, f, codec, |msg| {
            progress(&format!("{model}: {msg}"))
        })?;
        for &d in budgets {
            progress(&format!("{model}: {} budget {d}", f.name()));
            let mut r = select(held_out, &m, d, |_| {})?;
            let (s, _) = accept(ev, &mut r, |_| {})?;
            let bits: u64 = r.bits().iter().sum();
            let (family, method) = (
                format!("{} per-layer", f.name()),
                format!("{}-budget{d}", f.name()),
            );
            out.push(Point::new(model, family, method, bits, n, float_q, &s));
        }
    }
    Ok(out)
}

/// Best FP32 footprint ratio of each family among points within `max_drop` points of float.
pub fn best_within(points: &[Point], max_drop: f64) -> Vec<(String, String, f64, String)> {
    let mut best: Vec<(String, String, f64, String)> = Vec::new();
    for p in points.iter().filter(|p| p.drop <= max_drop) {
        match best.iter_mut().find(|b| b.0 == p.model && b.1 == p.family) {
            Some(b) if b.2 >= p.ratio_fp32 => {}
            Some(b) => {
                b.2 = p.ratio_fp32;
                b.3 = p.method.clone();
            }
            None => best.push((
                p.model.clone(),
                p.family.clone(),
                p.ratio_fp32,
                p.method.clone(),
            )),
        }
    }
    best
}

/// Write points as CSV.
pub fn write_csv(points: &[Point], path: &Path) -> Result<(), EvalError> {
    let io = |e: std::io::Error| EvalError::Output(format!("{}: {e}", path.display()));
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    writeln!(
        f,
        "model,family,method,bits_per_weight,ratio_fp32,quality,drop,sqnr_db"
    )
    .map_err(io)?;
    for p in points {
        writeln!(
            f,
            "{},{},{},{:.4},{:.3},{:.2},{:.2},{:.2}",
            p.model,
            p.family,
            p.method,
            p.bits_per_weight,
            p.ratio_fp32,
            p.quality,
            p.drop,
            p.sqnr_db
        )
        .map_err(io)?;
    }
    f.flush().map_err(io)
}
