//! ONNX import: operator coverage, error messages, batch-norm folding, agreement with the weight
//! reader.

mod common;

use common::*;
use lc_sw::model::float_exec;
use lc_sw::model::graph::{Op, Tensor};
use lc_sw::model::import::{graph_from_bytes, ImportError};

/// Direct convolution written independently of the executor (NCHW, no batch).
#[allow(clippy::too_many_arguments)]
fn naive_conv(
    x: &[f32],
    c: usize,
    h: usize,
    w: usize,
    wt: &[f32],
    o: usize,
    k: usize,
    pad: usize,
    stride: usize,
) -> Vec<f32> {
    let oh = (h + 2 * pad - k) / stride + 1;
    let ow = (w + 2 * pad - k) / stride + 1;
    let mut out = vec![0.0; o * oh * ow];
    for oc in 0..o {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut s = 0.0;
                for ic in 0..c {
                    for ky in 0..k {
                        for kx in 0..k {
                            let iy = (oy * stride + ky) as isize - pad as isize;
                            let ix = (ox * stride + kx) as isize - pad as isize;
                            if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                s += x[(ic * h + iy as usize) * w + ix as usize]
                                    * wt[((oc * c + ic) * k + ky) * k + kx];
                            }
                        }
                    }
                }
                out[(oc * oh + oy) * ow + ox] = s;
            }
        }
    }
    out
}

#[test]
fn conv_batchnorm_is_folded_and_equivalent() {
    let mut r = Rng(7);
    let (c, o, k) = (3, 4, 3);
    let w = r.vec(o * c * k * k, 0.5);
    let b = r.vec(o, 0.2);
    let gamma: Vec<f32> = r.vec(o, 0.5).iter().map(|v| v + 1.0).collect();
    let beta = r.vec(o, 0.3);
    let mean = r.vec(o, 0.3);
    let var: Vec<f32> = r.vec(o, 0.4).iter().map(|v| v.abs() + 0.5).collect();
    let eps = 1e-3;
    let nodes = vec![
        node(
            "Conv",
            "c",
            &["input", "w", "b"],
            "y",
            vec![ints("pads", &[1, 1, 1, 1]), ints("strides", &[2, 2])],
        ),
        node(
            "BatchNormalization",
            "bn",
            &["y", "g", "be", "m", "v"],
            "z",
            vec![float("epsilon", eps)],
        ),
    ];
    let inits = vec![
        tensor("w", &[o, c, k, k], &w),
        tensor("b", &[o], &b),
        tensor("g", &[o], &gamma),
        tensor("be", &[o], &beta),
        tensor("m", &[o], &mean),
        tensor("v", &[o], &var),
    ];
    let g = graph_from_bytes(&model_bytes(nodes, inits, &[1, 3, 7, 6], "z")).unwrap();
    assert_eq!(g.nodes.len(), 1, "batch normalization must be folded away");
    let x = r.vec(c * 7 * 6, 1.0);
    let got = float_exec::run(&g, &Tensor::new(vec![3, 7, 6], x.clone()).unwrap()).unwrap();
    let conv = naive_conv(&x, c, 7, 6, &w, o, k, 1, 2);
    let plane = conv.len() / o;
    assert_eq!(got[0].shape, vec![o, 4, 3]);
    for (i, &v) in conv.iter().enumerate() {
        let ch = i / plane;
        let want = gamma[ch] * (v + b[ch] - mean[ch]) / (var[ch] + eps).sqrt() + beta[ch];
        assert!(
            (got[0].data[i] - want).abs() < 1e-4,
            "element {i}: {} vs {want}",
            got[0].data[i]
        );
    }
}

#[test]
fn unsupported_operator_names_op_and_node() {
    let nodes = vec![
        node("Relu", "r", &["input"], "a", vec![]),
        node("Gelu", "the_gelu", &["a"], "out", vec![]),
    ];
    let e = graph_from_bytes(&model_bytes(nodes, vec![], &[1, 4], "out")).unwrap_err();
    assert!(
        matches!(&e, ImportError::UnsupportedOp { op, node } if op == "Gelu" && node == "the_gelu"),
        "{e}"
    );
    let msg = e.to_string();
    assert!(msg.contains("Gelu") && msg.contains("the_gelu"), "{msg}");
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    assert!(graph_from_bytes(&[0xff, 0x13, 0x00, 0x42, 0x99]).is_err());
    assert!(graph_from_bytes(&[]).is_err());
}

