//! A folder of PNG/JPEG images (decoded by the `image` crate), each resized to a model's input
//! size: unlabelled inputs for models without a dataset here.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;

use super::idx::IdxError;

/// Image files of `dir` (`.png`, `.jpg`, `.jpeg`, any case), sorted by name.
pub fn image_files(dir: &Path) -> Result<Vec<PathBuf>, IdxError> {
    let io = |source| IdxError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let p = entry.map_err(io)?.path();
        let ext = p
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        if matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg")) {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// The first `n` images of `dir`, each resized (bilinear) to `rows x cols` with `channels`
/// planes (1: luma, 3: RGB), pixels 0..255, planes first: `[channels, rows, cols]`.
pub fn load_planes(
    dir: &Path,
    n: usize,
    channels: usize,
    rows: usize,
    cols: usize,
) -> Result<Vec<Vec<f32>>, IdxError> {
    if channels != 1 && channels != 3 {
        return Err(IdxError::Format {
            path: dir.display().to_string(),
            reason: format!("images have 1 or 3 channels, the model takes {channels}"),
        });
    }
    let files = image_files(dir)?;
    if files.is_empty() {
        return Err(IdxError::Format {
            path: dir.display().to_string(),
            reason: "no .png, .jpg or .jpeg file".into(),
        });
    }
    files
        .iter()
        .take(n)
        .map(|f| {
            let img = image::open(f).map_err(|e| IdxError::Format {
                path: f.display().to_string(),
                reason: e.to_string(),
            })?;
            let img = img.resize_exact(cols as u32, rows as u32, FilterType::Triangle);
            let planes = if channels == 1 {
                img.to_luma8().pixels().map(|p| p.0[0] as f32).collect()
            } else {
                let rgb = img.to_rgb8();
                (0..3)
                    .flat_map(|c| rgb.pixels().map(move |p| p.0[c] as f32))
                    .collect()
            };
            Ok(planes)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_resized_into_planes_in_name_order() {
        let dir = std::env::temp_dir().join(format!("lc_folder_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A red 4x2 image and a gray 3x3 one whose upper-case extension still counts.
        image::RgbImage::from_pixel(4, 2, image::Rgb([255, 0, 0]))
            .save(dir.join("b.png"))
            .unwrap();
        image::RgbImage::from_pixel(3, 3, image::Rgb([10, 10, 10]))
            .save(dir.join("a.PNG"))
            .unwrap();
        std::fs::write(dir.join("notes.txt"), "not an image").unwrap();
        let rgb = load_planes(&dir, 5, 3, 2, 2).unwrap();
        assert_eq!(rgb.len(), 2);
        assert_eq!(rgb[0], vec![10.0; 12]);
        assert_eq!(rgb[1], [[255.0; 4], [0.0; 4], [0.0; 4]].concat());
        let gray = load_planes(&dir, 1, 1, 2, 2).unwrap();
        assert_eq!(gray, vec![vec![10.0; 4]]);
        assert!(load_planes(&dir, 1, 4, 2, 2).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
