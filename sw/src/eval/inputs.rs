//! Evaluation inputs: labelled images from an IDX dataset, or unlabelled inputs (for models
//! without a matching dataset), each already normalised for the model.

use crate::data::faces::{resize, GrayImages};
use crate::data::fashion::Dataset;
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
    /// with the graph's preprocessing (for models without a dataset here).
    pub fn synthetic(graph: &Graph, n: usize, seed: u64) -> Self {
        let len: usize = graph.input_shape.iter().product();
        let mut s = seed | 1;
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
        let s = &graph.input_shape;
        let layout = layout.resolve(s)?;
        let (c, h, w) = match (layout, s.as_slice()) {
            (Layout::Chw, &[c, h, w]) => (c, h, w),
            (Layout::Hwc, &[h, w, c]) => (c, h, w),
            (Layout::Whc, &[w, h, c]) => (c, h, w),
            _ => return Err(format!("model input {s:?} is not an image tensor")),
        };
        let inputs = imgs
            .pixels
            .iter()
            .map(|px| {
                let r = resize(px, imgs.rows, imgs.cols, h, w);
                let mut data = vec![0f32; c * h * w];
                for y in 0..h {
                    for x in 0..w {
                        let v = (r[y * w + x] - pre.mean) / pre.std;
                        for ch in 0..c {
                            let i = match layout {
                                Layout::Chw | Layout::Auto => (ch * h + y) * w + x,
                                Layout::Hwc => (y * w + x) * c + ch,
                                Layout::Whc => (x * h + y) * c + ch,
                            };
                            data[i] = v;
                        }
                    }
                }
                Tensor {
                    shape: s.clone(),
                    data,
                }
            })
            .collect();
        Ok(Self {
            inputs,
            labels: Some(imgs.labels.clone()),
        })
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
