//! The rate-distortion plot (quality against bits per weight, one panel per model, one series per
//! method family), as SVG and PNG. Text is rendered with a TrueType font from the system
//! (DejaVu Sans or Liberation Sans, e.g. Debian `fonts-dejavu-core`), or the file named by the
//! environment variable `LC_FONT`.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::sweep::Point;
use super::EvalError;

const FONT_CANDIDATES: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

fn ensure_font() -> Result<(), EvalError> {
    static FONT: OnceLock<Result<(), String>> = OnceLock::new();
    FONT.get_or_init(|| {
        let mut paths: Vec<String> = std::env::var("LC_FONT").into_iter().collect();
        paths.extend(FONT_CANDIDATES.iter().map(|s| s.to_string()));
        for p in &paths {
            if let Ok(bytes) = std::fs::read(p) {
                let leaked: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, leaked).is_ok() {
                    return Ok(());
                }
            }
        }
        Err(format!(
            "no TrueType font found for the plot (tried {paths:?}; set LC_FONT)"
        ))
    })
    .clone()
    .map_err(EvalError::Output)
}

const COLORS: [RGBColor; 8] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x17, 0xbe, 0xcf),
];

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, points: &[Point]) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut models: Vec<&str> = Vec::new();
    for p in points {
        if !models.contains(&p.model.as_str()) {
            models.push(&p.model);
        }
    }
    let panels = root.split_evenly((models.len().max(1), 1));
    for (panel, model) in panels.iter().zip(&models) {
        let pts: Vec<&Point> = points.iter().filter(|p| p.model == *model).collect();
        let xmax = pts.iter().map(|p| p.bits_per_weight).fold(1.0f64, f64::max) * 1.05;
        let qmax = pts.iter().map(|p| p.quality).fold(0.0f64, f64::max);
        let qmin = pts.iter().map(|p| p.quality).fold(100.0f64, f64::min);
        let ylo = (qmin - 1.0).max(qmax - 15.0).max(0.0);
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("{model}: accuracy vs weight footprint"),
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..xmax, ylo..(qmax + 0.5))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("bits per weight")
            .y_desc("top-1 (%)")
            .draw()
            .map_err(|e| e.to_string())?;
        let mut families: Vec<&str> = Vec::new();
        for p in &pts {
            if !families.contains(&p.family.as_str()) {
                families.push(&p.family);
            }
        }
        for (i, fam) in families.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let mut series: Vec<(f64, f64)> = pts
                .iter()
                .filter(|p| p.family == *fam)
                .map(|p| (p.bits_per_weight, p.quality.max(ylo)))
                .collect();
            series.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(series.clone(), color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(*fam)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart
                .draw_series(
                    series
                        .iter()
                        .map(|&(x, y)| Circle::new((x, y), 4, color.filled())),
                )
                .map_err(|e| e.to_string())?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}

/// Write the plot to `stem.svg` and `stem.png`.
pub fn write_plot(points: &[Point], stem: &Path) -> Result<(), EvalError> {
    ensure_font()?;
    let models = points
        .iter()
        .map(|p| p.model.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        .max(1);
    let size = (900u32, 420 * models as u32);
    let svg = stem.with_extension("svg");
    draw(SVGBackend::new(&svg, size).into_drawing_area(), points)
        .map_err(|e| EvalError::Output(format!("{}: {e}", svg.display())))?;
    let png = stem.with_extension("png");
    draw(BitMapBackend::new(&png, size).into_drawing_area(), points)
        .map_err(|e| EvalError::Output(format!("{}: {e}", png.display())))
}
