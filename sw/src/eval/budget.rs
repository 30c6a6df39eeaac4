//! Accuracy-aware per-layer settings, the same search for every method family: measure each
//! layer's sensitivity on held-out images (quality drop, disagreement with float and output
//! noise when only that layer takes a setting), greedily coarsen the layer that saves the most
//! bits per unit of predicted cost while every predicted cost stays within its limit, then
//! measure the choice and, while it breaks the budget or the fidelity guard, step back the one
//! layer whose step costs the fewest bits for what it repairs (measured on the same images);
//! then raise, one measured step at a time, whatever the guard still allows, and when no single
//! raise holds, trade: raise one layer anyway and repair the guard with steps back on others
//! while that still saves bits.
//! [`accept`] repeats that last check on the evaluation images, ranking the steps by the
//! held-out sensitivities alone.

use std::sync::Arc;

use super::ladder::Family;
use super::runner::{Evaluator, Run, Score};
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

    /// How far `s` is past the guard, 0 when it holds: the excess over each limit relative to
    /// the room the budget gives it (drop: `max_drop` points, agreement: `2 * max_drop` points,
    /// at least 0.1 point each; SQNR: 3 dB), summed.
    pub fn excess(&self, float_q: f64, s: &Score) -> f64 {
        let room = self.max_drop.max(0.1);
        let drop = float_q - s.quality() * 100.0;
        (drop - self.max_drop).max(0.0) / room
            + (self.min_agreement - s.agreement * 100.0).max(0.0) / (2.0 * room)
            + (self.min_sqnr_db - s.sqnr_db).max(0.0) / 3.0
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
    /// What the verification on the held-out images changed: back-offs, then raises that the
    /// guard still allows and trades (one line per step or trade).
    pub adjustments: Vec<String>,
    /// The sensitivity table used.
    pub table: Vec<Sensitivity>,
    /// The limits of the predicted costs (drop, disagreement, noise): what is left of the guard
    /// above INT8 on the held-out images.
    pub limits: [f64; 3],
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

    /// The layers that can step back to a finer setting, each with the ladder index it would
    /// take and the bits that step adds (at least 1).
    fn steps_back(&self) -> Vec<(usize, usize, u64)> {
        self.choice
            .iter()
            .enumerate()
            .filter(|&(_, &k)| k > 0)
            .map(|(l, &k)| {
                let v = &self.variants[l];
                (l, k - 1, v[k - 1].bits.saturating_sub(v[k].bits).max(1))
            })
            .collect()
    }

    /// The layers that can take a coarser setting with fewer bits, each with the ladder index of
    /// the next such setting and the bits that step saves.
    fn raises(&self) -> Vec<(usize, usize, u64)> {
        self.choice
            .iter()
            .enumerate()
            .filter_map(|(l, &k)| {
                let v = &self.variants[l];
                (k + 1..v.len())
                    .find(|&n| v[n].bits < v[k].bits)
                    .map(|n| (l, n, v[k].bits - v[n].bits))
            })
            .collect()
    }

    /// The integer weights with each `(layer, ladder index)` of `moves` instead of the choice.
    fn weights_with(&self, moves: &[(usize, usize)]) -> Vec<crate::quant::Quantized> {
        let mut w = self.weights();
        for &(l, k) in moves {
            w[l] = self.variants[l][k].weights.clone();
        }
        w
    }

    /// Move layer `l` to ladder index `k`; returns the message.
    fn move_to(&mut self, l: usize, k: usize) -> String {
        let from = self.ladder[self.choice[l]].label();
        self.choice[l] = k;
        format!("{}: {from} -> {}", self.names[l], self.ladder[k].label())
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
    let ladder = family.ladder(codec.dead_zone);
    let variant = |l: usize, m: Method| {
        let w = &layers[l].weight;
        layer_variant(layers[l].name, &w.data, &w.shape, m, codec)
    };
    let int8_w: Vec<_> = (0..n)
        .map(|l| variant(l, Method::Uniform(8)).map(|v| v.weights))
        .collect::<Result<_, _>>()?;
    let base = ev.run(&int8_w)?;
    let int8 = base.score();
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
            let s = base.score_with(&w)?;
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
/// `ev` (the ones `m` was measured on), backed off while it breaks the guard, then raised and
/// traded while the guard allows.
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
    let cost = |l: usize, k: usize| predicted_cost(table, ladder.len(), l, k);
    let limits = [
        (max_drop - (base_q - q8)).max(0.0),
        (a8 - guard.min_agreement).max(0.0),
        (10f64.powf(-guard.min_sqnr_db / 10.0) - n8).max(0.0),
    ];
    let mut choice = vec![0usize; n];
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
                let to = cost(l, k);
                if (0..3).any(|i| predicted[i] + to[i] - now[i] > limits[i]) {
                    continue;
                }
                let merit = saved / share(&limits, now, to).max(1e-6);
                if best.is_none_or(|(m, _, _)| merit > m) {
                    best = Some((merit, l, k));
                }
            }
        }
        let Some((_, l, k)) = best else { break };
        choice[l] = k;
    }
    let mut r = BudgetResult {
        family: m.family,
        ladder: ladder.clone(),
        choice,
        names: m.names.clone(),
        variants: Arc::clone(variants),
        guard,
        score: int8,
        int8,
        adjustments: Vec::new(),
        table: table.clone(),
        limits,
    };
    progress("verifying the chosen settings");
    let mut run = ev.run(&r.weights())?;
    r.score = run.score();
    while let Some(why) = guard.violation(base_q, &r.score) {
        let Some((l, k, score)) = cheapest_repair(&run, &r, base_q, |_, _| true)? else {
            return Ok(r);
        };
        progress("backing off");
        let step = r.move_to(l, k);
        r.adjustments.push(format!("backed off, {why}: {step}"));
        r.score = score;
        run = run.then(&r.weights())?;
    }
    loop {
        refill(&mut run, &mut r, base_q, &mut progress)?;
        if !trade(&mut run, &mut r, base_q, &mut progress)? {
            return Ok(r);
        }
    }
}

