//! Evaluation inputs: labelled images from an IDX dataset or the face set, unlabelled images from
//! a folder, or seeded random inputs (for models without a matching dataset), each already
//! normalised and laid out for the model.

use std::path::{Path, PathBuf};

use crate::data::faces::{load_lfw_subset, resize, GrayImages};
use crate::data::fashion::{self, Dataset, Split as FashionSplit};
use crate::data::folder;
use crate::model::graph::{Graph, Preprocess, Tensor};

/// A set of model inputs with optional labels.
#[derive(Debug, Clone)]
pub struct EvalSet {
    /// Inputs, shaped like [`Graph::input_shape`].
    pub inputs: Vec<Tensor>,
    /// Labels when known.
    pub labels: Option<Vec<usize>>,
}

impl EvalSet {
    /// Images `range` of `data`, normalised with the graph's preprocessing. The images must
    /// match the model input (`[1, rows, cols]`).
    pub fn from_dataset(
        graph: &Graph,
        data: &Dataset,
        range: std::ops::Range<usize>,
    ) -> Result<Self, String> {
        if graph.input_shape != [1, data.rows, data.cols] {
            return Err(format!(
                "model input {:?} does not take {}x{} grayscale images",
                graph.input_shape, data.rows, data.cols
            ));
        }
        let range = range.start.min(data.len())..range.end.min(data.len());
        let inputs = range
            .clone()
            .map(|i| data.tensor(i, &graph.preprocess))
            .collect();
        let labels = Some(range.map(|i| data.labels[i] as usize).collect());
        Ok(Self { inputs, labels })
    }

    /// `n` deterministic pseudo-random inputs with pixel values uniform in 0..255, normalised
    /// with the graph's preprocessing (for models without a dataset here). Different seeds give
    /// different inputs.
    pub fn synthetic(graph: &Graph, n: usize, seed: u64) -> Self {
        let len: usize = graph.input_shape.iter().product();
        let mut s = (seed.wrapping_add(1)).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let inputs = (0..n)
            .map(|_| {
                let data = (0..len)
                    .map(|_| {
                        s ^= s << 13;
                        s ^= s >> 7;
                        s ^= s << 17;
                        ((s >> 56) as f32 - graph.preprocess.mean) / graph.preprocess.std
                    })
                    .collect();
                Tensor {
                    shape: graph.input_shape.clone(),
                    data,
                }
            })
            .collect();
        Self {
            inputs,
            labels: None,
        }
    }

    /// Grayscale images resized to the model's spatial size and laid out as its input (gray
    /// copied to every channel), normalised with `pre`.
    pub fn from_gray_images(
        graph: &Graph,
        imgs: &GrayImages,
        layout: Layout,
        pre: &Preprocess,
    ) -> Result<Self, String> {
        let geom = ImageInput::of(graph, layout)?;
        let inputs = imgs
            .pixels
            .iter()
            .map(|px| {
                let r = resize(px, imgs.rows, imgs.cols, geom.h, geom.w);
                geom.tensor(&r.repeat(geom.c), pre)
            })
            .collect();
        Ok(Self {
            inputs,
            labels: Some(imgs.labels.clone()),
        })
    }

    /// The first `n` PNG/JPEG images of `dir`, resized to the model's input, unlabelled.
    pub fn from_folder(
        graph: &Graph,
        dir: &Path,
        n: usize,
        layout: Layout,
    ) -> Result<Self, String> {
        let geom = ImageInput::of(graph, layout)?;
        let planes =
            folder::load_planes(dir, n, geom.c, geom.h, geom.w).map_err(|e| e.to_string())?;
        let inputs = planes
            .iter()
            .map(|p| geom.tensor(p, &graph.preprocess))
            .collect();
        Ok(Self {
            inputs,
            labels: None,
        })
    }

    /// Every `count`-th input starting at `index` (with its label): one shard of the set.
    pub fn shard(&self, index: usize, count: usize) -> Self {
        let keep = |i: &usize| count > 0 && i % count == index;
        let pick = |n: usize| (0..n).filter(keep);
        Self {
            inputs: pick(self.inputs.len())
                .map(|i| self.inputs[i].clone())
                .collect(),
            labels: self
                .labels
                .as_ref()
                .map(|l| pick(l.len()).map(|i| l[i]).collect()),
        }
    }

