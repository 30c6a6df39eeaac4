//! `linecompress eval`: accuracy of a model with float weights, INT8 weights and LineCompress
//! weights (all integer runs through the golden model), plus the footprint ratios.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lc_sw::codec::Mode;
use lc_sw::data::faces::load_lfw_subset;
use lc_sw::data::fashion::{self, Split};
use lc_sw::eval::budget::choose_eps;
use lc_sw::eval::inputs::{EvalSet, Layout};
use lc_sw::eval::runner::Evaluator;
use lc_sw::eval::variants::{model_variant, weight_count, CodecSettings, Method};
use lc_sw::model::graph::{Graph, Tensor};
use lc_sw::model::import::load_graph;

use super::compress::CodecArgs;

/// Which inputs to evaluate on.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetArg {
    /// Fashion-MNIST test split (calibration on the training split).
    FashionMnist,
    /// scikit-image's 100 faces + 100 non-faces (`--faces`), for face classifiers such as the
    /// MTCNN O-Net (class 1 = face); every 4th image calibrates, the others are evaluated.
    LfwFaces,
    /// Synthetic inputs: report top-1 agreement with the float model instead of accuracy.
    None,
}

/// Inputs shared by `eval` and `sweep`.
#[derive(clap::Args, Clone, Debug)]
pub struct DataArgs {
    /// Evaluation data.
    #[arg(long, value_enum, default_value = "fashion-mnist")]
    pub dataset: DatasetArg,
    /// Directory of the IDX files.
    #[arg(long, default_value = fashion::DEFAULT_DIR)]
    pub data_dir: PathBuf,
    /// Number of test images (the first N of the test split).
    #[arg(long, default_value_t = 10_000)]
    pub images: usize,
    /// Number of calibration images (the first N of the training split).
    #[arg(long, default_value_t = 500)]
    pub calib: usize,
    /// `lfw_subset.npy` for `--dataset lfw-faces` (`make models` puts it in the model cache).
    #[arg(long, default_value_t = default_faces())]
    pub faces: String,
    /// Input layout for image datasets resized to the model (MTCNN: `whc`).
    #[arg(long, value_enum, default_value = "auto")]
    pub layout: LayoutArg,
    /// Override the model's input normalisation `(pixel - mean) / std` (MTCNN: 127.5).
    #[arg(long)]
    pub mean: Option<f32>,
    /// Override the model's input normalisation `(pixel - mean) / std` (MTCNN: 128).
    #[arg(long)]
    pub std: Option<f32>,
}

fn default_faces() -> String {
    let cache = std::env::var("LC_MODEL_CACHE").unwrap_or_else(|_| {
        format!(
            "{}/.cache/linecompress",
            std::env::var("HOME").unwrap_or_else(|_| ".".into())
        )
    });
    format!("{cache}/lfw_subset.npy")
}

/// Input layout on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum LayoutArg {
    /// Channels first when the first axis is 1 or 3, else channels last.
    Auto,
    /// `[C, H, W]`.
    Chw,
    /// `[H, W, C]`.
    Hwc,
    /// `[W, H, C]`.
    Whc,
}

/// Arguments of `eval`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// ONNX model.
    #[arg(long, default_value = "models/lenet5.onnx")]
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub codec: CodecArgs,
    /// Choose each layer's eps (for --mode) to maximise compression within this many points of
    /// float accuracy, measured on --budget-images training images; overrides --eps.
    #[arg(long)]
    pub max_drop: Option<f64>,
    /// Held-out training images used to choose per-layer eps with --max-drop.
    #[arg(long, default_value_t = 1000)]
    pub budget_images: usize,
    /// Print `{"accuracy_float","accuracy_int8","accuracy_compressed","ratio_fp32","ratio_int8"}`.
    #[arg(long)]
    pub json: bool,
}

/// Build the evaluator of `graph` from the data arguments (also returns the Fashion-MNIST
/// training split when loaded, for held-out budget images).
pub fn prepare<'g>(
    graph: &'g Graph,
    data: &DataArgs,
) -> Result<(Evaluator<'g>, Option<fashion::Dataset>)> {
    let (set, calib, train): (EvalSet, Vec<Tensor>, Option<fashion::Dataset>) = match data.dataset {
        DatasetArg::FashionMnist => {
            let test =
                fashion::load(&data.data_dir, Split::Test).context("loading the test split")?;
            let train = fashion::load(&data.data_dir, Split::Train)
                .context("loading the training split")?;
            let set = EvalSet::from_dataset(graph, &test, 0..data.images).map_err(|e| {
                anyhow::anyhow!("{e} (use --dataset none for agreement with float)")
            })?;
            let calib = EvalSet::from_dataset(graph, &train, 0..data.calib)
                .map_err(anyhow::Error::msg)?
                .inputs;
            (set, calib, Some(train))
        }
        DatasetArg::LfwFaces => {
            let imgs = load_lfw_subset(&data.faces)
                .with_context(|| format!("{} (run `make models`)", data.faces))?;
            let all =
                EvalSet::from_gray_images(graph, &imgs, data.layout.into(), &graph.preprocess)
                    .map_err(anyhow::Error::msg)?;
            let labels = all.labels.clone().unwrap_or_default();
            let (mut set, mut calib) = (
                EvalSet {
                    inputs: Vec::new(),
                    labels: Some(Vec::new()),
                },
                Vec::new(),
            );
            for (i, x) in all.inputs.into_iter().enumerate() {
                if i % 4 == 0 {
                    calib.push(x);
                } else if set.inputs.len() < data.images {
                    set.inputs.push(x);
                    set.labels.get_or_insert_with(Vec::new).push(labels[i]);
                }
            }
            (set, calib, None)
        }
        DatasetArg::None => {
            let set = EvalSet::synthetic(graph, data.images, 1);
            let calib = EvalSet::synthetic(graph, data.calib, 2).inputs;
            (set, calib, None)
        }
    };
    if set.is_empty() || calib.is_empty() {
        bail!("need at least one evaluation and one calibration input");
    }
    Ok((Evaluator::new(graph, set, &calib)?, train))
}

