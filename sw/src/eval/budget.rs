//! Accuracy-aware per-layer settings, the same search for every method family: measure each
//! layer's sensitivity on held-out images (quality drop, disagreement with float and output
//! noise when only that layer takes a setting), greedily coarsen the layer that saves the most
//! bits per unit of predicted cost while every predicted cost stays within its limit, then
//! measure the choice and back off while it breaks the budget or the fidelity guard.
//! [`accept`] repeats that last check on the evaluation images.

use std::sync::Arc;

use super::ladder::Family;
use super::runner::{Evaluator, Score};
use super::variants::{layer_variant, CodecSettings, LayerVariant, Method};
use super::EvalError;

/// Measured effect of one (layer, setting) choice, the other layers at INT8.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sensitivity {
    /// Layer index.
    pub layer: usize,
    /// The setting, e.g. `lc-rice-eps8`, `int4`, `kmeans16`.
    pub method: String,
    /// Bits of this layer with that setting.
    pub bits: u64,
    /// Quality loss against INT8 (points, i.e. fraction * 100), at least 0.
    pub drop: f64,
    /// Loss of top-1 agreement with float against INT8 (points), at least 0.
    pub disagreement: f64,
    /// Output noise power over signal power, as a fraction (10^(-SQNR/10)).
    pub noise: f64,
}

/// Limits derived from a budget of `max_drop` quality points.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Guard {
    /// Quality drop against float, points.
    pub max_drop: f64,
    /// Lowest top-1 agreement with float, percent: INT8's agreement - `2 * max_drop`.
    pub min_agreement: f64,
    /// Lowest output SQNR against float, dB: `13 - 10 log10(max_drop)` (the output noise may
    /// reach a twentieth of `max_drop` percent of the output power), at most INT8's SQNR - 3 dB.
    pub min_sqnr_db: f64,
}

impl Guard {
    /// The limits for a budget of `max_drop` points, given the score of INT8 weights on the
    /// same images (INT8 activations alone already cost some agreement and SQNR).
    pub fn new(max_drop: f64, int8: &Score) -> Self {
        let floor = 13.0 - 10.0 * max_drop.max(1e-3).log10();
        Self {
            max_drop,
            min_agreement: int8.agreement * 100.0 - 2.0 * max_drop,
            min_sqnr_db: floor.min(int8.sqnr_db - 3.0),
        }
    }

    /// Why `s` breaks the guard against a float quality of `float_q` percent, if it does.
    pub fn violation(&self, float_q: f64, s: &Score) -> Option<String> {
        let drop = float_q - s.quality() * 100.0;
        if drop > self.max_drop {
            Some(format!("drop {drop:.2} > {} points", self.max_drop))
        } else if s.agreement * 100.0 < self.min_agreement {
            Some(format!(
                "agreement {:.2}% < {:.2}%",
                s.agreement * 100.0,
                self.min_agreement
            ))
        } else if s.sqnr_db < self.min_sqnr_db {
            Some(format!(
                "output SQNR {:.1} dB < {:.1} dB",
                s.sqnr_db, self.min_sqnr_db
            ))
        } else {
            None
        }
    }
}

/// The chosen settings.
#[derive(Debug, Clone)]
pub struct BudgetResult {
    /// The family searched.
    pub family: Family,
    /// The ladder of settings each layer chose from.
    pub ladder: Vec<Method>,
    /// Chosen ladder index per layer.
    pub choice: Vec<usize>,
    /// The raises the search made, in order: (layer, ladder index before the raise).
    pub history: Vec<(usize, usize)>,
    /// Layer names.
    pub names: Vec<String>,
    /// The layers in every setting of the ladder: `variants[layer][index]`.
    pub variants: Arc<Vec<Vec<LayerVariant>>>,
    /// The limits used.
    pub guard: Guard,
    /// Score of INT8 weights on the held-out images.
    pub int8: Score,
    /// Score of the chosen settings on the held-out images.
    pub score: Score,
    /// What the verification on the held-out images backed off (one line per step).
    pub backoffs: Vec<String>,
    /// The sensitivity table used.
    pub table: Vec<Sensitivity>,
}

