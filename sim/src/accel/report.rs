//! The study table (per CNN: footprint, latency and energy reductions vs FP32 and INT8 weights,
//! accuracy) and the bandwidth sweep, rendered to Markdown and HTML from the tera templates
//! `templates/accel_report.{md,html}.tera`.

use super::sweep::{knee, SweepPoint};
use super::verify::StoreSummary;
use anyhow::{anyhow, Result};
use lc_sw::eval::prepared::PreparedModel;
use lc_sw::model::golden::QModel;
use serde::Serialize;

const MD_TEMPLATE: &str = include_str!("../../../templates/accel_report.md.tera");
const HTML_TEMPLATE: &str = include_str!("../../../templates/accel_report.html.tera");

/// Accuracy of the three weight representations, fraction in 0..=1.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Accuracy {
    /// Images evaluated.
    pub images: usize,
    /// Float model.
    pub float: f64,
    /// INT8 golden model.
    pub int8: f64,
    /// LineCompress golden model (bit-identical to the RTL).
    pub compressed: f64,
}

/// Top-1 accuracy of the float model, the INT8 golden model and `compressed` (a golden model with
/// decoded weights) on the first `n` test images of `m`.
pub fn accuracy(m: &PreparedModel, compressed: &QModel, n: usize) -> Result<Accuracy> {
    let n = n.min(m.inputs.len()).min(m.labels.len());
    let mut hits = [0usize; 3];
    for i in 0..n {
        let label = m.labels[i];
        let vals = lc_sw::model::float_exec::run_all(&m.graph, &m.float_inputs[i])
            .map_err(|e| anyhow!("float model: {e}"))?;
        let out = m
            .graph
            .outputs
            .get(m.classifier)
            .and_then(|&o| vals.get(o).cloned().flatten());
        let logits = out.ok_or_else(|| anyhow!("float model computed no output"))?;
        let best = logits
            .data
            .iter()
            .enumerate()
            .fold((0, f32::MIN), |b, (j, &v)| if v > b.1 { (j, v) } else { b });
        hits[0] += (best.0 == label) as usize;
        for (k, q) in [&m.qmodel, compressed].into_iter().enumerate() {
            let out = q
                .run(&m.inputs[i])
                .map_err(|e| anyhow!("golden model: {e}"))?;
            let top = out
                .get(m.classifier)
                .and_then(|t| super::verify::argmax(&t.data));
            hits[k + 1] += (top == Some(label)) as usize;
        }
    }
    let f = |h: usize| if n == 0 { 0.0 } else { h as f64 / n as f64 };
    Ok(Accuracy {
        images: n,
        float: f(hits[0]),
        int8: f(hits[1]),
        compressed: f(hits[2]),
    })
}

/// One CNN's row of the study table.
#[derive(Clone, Debug, Serialize)]
pub struct ModelRow {
    /// Model name.
    pub name: String,
    /// Weights of the Conv/Dense layers.
    pub params: u64,
    /// LineCompress setting.
    pub store: String,
    /// Footprints, KiB.
    pub fp32_kib: f64,
    /// INT8 footprint, KiB.
    pub int8_kib: f64,
    /// LineCompress footprint, KiB.
    pub lc_kib: f64,
    /// Footprint reduction vs FP32 (x).
    pub footprint_vs_fp32: f64,
    /// Footprint reduction vs INT8 (x).
    pub footprint_vs_int8: f64,
    /// Cycles per inference with FP32 weight traffic.
    pub cycles_fp32: f64,
    /// Cycles per inference with INT8 weights.
    pub cycles_int8: f64,
    /// Cycles per inference with LineCompress weights.
    pub cycles_lc: f64,
    /// Latency reduction vs FP32 (x).
    pub latency_vs_fp32: f64,
    /// Latency reduction vs INT8 (x).
    pub latency_vs_int8: f64,
    /// Energy per inference, nJ.
    pub energy_fp32_nj: f64,
    /// INT8 energy, nJ.
    pub energy_int8_nj: f64,
    /// LineCompress energy, nJ.
    pub energy_lc_nj: f64,
    /// Energy reduction vs FP32 (x).
    pub energy_vs_fp32: f64,
    /// Energy reduction vs INT8 (x).
    pub energy_vs_int8: f64,
    /// Latency reduction vs FP32, percent.
    pub latency_cut_vs_fp32_pct: f64,
    /// Energy reduction vs FP32, percent.
    pub energy_cut_vs_fp32_pct: f64,
    /// LineCompress inferences per second at the report's clock (when given).
    pub inferences_per_s: Option<f64>,
    /// Accuracies, percent.
    pub acc_float: f64,
    /// INT8 accuracy, percent.
    pub acc_int8: f64,
    /// LineCompress accuracy, percent.
    pub acc_lc: f64,
    /// Images of the accuracy columns.
    pub accuracy_images: usize,
    /// Images verified on the RTL (each store).
    pub verified_images: usize,
    /// Mismatching images over all stores.
    pub mismatches: usize,
}

