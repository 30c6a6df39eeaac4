//! The integer golden model against the float reference, and against the spec written out by
//! hand for one layer.

mod common;

use common::*;
use lc_sw::model::calib::calibrate;
use lc_sw::model::float_exec;
use lc_sw::model::golden::{BuildOptions, QModel, QOp};
use lc_sw::model::graph::{Graph, Tensor};
use lc_sw::model::import::graph_from_bytes;
use lc_sw::quant::{quantize_per_channel, Quantized};

fn small_cnn(r: &mut Rng) -> Graph {
    let nodes = vec![
        node(
            "Conv",
            "c1",
            &["input", "w1", "b1"],
            "a",
            vec![ints("pads", &[1, 1, 1, 1])],
        ),
        node("Relu", "r1", &["a"], "a1", vec![]),
        node(
            "MaxPool",
            "p1",
            &["a1"],
            "p",
            vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])],
        ),
        node(
            "Conv",
            "c2",
            &["p", "w2", "b2"],
            "c",
            vec![ints("pads", &[1, 1, 1, 1])],
        ),
        node("PRelu", "pr", &["c", "slope"], "c1", vec![]),
        node(
            "Conv",
            "c3",
            &["c1", "w3", "b3"],
            "d",
            vec![ints("pads", &[1, 1, 1, 1])],
        ),
        node("Add", "res", &["d", "c1"], "e", vec![]),
        node("Clip", "r6", &["e", "lo", "hi"], "e1", vec![]),
        node(
            "AveragePool",
            "ap",
            &["e1"],
            "f",
            vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])],
        ),
        node("Flatten", "fl", &["f"], "g", vec![int("axis", 1)]),
        node(
            "Gemm",
            "fc",
            &["g", "wf", "bf"],
            "h",
            vec![int("transB", 1)],
        ),
        node("Softmax", "sm", &["h"], "out", vec![]),
    ];
    let inits = vec![
        tensor("w1", &[8, 1, 3, 3], &r.vec(72, 0.6)),
        tensor("b1", &[8], &r.vec(8, 0.1)),
        tensor("w2", &[8, 8, 3, 3], &r.vec(576, 0.25)),
        tensor("b2", &[8], &r.vec(8, 0.1)),
        tensor(
            "slope",
            &[8, 1, 1],
            &r.vec(8, 0.3).iter().map(|v| v.abs()).collect::<Vec<_>>(),
        ),
        tensor("w3", &[8, 8, 3, 3], &r.vec(576, 0.2)),
        tensor("b3", &[8], &r.vec(8, 0.1)),
        tensor("lo", &[], &[0.0]),
        tensor("hi", &[], &[6.0]),
        tensor("wf", &[10, 8 * 2 * 2], &r.vec(320, 0.4)),
        tensor("bf", &[10], &r.vec(10, 0.1)),
    ];
    graph_from_bytes(&model_bytes(nodes, inits, &[1, 1, 8, 8], "out")).unwrap()
}

fn quantize_all(g: &Graph, bits: u8) -> Vec<Quantized> {
    g.weight_layers()
        .iter()
        .map(|l| quantize_per_channel(&l.weight.data, &l.weight.shape, bits).unwrap())
        .collect()
}

fn sqnr_db(reference: &[f32], test: &[f32]) -> f64 {
    let s: f64 = reference.iter().map(|&v| (v as f64).powi(2)).sum();
    let n: f64 = reference
        .iter()
        .zip(test)
        .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
        .sum();
    10.0 * (s / n.max(1e-30)).log10()
}

#[test]
fn golden_tracks_float_on_a_small_cnn() {
    let mut r = Rng(99);
    let g = small_cnn(&mut r);
    let inputs: Vec<Tensor> = (0..64)
        .map(|_| Tensor::new(vec![1, 8, 8], r.vec(64, 1.0)).unwrap())
        .collect();
    let calib = calibrate(&g, &inputs[..32]).unwrap();
    let q = QModel::build(&g, &calib, &quantize_all(&g, 8)).unwrap();
    // Conv+Relu, Conv+PRelu, Conv (Add reads it twice? no: once) ... fused layers leave fewer steps.
    assert!(
        q.layers.iter().all(|l| l.name != "r1" && l.name != "pr"),
        "activations should be fused"
    );
    let mut agree = 0;
    let mut worst = f64::INFINITY;
    for x in &inputs[32..] {
        // Compare pre-softmax logits: the integer model drops the final Softmax.
        let vals = float_exec::run_all(&g, x).unwrap();
        let logits = vals[g.nodes[g.nodes.len() - 1].inputs[0]].as_ref().unwrap();
        let qo = q.run_float(x).unwrap();
        worst = worst.min(sqnr_db(&logits.data, &qo[0].data));
        let am = |v: &[f32]| {
            v.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0
        };
        agree += (am(&logits.data) == am(&qo[0].data)) as usize;
    }
    assert!(worst > 20.0, "worst logit SQNR {worst:.1} dB");
    assert!(agree >= 30, "top-1 agreement {agree}/32");
}