impl BudgetResult {
    /// Chosen setting per layer.
    pub fn methods(&self) -> Vec<Method> {
        self.choice.iter().map(|&k| self.ladder[k]).collect()
    }

    /// Bits per layer of the chosen settings.
    pub fn bits(&self) -> Vec<u64> {
        self.choice
            .iter()
            .enumerate()
            .map(|(l, &k)| self.variants[l][k].bits)
            .collect()
    }

    /// Integer weights of the chosen settings.
    pub fn weights(&self) -> Vec<crate::quant::Quantized> {
        self.choice
            .iter()
            .enumerate()
            .map(|(l, &k)| self.variants[l][k].weights.clone())
            .collect()
    }

    /// Undo the latest raise; `None` when nothing is left to undo. Returns the message.
    fn back_off(&mut self) -> Option<String> {
        let (l, prev) = self.history.pop()?;
        let from = self.ladder[self.choice[l]].label();
        self.choice[l] = prev;
        Some(format!(
            "{}: {from} -> {}",
            self.names[l],
            self.ladder[prev].label()
        ))
    }
}

/// Each layer in every setting of a family's ladder, and the sensitivity of the held-out
/// images to each: measured once, shared by every budget.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The family.
    pub family: Family,
    /// Its ladder.
    pub ladder: Vec<Method>,
    /// Layer names.
    pub names: Vec<String>,
    /// `variants[layer][index]`.
    pub variants: Arc<Vec<Vec<LayerVariant>>>,
    /// Score of INT8 weights on the held-out images.
    pub int8: Score,
    /// Float quality on the held-out images, percent.
    pub float_quality: f64,
    /// One row per (layer, setting), layer-major.
    pub table: Vec<Sensitivity>,
}

/// Measure every layer in every setting of `family` on the images of `ev`, the other layers
/// at INT8.
pub fn measure(
    ev: &Evaluator,
    family: Family,
    codec: CodecSettings,
    mut progress: impl FnMut(&str),
) -> Result<Measured, EvalError> {
    let layers = ev.graph.weight_layers();
    let n = layers.len();
    let ladder = family.ladder();
    let variant = |l: usize, m: Method| {
        let w = &layers[l].weight;
        layer_variant(layers[l].name, &w.data, &w.shape, m, codec)
    };
    let int8_w: Vec<_> = (0..n)
        .map(|l| variant(l, Method::Uniform(8)).map(|v| v.weights))
        .collect::<Result<_, _>>()?;
    let int8 = ev.score(&int8_w)?;
    let (q8, a8, n8) = (int8.quality() * 100.0, int8.agreement * 100.0, noise(&int8));
    let mut variants: Vec<Vec<LayerVariant>> = Vec::with_capacity(n);
    let mut table = Vec::new();
    for (li, l) in layers.iter().enumerate() {
        let mut row = Vec::new();
        for &m in &ladder {
            progress(&format!("sensitivity {} {}", l.name, m.label()));
            let v = variant(li, m)?;
            let mut w = int8_w.clone();
            w[li] = v.weights.clone();
            let s = ev.score(&w)?;
            table.push(Sensitivity {
                layer: li,
                method: m.label(),
                bits: v.bits,
                drop: (q8 - s.quality() * 100.0).max(0.0),
                disagreement: (a8 - s.agreement * 100.0).max(0.0),
                noise: (noise(&s) - n8).max(0.0),
            });
            row.push(v);
        }
        variants.push(row);
    }
    Ok(Measured {
        family,
        ladder,
        names: layers.iter().map(|l| l.name.to_string()).collect(),
        variants: Arc::new(variants),
        int8,
        float_quality: ev.float_score().quality() * 100.0,
        table,
    })
}