#[test]
fn matmul_add_becomes_dense_and_gemm_transposes() {
    let mut r = Rng(3);
    let w = r.vec(5 * 3, 1.0); // MatMul B: [K=5, N=3]
    let bias = r.vec(3, 1.0);
    let nodes = vec![
        node("Flatten", "f", &["input"], "x", vec![int("axis", 1)]),
        node("MatMul", "mm", &["x", "w"], "y", vec![]),
        node("Add", "add", &["y", "bias"], "z", vec![]),
        node("Softmax", "sm", &["z"], "out", vec![int("axis", 1)]),
    ];
    let inits = vec![tensor("w", &[5, 3], &w), tensor("bias", &[3], &bias)];
    let g = graph_from_bytes(&model_bytes(nodes, inits, &[1, 5], "out")).unwrap();
    let kinds: Vec<_> = g.nodes.iter().map(|n| n.op.kind()).collect();
    assert_eq!(kinds, ["Flatten", "Dense", "Softmax"]);
    let x = r.vec(5, 1.0);
    let out = float_exec::run(&g, &Tensor::new(vec![5], x.clone()).unwrap()).unwrap();
    let logits: Vec<f32> = (0..3)
        .map(|n| (0..5).map(|k| x[k] * w[k * 3 + n]).sum::<f32>() + bias[n])
        .collect();
    let m = logits.iter().cloned().fold(f32::MIN, f32::max);
    let z: f32 = logits.iter().map(|l| (l - m).exp()).sum();
    for (got, l) in out[0].data.iter().zip(&logits) {
        assert!((got - (l - m).exp() / z).abs() < 1e-5);
    }
}

#[test]
fn depthwise_dilated_conv_pooling_and_add() {
    let mut r = Rng(11);
    let c = 3;
    let dw = r.vec(c * 3 * 3, 1.0);
    let nodes = vec![
        node(
            "Conv",
            "dw",
            &["input", "dw"],
            "a",
            vec![
                int("group", c as i64),
                ints("dilations", &[2, 2]),
                ints("pads", &[2, 2, 2, 2]),
            ],
        ),
        node("Add", "res", &["a", "input"], "b", vec![]),
        node(
            "MaxPool",
            "mp",
            &["b"],
            "p",
            vec![
                ints("kernel_shape", &[3, 3]),
                ints("strides", &[2, 2]),
                ints("pads", &[1, 1, 1, 1]),
            ],
        ),
        node(
            "AveragePool",
            "ap",
            &["p"],
            "q",
            vec![ints("kernel_shape", &[2, 2]), ints("strides", &[1, 1])],
        ),
        node("GlobalAveragePool", "gap", &["q"], "out", vec![]),
    ];
    let g = graph_from_bytes(&model_bytes(
        nodes,
        vec![tensor("dw", &[c, 1, 3, 3], &dw)],
        &[1, 3, 8, 8],
        "out",
    ))
    .unwrap();
    assert!(matches!(&g.nodes[0].op, Op::Conv(cv) if cv.groups == 3));
    let x = r.vec(c * 64, 1.0);
    let vals = float_exec::run_all(&g, &Tensor::new(vec![3, 8, 8], x.clone()).unwrap()).unwrap();
    // Depthwise dilated conv, checked element by element.
    let a = vals[g.nodes[0].output].as_ref().unwrap();
    assert_eq!(a.shape, vec![3, 8, 8]);
    for ch in 0..c {
        for y in 0..8 {
            for xx in 0..8 {
                let mut s = 0.0;
                for ky in 0..3 {
                    for kx in 0..3 {
                        let (iy, ix) = (
                            y as isize + 2 * ky as isize - 2,
                            xx as isize + 2 * kx as isize - 2,
                        );
                        if (0..8).contains(&iy) && (0..8).contains(&ix) {
                            s += x[ch * 64 + iy as usize * 8 + ix as usize]
                                * dw[ch * 9 + ky * 3 + kx];
                        }
                    }
                }
                assert!((a.data[ch * 64 + y * 8 + xx] - s).abs() < 1e-5);
            }
        }
    }
    let p = vals[g.nodes[2].output].as_ref().unwrap();
    assert_eq!(p.shape, vec![3, 4, 4]);
    let out = vals[g.outputs[0]].as_ref().unwrap();
    assert_eq!(out.shape, vec![3, 1, 1]);
}