/// The one-layer step back that removes the most excess over the guard per added bit, each
/// candidate measured on the images of `run` (a run of the choice of `r`); when none removes any
/// (noise), the one leaving the least excess. Only steps `allowed(layer, added bits)` are
/// measured; `None` when there are none.
fn cheapest_repair(
    run: &Run,
    r: &BudgetResult,
    base_q: f64,
    allowed: impl Fn(usize, u64) -> bool,
) -> Result<Option<(usize, usize, Score)>, EvalError> {
    let now = r.guard.excess(base_q, &r.score);
    let mut measured = Vec::new();
    for (l, k, added) in r.steps_back() {
        if !allowed(l, added) {
            continue;
        }
        let s = run.score_with(&r.weights_with(&[(l, k)]))?;
        measured.push((l, k, added, r.guard.excess(base_q, &s), s));
    }
    let per_bit = |m: &(usize, usize, u64, f64, Score)| (now - m.3) / m.2 as f64;
    let repairs = measured
        .iter()
        .filter(|m| m.3 < now)
        .max_by(|a, b| per_bit(a).total_cmp(&per_bit(b)));
    let least = || {
        measured
            .iter()
            .min_by(|a, b| a.3.total_cmp(&b.3).then(a.2.cmp(&b.2)))
    };
    Ok(repairs.or_else(least).map(|&(l, k, _, _, s)| (l, k, s)))
}

/// After the repairs: raise, one layer by one ladder step at a time, the layer whose raise saves
/// the most bits while the guard still holds on the images of `run` (each candidate measured;
/// `run` is a run of the choice, and follows it), until no raise keeps it. Takes up what the
/// predicted (additive) costs and the order of the greedy raises and repairs left behind.
fn refill(
    run: &mut Run,
    r: &mut BudgetResult,
    base_q: f64,
    mut progress: impl FnMut(&str),
) -> Result<(), EvalError> {
    loop {
        let mut best: Option<(u64, usize, usize, Score)> = None;
        for (l, next, saved) in r.raises() {
            if best.as_ref().is_some_and(|b| b.0 >= saved) {
                continue;
            }
            progress("refilling");
            let s = run.score_with(&r.weights_with(&[(l, next)]))?;
            if r.guard.violation(base_q, &s).is_none() {
                best = Some((saved, l, next, s));
            }
        }
        let Some((_, l, k, s)) = best else {
            return Ok(());
        };
        let step = r.move_to(l, k);
        r.adjustments
            .push(format!("raised again, the guard holds: {step}"));
        r.score = s;
        *run = run.then(&r.weights())?;
    }
}

