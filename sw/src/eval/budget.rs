//! Accuracy-aware per-layer error bounds: measure each layer's sensitivity (quality when only
//! that layer is compressed at a given eps), then greedily raise the eps of the layer that saves
//! the most bits per point of predicted quality loss while the predicted total loss stays within
//! the budget; finally measure the chosen configuration and back off while it exceeds the budget.

use crate::codec::Mode;

use super::runner::Evaluator;
use super::variants::{layer_variant, CodecSettings, LayerVariant, Method};
use super::EvalError;

/// Measured effect of one (layer, eps) choice.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sensitivity {
    /// Layer index.
    pub layer: usize,
    /// Error bound.
    pub eps: u16,
    /// Bits of this layer at that eps.
    pub bits: u64,
    /// Quality loss (in quality points, i.e. fraction * 100) with only this layer compressed.
    pub drop: f64,
}

/// The chosen bounds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BudgetResult {
    /// Chosen eps per layer.
    pub eps: Vec<u16>,
    /// Layer names.
    pub names: Vec<String>,
    /// Bits per layer.
    pub bits: Vec<u64>,
    /// Quality of the INT8 model (percent).
    pub quality_int8: f64,
    /// Measured quality of the chosen configuration (percent).
    pub quality: f64,
    /// The sensitivity table used.
    pub table: Vec<Sensitivity>,
}

/// Choose eps per layer for `mode` so the measured quality drop against the float model stays
/// within `max_drop` points while the compressed size is as small as the greedy search finds.
/// `candidates` are the eps values considered, smallest first.
pub fn choose_eps(
    ev: &Evaluator,
    mode: Mode,
    candidates: &[u16],
    max_drop: f64,
    codec: CodecSettings,
    mut progress: impl FnMut(&str),
) -> Result<BudgetResult, EvalError> {
    let layers = ev.graph.weight_layers();
    let n = layers.len();
    if candidates.is_empty() {
        return Err(EvalError::Invalid("no eps candidates".into()));
    }
    let base_q = ev.float_score().quality() * 100.0;
    let int8: Vec<LayerVariant> = layers
        .iter()
        .map(|l| {
            layer_variant(
                l.name,
                &l.weight.data,
                &l.weight.shape,
                Method::Uniform(8),
                codec,
            )
        })
        .collect::<Result<_, _>>()?;
    let int8_w: Vec<_> = int8.iter().map(|v| v.weights.clone()).collect();
    let q_int8 = ev.score(&int8_w)?.quality() * 100.0;
    // variants[l][k] for candidate k.
    let mut variants: Vec<Vec<LayerVariant>> = Vec::with_capacity(n);
    let mut table = Vec::new();
    for (li, l) in layers.iter().enumerate() {
        let mut row = Vec::new();
        for &eps in candidates {
            progress(&format!("sensitivity {} eps {eps}", l.name));
            let v = layer_variant(
                l.name,
                &l.weight.data,
                &l.weight.shape,
                Method::LineCompress { mode, eps },
                codec,
            )?;
            let mut w = int8_w.clone();
            w[li] = v.weights.clone();
            let drop = q_int8 - ev.score(&w)?.quality() * 100.0;
            table.push(Sensitivity {
                layer: li,
                eps,
                bits: v.bits,
                drop: drop.max(0.0),
            });
            row.push(v);
        }
        variants.push(row);
    }
    let drop_of = |li: usize, k: usize| table[li * candidates.len() + k].drop;
    // Greedy: start at the smallest candidate everywhere.
    let mut choice = vec![0usize; n];
    let allowed = (max_drop - (base_q - q_int8)).max(0.0);
    let mut history: Vec<(usize, usize)> = Vec::new();
    loop {
        let predicted: f64 = (0..n).map(|l| drop_of(l, choice[l])).sum();
        let mut best: Option<(f64, usize, usize)> = None;
        for l in 0..n {
            for k in choice[l] + 1..candidates.len() {
                let saved = variants[l][choice[l]].bits as f64 - variants[l][k].bits as f64;
                if saved <= 0.0 {
                    continue;
                }
                let extra = drop_of(l, k) - drop_of(l, choice[l]);
                if predicted + extra > allowed {
                    continue;
                }
                let merit = saved / extra.max(1e-3);
                if best.is_none_or(|(m, _, _)| merit > m) {
                    best = Some((merit, l, k));
                }
            }
        }
        let Some((_, l, k)) = best else { break };
        history.push((l, choice[l]));
        choice[l] = k;
    }
    // Verify, backing off the latest raises while the measured drop is too large.
    let weights_of = |choice: &[usize]| -> Vec<_> {
        (0..n)
            .map(|l| variants[l][choice[l]].weights.clone())
            .collect()
    };
    progress("verifying the chosen bounds");
    let mut quality = ev.score(&weights_of(&choice))?.quality() * 100.0;
    while base_q - quality > max_drop {
        let Some((l, prev)) = history.pop() else {
            break;
        };
        choice[l] = prev;
        progress("backing off");
        quality = ev.score(&weights_of(&choice))?.quality() * 100.0;
    }
    Ok(BudgetResult {
        eps: (0..n).map(|l| candidates[choice[l]]).collect(),
        names: layers.iter().map(|l| l.name.to_string()).collect(),
        bits: (0..n).map(|l| variants[l][choice[l]].bits).collect(),
        quality_int8: q_int8,
        quality,
        table,
    })
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
        let cands = [0u16, 1, 2, 4, 8, 16, 32];
        let codec = CodecSettings::default();
        let tight = choose_eps(&ev, Mode::Rice, &cands, 0.0, codec, |_| {}).unwrap();
        let loose = choose_eps(&ev, Mode::Rice, &cands, 100.0, codec, |_| {}).unwrap();
        let float_q = ev.float_score().quality() * 100.0;
        let at_floor = tight.eps.iter().all(|&e| e == cands[0]);
        assert!(float_q - tight.quality <= 1e-9 || at_floor, "{tight:?}");
        assert!(float_q - loose.quality <= 100.0);
        let total = |r: &BudgetResult| r.bits.iter().sum::<u64>();
        assert!(
            total(&loose) <= total(&tight),
            "a looser budget cannot cost more bits"
        );
        // Without a constraint every layer takes its cheapest candidate.
        for (l, &b) in loose.bits.iter().enumerate() {
            let min = loose
                .table
                .iter()
                .filter(|s| s.layer == l)
                .map(|s| s.bits)
                .min()
                .unwrap();
            assert_eq!(b, min, "layer {l}");
        }
    }
}
