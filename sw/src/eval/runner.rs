//! Running the float reference and the integer golden model over many inputs, on all cores.

use super::EvalError;
use crate::model::calib::Calibration;
use crate::model::float_exec::{self, ExecError};
use crate::model::golden::{BuildOptions, QModel, QTensor};
use crate::model::graph::{Graph, Op, Tensor, ValueId};
use crate::quant::Quantized;

/// Number of worker threads: the machine's parallelism (at least 1).
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Apply `f` to every item on `threads()` threads, keeping the order; the first error wins.
pub fn par_map<T: Sync, R: Send, E: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E> {
    let n = threads().min(items.len().max(1));
    let chunk = items.len().div_ceil(n).max(1);
    let parts: Vec<Result<Vec<R>, E>> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().map(&f).collect::<Result<Vec<R>, E>>()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut out = Vec::with_capacity(items.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

/// Index (into the graph outputs) of the classification output: the first output produced by a
/// Softmax, else output 0.
pub fn classifier_output(graph: &Graph) -> usize {
    graph
        .outputs
        .iter()
        .position(|&o| {
            graph
                .nodes
                .iter()
                .any(|n| n.output == o && matches!(n.op, Op::Softmax { .. }))
        })
        .unwrap_or(0)
}

/// The value whose argmax classifies: the classification output, or the input of its Softmax
/// (which the integer model drops).
pub fn logits_value(graph: &Graph) -> ValueId {
    let out = graph.outputs[classifier_output(graph)];
    graph
        .nodes
        .iter()
        .find(|n| n.output == out && matches!(n.op, Op::Softmax { .. }))
        .map_or(out, |n| n.inputs[0])
}

/// Float logits (see [`logits_value`]) for every input.
pub fn float_logits(graph: &Graph, inputs: &[Tensor]) -> Result<Vec<Vec<f32>>, ExecError> {
    let v = logits_value(graph);
    par_map(inputs, |x| {
        let mut vals = float_exec::run_all(graph, x)?;
        vals[v]
            .take()
            .map(|t| t.data)
            .ok_or_else(|| ExecError::new("output", "Output", "logits not computed"))
    })
}

/// Dequantized integer-model values of output `index` for every input.
pub fn golden_logits(
    q: &QModel,
    index: usize,
    inputs: &[Tensor],
) -> Result<Vec<Vec<f32>>, ExecError> {
    par_map(inputs, |x| {
        let mut outs = q.run_float(x)?;
        if index >= outs.len() {
            return Err(ExecError::new(
                "output",
                "Output",
                format!("no output {index}"),
            ));
        }
        Ok(outs.swap_remove(index).data)
    })
}

/// Calibrate activation ranges on `inputs`, in parallel.
pub fn calibrate(graph: &Graph, inputs: &[Tensor]) -> Result<Calibration, ExecError> {
    let chunk = inputs.len().div_ceil(threads()).max(1);
    let chunks: Vec<&[Tensor]> = inputs.chunks(chunk).collect();
    let parts = par_map(&chunks, |c| crate::model::calib::calibrate(graph, c))?;
    let mut total = Calibration::new(graph.num_values);
    for p in &parts {
        total.merge(p);
    }
    Ok(total)
}

/// Quality of one weight representation, measured against the labels and the float model.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Score {
    /// Top-1 accuracy (when labels exist).
    pub accuracy: Option<f64>,
    /// Top-1 agreement with the float model.
    pub agreement: f64,
    /// Output SQNR against the float model, dB.
    pub sqnr_db: f64,
    /// Half-width of the 95 % confidence interval of the quality drop against float (fraction).
    pub drop_ci95: f64,
}

impl Score {
    /// The number budgets are measured in: accuracy when labelled, else agreement with float.
    pub fn quality(&self) -> f64 {
        self.accuracy.unwrap_or(self.agreement)
    }
}

/// A model, its evaluation inputs, its calibration and its float reference outputs.
pub struct Evaluator<'g> {
    /// The float graph.
    pub graph: &'g Graph,
    /// Inputs and labels.
    pub set: super::inputs::EvalSet,
    /// Activation ranges.
    pub calib: Calibration,
    /// Float logits on `set`.
    pub float_logits: Vec<Vec<f32>>,
    /// How the integer models are built (bias correction).
    pub build: BuildOptions,
}

impl<'g> Evaluator<'g> {
    /// Calibrate on `calib_inputs` and run the float model on `set`.
    pub fn new(
        graph: &'g Graph,
        set: super::inputs::EvalSet,
        calib_inputs: &[Tensor],
    ) -> Result<Self, ExecError> {
        let calib = calibrate(graph, calib_inputs)?;
        let float_logits = float_logits(graph, &set.inputs)?;
        Ok(Self {
            graph,
            set,
            calib,
            float_logits,
            build: BuildOptions::default(),
        })
    }

    /// An evaluator of `set` with this one's calibration and build options (held-out images).
    pub fn other_set(&self, set: super::inputs::EvalSet) -> Result<Self, ExecError> {
        Ok(Self {
            graph: self.graph,
            float_logits: float_logits(self.graph, &set.inputs)?,
            set,
            calib: self.calib.clone(),
            build: self.build,
        })
    }

    /// The float model's score.
    pub fn float_score(&self) -> Score {
        Score {
            accuracy: self
                .set
                .labels
                .as_ref()
                .map(|l| super::metrics::accuracy(&self.float_logits, l)),
            agreement: 1.0,
            sqnr_db: f64::INFINITY,
            drop_ci95: 0.0,
        }
    }

