//! Loading a model and its Fashion-MNIST data for a verification run.

use anyhow::{anyhow, bail, Context, Result};
use lc_sw::data::fashion::{self, Split};
use lc_sw::model::calib::calibrate;
use lc_sw::model::golden::{QModel, QTensor};
use lc_sw::model::graph::{Graph, Tensor};
use lc_sw::model::import::load_graph;
use lc_sw::quant::quantize_per_channel;
use std::path::Path;

/// A model with its integer version and labelled test inputs.
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
    /// Labels of the inputs.
    pub labels: Vec<usize>,
}

/// Load an ONNX model, calibrate it on `calib` training images of the Fashion-MNIST data in
/// `data_dir`, quantize its weights to INT8 per channel and take the first `images` test images.
pub fn prepare(
    model: &Path,
    data_dir: &Path,
    images: usize,
    calib: usize,
) -> Result<PreparedModel> {
    let graph = load_graph(model).with_context(|| format!("importing {}", model.display()))?;
    let test =
        fashion::load(data_dir, Split::Test).context("loading the Fashion-MNIST test split")?;
    let train = fashion::load(data_dir, Split::Train)
        .context("loading the Fashion-MNIST training split")?;
    if graph.input_shape != [1, test.rows, test.cols] {
        bail!(
            "model input {:?} does not take {}x{} grayscale images",
            graph.input_shape,
            test.rows,
            test.cols
        );
    }
    let tensors = |d: &fashion::Dataset, n: usize| -> Vec<Tensor> {
        (0..n.min(d.len()))
            .map(|i| d.tensor(i, &graph.preprocess))
            .collect()
    };
    let calib_inputs = tensors(&train, calib.max(1));
    let cal = calibrate(&graph, &calib_inputs).map_err(|e| anyhow!("calibration: {e}"))?;
    let weights = graph
        .weight_layers()
        .iter()
        .map(|l| quantize_per_channel(&l.weight.data, &l.weight.shape, 8))
        .collect::<Result<Vec<_>, _>>()?;
    let qmodel = QModel::build(&graph, &cal, &weights)?;
    let float_inputs = tensors(&test, images);
    let inputs = float_inputs
        .iter()
        .map(|x| qmodel.quantize_input(x))
        .collect();
    let labels = (0..float_inputs.len())
        .map(|i| test.labels[i] as usize)
        .collect();
    let name = model
        .file_stem()
        .map_or("model".into(), |s| s.to_string_lossy().into_owned());
    Ok(PreparedModel {
        name,
        graph,
        qmodel,
        float_inputs,
        inputs,
        labels,
    })
}

impl PreparedModel {
    /// The images of this model as a verification workload.
    pub fn workload(&self) -> super::verify::Workload<'_> {
        super::verify::Workload {
            qmodel: &self.qmodel,
            inputs: &self.inputs,
            labels: &self.labels,
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
            .first()
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
            let top = out.first().and_then(|t| super::verify::argmax(&t.data));
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