/// Choose a setting of `family` per layer so the quality drop against float stays within
/// `max_drop` points (and the fidelity guard holds) on the images of `ev`, with the fewest
/// bits the greedy search finds.
pub fn choose(
    ev: &Evaluator,
    family: Family,
    max_drop: f64,
    codec: CodecSettings,
    mut progress: impl FnMut(&str),
) -> Result<BudgetResult, EvalError> {
    let m = measure(ev, family, codec, &mut progress)?;
    select(ev, &m, max_drop, progress)
}

/// The greedy choice within `max_drop` from measured sensitivities, verified on the images of
/// `ev` (the ones `m` was measured on) and backed off while it breaks the guard.
pub fn select(
    ev: &Evaluator,
    m: &Measured,
    max_drop: f64,
    mut progress: impl FnMut(&str),
) -> Result<BudgetResult, EvalError> {
    let (ladder, variants, table, int8) = (&m.ladder, &m.variants, &m.table, m.int8);
    let n = m.names.len();
    let base_q = m.float_quality;
    let (q8, a8, n8) = (int8.quality() * 100.0, int8.agreement * 100.0, noise(&int8));
    let guard = Guard::new(max_drop, &int8);
    // Predicted costs are sums over layers; each has a limit.
    let cost = |l: usize, k: usize| {
        let t = &table[l * ladder.len() + k];
        [t.drop, t.disagreement, t.noise]
    };
    let limits = [
        (max_drop - (base_q - q8)).max(0.0),
        (a8 - guard.min_agreement).max(0.0),
        (10f64.powf(-guard.min_sqnr_db / 10.0) - n8).max(0.0),
    ];
    let mut choice = vec![0usize; n];
    let mut history = Vec::new();
    loop {
        let mut predicted = [0.0; 3];
        for (l, &k) in choice.iter().enumerate() {
            for (p, c) in predicted.iter_mut().zip(cost(l, k)) {
                *p += c;
            }
        }
        let mut best: Option<(f64, usize, usize)> = None;
        for l in 0..n {
            let (now, here) = (cost(l, choice[l]), variants[l][choice[l]].bits);
            for (k, v) in variants[l].iter().enumerate().skip(choice[l] + 1) {
                let saved = here as f64 - v.bits as f64;
                if saved <= 0.0 {
                    continue;
                }
                let extra: Vec<f64> = cost(l, k).iter().zip(now).map(|(c, n)| c - n).collect();
                if (0..3).any(|i| predicted[i] + extra[i] > limits[i]) {
                    continue;
                }
                // The cost of a raise: the largest share of a limit it uses up.
                let share = (0..3)
                    .map(|i| extra[i] / limits[i].max(1e-9))
                    .fold(1e-6, f64::max);
                let merit = saved / share;
                if best.is_none_or(|(m, _, _)| merit > m) {
                    best = Some((merit, l, k));
                }
            }
        }
        let Some((_, l, k)) = best else { break };
        history.push((l, choice[l]));
        choice[l] = k;
    }
    let mut r = BudgetResult {
        family: m.family,
        ladder: ladder.clone(),
        choice,
        history,
        names: m.names.clone(),
        variants: Arc::clone(variants),
        guard,
        score: int8,
        int8,
        backoffs: Vec::new(),
        table: table.clone(),
    };
    progress("verifying the chosen settings");
    r.score = ev.score(&r.weights())?;
    while let Some(why) = guard.violation(base_q, &r.score) {
        let Some(step) = r.back_off() else { break };
        progress("backing off");
        r.backoffs.push(format!("{why}: {step}"));
        r.score = ev.score(&r.weights())?;
    }
    Ok(r)
}

/// Output noise power over signal power of a score.
fn noise(s: &Score) -> f64 {
    10f64.powf(-s.sqnr_db / 10.0)
}