#[test]
fn reshape_transpose_clip_prelu() {
    let nodes = vec![
        node(
            "Transpose",
            "t",
            &["input"],
            "a",
            vec![ints("perm", &[0, 3, 1, 2])],
        ),
        node("PRelu", "pr", &["a", "slope"], "b", vec![]),
        node("Clip", "cl", &["b", "lo", "hi"], "c", vec![]),
        node("Reshape", "rs", &["c", "shape"], "out", vec![]),
    ];
    let inits = vec![
        tensor("slope", &[2, 1, 1], &[0.5, 0.25]),
        tensor("lo", &[], &[-0.2]),
        tensor("hi", &[], &[0.6]),
        tensor_i64("shape", &[1, -1]),
    ];
    let g = graph_from_bytes(&model_bytes(nodes, inits, &[1, 2, 3, 2], "out")).unwrap();
    // input [H=2, W=3, C=2] -> [C, H, W]
    let x: Vec<f32> = (0..12).map(|i| i as f32 / 10.0 - 0.6).collect();
    let out = float_exec::run(&g, &Tensor::new(vec![2, 3, 2], x.clone()).unwrap()).unwrap();
    assert_eq!(out[0].shape, vec![12]);
    for ch in 0..2 {
        for hw in 0..6 {
            let v = x[hw * 2 + ch];
            let p = if v >= 0.0 { v } else { v * [0.5, 0.25][ch] };
            assert!((out[0].data[ch * 6 + hw] - p.clamp(-0.2, 0.6)).abs() < 1e-6);
        }
    }
}

#[test]
fn shape_mismatch_is_an_error() {
    let nodes = vec![node("Relu", "r", &["input"], "out", vec![])];
    let g = graph_from_bytes(&model_bytes(nodes, vec![], &[1, 4], "out")).unwrap();
    let e = float_exec::run(&g, &Tensor::new(vec![5], vec![0.0; 5]).unwrap()).unwrap_err();
    assert!(e.to_string().contains("expects"), "{e}");
}

#[test]
fn dynamic_input_dimensions_take_a_given_shape() {
    use lc_sw::model::import::graph_from_model_shaped;
    use onnx_protobuf::{Message, ModelProto};
    let nodes = vec![
        node("Relu", "r", &["input"], "a", vec![]),
        node("Softmax", "sm", &["a"], "out", vec![int("axis", 3)]),
    ];
    let bytes = model_bytes(nodes, vec![], &[-1, 2, -1, 3], "out");
    let e = graph_from_bytes(&bytes).unwrap_err().to_string();
    assert!(
        e.contains("input 'input' has shape [?, 2, ?, 3]") && e.contains("--input-shape"),
        "{e}"
    );
    let model = ModelProto::parse_from_bytes(&bytes).unwrap();
    let (g, name) = graph_from_model_shaped(&model, Some(&[1, 2, 4, 3])).unwrap();
    assert_eq!(
        (g.input_shape.as_slice(), name.as_str()),
        (&[2, 4, 3][..], "input")
    );
    // Static dimensions must agree and the batch is 1.
    for bad in [[1, 3, 4, 3], [2, 2, 4, 3], [1, 2, 0, 3]] {
        let e = graph_from_model_shaped(&model, Some(&bad)).unwrap_err();
        assert!(e.to_string().contains("does not fit"), "{bad:?}: {e}");
    }
    assert!(graph_from_model_shaped(&model, Some(&[1, 2, 4])).is_err());
    // Softmax over the named last axis: each row of 3 sums to one, a row's order is kept.
    let x = Tensor {
        shape: vec![2, 4, 3],
        data: (0..24).map(|i| (i % 5) as f32).collect(),
    };
    let vals = float_exec::run_all(&g, &x).unwrap();
    let y = vals[g.outputs[0]].as_ref().unwrap();
    for (r, xr) in y.data.chunks(3).zip(x.data.chunks(3)) {
        assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{r:?}");
        assert_eq!(r[0] < r[1], xr[0] < xr[1]);
    }
}