#[test]
fn golden_is_deterministic_and_sensitive_to_weights() {
    let mut r = Rng(5);
    let g = small_cnn(&mut r);
    let x = Tensor::new(vec![1, 8, 8], r.vec(64, 1.0)).unwrap();
    let calib = calibrate(&g, std::slice::from_ref(&x)).unwrap();
    let qw = quantize_all(&g, 8);
    let q = QModel::build(&g, &calib, &qw).unwrap();
    let xi = q.quantize_input(&x);
    let a = q.run_all(&xi).unwrap();
    assert_eq!(a, q.run_all(&xi).unwrap());
    let mut qw2 = qw.clone();
    qw2[0].values.iter_mut().for_each(|v| *v = -*v);
    let q2 = QModel::build(&g, &calib, &qw2).unwrap();
    assert_ne!(q.run(&xi).unwrap(), q2.run(&xi).unwrap());
}

/// One dense layer computed from the spec in docs/GOLDEN_MODEL.md, independently of the model.
#[test]
fn dense_layer_follows_the_spec() {
    let mut r = Rng(1234);
    let (i_n, o_n) = (16, 6);
    let w = r.vec(o_n * i_n, 0.8);
    let b = r.vec(o_n, 0.5);
    let nodes = vec![
        node(
            "Gemm",
            "fc",
            &["input", "w", "b"],
            "h",
            vec![int("transB", 1)],
        ),
        node("Relu", "r", &["h"], "out", vec![]),
    ];
    let g = graph_from_bytes(&model_bytes(
        nodes,
        vec![tensor("w", &[o_n, i_n], &w), tensor("b", &[o_n], &b)],
        &[1, 16],
        "out",
    ))
    .unwrap();
    let xs: Vec<Tensor> = (0..8)
        .map(|_| Tensor::new(vec![16], r.vec(16, 1.0)).unwrap())
        .collect();
    let calib = calibrate(&g, &xs).unwrap();
    let qw = quantize_all(&g, 8);
    let q = QModel::build(&g, &calib, &qw).unwrap();
    let QOp::Dense(layer) = &q.layers[0].op else {
        panic!("expected a dense layer")
    };
    let s_in = q.input_scale as f64;
    let s_out = q.layers[0].out_scale as f64;
    for x in &xs {
        let xq: Vec<i32> = x
            .data
            .iter()
            .map(|&v| (v / q.input_scale).round().clamp(-128.0, 127.0) as i32)
            .collect();
        let got = q.run(&q.quantize_input(x)).unwrap();
        for (o, &bo) in b.iter().enumerate() {
            let sw = qw[0].scales[o] as f64;
            let bias = (bo as f64 / (s_in * sw)).round() as i64;
            let acc: i64 = (0..i_n)
                .map(|k| xq[k] as i64 * qw[0].values[o * i_n + k] as i64)
                .sum::<i64>()
                + bias;
            let m = s_in * sw / s_out;
            // Normalise m into [2^14, 2^15) / 2^shift.
            let mut shift = 15i32;
            let mut f = m;
            while f >= 1.0 {
                f /= 2.0;
                shift -= 1;
            }
            while f < 0.5 {
                f *= 2.0;
                shift += 1;
            }
            let mult = (m * 2f64.powi(shift)).round() as i64;
            assert_eq!(
                (mult, shift as u32),
                (layer.requant[o].mult as i64, layer.requant[o].shift),
                "channel {o}"
            );
            let y = ((acc * mult + (1i64 << (shift - 1))) >> shift).clamp(0, 127);
            assert_eq!(got[0].data[o] as i64, y, "channel {o}");
        }
    }
}

#[test]
fn weights_of_the_wrong_shape_are_rejected() {
    let mut r = Rng(8);
    let g = small_cnn(&mut r);
    let calib = calibrate(&g, &[Tensor::new(vec![1, 8, 8], r.vec(64, 1.0)).unwrap()]).unwrap();
    let mut qw = quantize_all(&g, 8);
    assert!(QModel::build(&g, &calib, &qw[1..]).is_err());
    qw[0].values.pop();
    assert!(QModel::build(&g, &calib, &qw).is_err());
}

