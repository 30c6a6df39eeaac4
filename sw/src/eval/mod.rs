//! Accuracy evaluation of a CNN under different weight representations: the float reference,
//! the integer golden model with uniform B-bit weights, k-means codebooks, and LineCompress
//! (lines / rice) weights; per-layer error budgets under an accuracy constraint; the
//! rate-distortion sweep with its CSV and plot.

pub mod budget;
pub mod inputs;
pub mod ladder;
pub mod metrics;
pub mod plot;
pub mod prepared;
pub mod runner;
pub mod sweep;
pub mod variants;

use thiserror::Error;

/// Errors of an evaluation.
#[derive(Debug, Error)]
pub enum EvalError {
    /// Running the float or integer model failed.
    #[error(transparent)]
    Exec(#[from] crate::model::float_exec::ExecError),
    /// Building the integer model failed.
    #[error(transparent)]
    Golden(#[from] crate::model::golden::GoldenError),
    /// Quantization failed.
    #[error(transparent)]
    Quant(#[from] crate::quant::QuantError),
    /// Compression failed.
    #[error("compressing layer '{layer}': {reason}")]
    Compress {
        /// Layer name.
        layer: String,
        /// The codec's message.
        reason: String,
    },
    /// Importing the model failed.
    #[error(transparent)]
    Import(#[from] crate::model::import::ImportError),
    /// Reading a dataset failed.
    #[error(transparent)]
    Data(#[from] crate::data::idx::IdxError),
    /// Writing results failed.
    #[error("{0}")]
    Output(String),
    /// Inconsistent request.
    #[error("{0}")]
    Invalid(String),
}

#[cfg(test)]
mod face_budget_tests;
#[cfg(test)]
mod shipped_tests;