#[test]
fn softmax_over_an_inner_axis_is_refused_by_the_executor() {
    let nodes = vec![node(
        "Softmax",
        "sm",
        &["input"],
        "out",
        vec![int("axis", 1)],
    )];
    let g = graph_from_bytes(&model_bytes(nodes, vec![], &[1, 2, 3], "out")).unwrap();
    let x = Tensor {
        shape: vec![2, 3],
        data: vec![0.0; 6],
    };
    let e = float_exec::run_all(&g, &x).unwrap_err().to_string();
    assert!(e.contains("only the last axis"), "{e}");
}

#[test]
fn concat_joins_channels_and_checks_its_axis() {
    let mut r = Rng(21);
    let w = r.vec(2 * 3, 1.0);
    let concat = |axis: i64| {
        let nodes = vec![
            node("Conv", "pw", &["input", "w"], "a", vec![]),
            node("Relu", "r", &["a"], "b", vec![]),
            node(
                "Concat",
                "cat",
                &["input", "b"],
                "out",
                vec![int("axis", axis)],
            ),
        ];
        graph_from_bytes(&model_bytes(
            nodes,
            vec![tensor("w", &[2, 3, 1, 1], &w)],
            &[1, 3, 2, 2],
            "out",
        ))
    };
    let g = concat(1).unwrap();
    let x = r.vec(3 * 4, 1.0);
    let out = float_exec::run(&g, &Tensor::new(vec![3, 2, 2], x.clone()).unwrap()).unwrap();
    assert_eq!(out[0].shape, vec![5, 2, 2]);
    assert_eq!(&out[0].data[..12], &x[..]);
    for o in 0..2 {
        for p in 0..4 {
            let v: f32 = (0..3).map(|i| w[o * 3 + i] * x[i * 4 + p]).sum();
            assert!((out[0].data[12 + o * 4 + p] - v.max(0.0)).abs() < 1e-6);
        }
    }
    let e = concat(2).unwrap_err().to_string();
    assert!(
        e.contains("'cat'") && e.contains("Concat") && e.contains("axis 2"),
        "{e}"
    );
}

#[test]
fn weight_reader_and_importer_agree_and_refuse_external_data() {
    use lc_sw::model::onnx::{parse_model, weights};
    let mut r = Rng(11);
    let a = r.vec(4 * 3, 1.0); // Gemm without transB: B is [K = 4, N = 3]
    let b = r.vec(2 * 3, 1.0); // Gemm with transB: B is [N = 2, K = 3]
    let nodes = vec![
        node("Gemm", "g1", &["input", "a"], "h", vec![]),
        node("Gemm", "g2", &["h", "b"], "out", vec![int("transB", 1)]),
    ];
    let inits = vec![tensor("a", &[4, 3], &a), tensor("b", &[2, 3], &b)];
    let bytes = model_bytes(nodes.clone(), inits, &[1, 4], "out");
    let g = graph_from_bytes(&bytes).unwrap();
    let w = weights(&parse_model(&bytes, "test").unwrap()).unwrap();
    // Output channel first: a[k][n] lands at [n][k]; b is already [N, K].
    let a_t: Vec<f32> = (0..3)
        .flat_map(|n| (0..4).map(move |k| (n, k)))
        .map(|(n, k)| a[k * 3 + n])
        .collect();
    assert_eq!((w[0].dims.clone(), &w[0].data), (vec![3, 4], &a_t));
    assert_eq!((w[1].dims.clone(), &w[1].data), (vec![2, 3], &b));
    assert!(w[0].transposed && !w[1].transposed);
    let layers = g.weight_layers();
    assert_eq!(layers.len(), 2);
    for (l, t) in layers.iter().zip(&w) {
        assert_eq!((&l.weight.shape, &l.weight.data), (&t.dims, &t.data));
    }

    let mut external = tensor("a", &[4, 3], &a);
    external
        .external_data
        .push(onnx_protobuf::StringStringEntryProto {
            key: "location".into(),
            value: "a.bin".into(),
            ..Default::default()
        });
    let inits = vec![external, tensor("b", &[2, 3], &b)];
    let bytes = model_bytes(nodes, inits, &[1, 4], "out");
    let e = graph_from_bytes(&bytes).unwrap_err().to_string();
    assert!(
        e.contains("tensor 'a'") && e.contains("external data"),
        "{e}"
    );
    let e = weights(&parse_model(&bytes, "test").unwrap()).unwrap_err();
    assert!(e.to_string().contains("external data"), "{e}");
}
