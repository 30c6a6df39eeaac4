//! `linecompress eval`: accuracy of a model with float weights, INT8 weights and LineCompress
//! weights (all integer runs through the golden model), plus the footprint ratios.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use lc_sw::codec::Mode;
use lc_sw::eval::budget::{accept, choose, BudgetResult};
use lc_sw::eval::ladder::Family;
use lc_sw::eval::runner::Evaluator;
use lc_sw::eval::variants::{model_container, model_variant, weight_count, CodecSettings, Method};
use lc_sw::model::golden::BuildOptions;

use super::compress::CodecArgs;
use super::data::{DataArgs, Model};

/// Method searched per layer by `eval --max-drop` (and evaluated by `eval` alone).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodArg {
    /// LineCompress with Rice residuals (without --max-drop: --eps on every layer).
    LcRice,
    /// LineCompress, pure lines (without --max-drop: --eps on every layer).
    LcLines,
    /// Uniform per-channel quantization (without --max-drop: --bits on every layer).
    Uniform,
    /// Per-layer k-means codebook (without --max-drop: --centroids on every layer).
    Kmeans,
}

impl From<MethodArg> for Family {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::LcRice => Family::LcRice,
            MethodArg::LcLines => Family::LcLines,
            MethodArg::Uniform => Family::Uniform,
            MethodArg::Kmeans => Family::KMeans,
        }
    }
}

/// Arguments of `eval`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// ONNX model.
    #[arg(long, default_value = "models/lenet5.onnx")]
    pub model: PathBuf,
    /// Number of evaluation inputs: the first N of `--dataset`.
    #[arg(long, default_value_t = 10_000)]
    pub images: usize,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub codec: CodecArgs,
    /// Weight representation (default: LineCompress in --mode).
    #[arg(long, value_enum)]
    pub method: Option<MethodArg>,
    /// Codebook entries per layer for `--method kmeans` without --max-drop.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(2..=4096))]
    pub centroids: u16,
    /// Choose each layer's setting of --method to maximise compression within this many points
    /// of float accuracy (chosen on held-out images, then checked on the evaluation images).
    #[arg(long)]
    pub max_drop: Option<f64>,
    /// Held-out training images used to choose per-layer settings with --max-drop
    /// (Fashion-MNIST and synthetic inputs; face images use their own split).
    #[arg(long, default_value_t = 1000)]
    pub budget_images: usize,
    /// Write the LineCompress weights evaluated (with --max-drop: each layer's chosen setting) as
    /// a container, e.g. for `verify --weights`.
    #[arg(long)]
    pub save: Option<PathBuf>,
    #[command(flatten)]
    pub quant: QuantArgs,
    /// Print `{"accuracy_float","accuracy_int8","accuracy_compressed","ratio_fp32","ratio_int8"}`.
    #[arg(long)]
    pub json: bool,
}

/// Quantization refinements open to every method (all off by default).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct QuantArgs {
    /// Subtract each output channel's expected weight error (times the calibration mean of
    /// its input) from the bias (docs/GOLDEN_MODEL.md).
    #[arg(long)]
    pub bias_correction: bool,
    /// Choose each channel's scale for the least squared weight error at the grid step the
    /// method will use (clipping the largest weights when that pays) instead of max-abs.
    #[arg(long)]
    pub mse_clip: bool,
    /// Draw each layer's channel scales this many percent (0..=100, geometrically) from their
    /// max-abs values towards the layer's max-abs, so the float step of the grid is closer to
    /// equal across channels (100: one scale per layer); uniform and LineCompress weights.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100),
          conflicts_with = "mse_clip")]
    pub layer_step: u8,
    /// With --max-drop and lc-rice: the search may also give a layer eps 6, 12 or 24, between
    /// half the residual step and the step, which the encoder uses as a dead zone (a residual
    /// moves one step towards the prediction when that shortens its code).
    #[arg(long)]
    pub dead_zone: bool,
    /// Refit each output channel's scale (the requantization multiplier) to the integers the
    /// method stores, by least squares against the float weights.
    #[arg(long)]
    pub refit_scales: bool,
}

impl QuantArgs {
    /// How the integer models are built.
    pub fn build(&self) -> BuildOptions {
        BuildOptions {
            bias_correction: self.bias_correction,
        }
    }

    /// `codec` with the chosen quantization grid.
    pub fn codec(&self, codec: CodecSettings) -> CodecSettings {
        CodecSettings {
            mse_clip: self.mse_clip,
            layer_step: self.layer_step,
            refit_scales: self.refit_scales,
            dead_zone: self.dead_zone,
            ..codec
        }
    }
}

