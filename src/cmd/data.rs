//! The data options shared by `eval`, `sweep`, `verify`, `report` and `demo`: where the inputs
//! come from, how they are shaped and normalised, and the calibration set.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lc_sim::accel::shard::Shard;
use lc_sw::data::fashion;
use lc_sw::eval::inputs::{Inputs, Layout, Source};
use lc_sw::eval::prepared::{model_name, prepare, PreparedModel};
use lc_sw::model::graph::Graph;
use lc_sw::model::import::load_graph_shaped;

/// Which inputs to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatasetArg {
    /// Fashion-MNIST test split (calibration on the training split).
    FashionMnist,
    /// scikit-image's 100 faces + 100 non-faces (`--faces`).
    LfwFaces,
    /// Seeded random pixels (`--seed`).
    Random,
    /// A folder of PNG/JPEG images.
    Folder(PathBuf),
}

/// Parse `--dataset`.
fn parse_dataset(s: &str) -> Result<DatasetArg, String> {
    match s {
        "fashion-mnist" => Ok(DatasetArg::FashionMnist),
        "lfw-faces" => Ok(DatasetArg::LfwFaces),
        "random" | "none" => Ok(DatasetArg::Random),
        _ if Path::new(s).is_dir() => Ok(DatasetArg::Folder(s.into())),
        _ => Err(format!(
            "'{s}' is neither fashion-mnist, lfw-faces, random nor a folder of images"
        )),
    }
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

/// The data options.
#[derive(clap::Args, Clone, Debug)]
pub struct DataArgs {
    /// Inputs: `fashion-mnist` (test split; calibration on the training split), `lfw-faces`
    /// (scikit-image's faces and non-faces, class 1 = face; every 4th image calibrates),
    /// `random` (seeded pixels, top-1 agreement with float instead of accuracy; `none` is the
    /// same) or a folder of PNG/JPEG images (unlabelled, resized to the model input).
    #[arg(long, default_value = "fashion-mnist", value_parser = parse_dataset)]
    pub dataset: DatasetArg,
    /// Directory of the Fashion-MNIST IDX files.
    #[arg(long, default_value = fashion::DEFAULT_DIR)]
    pub data_dir: PathBuf,
    /// Number of calibration inputs.
    #[arg(long, default_value_t = 500)]
    pub calib: usize,
    /// `lfw_subset.npy` for `--dataset lfw-faces` (`make models` puts it in the model cache).
    #[arg(long, default_value_t = default_faces())]
    pub faces: String,
    /// Seed of `--dataset random`.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Input shape `N,C,H,W` (the model's own axis order, batch 1) for models with dynamic
    /// dimensions; static dimensions must agree.
    #[arg(long, value_delimiter = ',')]
    pub input_shape: Option<Vec<usize>>,
    /// Input layout for images resized to the model (MTCNN: `whc`).
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
    super::model_cache()
        .join("lfw_subset.npy")
        .display()
        .to_string()
}

/// An imported model and the name of its input.
pub struct Model {
    /// The float graph, with `--mean` / `--std` applied.
    pub graph: Graph,
    /// Name of the ONNX input.
    pub input: String,
}

impl DataArgs {
    /// The source of the inputs.
    pub fn source(&self) -> Source {
        match &self.dataset {
            DatasetArg::FashionMnist => Source::FashionMnist(self.data_dir.clone()),
            DatasetArg::LfwFaces => Source::Faces {
                path: PathBuf::from(&self.faces),
                layout: self.layout.into(),
            },
            DatasetArg::Random => Source::Random { seed: self.seed },
            DatasetArg::Folder(dir) => Source::Folder {
                dir: dir.clone(),
                layout: self.layout.into(),
            },
        }
    }

    /// A short description of the inputs (for records of runs).
    pub fn describe(&self) -> String {
        match &self.dataset {
            DatasetArg::FashionMnist => "fashion-mnist".into(),
            DatasetArg::LfwFaces => "lfw-faces".into(),
            DatasetArg::Random => format!("random:{}", self.seed),
            DatasetArg::Folder(dir) => dir.display().to_string(),
        }
    }

    /// Import an ONNX model with `--input-shape`, `--mean` and `--std` applied.
    pub fn load(&self, path: &Path) -> Result<Model> {
        let (mut graph, input) = load_graph_shaped(path, self.input_shape.as_deref())
            .with_context(|| format!("importing {}", path.display()))?;
        if let Some(m) = self.mean {
            graph.preprocess.mean = m;
        }
        if let Some(s) = self.std {
            graph.preprocess.std = s;
        }
        Ok(Model { graph, input })
    }

    /// `images` evaluation inputs, the calibration inputs and `held_out` held-out inputs for
    /// `model`; an input the data cannot feed is named with its shape.
    pub fn inputs(&self, model: &Model, images: usize, held_out: usize) -> Result<Inputs> {
        self.source()
            .load(&model.graph, images, self.calib, held_out)
            .map_err(|e| {
                let shape: Vec<usize> = std::iter::once(1)
                    .chain(model.graph.input_shape.iter().copied())
                    .collect();
                anyhow::anyhow!(
                    "input '{}' {shape:?} cannot be fed from --dataset {}: {e}",
                    model.input,
                    self.describe()
                )
            })
    }

    /// Import `path` and prepare it for the accelerator: calibrated, quantized, with its first
    /// `images` evaluation inputs (only those of `shard` when given).
    pub fn prepare(
        &self,
        path: &Path,
        images: usize,
        shard: Option<Shard>,
    ) -> Result<PreparedModel> {
        let model = self.load(path)?;
        let inputs = self.inputs(&model, images, 0)?;
        let eval = match shard {
            Some(s) => inputs.eval.shard(s.index, s.count),
            None => inputs.eval,
        };
        if eval.is_empty() {
            let of = shard.map_or(String::new(), |s| format!(", shard {s}"));
            bail!("no input to run ({images} images{of})");
        }
        Ok(prepare(
            &model_name(path),
            model.graph,
            &inputs.calib,
            eval,
        )?)
    }
}