    /// Number of inputs.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }
}

/// A labelled image set split three ways for one model.
#[derive(Debug, Clone)]
pub struct Split {
    /// Evaluation images.
    pub eval: EvalSet,
    /// Calibration inputs (activation ranges).
    pub calib: Vec<Tensor>,
    /// Held-out images for choosing settings: never evaluation images.
    pub held_out: EvalSet,
}

/// Split a small labelled image set: every 4th image calibrates and, together with its mirror
/// image, is held out for choosing settings; the others (at most `images`) are evaluated.
pub fn split_faces(
    graph: &Graph,
    imgs: &GrayImages,
    layout: Layout,
    images: usize,
) -> Result<Split, String> {
    let pick = |keep: &dyn Fn(usize) -> bool, mirror: bool| {
        let mut out = GrayImages {
            rows: imgs.rows,
            cols: imgs.cols,
            pixels: Vec::new(),
            labels: Vec::new(),
        };
        for (i, (px, &y)) in imgs.pixels.iter().zip(&imgs.labels).enumerate() {
            if keep(i) {
                out.pixels.push(px.clone());
                out.labels.push(y);
                if mirror {
                    out.pixels.push(
                        px.chunks(imgs.cols)
                            .flat_map(|r| r.iter().rev())
                            .copied()
                            .collect(),
                    );
                    out.labels.push(y);
                }
            }
        }
        EvalSet::from_gray_images(graph, &out, layout, &graph.preprocess)
    };
    let calib = pick(&|i| i % 4 == 0, false)?.inputs;
    let held_out = pick(&|i| i % 4 == 0, true)?;
    let mut eval = pick(&|i| i % 4 != 0, false)?;
    eval.inputs.truncate(images);
    if let Some(l) = eval.labels.as_mut() {
        l.truncate(images);
    }
    Ok(Split {
        eval,
        calib,
        held_out,
    })
}

/// How an image tensor (batch axis removed) is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `[C, H, W]` when the first axis is 1 or 3, else `[H, W, C]`.
    Auto,
    /// Channels first.
    Chw,
    /// Channels last.
    Hwc,
    /// Channels last, width before height (MTCNN's Keras models).
    Whc,
}

impl Layout {
    /// Replace `Auto` by the layout the shape suggests.
    pub fn resolve(self, shape: &[usize]) -> Result<Layout, String> {
        match (self, shape) {
            (Layout::Auto, &[c, _, _]) if c == 1 || c == 3 => Ok(Layout::Chw),
            (Layout::Auto, &[_, _, c]) if c == 1 || c == 3 => Ok(Layout::Hwc),
            (Layout::Auto, _) => Err(format!("cannot tell the layout of input {shape:?}")),
            (l, _) => Ok(l),
        }
    }
}

/// An image model input: channels, height, width and the layout they are stored in.
#[derive(Debug, Clone, Copy)]
struct ImageInput {
    c: usize,
    h: usize,
    w: usize,
    layout: Layout,
    shape: [usize; 3],
}

impl ImageInput {
    fn of(graph: &Graph, layout: Layout) -> Result<Self, String> {
        let s = &graph.input_shape;
        let layout = layout.resolve(s)?;
        let (c, h, w) = match (layout, s.as_slice()) {
            (Layout::Chw, &[c, h, w]) => (c, h, w),
            (Layout::Hwc, &[h, w, c]) => (c, h, w),
            (Layout::Whc, &[w, h, c]) => (c, h, w),
            _ => return Err(format!("model input {s:?} is not an image tensor")),
        };
        Ok(Self {
            c,
            h,
            w,
            layout,
            shape: [s[0], s[1], s[2]],
        })
    }

    /// `[c, h, w]` planes (0..255) normalised with `pre` and laid out as the model input.
    fn tensor(&self, planes: &[f32], pre: &Preprocess) -> Tensor {
        let (c, h, w) = (self.c, self.h, self.w);
        let mut data = vec![0f32; c * h * w];
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    let i = match self.layout {
                        Layout::Chw | Layout::Auto => (ch * h + y) * w + x,
                        Layout::Hwc => (y * w + x) * c + ch,
                        Layout::Whc => (x * h + y) * c + ch,
                    };
                    data[i] = (planes[(ch * h + y) * w + x] - pre.mean) / pre.std;
                }
            }
        }
        Tensor {
            shape: self.shape.to_vec(),
            data,
        }
    }
}

