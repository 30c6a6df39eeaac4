//! A model prepared for a verification run: calibrated, quantized, with its quantized inputs.

use anyhow::{anyhow, Context, Result};
use lc_sw::eval::inputs::{EvalSet, Source};
use lc_sw::eval::runner::classifier_output;
use lc_sw::model::calib::calibrate;
use lc_sw::model::golden::{QModel, QTensor};
use lc_sw::model::graph::{Graph, Tensor};
use lc_sw::model::import::load_graph;
use lc_sw::quant::quantize_per_channel;
use std::path::Path;

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
pub fn prepare(name: &str, graph: Graph, calib: &[Tensor], eval: EvalSet) -> Result<PreparedModel> {
    let cal = calibrate(&graph, calib).map_err(|e| anyhow!("calibration: {e}"))?;
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
) -> Result<PreparedModel> {
    let graph = load_graph(model).with_context(|| format!("importing {}", model.display()))?;
    let inputs = Source::FashionMnist(data_dir.to_path_buf())
        .load(&graph, images, calib.max(1), 0)
        .map_err(anyhow::Error::msg)?;
    prepare(&model_name(model), graph, &inputs.calib, inputs.eval)
}

impl PreparedModel {
    /// The images of this model as a verification workload.
    pub fn workload(&self) -> super::verify::Workload<'_> {
        super::verify::Workload {
            qmodel: &self.qmodel,
            inputs: &self.inputs,
            labels: &self.labels,
            classifier: self.classifier,
        }
    }
}

/// Top-1 accuracy of the float model, the INT8 golden model and `compressed` (a golden model with
/// decoded weights) on the first `n` test images of `m`.
pub fn accuracy(
    m: &PreparedModel,
    compressed: &QModel,
    n: usize,
) -> Result<super::report::Accuracy> {
    let n = n.min(m.inputs.len()).min(m.labels.len());
    let mut hits = [0usize; 3];
    for i in 0..n {
        let label = m.labels[i];
        let vals = lc_sw::model::float_exec::run_all(&m.graph, &m.float_inputs[i])
            .map_err(|e| anyhow!("float model: {e}"))?;
        let out = m
            .graph
            .outputs
            .get(m.classifier)
            .and_then(|&o| vals.get(o).cloned().flatten());
        let logits = out.ok_or_else(|| anyhow!("float model computed no output"))?;
        let best = logits
            .data
            .iter()
            .enumerate()
            .fold((0, f32::MIN), |b, (j, &v)| if v > b.1 { (j, v) } else { b });
        hits[0] += (best.0 == label) as usize;
        for (k, q) in [&m.qmodel, compressed].into_iter().enumerate() {
            let out = q
                .run(&m.inputs[i])
                .map_err(|e| anyhow!("golden model: {e}"))?;
            let top = out
                .get(m.classifier)
                .and_then(|t| super::verify::argmax(&t.data));
            hits[k + 1] += (top == Some(label)) as usize;
        }
    }
    let f = |h: usize| if n == 0 { 0.0 } else { h as f64 / n as f64 };
    Ok(super::report::Accuracy {
        images: n,
        float: f(hits[0]),
        int8: f(hits[1]),
        compressed: f(hits[2]),
    })
}
