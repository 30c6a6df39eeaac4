//! A model prepared for integer runs: calibrated, its weights quantized to INT8 per channel, the
//! golden model built and the evaluation inputs quantized. The CLI (`verify`, `report`, `demo`)
//! and the accelerator simulation start from it.

use std::path::Path;

use super::inputs::{EvalSet, Source};
use super::runner::{calibrate, classifier_output};
use super::EvalError;
use crate::model::golden::{QModel, QTensor};
use crate::model::graph::{Graph, Tensor};
use crate::model::import::load_graph;
use crate::quant::quantize_per_channel;

/// A model with its integer version and test inputs.
pub struct PreparedModel {
    /// Name (file stem).
    pub name: String,
    /// The float graph.
    pub graph: Graph,
    /// The INT8 golden model.
    pub qmodel: QModel,
    /// Float test inputs (normalised like the model expects).
    pub float_inputs: Vec<Tensor>,
    /// Quantized test inputs.
    pub inputs: Vec<QTensor>,
    /// Labels of the inputs (empty when the inputs are unlabelled).
    pub labels: Vec<usize>,
    /// Index of the classification output among the model outputs.
    pub classifier: usize,
}

/// The name of a model file (its stem).
pub fn model_name(model: &Path) -> String {
    model
        .file_stem()
        .map_or("model".into(), |s| s.to_string_lossy().into_owned())
}

/// Calibrate `graph` on `calib`, quantize its weights to INT8 per channel and quantize the
/// inputs of `eval`.
pub fn prepare(
    name: &str,
    graph: Graph,
    calib: &[Tensor],
    eval: EvalSet,
) -> Result<PreparedModel, EvalError> {
    let cal = calibrate(&graph, calib)?;
    let weights = graph
        .weight_layers()
        .iter()
        .map(|l| quantize_per_channel(&l.weight.data, &l.weight.shape, 8))
        .collect::<Result<Vec<_>, _>>()?;
    let qmodel = QModel::build(&graph, &cal, &weights)?;
    let inputs = eval
        .inputs
        .iter()
        .map(|x| qmodel.quantize_input(x))
        .collect();
    Ok(PreparedModel {
        classifier: classifier_output(&graph),
        name: name.to_string(),
        graph,
        qmodel,
        float_inputs: eval.inputs,
        inputs,
        labels: eval.labels.unwrap_or_default(),
    })
}

/// Load an ONNX model taking 28x28 grayscale images and [`prepare`] it with `calib` training
/// images and the first `images` test images of the Fashion-MNIST data in `data_dir`.
pub fn prepare_fashion(
    model: &Path,
    data_dir: &Path,
    images: usize,
    calib: usize,
) -> Result<PreparedModel, EvalError> {
    let graph = load_graph(model)?;
    let inputs = Source::FashionMnist(data_dir.to_path_buf())
        .load(&graph, images, calib.max(1), 0)
        .map_err(EvalError::Invalid)?;
    prepare(&model_name(model), graph, &inputs.calib, inputs.eval)
}