/// `M = mult / 2^shift` with `2^14 <= mult < 2^15` for the larger of `ms`, written out from the
/// spec in docs/GOLDEN_MODEL.md: returns the multipliers and the shared shift.
fn spec_multipliers(ms: &[f64]) -> (Vec<i64>, u32) {
    let top = ms.iter().copied().fold(0.0, f64::max);
    let (mut f, mut shift) = (top, 15i32);
    while f >= 1.0 {
        f /= 2.0;
        shift -= 1;
    }
    while f < 0.5 {
        f *= 2.0;
        shift += 1;
    }
    let mults = ms.iter().map(|m| (m * 2f64.powi(shift)).round() as i64);
    (mults.collect(), shift as u32)
}

/// A residual `Add` of two convolutions and a channel `Concat` of the sum with one of them, each
/// checked against the requantization of both inputs to the output scale computed by hand.
#[test]
fn add_and_concat_requantize_to_the_output_scale() {
    let mut r = Rng(77);
    let nodes = vec![
        node("Conv", "ca", &["input", "wa", "ba"], "a", vec![]),
        node("Conv", "cb", &["input", "wb", "bb"], "b", vec![]),
        node("Add", "sum", &["a", "b"], "s", vec![]),
        node("Concat", "cat", &["s", "b"], "out", vec![int("axis", 1)]),
    ];
    let inits = vec![
        // Different weight ranges give the two branches different scales.
        tensor("wa", &[3, 2, 1, 1], &r.vec(6, 1.5)),
        tensor("ba", &[3], &r.vec(3, 0.2)),
        tensor("wb", &[3, 2, 1, 1], &r.vec(6, 0.4)),
        tensor("bb", &[3], &r.vec(3, 0.1)),
    ];
    let g = graph_from_bytes(&model_bytes(nodes, inits, &[1, 2, 4, 4], "out")).unwrap();
    let xs: Vec<Tensor> = (0..16)
        .map(|_| Tensor::new(vec![2, 4, 4], r.vec(32, 1.0)).unwrap())
        .collect();
    let calib = calibrate(&g, &xs[..8]).unwrap();
    let q = QModel::build(&g, &calib, &quantize_all(&g, 8)).unwrap();
    let by_name = |n: &str| q.layers.iter().find(|l| l.name == n).unwrap();
    let (la, lb, ls, lc) = (by_name("ca"), by_name("cb"), by_name("sum"), by_name("cat"));
    let (sa, sb, ss, sc) = (
        la.out_scale as f64,
        lb.out_scale as f64,
        ls.out_scale as f64,
        lc.out_scale as f64,
    );
    assert!(
        (sa / sb - 1.0).abs() > 0.2,
        "scales {sa} and {sb} should differ"
    );
    let (add_m, add_shift) = spec_multipliers(&[sa / ss, sb / ss]);
    let requant = |v: i64, m: &[f64]| {
        let (mult, shift) = spec_multipliers(m);
        ((v * mult[0] + (1i64 << (shift - 1))) >> shift).clamp(-128, 127)
    };
    for x in &xs[8..] {
        let vals = q.run_all(&q.quantize_input(x)).unwrap();
        let get = |id: usize| vals[id].as_ref().unwrap();
        let (a, b, s, c) = (
            get(la.output),
            get(lb.output),
            get(ls.output),
            get(lc.output),
        );
        for k in 0..a.data.len() {
            let p = a.data[k] as i64 * add_m[0]
                + b.data[k] as i64 * add_m[1]
                + (1i64 << (add_shift - 1));
            let want = (p >> add_shift).clamp(-128, 127);
            assert_eq!(s.data[k] as i64, want, "sum at {k}");
            // The same in real numbers, within half a step plus the multipliers' error.
            let real = a.data[k] as f64 * sa / ss + b.data[k] as f64 * sb / ss;
            if want > -128 && want < 127 {
                assert!((want as f64 - real).abs() <= 0.5 + 1e-3, "{want} vs {real}");
            }
        }
        assert_eq!(c.shape, vec![6, 4, 4]);
        let (first, second) = c.data.split_at(s.data.len());
        for (k, (&got, &v)) in first.iter().zip(&s.data).enumerate() {
            assert_eq!(
                got as i64,
                requant(v as i64, &[ss / sc]),
                "concat first {k}"
            );
        }
        for (k, (&got, &v)) in second.iter().zip(&b.data).enumerate() {
            assert_eq!(
                got as i64,
                requant(v as i64, &[sb / sc]),
                "concat second {k}"
            );
        }
    }
}

