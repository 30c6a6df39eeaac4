//! A model prepared for integer runs: calibrated, its weights quantized to INT8 per channel, the
//! golden model built and the evaluation inputs quantized. The CLI (`verify`, `report`, `demo`)
//! and the accelerator simulation start from it.

use std::path::Path;

use super::inputs::{EvalSet, Source};
use super::runner::{calibrate, classifier_output};
use super::EvalError;
use crate::container::Container;
use crate::model::calib::Calibration;
use crate::model::golden::{QModel, QTensor};
use crate::model::graph::{Graph, Tensor};
use crate::model::import::load_graph;
use crate::quant::{quantize_per_channel, Quantized};

/// A model with its integer version and test inputs.
pub struct PreparedModel {
    /// Name (file stem).
    pub name: String,
    /// The float graph.
    pub graph: Graph,
    /// The INT8 golden model.
    pub qmodel: QModel,
    /// The calibration both were built with.
    pub calibration: Calibration,
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
        calibration: cal,
        float_inputs: eval.inputs,
        inputs,
        labels: eval.labels.unwrap_or_default(),
    })
}

impl PreparedModel {
    /// The golden model with the weights of `container` (one layer per weight layer, e.g.
    /// written by `eval --save`): its integers with its channel scales, which need not be
    /// max-abs. Fails unless every weight is within the layer's error bound of the float
    /// weight on the container's grid (`|q s - w| <= (eps + 1/2) s`).
    pub fn with_container(&self, container: &Container) -> Result<QModel, EvalError> {
        let layers = self.graph.weight_layers();
        if container.layers.len() != layers.len() {
            return Err(EvalError::Invalid(format!(
                "the container has {} layers, the model {} Conv/Dense layers",
                container.layers.len(),
                layers.len()
            )));
        }
        let weights = layers
            .iter()
            .zip(&container.layers)
            .map(|(l, c)| {
                if c.dims != l.weight.shape || c.scales.len() != c.dims[0] {
                    return Err(EvalError::Invalid(format!(
                        "container layer '{}' has weights {:?}, the model's layer '{}' {:?}",
                        c.name, c.dims, l.name, l.weight.shape
                    )));
                }
                let values = c.decode().map_err(|(lane, e)| {
                    EvalError::Invalid(format!("container layer '{}' lane {lane}: {e}", c.name))
                })?;
                let per = values.len() / c.dims[0].max(1);
                let bound = c.params.eps as f64 + 0.5 + 1e-4;
                let off = values
                    .iter()
                    .zip(&l.weight.data)
                    .enumerate()
                    .map(|(i, (&q, &w))| {
                        let s = c.scales[i / per] as f64;
                        (q as f64 * s - w as f64).abs() / s
                    })
                    .fold(0f64, f64::max);
                if off > bound {
                    return Err(EvalError::Invalid(format!(
                        "container layer '{}' is {off:.1} steps of its grid away from the \
                         model's weights (error bound {}): it was not made from this model",
                        c.name, c.params.eps
                    )));
                }
                Ok(Quantized {
                    bits: 8,
                    dims: c.dims.clone(),
                    values,
                    scales: c.scales.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(QModel::build(&self.graph, &self.calibration, &weights)?)
    }
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
