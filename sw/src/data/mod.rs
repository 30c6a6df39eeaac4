//! Datasets: the IDX format and the Fashion-MNIST splits built on it, NumPy `.npy` arrays, the
//! scikit-image face subset and folders of PNG/JPEG images.

pub mod faces;
pub mod fashion;
pub mod folder;
pub mod idx;
pub mod npy;
