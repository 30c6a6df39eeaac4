//! Element-wise operators of MobileNetV3-style models (HardSwish written as Add/Clip/Mul/Div,
//! HardSigmoid, the squeeze-excitation channel `Mul`, the `Shape`-computed `Reshape` target):
//! import, float executor, and the integer golden model's lookup tables and product
//! requantization against the spec written out by hand.

mod common;

use common::*;
use lc_sw::model::calib::calibrate;
use lc_sw::model::float_exec;
use lc_sw::model::golden::{QModel, QOp};
use lc_sw::model::graph::{Graph, Op, Tensor};
use lc_sw::model::import::graph_from_bytes;
use lc_sw::quant::quantize_per_channel;

/// Conv -> HardSwish (as `x * clip(x + 3, 0, 6) / 6`) -> squeeze-excitation (GlobalAveragePool,
/// two 1x1 convolutions with `Reshape`d constant biases, Relu, HardSigmoid, channel `Mul`) ->
/// a `Reshape` whose target comes from `Shape`/`Cast`/`Slice`/`Concat` -> Gemm.
fn se_block(r: &mut Rng) -> Graph {
    let nodes = vec![
        node(
            "Conv",
            "c1",
            &["input", "w1", "b1"],
            "a",
            vec![ints("pads", &[1; 4])],
        ),
        node("Add", "hs_add", &["a", "three"], "a3", vec![]),
        node("Clip", "hs_clip", &["a3", "zero", "six"], "a6", vec![]),
        node("Mul", "hs_mul", &["a", "a6"], "am", vec![]),
        node("Div", "hs_div", &["am", "six"], "hs", vec![]),
        node("GlobalAveragePool", "gap", &["hs"], "p", vec![]),
        node("Conv", "se1", &["p", "ws1"], "s1", vec![]),
        node(
            "Reshape",
            "se1_bias",
            &["bs1", "bias_shape1"],
            "bs1r",
            vec![],
        ),
        node("Add", "se1_add", &["s1", "bs1r"], "s1b", vec![]),
        node("Relu", "se_relu", &["s1b"], "s1r", vec![]),
        node("Conv", "se2", &["s1r", "ws2"], "s2", vec![]),
        node(
            "Reshape",
            "se2_bias",
            &["bs2", "bias_shape2"],
            "bs2r",
            vec![],
        ),
        node("Add", "se2_add", &["s2", "bs2r"], "s2b", vec![]),
        node(
            "HardSigmoid",
            "gate",
            &["s2b"],
            "g",
            vec![float("alpha", 0.2), float("beta", 0.5)],
        ),
        node("Mul", "se_mul", &["hs", "g"], "y", vec![]),
        node("Shape", "shape", &["y"], "sh", vec![]),
        node("Cast", "cast", &["sh"], "shi", vec![int("to", 6)]),
        node("Slice", "batch", &["shi", "zero_i", "one_i"], "n", vec![]),
        node("Cast", "cast_back", &["n"], "nl", vec![int("to", 7)]),
        node(
            "Concat",
            "target",
            &["nl", "hundred"],
            "t",
            vec![int("axis", 0)],
        ),
        node("Reshape", "flat", &["y", "t"], "f", vec![]),
        node(
            "Gemm",
            "fc",
            &["f", "wf", "bf"],
            "out",
            vec![int("transB", 1)],
        ),
    ];
    let inits = vec![
        tensor("w1", &[4, 2, 3, 3], &r.vec(72, 0.6)),
        tensor("b1", &[4], &r.vec(4, 0.5)),
        tensor("three", &[], &[3.0]),
        tensor("zero", &[], &[0.0]),
        tensor("six", &[], &[6.0]),
        tensor("ws1", &[2, 4, 1, 1], &r.vec(8, 1.0)),
        tensor("bs1", &[2], &r.vec(2, 0.2)),
        tensor_i64("bias_shape1", &[1, 2, 1, 1]),
        tensor("ws2", &[4, 2, 1, 1], &r.vec(8, 2.0)),
        tensor("bs2", &[4], &r.vec(4, 0.5)),
        tensor_i64("bias_shape2", &[1, 4, 1, 1]),
        tensor_i64("zero_i", &[0]),
        tensor_i64("one_i", &[1]),
        tensor_i64("hundred", &[100]),
        tensor("wf", &[3, 100], &r.vec(300, 0.3)),
        tensor("bf", &[3], &r.vec(3, 0.1)),
    ];
    graph_from_bytes(&model_bytes(nodes, inits, &[1, 2, 5, 5], "out")).unwrap()
}