impl ModelRow {
    /// Combine the three RTL runs (FP32, INT8, LineCompress) and the accuracies; with
    /// `fmax_mhz`, the LineCompress inferences per second at that clock.
    pub fn new(
        name: &str,
        params: u64,
        [fp32, int8, lc]: [&StoreSummary; 3],
        acc: Accuracy,
        fmax_mhz: Option<f64>,
    ) -> Self {
        let cut = |a: f64, b: f64| if a > 0.0 { 100.0 * (1.0 - b / a) } else { 0.0 };
        let kib = |bits: f64| bits / 8.0 / 1024.0;
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let fp32_bits = 32.0 * params as f64;
        let lc_bits = lc.weight_bits as f64;
        ModelRow {
            name: name.to_string(),
            params,
            store: lc.store.clone(),
            fp32_kib: kib(fp32_bits),
            int8_kib: kib(int8.weight_bits as f64),
            lc_kib: kib(lc_bits),
            footprint_vs_fp32: ratio(fp32_bits, lc_bits),
            footprint_vs_int8: ratio(int8.weight_bits as f64, lc_bits),
            cycles_fp32: fp32.cycles_per_image,
            cycles_int8: int8.cycles_per_image,
            cycles_lc: lc.cycles_per_image,
            latency_vs_fp32: ratio(fp32.cycles_per_image, lc.cycles_per_image),
            latency_vs_int8: ratio(int8.cycles_per_image, lc.cycles_per_image),
            energy_fp32_nj: fp32.energy_pj() / 1e3,
            energy_int8_nj: int8.energy_pj() / 1e3,
            energy_lc_nj: lc.energy_pj() / 1e3,
            energy_vs_fp32: ratio(fp32.energy_pj(), lc.energy_pj()),
            energy_vs_int8: ratio(int8.energy_pj(), lc.energy_pj()),
            latency_cut_vs_fp32_pct: cut(fp32.cycles_per_image, lc.cycles_per_image),
            energy_cut_vs_fp32_pct: cut(fp32.energy_pj(), lc.energy_pj()),
            inferences_per_s: fmax_mhz.map(|f| ratio(f * 1e6, lc.cycles_per_image)),
            acc_float: 100.0 * acc.float,
            acc_int8: 100.0 * acc.int8,
            acc_lc: 100.0 * acc.compressed,
            accuracy_images: acc.images,
            verified_images: lc.images,
            mismatches: fp32.mismatches + int8.mismatches + lc.mismatches,
        }
    }
}

/// One model's bandwidth sweep.
#[derive(Clone, Debug, Serialize)]
pub struct SweepTable {
    /// Model name.
    pub name: String,
    /// Names of the series (`int8`, `lc-...`).
    pub series: Vec<String>,
    /// Points, by increasing bandwidth.
    pub points: Vec<SweepPoint>,
    /// Per series: the smallest bandwidth within 5 % of the fastest (weight-bound below it).
    pub knees: Vec<Option<f64>>,
    /// An SVG line chart of the sweep.
    pub svg: String,
}

impl SweepTable {
    /// Build from the points of [`super::sweep::bandwidth_sweep`].
    pub fn new(name: &str, series: Vec<String>, points: Vec<SweepPoint>) -> Self {
        let knees = (0..series.len()).map(|i| knee(&points, i, 0.05)).collect();
        let svg = svg_chart(&series, &points);
        SweepTable {
            name: name.to_string(),
            series,
            points,
            knees,
            svg,
        }
    }
}