/// How many raises one round of [`trade`] tries at most.
const TRADE_CANDIDATES: usize = 3;

/// When no single raise keeps the guard: raise one layer a step anyway, then step other layers
/// back as the repairs do (each step measured on the images of `run`, a run of the choice that
/// follows it, most excess removed per added bit) until the guard holds again, only through
/// steps that keep the total below the bits before the raise. The raises are tried most bits
/// saved first, at most [`TRADE_CANDIDATES`] of them; the first trade that holds is taken.
/// Returns whether one was.
fn trade(
    run: &mut Run,
    r: &mut BudgetResult,
    base_q: f64,
    mut progress: impl FnMut(&str),
) -> Result<bool, EvalError> {
    let total = |x: &BudgetResult| x.bits().iter().sum::<u64>();
    let before = total(r);
    let mut raises = r.raises();
    raises.sort_by_key(|&(_, _, saved)| std::cmp::Reverse(saved));
    for (l, up, _) in raises.into_iter().take(TRADE_CANDIDATES) {
        progress("trading");
        let mut t = r.clone();
        let mut steps = vec![t.move_to(l, up)];
        let mut t_run = run.then(&t.weights())?;
        t.score = t_run.score();
        while t.guard.violation(base_q, &t.score).is_some() {
            let room = before - total(&t);
            let allowed = |b: usize, added: u64| b != l && added < room;
            let Some((b, k, s)) = cheapest_repair(&t_run, &t, base_q, allowed)? else {
                break;
            };
            steps.push(t.move_to(b, k));
            t.score = s;
            t_run = t_run.then(&t.weights())?;
        }
        if t.guard.violation(base_q, &t.score).is_none() {
            t.adjustments
                .push(format!("traded, the guard holds: {}", steps.join(", ")));
            *r = t;
            *run = t_run;
            return Ok(true);
        }
    }
    Ok(false)
}

/// The predicted costs (drop, disagreement, noise) of layer `l` at ladder index `k`, from a
/// layer-major sensitivity table of ladders `width` long.
fn predicted_cost(table: &[Sensitivity], width: usize, l: usize, k: usize) -> [f64; 3] {
    let t = &table[l * width + k];
    [t.drop, t.disagreement, t.noise]
}

/// The cost of moving a layer from predicted costs `from` to `to`: the largest share of a limit
/// it uses up (negative when it frees room under every limit).
fn share(limits: &[f64; 3], from: [f64; 3], to: [f64; 3]) -> f64 {
    (0..3)
        .map(|i| (to[i] - from[i]) / limits[i].max(1e-9))
        .fold(f64::NEG_INFINITY, f64::max)
}

/// Output noise power over signal power of a score.
fn noise(s: &Score) -> f64 {
    10f64.powf(-s.sqnr_db / 10.0)
}

