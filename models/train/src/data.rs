//! Fashion-MNIST IDX loading into candle tensors, normalised as `(pixel - 128) / 128`.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};

/// Images `[N, 1, 28, 28]` (f32) and labels `[N]` (u32).
pub struct Split {
    pub images: Tensor,
    pub labels: Tensor,
}

fn read_idx(path: &Path) -> Result<(Vec<usize>, Vec<u8>)> {
    let f = std::fs::File::open(path).with_context(|| format!("open {}", path.display()))?;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut bytes)
        .with_context(|| format!("gunzip {}", path.display()))?;
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 8 {
        bail!("{}: not an unsigned-byte IDX file", path.display());
    }
    let rank = bytes[3] as usize;
    let dims: Vec<usize> = bytes[4..4 + 4 * rank]
        .chunks(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let body = bytes[4 + 4 * rank..].to_vec();
    if body.len() != dims.iter().product::<usize>() {
        bail!("{}: size mismatch", path.display());
    }
    Ok((dims, body))
}

/// Load the `train` or `t10k` split.
pub fn load(dir: &Path, stem: &str, dev: &Device) -> Result<Split> {
    let (idims, px) = read_idx(&dir.join(format!("{stem}-images-idx3-ubyte.gz")))?;
    let (_, lb) = read_idx(&dir.join(format!("{stem}-labels-idx1-ubyte.gz")))?;
    let n = idims[0];
    let x: Vec<f32> = px.iter().map(|&p| (p as f32 - 128.0) / 128.0).collect();
    let images = Tensor::from_vec(x, (n, 1, idims[1], idims[2]), dev)?;
    let labels = Tensor::from_vec(lb.iter().map(|&l| l as u32).collect::<Vec<_>>(), n, dev)?;
    Ok(Split { images, labels })
}