/// The evaluator of the evaluation images, and one of held-out images for choosing settings.
pub struct Prepared<'g> {
    /// Evaluation images.
    pub ev: Evaluator<'g>,
    /// Held-out images (never evaluation images), with the same calibration.
    pub held_out: Evaluator<'g>,
    /// Where the held-out images come from.
    pub held_out_source: String,
    /// True when the held-out inputs are synthetic (no images of the evaluation distribution).
    pub synthetic: bool,
}

/// Build the evaluators of `model` from the data arguments: `images` evaluation inputs and
/// `budget_images` held-out ones where the dataset is large enough to choose their number;
/// both build their integer models with `build`.
pub fn prepare<'g>(
    model: &'g Model,
    data: &DataArgs,
    images: usize,
    budget_images: usize,
    build: BuildOptions,
) -> Result<Prepared<'g>> {
    let graph = &model.graph;
    let inputs = data.inputs(model, images, budget_images)?;
    if inputs.eval.is_empty() || inputs.calib.is_empty() || inputs.held_out.is_empty() {
        bail!("need at least one evaluation, one calibration and one held-out input");
    }
    let mut ev = Evaluator::new(graph, inputs.eval, &inputs.calib)?;
    ev.build = build;
    let held_out = ev.other_set(inputs.held_out)?;
    Ok(Prepared {
        ev,
        held_out,
        held_out_source: inputs.held_out_source,
        synthetic: data.source().synthetic(),
    })
}

/// The LineCompress settings from the shared codec arguments.
pub fn codec_settings(c: &CodecArgs) -> Result<CodecSettings> {
    let o = c.options()?;
    Ok(CodecSettings {
        profile: c.profile()?,
        bits: c.bits,
        lanes: o.lanes,
        strategy: o.strategy,
        mse_clip: false,
        layer_step: 0,
        refit_scales: false,
        dead_zone: false,
    })
}