/// Where a model's inputs come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The Fashion-MNIST IDX files in this directory: the test split is evaluated, the training
    /// split calibrates and its tail is held out.
    FashionMnist(PathBuf),
    /// scikit-image's face subset (`lfw_subset.npy`), split by [`split_faces`].
    Faces {
        /// The `.npy` file.
        path: PathBuf,
        /// How the model lays out its input.
        layout: Layout,
    },
    /// Seeded pseudo-random pixels (the evaluation set uses `seed`, calibration `seed + 1`,
    /// held-out inputs `seed + 2`): for bit-exactness checks where labels do not matter.
    Random {
        /// Seed of the evaluation inputs.
        seed: u64,
    },
    /// The PNG/JPEG images of a folder, unlabelled: the first ones are evaluated, calibrate
    /// and are held out alike.
    Folder {
        /// The folder.
        dir: PathBuf,
        /// How the model lays out its input.
        layout: Layout,
    },
}

/// The inputs of one model drawn from a [`Source`].
#[derive(Debug, Clone)]
pub struct Inputs {
    /// Evaluation inputs.
    pub eval: EvalSet,
    /// Calibration inputs.
    pub calib: Vec<Tensor>,
    /// Inputs for choosing settings.
    pub held_out: EvalSet,
    /// Where the held-out inputs come from.
    pub held_out_source: String,
}

impl Source {
    /// True when the inputs are synthetic.
    pub fn synthetic(&self) -> bool {
        matches!(self, Source::Random { .. })
    }

    /// Up to `images` evaluation inputs, `calib` calibration inputs and `held_out` held-out
    /// inputs (where the source is large enough to choose their number) for `graph`.
    pub fn load(
        &self,
        graph: &Graph,
        images: usize,
        calib: usize,
        held_out: usize,
    ) -> Result<Inputs, String> {
        match self {
            Source::FashionMnist(dir) => {
                let load =
                    |split| fashion::load(dir, split).map_err(|e| format!("Fashion-MNIST: {e}"));
                let test = load(FashionSplit::Test)?;
                let train = load(FashionSplit::Train)?;
                let eval = EvalSet::from_dataset(graph, &test, 0..images)?;
                let calib = EvalSet::from_dataset(graph, &train, 0..calib)?.inputs;
                let tail = train.len().saturating_sub(held_out)..train.len();
                let held_out = EvalSet::from_dataset(graph, &train, tail)?;
                let held_out_source = format!("the last {} training images", held_out.len());
                Ok(Inputs {
                    eval,
                    calib,
                    held_out,
                    held_out_source,
                })
            }
            Source::Faces { path, layout } => {
                let imgs = load_lfw_subset(path).map_err(|e| format!("{e} (run `make models`)"))?;
                let s = split_faces(graph, &imgs, *layout, images)?;
                let held_out_source = format!(
                    "{} face-set images outside the evaluation set (every 4th and its mirror \
                     image)",
                    s.held_out.len()
                );
                Ok(Inputs {
                    eval: s.eval,
                    calib: s.calib,
                    held_out: s.held_out,
                    held_out_source,
                })
            }
            Source::Random { seed } => Ok(Inputs {
                eval: EvalSet::synthetic(graph, images, *seed),
                calib: EvalSet::synthetic(graph, calib, seed.wrapping_add(1)).inputs,
                held_out: EvalSet::synthetic(graph, held_out, seed.wrapping_add(2)),
                held_out_source: format!("{held_out} random inputs"),
            }),
            Source::Folder { dir, layout } => {
                let all = EvalSet::from_folder(graph, dir, images.max(calib), *layout)?;
                let first = |n: usize| EvalSet {
                    inputs: all.inputs[..n.min(all.len())].to_vec(),
                    labels: None,
                };
                let held_out = first(calib);
                Ok(Inputs {
                    eval: first(images),
                    calib: held_out.inputs.clone(),
                    held_out_source: format!(
                        "the first {} images of {} (also the calibration images)",
                        held_out.len(),
                        dir.display()
                    ),
                    held_out,
                })
            }
        }
    }
}