/// The final check of a choice on the evaluation images of `ev`: while the quality drop against
/// float exceeds the budget, step back one layer, the one whose step frees the largest share of
/// the predicted limits (held-out sensitivities, as the greedy search measures raises) per added
/// bit, so the evaluation images only accept or reject.
/// Returns the score reached and one line per step taken.
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
        let cost = |l: usize, k: usize| predicted_cost(&r.table, r.ladder.len(), l, k);
        // A step the table sees no gain in still ranks, by its bits alone.
        let merit = |&(l, k, added): &(usize, usize, u64)| {
            let freed = share(&r.limits, cost(l, k), cost(l, r.choice[l]));
            (freed.max(0.0) + 1e-9) / added as f64
        };
        let Some((l, k, _)) = r
            .steps_back()
            .into_iter()
            .max_by(|a, b| merit(a).total_cmp(&merit(b)))
        else {
            break;
        };
        progress("backing off");
        let step = r.move_to(l, k);
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

    fn two_layer_graph() -> Graph {
        let mut r = 77u64;
        Graph {
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
        }
    }

    /// Every parameter free: the lines family is not on the shipped (rice-only) profile.
    fn full_codec() -> CodecSettings {
        CodecSettings {
            profile: lc_format::Profile::shared("full").unwrap(),
            ..CodecSettings::default()
        }
    }

    #[test]
    fn budget_is_respected_and_monotone() {
        let g = two_layer_graph();
        let set = EvalSet::synthetic(&g, 150, 9);
        let calib = EvalSet::synthetic(&g, 50, 10).inputs;
        let ev = Evaluator::new(&g, set, &calib).unwrap();
        let codec = full_codec();
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
            let at_floor = r.choice.iter().all(|&k| k == 0);
            assert!(drop <= 2.0 || at_floor, "{family:?}: {drop}");
        }
    }

    /// The choice holds on the held-out images and is not wasteful there: no single layer can
    /// take its next coarser setting with the guard still holding.
    #[test]
    fn choice_holds_and_no_raise_is_left() {
        let g = two_layer_graph();
        let calib = EvalSet::synthetic(&g, 50, 10).inputs;
        let ev = Evaluator::new(&g, EvalSet::synthetic(&g, 150, 9), &calib).unwrap();
        let float_q = ev.float_score().quality() * 100.0;
        let (mut repaired, mut raisable) = (0, 0);
        for family in Family::ALL {
            for budget in [0.5, 1.0, 2.0, 4.0, 8.0] {
                let r = choose(&ev, family, budget, full_codec(), |_| {}).unwrap();
                repaired += r.adjustments.iter().any(|a| a.starts_with("backed off")) as usize;
                let at_floor = r.choice.iter().all(|&k| k == 0);
                assert!(
                    r.guard.violation(float_q, &r.score).is_none() || at_floor,
                    "{family:?} {budget}: {:?}",
                    r.adjustments
                );
                for (l, next, _) in r.raises() {
                    raisable += 1;
                    let s = ev.score(&r.weights_with(&[(l, next)])).unwrap();
                    assert!(
                        r.guard.violation(float_q, &s).is_some(),
                        "{family:?} {budget}: layer {l} could still take {}",
                        r.ladder[next].label()
                    );
                }
            }
        }
        // Both paths are exercised: some choices were repaired, some could have been raised.
        assert!(
            repaired > 0 && raisable > 0,
            "{repaired} repaired, {raisable} raisable"
        );
    }

    /// A trade ends with fewer bits and the guard holding, and leaves the choice as it was when
    /// none does; the search stops only when no trade is left. Tried from every pair of
    /// settings of the two layers where the guard holds, so some raise needs a repair.
    #[test]
    fn trades_save_bits_and_keep_the_guard() {
        let g = two_layer_graph();
        let calib = EvalSet::synthetic(&g, 50, 10).inputs;
        let ev = Evaluator::new(&g, EvalSet::synthetic(&g, 150, 9), &calib).unwrap();
        let float_q = ev.float_score().quality() * 100.0;
        let total = |r: &BudgetResult| r.bits().iter().sum::<u64>();
        let (mut traded, mut repaired) = (0, 0);
        for family in [Family::LcRice, Family::Uniform] {
            for budget in [1.0, 2.0, 4.0] {
                let r = choose(&ev, family, budget, full_codec(), |_| {}).unwrap();
                if r.guard.violation(float_q, &r.score).is_none() {
                    let mut run = ev.run(&r.weights()).unwrap();
                    assert!(
                        !trade(&mut run, &mut r.clone(), float_q, |_| {}).unwrap(),
                        "{family:?} {budget}: a trade was left"
                    );
                }
                let width = r.ladder.len();
                for start in (0..width * width).map(|i| vec![i / width, i % width]) {
                    let mut t = r.clone();
                    t.choice = start.clone();
                    t.score = ev.score(&t.weights()).unwrap();
                    if t.guard.violation(float_q, &t.score).is_some() {
                        continue;
                    }
                    let before = total(&t);
                    let mut run = ev.run(&t.weights()).unwrap();
                    if !trade(&mut run, &mut t, float_q, |_| {}).unwrap() {
                        assert_eq!(t.choice, start, "{family:?} {budget}");
                        continue;
                    }
                    traded += 1;
                    assert!(
                        total(&t) < before,
                        "{family:?} {budget}: {:?}",
                        t.adjustments
                    );
                    let s = ev.score(&t.weights()).unwrap();
                    assert!(
                        t.guard.violation(float_q, &s).is_none(),
                        "{family:?} {budget}"
                    );
                    // One layer went coarser; a layer that went finer is a repair.
                    assert!(t.choice.iter().zip(&start).any(|(a, b)| a > b));
                    repaired += t.choice.iter().zip(&start).any(|(a, b)| a < b) as usize;
                }
            }
        }
        assert!(
            traded > 0 && repaired > 0,
            "{traded} trades, {repaired} with repairs"
        );
    }
}
