//! Fashion-MNIST (and any MNIST-layout dataset): 28x28 grayscale images with labels 0..9,
//! read from the four standard IDX files.

use std::path::{Path, PathBuf};

use super::idx::{self, IdxError};
use crate::model::graph::{Preprocess, Tensor};

/// Where the Debian package `dataset-fashion-mnist` installs the files.
pub const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The class names of Fashion-MNIST, by label.
pub const CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Which split to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// 60,000 training images.
    Train,
    /// 10,000 test images.
    Test,
}

/// A labelled image set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// Image height and width.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
    /// `len * rows * cols` pixels, 0..255.
    pub pixels: Vec<u8>,
    /// One label per image.
    pub labels: Vec<u8>,
}

impl Dataset {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there is no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.rows * self.cols;
        &self.pixels[i * n..(i + 1) * n]
    }

    /// Image `i` as a `[1, rows, cols]` tensor normalised with `pre`.
    pub fn tensor(&self, i: usize, pre: &Preprocess) -> Tensor {
        let data = self
            .image(i)
            .iter()
            .map(|&p| (p as f32 - pre.mean) / pre.std)
            .collect();
        Tensor {
            shape: vec![1, self.rows, self.cols],
            data,
        }
    }

    /// The first `n` images (all when `n` is larger).
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        let px = self.rows * self.cols;
        Dataset {
            rows: self.rows,
            cols: self.cols,
            pixels: self.pixels[..n * px].to_vec(),
            labels: self.labels[..n].to_vec(),
        }
    }
}

/// Build a dataset from an image array `[N, rows, cols]` and a label array `[N]`.
pub fn from_arrays(
    images: idx::IdxArray,
    labels: idx::IdxArray,
    what: &str,
) -> Result<Dataset, IdxError> {
    let fmt = |reason: String| IdxError::Format {
        path: what.to_string(),
        reason,
    };
    let [n, rows, cols] = images.dims[..] else {
        return Err(fmt(format!(
            "images must have 3 dimensions, have {:?}",
            images.dims
        )));
    };
    if labels.dims != [n] {
        return Err(fmt(format!(
            "{n} images but labels have shape {:?}",
            labels.dims
        )));
    }
    Ok(Dataset {
        rows,
        cols,
        pixels: images.data,
        labels: labels.data,
    })
}

/// The two file paths of a split inside `dir` (gzip-compressed names, as Debian ships them; a
/// decompressed file of the same name without `.gz` is used when the `.gz` is absent).
pub fn split_paths(dir: &Path, split: Split) -> (PathBuf, PathBuf) {
    let stem = match split {
        Split::Train => "train",
        Split::Test => "t10k",
    };
    let pick = |name: String| {
        let gz = dir.join(format!("{name}.gz"));
        if gz.exists() {
            gz
        } else {
            dir.join(name)
        }
    };
    (
        pick(format!("{stem}-images-idx3-ubyte")),
        pick(format!("{stem}-labels-idx1-ubyte")),
    )
}

/// Load one split from `dir` (e.g. [`DEFAULT_DIR`]).
pub fn load(dir: impl AsRef<Path>, split: Split) -> Result<Dataset, IdxError> {
    let (ip, lp) = split_paths(dir.as_ref(), split);
    from_arrays(idx::read(&ip)?, idx::read(&lp)?, &ip.display().to_string())
}