/// One layer applied alone gives what the whole model computes for it.
#[test]
fn one_layer_applied_alone_matches_the_model_run() {
    let mut r = Rng(31);
    let g = small_cnn(&mut r);
    let x = Tensor::new(vec![1, 8, 8], r.vec(64, 1.0)).unwrap();
    let calib = calibrate(&g, std::slice::from_ref(&x)).unwrap();
    let q = QModel::build(&g, &calib, &quantize_all(&g, 8)).unwrap();
    let vals = q.run_all(&q.quantize_input(&x)).unwrap();
    let add = q.layers.iter().find(|l| l.name == "res").unwrap();
    let inputs: Vec<_> = add
        .inputs
        .iter()
        .map(|&v| vals[v].as_ref().unwrap())
        .collect();
    assert_eq!(inputs.len(), 2);
    assert_eq!(
        &add.apply(&inputs).unwrap(),
        vals[add.output].as_ref().unwrap()
    );
    let e = add.apply(&inputs[..1]).unwrap_err().to_string();
    assert!(e.contains("'res'") && e.contains("1 inputs given"), "{e}");
}

/// Bias correction (docs/GOLDEN_MODEL.md): the first layer's corrected bias computed by hand
/// from the calibration mean of its input, and the systematic offset it removes from the
/// outputs when every weight is a few steps too large.
#[test]
fn bias_correction_follows_the_spec_and_removes_the_output_offset() {
    let mut r = Rng(77);
    let g = small_cnn(&mut r);
    let inputs: Vec<Tensor> = (0..96)
        .map(|_| {
            let v = r.vec(64, 1.0).iter().map(|x| x + 0.6).collect();
            Tensor::new(vec![1, 8, 8], v).unwrap()
        })
        .collect();
    let (cal, test) = inputs.split_at(48);
    let calib = calibrate(&g, cal).unwrap();
    let mut qw = quantize_all(&g, 8);
    for q in &mut qw {
        q.values.iter_mut().for_each(|v| *v = (*v + 6).min(127));
    }
    let plain = QModel::build(&g, &calib, &qw).unwrap();
    let corrected = QModel::build_with(
        &g,
        &calib,
        &qw,
        BuildOptions {
            bias_correction: true,
        },
    )
    .unwrap();

    // First layer: one input channel, so the correction is the sum of the weight errors times
    // the mean pixel of the calibration inputs.
    let mean_pixel = cal
        .iter()
        .flat_map(|x| &x.data)
        .map(|&v| v as f64)
        .sum::<f64>()
        / (cal.len() * 64) as f64;
    let l1 = &g.weight_layers()[0];
    let b1: Vec<f32> = match &g.nodes[l1.node].op {
        lc_sw::model::graph::Op::Conv(c) => c.bias.clone(),
        _ => panic!("first layer is a convolution"),
    };
    let QOp::Conv { layer, .. } = &corrected.layers[0].op else {
        panic!("first layer is a convolution")
    };
    for (o, b) in b1.iter().enumerate() {
        let s_w = qw[0].scales[o] as f64;
        let err: f64 = (0..9)
            .map(|k| qw[0].values[o * 9 + k] as f64 * s_w - l1.weight.data[o * 9 + k] as f64)
            .sum::<f64>()
            * mean_pixel;
        let want = ((*b as f64 - err) / (corrected.input_scale as f64 * s_w)).round() as i32;
        assert_eq!(layer.bias[o], want, "channel {o}");
    }

    // Whole model: the mean logit offset against float shrinks.
    let offset = |q: &QModel| -> f64 {
        let mut sum = [0f64; 10];
        for x in test {
            let vals = float_exec::run_all(&g, x).unwrap();
            let logits = vals[g.nodes[g.nodes.len() - 1].inputs[0]].as_ref().unwrap();
            let out = q.run_float(x).unwrap();
            for (s, (a, b)) in sum.iter_mut().zip(out[0].data.iter().zip(&logits.data)) {
                *s += (a - b) as f64;
            }
        }
        sum.iter().map(|s| (s / test.len() as f64).abs()).sum()
    };
    let (before, after) = (offset(&plain), offset(&corrected));
    assert!(
        after < 0.5 * before,
        "mean |offset| {before:.4} -> {after:.4}"
    );
}