fn inputs(r: &mut Rng, n: usize) -> Vec<Tensor> {
    (0..n)
        .map(|_| Tensor::new(vec![2, 5, 5], r.vec(50, 2.0)).unwrap())
        .collect()
}

fn build(g: &Graph, calib_inputs: &[Tensor]) -> QModel {
    let calib = calibrate(g, calib_inputs).unwrap();
    let weights: Vec<_> = g
        .weight_layers()
        .iter()
        .map(|l| quantize_per_channel(&l.weight.data, &l.weight.shape, 8).unwrap())
        .collect();
    QModel::build(g, &calib, &weights).unwrap()
}

/// `clamp(round(v / s), -128, 127)`, ties away from zero, written out again (in f32, as the
/// spec computes the tables).
fn to_int8(v: f32, s: f32) -> i8 {
    (v / s).round().clamp(-128.0, 127.0) as i8
}

#[test]
fn import_keeps_the_operators_and_folds_the_shape_chain() {
    let g = se_block(&mut Rng(5));
    let kinds: Vec<&str> = g.nodes.iter().map(|n| n.op.kind()).collect();
    assert_eq!(
        kinds,
        [
            "Conv",
            "Add",
            "Clip",
            "Mul",
            "Div",
            "GlobalAveragePool",
            "Conv",
            "Relu",
            "Conv",
            "HardSigmoid",
            "Mul",
            "Reshape",
            "Dense"
        ],
        "the SE biases fold into their convolutions, the shape chain into the Reshape"
    );
    assert!(g.nodes.iter().any(|n| n.op == Op::Reshape(vec![100])));
    // The float executor computes HardSwish and the gate as their definitions say.
    let x = &inputs(&mut Rng(8), 1)[0];
    let vals = float_exec::run_all(&g, x).unwrap();
    let val = |name: &str| {
        let n = g.nodes.iter().find(|n| n.name == name).unwrap();
        vals[n.output].clone().unwrap()
    };
    let (a, hs) = (val("c1"), val("hs_div"));
    for (&v, &h) in a.data.iter().zip(&hs.data) {
        let want = v * (v + 3.0).clamp(0.0, 6.0) / 6.0;
        assert!(
            (h - want).abs() <= 1e-5 * want.abs().max(1.0),
            "{v}: {h} vs {want}"
        );
    }
    let (gate, y) = (val("gate"), val("se_mul"));
    assert_eq!(gate.shape, vec![4, 1, 1]);
    assert_eq!(y.shape, vec![4, 5, 5]);
    for (k, &v) in y.data.iter().enumerate() {
        assert_eq!(v, hs.data[k] * gate.data[k / 25]);
    }
}

