//! The face / non-face images of scikit-image's `lfw_subset.npy` (200 grayscale 25x25 images in
//! 0..1: the first 100 are faces, the last 100 are not), a labelled set for face classifiers such
//! as the MTCNN O-Net and R-Net (class 1 = face).

use std::path::Path;

use super::idx::IdxError;
use super::npy;

/// Grayscale images with labels, pixels in 0..255.
#[derive(Debug, Clone, PartialEq)]
pub struct GrayImages {
    /// Height.
    pub rows: usize,
    /// Width.
    pub cols: usize,
    /// Row-major pixels of every image, 0..255.
    pub pixels: Vec<Vec<f32>>,
    /// Labels.
    pub labels: Vec<usize>,
}

/// Load `lfw_subset.npy`: label 1 for the first half (faces), 0 for the second half.
pub fn load_lfw_subset(path: impl AsRef<Path>) -> Result<GrayImages, IdxError> {
    let p = path.as_ref();
    let a = npy::read(p)?;
    let [n, rows, cols] = a.shape[..] else {
        return Err(IdxError::Format {
            path: p.display().to_string(),
            reason: format!("shape {:?} is not [N, H, W]", a.shape),
        });
    };
    let px = rows * cols;
    let pixels = (0..n)
        .map(|i| {
            a.data[i * px..(i + 1) * px]
                .iter()
                .map(|&v| (v * 255.0) as f32)
                .collect()
        })
        .collect();
    let labels = (0..n).map(|i| usize::from(i < n / 2)).collect();
    Ok(GrayImages {
        rows,
        cols,
        pixels,
        labels,
    })
}

/// Bilinear resize of a grayscale image (pixel centres aligned, edges clamped).
pub fn resize(src: &[f32], rows: usize, cols: usize, out_rows: usize, out_cols: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(out_rows * out_cols);
    let sy = rows as f32 / out_rows as f32;
    let sx = cols as f32 / out_cols as f32;
    for y in 0..out_rows {
        let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, (rows - 1) as f32);
        let (y0, ty) = (fy.floor() as usize, fy - fy.floor());
        let y1 = (y0 + 1).min(rows - 1);
        for x in 0..out_cols {
            let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, (cols - 1) as f32);
            let (x0, tx) = (fx.floor() as usize, fx - fx.floor());
            let x1 = (x0 + 1).min(cols - 1);
            let top = src[y0 * cols + x0] * (1.0 - tx) + src[y0 * cols + x1] * tx;
            let bot = src[y1 * cols + x0] * (1.0 - tx) + src[y1 * cols + x1] * tx;
            out.push(top * (1.0 - ty) + bot * ty);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_keeps_constants_and_corners() {
        let src = vec![5.0; 9];
        assert!(resize(&src, 3, 3, 7, 5)
            .iter()
            .all(|&v| (v - 5.0).abs() < 1e-6));
        let ramp: Vec<f32> = (0..4).map(|i| i as f32).collect(); // 2x2: [0 1; 2 3]
        let r = resize(&ramp, 2, 2, 4, 4);
        assert_eq!((r[0], r[15]), (0.0, 3.0));
        assert!(
            r.windows(2).take(3).all(|w| w[1] >= w[0]),
            "monotone along a row: {r:?}"
        );
    }
}