/// Everything the report shows.
#[derive(Clone, Debug, Serialize)]
pub struct ReportData {
    /// Study table rows.
    pub rows: Vec<ModelRow>,
    /// Sweeps.
    pub sweeps: Vec<SweepTable>,
    /// MAC lanes P.
    pub lanes: usize,
    /// Decompressor lanes D of the compressed weights.
    pub decoders: usize,
    /// Decompressor lanes of the INT8 and FP32 baselines.
    pub baseline_decoders: usize,
    /// The weight memory of the table, in words.
    pub memory: String,
    /// Clock of the inferences-per-second column, MHz (none: no column).
    pub fmax_mhz: Option<f64>,
    /// The energy configuration text (with its sources).
    pub energy_config: String,
}

/// Render the Markdown report.
pub fn render_markdown(d: &ReportData) -> Result<String> {
    render(MD_TEMPLATE, d, false)
}

/// Render the HTML report.
pub fn render_html(d: &ReportData) -> Result<String> {
    render(HTML_TEMPLATE, d, true)
}

fn render(template: &str, d: &ReportData, escape: bool) -> Result<String> {
    let ctx = tera::Context::from_serialize(d).map_err(|e| anyhow!("report context: {e}"))?;
    tera::Tera::one_off(template, &ctx, escape).map_err(|e| anyhow!("rendering the report: {e:?}"))
}

/// A log-log line chart of cycles against bandwidth, one polyline per series.
fn svg_chart(series: &[String], points: &[SweepPoint]) -> String {
    let (w, h, m) = (560.0, 300.0, 50.0);
    let bws: Vec<f64> = points.iter().map(|p| p.bytes_per_cycle.log2()).collect();
    let cyc: Vec<f64> = points
        .iter()
        .flat_map(|p| p.cycles.iter().map(|&c| (c.max(1) as f64).log2()))
        .collect();
    let (x0, x1) = (
        bws.iter().cloned().fold(f64::MAX, f64::min),
        bws.iter().cloned().fold(f64::MIN, f64::max),
    );
    let (y0, y1) = (
        cyc.iter().cloned().fold(f64::MAX, f64::min),
        cyc.iter().cloned().fold(f64::MIN, f64::max),
    );
    let sx = |x: f64| m + (x - x0) / (x1 - x0).max(1e-9) * (w - 2.0 * m);
    let sy = |y: f64| h - m - (y - y0) / (y1 - y0).max(1e-9) * (h - 2.0 * m);
    let colors = ["#c0392b", "#2471a3", "#27ae60", "#8e44ad"];
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-size=\"11\">\
         <rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\
         <line x1=\"{m}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"black\"/>\
         <line x1=\"{m}\" y1=\"{m}\" x2=\"{m}\" y2=\"{b}\" stroke=\"black\"/>\
         <text x=\"{cx}\" y=\"{t}\" text-anchor=\"middle\">weight memory bandwidth (bytes/cycle, log scale)</text>\
         <text x=\"12\" y=\"{cy}\" transform=\"rotate(-90 12 {cy})\" text-anchor=\"middle\">cycles per inference (log)</text>",
        b = h - m,
        r = w - m,
        cx = w / 2.0,
        t = h - 12.0,
        cy = h / 2.0
    );
    for (p, &x) in points.iter().zip(&bws) {
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            sx(x),
            h - m + 14.0,
            p.bytes_per_cycle
        ));
    }
    for (k, name) in series.iter().enumerate() {
        let pts: Vec<String> = points
            .iter()
            .zip(&bws)
            .filter_map(|(p, &x)| {
                p.cycles
                    .get(k)
                    .map(|&c| format!("{:.1},{:.1}", sx(x), sy((c.max(1) as f64).log2())))
            })
            .collect();
        let c = colors[k % colors.len()];
        s.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"2\" points=\"{}\"/>",
            pts.join(" ")
        ));
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{c}\">{name}</text>",
            w - m - 120.0,
            m + 14.0 * k as f64
        ));
    }
    for (lbl, y) in [(y0, y0), (y1, y1)] {
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{:.0}</text>",
            m - 4.0,
            sy(y),
            2f64.powf(lbl)
        ));
    }
    s.push_str("</svg>");
    s
}