    /// Per input: does the model whose logits are `logits` get it right (the label when known,
    /// else the float model's class)?
    fn correct(&self, logits: &[Vec<f32>]) -> Vec<bool> {
        use super::metrics::argmax;
        match &self.set.labels {
            Some(l) => logits
                .iter()
                .zip(l)
                .map(|(o, &y)| argmax(o) == Some(y))
                .collect(),
            None => logits
                .iter()
                .zip(&self.float_logits)
                .map(|(o, f)| argmax(o) == argmax(f))
                .collect(),
        }
    }

    /// Build the integer model with `weights` (one per weight layer) and score it.
    pub fn score(&self, weights: &[Quantized]) -> Result<Score, EvalError> {
        Ok(self.execute(weights, None, false)?.0)
    }

    /// Score `weights` like [`Evaluator::score`], keeping every value of every image, so that
    /// weights sharing its first layers are scored from there ([`Run::score_with`]).
    pub fn run(&self, weights: &[Quantized]) -> Result<Run<'_>, EvalError> {
        let (score, values) = self.execute(weights, None, true)?;
        Ok(Run {
            ev: self,
            weights: weights.to_vec(),
            values,
            score,
        })
    }

    /// Score `weights`, starting from the values of `base` before the first weight layer where
    /// they differ; with `keep`, return every value of every image (else none).
    fn execute(
        &self,
        weights: &[Quantized],
        base: Option<&Run>,
        keep: bool,
    ) -> Result<(Score, Values), EvalError> {
        let q = QModel::build_with(self.graph, &self.calib, weights, self.build)?;
        let base = base.filter(|b| !b.values.is_empty());
        let keep = keep && (base.is_some() || self.values_fit(&q)?);
        let start = base.map(|b| {
            let same = b.weights.iter().zip(weights).take_while(|(a, w)| a == w);
            let from = q.weight_layer_position(same.count());
            (b, from.unwrap_or(q.layers.len()))
        });
        let index = classifier_output(self.graph);
        let images: Vec<usize> = (0..self.set.len()).collect();
        let runs = par_map(&images, |&i| {
            let vals = match start {
                Some((b, from)) => {
                    let mut vals = b.values[i].clone();
                    q.run_layers(from, &mut vals)?;
                    vals
                }
                None => q.run_all(&q.quantize_input(&self.set.inputs[i]))?,
            };
            let logits = q.output_float(&vals, index)?.data;
            Ok::<_, ExecError>((logits, if keep { vals } else { Vec::new() }))
        })?;
        let (logits, values): (Vec<_>, Vec<_>) = runs.into_iter().unzip();
        let values = if keep { values } else { Vec::new() };
        Ok((self.score_logits(&logits), values))
    }

    /// Whether every value of `q` on every image takes at most [`KEEP_LIMIT`] bytes (measured
    /// on the first image).
    fn values_fit(&self, q: &QModel) -> Result<bool, ExecError> {
        let Some(x) = self.set.inputs.first() else {
            return Ok(true);
        };
        let vals = q.run_all(&q.quantize_input(x))?;
        let one: usize = vals.iter().flatten().map(|t| t.data.len()).sum();
        Ok(one.saturating_mul(self.set.len()) <= KEEP_LIMIT)
    }

    /// The score of integer-model `logits`, one per image.
    fn score_logits(&self, logits: &[Vec<f32>]) -> Score {
        Score {
            accuracy: self
                .set
                .labels
                .as_ref()
                .map(|l| super::metrics::accuracy(logits, l)),
            agreement: super::metrics::agreement(&self.float_logits, logits),
            sqnr_db: super::metrics::sqnr_db(&self.float_logits, logits),
            drop_ci95: super::metrics::paired_drop_ci95(
                &self.correct(&self.float_logits),
                &self.correct(logits),
            ),
        }
    }
}

/// Every value of the integer model by id ([`QModel::run_all`]), per image.
type Values = Vec<Vec<Option<QTensor>>>;

/// Most bytes of int8 values a [`Run`] keeps; a run that would need more keeps none, and the
/// scores from it run every layer.
pub const KEEP_LIMIT: usize = 4 << 30;

/// The integer model's values on every image of an evaluator for one weight configuration
/// ([`Evaluator::run`]): weights that differ from it only from some weight layer on are scored
/// from its values before that layer, with the same result as [`Evaluator::score`].
pub struct Run<'e> {
    /// The evaluator whose images were run.
    ev: &'e Evaluator<'e>,
    /// The weights run.
    weights: Vec<Quantized>,
    /// Every value by id, per image (none when they would take more than [`KEEP_LIMIT`]).
    values: Values,
    /// Their score.
    score: Score,
}

impl<'e> Run<'e> {
    /// The score of the run's weights.
    pub fn score(&self) -> Score {
        self.score
    }

    /// The score of `weights` ([`Evaluator::score`]), running only the layers from the first
    /// weight layer where they differ from this run's on.
    pub fn score_with(&self, weights: &[Quantized]) -> Result<Score, EvalError> {
        Ok(self.ev.execute(weights, Some(self), false)?.0)
    }

    /// The run of `weights` ([`Evaluator::run`]), starting like [`Run::score_with`].
    pub fn then(&self, weights: &[Quantized]) -> Result<Run<'e>, EvalError> {
        let (score, values) = self.ev.execute(weights, Some(self), true)?;
        Ok(Run {
            ev: self.ev,
            weights: weights.to_vec(),
            values,
            score,
        })
    }
}