/// Run `eval`.
pub fn run(args: &Args) -> Result<()> {
    if args.save.is_some() && (args.quant.bias_correction || args.quant.refit_scales) {
        bail!(
            "--save writes the weights with their grid's scales, and the accelerator runs with \
             the uncorrected bias: drop --bias-correction and --refit-scales to save a container \
             for verify"
        );
    }
    let model = args.data.load(&args.model)?;
    let graph = &model.graph;
    let p = prepare(
        &model,
        &args.data,
        args.images,
        args.budget_images,
        args.quant.build(),
    )?;
    let ev = &p.ev;
    let codec = args.quant.codec(codec_settings(&args.codec)?);
    let mode = args.codec.options()?.mode;
    let family = args.method.map_or(
        match mode {
            Mode::Rice => Family::LcRice,
            Mode::Lines => Family::LcLines,
        },
        Family::from,
    );
    let n_layers = graph.weight_layers().len();
    let n = weight_count(graph);

    let float = ev.float_score();
    let int8 = model_variant(graph, &vec![Method::Uniform(8); n_layers], codec)?;
    let int8_score = ev.score(&int8.iter().map(|v| v.weights.clone()).collect::<Vec<_>>())?;

    let (label, bits, score, methods) = match args.max_drop {
        None => {
            let m = match family {
                Family::LcRice => Method::LineCompress {
                    mode: Mode::Rice,
                    eps: args.codec.eps,
                },
                Family::LcLines => Method::LineCompress {
                    mode: Mode::Lines,
                    eps: args.codec.eps,
                },
                Family::Uniform => Method::Uniform(args.codec.bits),
                Family::KMeans => Method::KMeans(args.centroids),
            };
            let methods = vec![m; n_layers];
            let v = model_variant(graph, &methods, codec)?;
            let bits: u64 = v.iter().map(|l| l.bits).sum();
            let s = ev.score(&v.into_iter().map(|l| l.weights).collect::<Vec<_>>())?;
            (m.label(), bits, s, methods)
        }
        Some(budget) => {
            if !(0.0..=100.0).contains(&budget) {
                bail!("--max-drop {budget} is not between 0 and 100 points");
            }
            let (r, s) = search(&p, family, budget, codec, !args.json)?;
            (
                format!("{} budget {budget}", family.name()),
                r.bits().iter().sum(),
                s,
                r.methods(),
            )
        }
    };
    if let Some(path) = &args.save {
        let c = model_container(graph, &methods, codec, args.codec.word_bits)?;
        std::fs::write(path, c.to_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        if !args.json {
            println!("wrote {} ({} layers)", path.display(), c.layers.len());
        }
    }
    let ratio_fp32 = 32.0 * n as f64 / bits.max(1) as f64;
    let ratio_int8 = 8.0 * n as f64 / bits.max(1) as f64;

    if args.json {
        let j = serde_json::json!({
            "accuracy_float": float.quality(),
            "accuracy_int8": int8_score.quality(),
            "accuracy_compressed": score.quality(),
            "ratio_fp32": ratio_fp32,
            "ratio_int8": ratio_int8,
        });
        println!("{j}");
        return Ok(());
    }
    let what = if ev.set.labels.is_some() {
        "top-1 accuracy"
    } else {
        "top-1 agreement with float"
    };
    println!(
        "model {}: {} weight layers, {} weights, {} parameters",
        args.model.display(),
        n_layers,
        n,
        graph.num_params()
    );
    println!(
        "{} images, calibration on {} ({what})",
        ev.set.len(),
        ev.calib.count
    );
    println!(
        "{:<28} {:>9} {:>11} {:>10} {:>10}",
        "weights", "quality", "SQNR (dB)", "bits/w", "vs FP32"
    );
    println!(
        "{:<28} {:>8.2}% {:>11} {:>10.3} {:>9.2}x",
        "float (FP32)",
        float.quality() * 100.0,
        "-",
        32.0,
        1.0
    );
    println!(
        "{:<28} {:>8.2}% {:>11.1} {:>10.3} {:>9.2}x",
        "int8 (golden model)",
        int8_score.quality() * 100.0,
        int8_score.sqnr_db,
        8.0,
        4.0
    );
    println!(
        "{:<28} {:>8.2}% {:>11.1} {:>10.3} {:>9.2}x  ({ratio_int8:.2}x vs INT8)",
        label,
        score.quality() * 100.0,
        score.sqnr_db,
        bits as f64 / n as f64,
        ratio_fp32
    );
    println!(
        "drop against float: {:.2} points (95% CI +-{:.2})",
        (float.quality() - score.quality()) * 100.0,
        score.drop_ci95 * 100.0
    );
    Ok(())
}

/// The per-layer settings of `family` within `budget` points of float accuracy: chosen on the
/// held-out images, checked (and stepped back) on the evaluation images; with `print`, the
/// choice and its steps are printed. Returns the choice and its score on the evaluation images.
pub fn search(
    p: &Prepared,
    family: Family,
    budget: f64,
    codec: CodecSettings,
    print: bool,
) -> Result<(BudgetResult, lc_sw::eval::runner::Score)> {
    let steps = p.ev.graph.weight_layers().len() * family.ladder(codec.dead_zone).len() + 3;
    let bar = super::progress(steps as u64, "budget");
    let tick = |m: &str| {
        bar.set_message(m.to_string());
        bar.inc(1);
    };
    let mut r = choose(&p.held_out, family, budget, codec, tick)?;
    let chosen_on_held_out = r.methods();
    let (s, steps) = accept(&p.ev, &mut r, tick)?;
    bar.finish_and_clear();
    if print {
        print_choice(p, &r, &chosen_on_held_out, &steps);
    }
    Ok((r, s))
}

/// Report the per-layer choice: held-out estimate, guard, back-offs on either image set.
fn print_choice(p: &Prepared, r: &BudgetResult, held_out_choice: &[Method], steps: &[String]) {
    let g = &r.guard;
    println!(
        "per-layer {} settings for a {} point budget, chosen on {}:",
        r.family.name(),
        g.max_drop,
        p.held_out_source
    );
    if p.synthetic {
        println!("  note: no images of the evaluation distribution, so the choice rests on synthetic inputs");
    }
    for (((name, m), b), h) in r
        .names
        .iter()
        .zip(r.methods())
        .zip(r.bits())
        .zip(held_out_choice)
    {
        let was = if *h == m {
            String::new()
        } else {
            format!("  (held-out choice {})", h.label())
        };
        println!("  {name:<24} {:<16} {b:>9} bits{was}", m.label());
    }
    let hq = p.held_out.float_score().quality() * 100.0;
    println!(
        "  held-out: float {hq:.2}%, int8 {:.2}%, chosen {:.2}% (drop {:.2}, 95% CI +-{:.2}), \
         agreement {:.2}%, output SQNR {:.1} dB",
        r.int8.quality() * 100.0,
        r.score.quality() * 100.0,
        hq - r.score.quality() * 100.0,
        r.score.drop_ci95 * 100.0,
        r.score.agreement * 100.0,
        r.score.sqnr_db
    );
    println!(
        "  guard: drop <= {}, agreement >= {:.1}%, output SQNR >= {:.1} dB",
        g.max_drop, g.min_agreement, g.min_sqnr_db
    );
    for b in &r.adjustments {
        println!("  on the held-out images: {b}");
    }
    if steps.is_empty() {
        println!("  the choice holds on the evaluation images");
    }
    for s in steps {
        println!("  backed off on the evaluation images ({s})");
    }
}