#[test]
fn element_wise_chains_become_tables_and_the_gate_a_product() {
    let mut r = Rng(21);
    let g = se_block(&mut r);
    let xs = inputs(&mut r, 48);
    let q = build(&g, &xs[..24]);
    let by_name = |n: &str| q.layers.iter().find(|l| l.name == n).unwrap();
    // The HardSwish (Add, Clip, Mul, Div) is one table from the conv's scale to its own.
    let (conv, hs) = (by_name("c1"), by_name("hs_add"));
    assert!(q
        .layers
        .iter()
        .all(|l| !["hs_clip", "hs_mul", "hs_div", "se_relu"].contains(&l.name.as_str())));
    let QOp::Lut(table) = &hs.op else {
        panic!("HardSwish is {:?}", hs.op)
    };
    for q8 in -128i32..=127 {
        let x = q8 as f32 * conv.out_scale;
        let want = to_int8(x * (x + 3.0).clamp(0.0, 6.0) / 6.0, hs.out_scale);
        assert_eq!(table[(q8 + 128) as usize], want, "HardSwish at {q8}");
    }
    let (se2, gate) = (by_name("se2"), by_name("gate"));
    let QOp::Lut(table) = &gate.op else {
        panic!("HardSigmoid is {:?}", gate.op)
    };
    for q8 in -128i32..=127 {
        let x = q8 as f32 * se2.out_scale;
        let want = to_int8((0.2 * x + 0.5).clamp(0.0, 1.0), gate.out_scale);
        assert_eq!(table[(q8 + 128) as usize], want, "HardSigmoid at {q8}");
    }
    // The channel Mul: int8 x int8, one multiplier s_hs * s_gate / s_y, round half up.
    let mul = by_name("se_mul");
    let m = hs.out_scale as f64 * gate.out_scale as f64 / mul.out_scale as f64;
    let shift = 15 - m.log2().floor() as i32 - 1;
    let mult = (m * 2f64.powi(shift)).round() as i64;
    assert!(
        (1 << 14..1 << 15).contains(&mult),
        "normalised multiplier {mult}"
    );
    for x in &xs[24..] {
        let vals = q.run_all(&q.quantize_input(x)).unwrap();
        let get = |id: usize| vals[id].as_ref().unwrap();
        let (h, gt, y) = (get(hs.output), get(gate.output), get(mul.output));
        for (k, &got) in y.data.iter().enumerate() {
            let p = h.data[k] as i64 * gt.data[k / 25] as i64 * mult;
            let want = ((p + (1 << (shift - 1))) >> shift).clamp(-128, 127);
            assert_eq!(got as i64, want, "SE product at {k}");
        }
    }
}

#[test]
fn golden_model_tracks_the_float_executor() {
    let mut r = Rng(34);
    let g = se_block(&mut r);
    let xs = inputs(&mut r, 64);
    let q = build(&g, &xs[..32]);
    let (mut signal, mut noise, mut agree) = (0f64, 0f64, 0);
    for x in &xs[32..] {
        let want = &float_exec::run(&g, x).unwrap()[0].data;
        let got = &q.run_float(x).unwrap()[0].data;
        signal += want.iter().map(|&v| (v as f64).powi(2)).sum::<f64>();
        noise += want
            .iter()
            .zip(got)
            .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
            .sum::<f64>();
        let top = |v: &[f32]| (0..v.len()).max_by(|&i, &j| v[i].total_cmp(&v[j])).unwrap();
        agree += (top(want) == top(got)) as usize;
    }
    let sqnr = 10.0 * (signal / noise).log10();
    assert!(sqnr > 25.0, "output SQNR {sqnr:.1} dB");
    assert!(agree >= 29, "top-1 agreement {agree}/32");
}

#[test]
fn unsupported_element_wise_forms_name_the_operator_and_node() {
    let cases = [
        (
            node("Div", "ratio", &["input", "input"], "out", vec![]),
            "node 'ratio' (Div): only division by a constant",
        ),
        (
            node("Add", "shift", &["input", "vec3"], "out", vec![]),
            "node 'shift' (Add): constant of shape [3]",
        ),
        (
            node("Mul", "cross", &["input", "vec3"], "out", vec![]),
            "node 'cross' (Mul): constant of shape [3]",
        ),
    ];
    for (n, msg) in cases {
        let bytes = model_bytes(
            vec![n],
            vec![tensor("vec3", &[3], &[1.0, 2.0, 3.0])],
            &[1, 3, 2, 2],
            "out",
        );
        let e = graph_from_bytes(&bytes).unwrap_err().to_string();
        assert!(e.starts_with(msg), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
}
