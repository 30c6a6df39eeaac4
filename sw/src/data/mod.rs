//! Datasets: the IDX format and the Fashion-MNIST splits built on it, NumPy `.npy` arrays and the
//! scikit-image face subset.

pub mod faces;
pub mod fashion;
pub mod idx;
pub mod npy;