impl From<LayoutArg> for Layout {
    fn from(l: LayoutArg) -> Self {
        match l {
            LayoutArg::Auto => Layout::Auto,
            LayoutArg::Chw => Layout::Chw,
            LayoutArg::Hwc => Layout::Hwc,
            LayoutArg::Whc => Layout::Whc,
        }
    }
}

/// The LineCompress settings from the shared codec arguments.
pub fn codec_settings(c: &CodecArgs) -> Result<CodecSettings> {
    let o = c.options()?;
    Ok(CodecSettings {
        profile: c.profile()?,
        bits: c.bits,
        lanes: o.lanes,
        strategy: o.strategy,
    })
}

/// Load an ONNX graph, with the input normalisation overridden by `--mean` / `--std`.
pub fn load(path: &Path, data: &DataArgs) -> Result<Graph> {
    let mut g = load_graph(path).with_context(|| format!("importing {}", path.display()))?;
    if let Some(m) = data.mean {
        g.preprocess.mean = m;
    }
    if let Some(s) = data.std {
        g.preprocess.std = s;
    }
    Ok(g)
}

/// Run `eval`.
pub fn run(args: &Args) -> Result<()> {
    let graph = load(&args.model, &args.data)?;
    let (ev, train) = prepare(&graph, &args.data)?;
    let codec = codec_settings(&args.codec)?;
    let mode = args.codec.options()?.mode;
    let n_layers = graph.weight_layers().len();
    let n = weight_count(&graph);

    let float = ev.float_score();
    let int8 = model_variant(&graph, &vec![Method::Uniform(8); n_layers], codec)?;
    let int8_score = ev.score(&int8.iter().map(|v| v.weights.clone()).collect::<Vec<_>>())?;

    let eps: Vec<u16> = match args.max_drop {
        None => vec![args.codec.eps; n_layers],
        Some(budget) => {
            // Choose on held-out training images (the tail of the training split), not the test set.
            let held_out = match (&train, args.data.dataset) {
                (Some(t), DatasetArg::FashionMnist) => EvalSet::from_dataset(
                    &graph,
                    t,
                    t.len().saturating_sub(args.budget_images)..t.len(),
                )
                .map_err(anyhow::Error::msg)?,
                _ => EvalSet::synthetic(&graph, args.budget_images, 3),
            };
            let bev = Evaluator {
                graph: &graph,
                set: held_out,
                calib: ev.calib.clone(),
                float_logits: Vec::new(),
            };
            let bev = Evaluator {
                float_logits: lc_sw::eval::runner::float_logits(&graph, &bev.set.inputs)?,
                ..bev
            };
            let candidates: Vec<u16> = match mode {
                Mode::Rice => vec![0, 1, 2, 4, 8, 16, 32],
                Mode::Lines => vec![0, 2, 4, 6, 8, 12, 16, 24, 32],
            };
            let bar = super::progress((n_layers * candidates.len() + 2) as u64, "budget");
            let r = choose_eps(&bev, mode, &candidates, budget, codec, |m| {
                bar.set_message(m.to_string());
                bar.inc(1);
            })?;
            bar.finish_and_clear();
            if !args.json {
                println!(
                    "per-layer eps for a {budget} point budget (chosen on {} held-out images):",
                    bev.set.len()
                );
                for ((name, e), b) in r.names.iter().zip(&r.eps).zip(&r.bits) {
                    println!("  {name:<24} eps {e:>3}  {b:>9} bits");
                }
                println!(
                    "  held-out quality: float {:.2}%, int8 {:.2}%, chosen {:.2}%",
                    bev.float_score().quality() * 100.0,
                    r.quality_int8,
                    r.quality
                );
            }
            r.eps
        }
    };
    let methods: Vec<Method> = eps
        .iter()
        .map(|&e| Method::LineCompress { mode, eps: e })
        .collect();
    let lc = model_variant(&graph, &methods, codec)?;
    let bits: u64 = lc.iter().map(|v| v.bits).sum();
    let lc_score = ev.score(&lc.into_iter().map(|v| v.weights).collect::<Vec<_>>())?;
    let ratio_fp32 = 32.0 * n as f64 / bits.max(1) as f64;
    let ratio_int8 = 8.0 * n as f64 / bits.max(1) as f64;

    if args.json {
        let j = serde_json::json!({
            "accuracy_float": float.quality(),
            "accuracy_int8": int8_score.quality(),
            "accuracy_compressed": lc_score.quality(),
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
    let label = match args.max_drop {
        Some(b) => format!(
            "linecompress {} budget {b}",
            lc_sw::eval::variants::mode_name(mode)
        ),
        None => format!(
            "linecompress {} eps {}",
            lc_sw::eval::variants::mode_name(mode),
            args.codec.eps
        ),
    };
    println!(
        "{:<28} {:>8.2}% {:>11.1} {:>10.3} {:>9.2}x  ({ratio_int8:.2}x vs INT8)",
        label,
        lc_score.quality() * 100.0,
        lc_score.sqnr_db,
        bits as f64 / n as f64,
        ratio_fp32
    );
    Ok(())
}
