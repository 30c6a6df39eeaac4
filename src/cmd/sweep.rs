//! `linecompress sweep`: accuracy against bits per weight for LineCompress (lines, rice) and the
//! baselines (INT8/6/5/4/3/2, k-means 16/32), plus the per-layer budget points of every
//! method (budgets 0.25 to 4 points), written as CSV, an SVG + PNG plot and a Markdown
//! summary of the best footprint within an accuracy budget.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use lc_sw::eval::ladder::Family;
use lc_sw::eval::plot::write_plot;
use lc_sw::eval::sweep::{
    best_within, budget_points, default_methods, sweep_model, write_csv, Point, BUDGETS,
};

use super::compress::CodecArgs;
use super::data::DataArgs;
use super::eval::{codec_settings, prepare, QuantArgs};
use lc_sw::eval::variants::CodecSettings;

/// Arguments of `sweep`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// ONNX models (each needs inputs from --dataset).
    #[arg(long, num_args = 1.., default_values = ["models/lenet5.onnx", "models/vgg_small.onnx"])]
    pub models: Vec<PathBuf>,
    /// Number of evaluation inputs: the first N of `--dataset`.
    #[arg(long, default_value_t = 10_000)]
    pub images: usize,
    #[command(flatten)]
    pub data: DataArgs,
    /// Lanes and strategy for LineCompress (--mode and --eps are ignored: both modes are swept).
    #[command(flatten)]
    pub codec: CodecArgs,
    /// Output directory for sweep.csv, sweep.svg, sweep.png and sweep.md.
    #[arg(long, default_value = "docs")]
    pub out: PathBuf,
    /// Accuracy budget (points below float) for the summary table.
    #[arg(long, default_value_t = 1.0)]
    pub max_drop: f64,
    /// Held-out training images for the per-layer budget points (Fashion-MNIST).
    #[arg(long, default_value_t = 1000)]
    pub budget_images: usize,
    #[command(flatten)]
    pub quant: QuantArgs,
    /// Leave out the per-layer budget points (one setting for every layer only).
    #[arg(long)]
    pub no_budgets: bool,
}

/// Run `sweep`.
pub fn run(args: &Args) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let methods = default_methods();
    // The sweep compares the technique with its parameters free (pure line segments are not on
    // the shipped profile; its rice ratios are within 0.15 % of these, docs/HARDWARE.md).
    let codec = args.quant.codec(CodecSettings {
        profile: args.codec.profile_or("full")?,
        ..codec_settings(&args.codec)?
    });
    let families: &[Family] = if args.no_budgets { &[] } else { &Family::ALL };
    let bar = super::progress(0, "sweep");
    let mut points: Vec<Point> = Vec::new();
    let mut counts: Vec<String> = Vec::new();
    for path in &args.models {
        let name = path
            .file_stem()
            .map_or("model".into(), |s| s.to_string_lossy().into_owned());
        let model = args.data.load(path)?;
        let graph = &model.graph;
        let layers = graph.weight_layers().len();
        bar.inc_length(
            (methods.len()
                + families
                    .iter()
                    .map(|f| layers * f.ladder(codec.dead_zone).len() + BUDGETS.len())
                    .sum::<usize>()) as u64,
        );
        bar.set_message(format!("{name}: calibrating"));
        let p = prepare(
            &model,
            &args.data,
            args.images,
            args.budget_images,
            args.quant.build(),
        )?;
        let ev = &p.ev;
        let what = if ev.set.labels.is_some() {
            "labelled"
        } else {
            "unlabelled (agreement with float)"
        };
        counts.push(format!(
            "{name}: {} {what} images, {} calibration",
            ev.set.len(),
            ev.calib.count
        ));
        let tick = |m: &str| {
            bar.set_message(m.to_string());
            bar.inc(1);
        };
        points.extend(sweep_model(&name, ev, &methods, codec, tick)?);
        points.extend(budget_points(
            &name,
            &p.held_out,
            ev,
            families,
            &BUDGETS,
            codec,
            tick,
        )?);
        if !families.is_empty() {
            counts.push(format!(
                "{name}: per-layer points chosen on {}",
                p.held_out_source
            ));
        }
    }
    bar.finish_and_clear();
    let csv = args.out.join("sweep.csv");
    write_csv(&points, &csv)?;
    write_plot(&points, &args.out.join("sweep"))?;
    let best = best_within(&points, args.max_drop);
    let mut md = String::new();
    writeln!(
        md,
        "# Best footprint within {} point(s) of float accuracy\n",
        args.max_drop
    )?;
    writeln!(
        md,
        "Measured by `linecompress sweep` (integer golden model, INT8 activations) on"
    )?;
    for c in &counts {
        writeln!(md, "- {c}")?;
    }
    writeln!(md)?;
    writeln!(md, "| model | method | best ratio vs FP32 | at |")?;
    writeln!(md, "|---|---|---:|---|")?;
    for (model, family, ratio, at) in &best {
        writeln!(md, "| {model} | {family} | {ratio:.2}x | {at} |")?;
    }
    let mut families: Vec<&str> = best.iter().map(|b| b.1.as_str()).collect();
    families.sort_unstable();
    families.dedup();
    let models = args.models.len() as f64;
    writeln!(
        md,
        "\nAverage over models (a method with no point within budget on a model counts as 0):\n"
    )?;
    for f in families {
        let avg = best.iter().filter(|b| b.1 == f).map(|b| b.2).sum::<f64>() / models;
        writeln!(md, "- {f}: {avg:.2}x")?;
    }
    std::fs::write(args.out.join("sweep.md"), &md)?;
    print!("{md}");
    println!(
        "\nwrote {}, sweep.svg, sweep.png, sweep.md in {}",
        csv.display(),
        args.out.display()
    );
    Ok(())
}