/// The final check of a choice on the evaluation images of `ev`: back off the latest raises,
/// one layer at a time, while the quality drop against float exceeds the budget. Returns the
/// score reached and one line per step taken.
pub fn accept(
    ev: &Evaluator,
    r: &mut BudgetResult,
    mut progress: impl FnMut(&str),
) -> Result<(Score, Vec<String>), EvalError> {
    let base_q = ev.float_score().quality() * 100.0;
    let mut steps = Vec::new();
    progress("checking on the evaluation images");
    let mut s = ev.score(&r.weights())?;
    loop {
        let drop = base_q - s.quality() * 100.0;
        if drop <= r.guard.max_drop {
            break;
        }
        let Some(step) = r.back_off() else { break };
        progress("backing off");
        steps.push(format!(
            "drop {drop:.2} > {} points: {step}",
            r.guard.max_drop
        ));
        s = ev.score(&r.weights())?;
    }
    Ok((s, steps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::inputs::EvalSet;
    use crate::model::graph::{Dense, Graph, Node, Op, Preprocess, Tensor};

    fn dense(r: &mut u64, o: usize, i: usize) -> Op {
        let mut next = || {
            *r ^= *r << 13;
            *r ^= *r >> 7;
            *r ^= *r << 17;
            (*r >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let weight = Tensor {
            shape: vec![o, i],
            data: (0..o * i).map(|_| next()).collect(),
        };
        Op::Dense(Dense {
            weight,
            bias: (0..o).map(|_| next() * 0.1).collect(),
        })
    }

    #[test]
    fn budget_is_respected_and_monotone() {
        let mut r = 77u64;
        let g = Graph {
            input_shape: vec![24],
            input: 0,
            nodes: vec![
                Node {
                    name: "fc1".into(),
                    op: dense(&mut r, 48, 24),
                    inputs: vec![0],
                    output: 1,
                },
                Node {
                    name: "relu".into(),
                    op: Op::Relu,
                    inputs: vec![1],
                    output: 2,
                },
                Node {
                    name: "fc2".into(),
                    op: dense(&mut r, 10, 48),
                    inputs: vec![2],
                    output: 3,
                },
            ],
            outputs: vec![3],
            num_values: 4,
            preprocess: Preprocess {
                mean: 128.0,
                std: 128.0,
            },
        };
        let set = EvalSet::synthetic(&g, 150, 9);
        let calib = EvalSet::synthetic(&g, 50, 10).inputs;
        let ev = Evaluator::new(&g, set, &calib).unwrap();
        // Every parameter free: the lines family is not on the shipped (rice-only) profile.
        let codec = CodecSettings {
            profile: lc_format::Profile::shared("full").unwrap(),
            ..CodecSettings::default()
        };
        for family in Family::ALL {
            let tight = choose(&ev, family, 0.0, codec, |_| {}).unwrap();
            let loose = choose(&ev, family, 100.0, codec, |_| {}).unwrap();
            let float_q = ev.float_score().quality() * 100.0;
            let at_floor = tight.choice.iter().all(|&k| k == 0);
            assert!(
                float_q - tight.score.quality() * 100.0 <= 1e-9 || at_floor,
                "{family:?}: {:?}",
                tight.score
            );
            let total = |r: &BudgetResult| r.bits().iter().sum::<u64>();
            assert!(
                total(&loose) <= total(&tight),
                "{family:?}: a looser budget cannot cost more bits"
            );
            // Without a constraint every layer takes its cheapest setting.
            for (l, &b) in loose.bits().iter().enumerate() {
                let min = loose.variants[l].iter().map(|v| v.bits).min().unwrap();
                assert_eq!(b, min, "{family:?} layer {l}");
            }
            // The final check backs off until the drop on other images is within the budget.
            let other = Evaluator::new(&g, EvalSet::synthetic(&g, 100, 11), &calib).unwrap();
            let mut r = choose(&ev, family, 2.0, codec, |_| {}).unwrap();
            let (s, _) = accept(&other, &mut r, |_| {}).unwrap();
            let drop = 100.0 - s.quality() * 100.0;
            assert!(drop <= 2.0 || r.history.is_empty(), "{family:?}: {drop}");
        }
    }
}
