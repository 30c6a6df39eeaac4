//! End-to-end checks on the models shipped in `models/` (skipped with a message when the model
//! or the Fashion-MNIST package is missing): golden INT8 vs float, lossless LineCompress vs INT8
//! (LeNet-5, VGG-small, and the residual and depthwise-separable small ResNet and MobileNet).

use std::path::PathBuf;

use super::inputs::EvalSet;
use super::runner::{golden_logits, Evaluator};
use super::variants::{model_variant, CodecSettings, Method};
use crate::codec::{Mode, Strategy};
use crate::data::fashion::{self, Split};
use crate::model::golden::QModel;
use crate::model::import::load_graph;

fn shipped(
    name: &str,
) -> Option<(
    crate::model::graph::Graph,
    fashion::Dataset,
    fashion::Dataset,
)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(name);
    let dir = std::path::Path::new(fashion::DEFAULT_DIR);
    if !path.exists() || !dir.exists() {
        eprintln!("skipped: {} or {} missing", path.display(), dir.display());
        return None;
    }
    let g = load_graph(&path).expect("shipped model imports");
    let test = fashion::load(dir, Split::Test).expect("test split");
    let train = fashion::load(dir, Split::Train)
        .expect("train split")
        .take(200);
    Some((g, test, train))
}

fn check(name: &str, images: usize) {
    let Some((g, test, train)) = shipped(name) else {
        return;
    };
    let set = EvalSet::from_dataset(&g, &test, 0..images).unwrap();
    let calib = EvalSet::from_dataset(&g, &train, 0..train.len())
        .unwrap()
        .inputs;
    let ev = Evaluator::new(&g, set, &calib).unwrap();
    let n = g.weight_layers().len();
    let codec = CodecSettings {
        strategy: Strategy::Greedy,
        ..Default::default()
    };
    let int8: Vec<_> = model_variant(&g, &vec![Method::Uniform(8); n], codec)
        .unwrap()
        .into_iter()
        .map(|v| v.weights)
        .collect();
    let f = ev.float_score().quality();
    let s = ev.score(&int8).unwrap();
    assert!(f > 0.8, "{name}: float accuracy {f} on {images} images");
    assert!(
        (f - s.quality()).abs() <= 0.02,
        "{name}: float {f}, int8 golden {}",
        s.quality()
    );
    assert!(s.agreement >= 0.95, "{name}: agreement {}", s.agreement);
    // eps = 0 is lossless: the golden model must compute exactly the same logits.
    let lossless: Vec<_> = model_variant(
        &g,
        &vec![
            Method::LineCompress {
                mode: Mode::Rice,
                eps: 0
            };
            n
        ],
        codec,
    )
    .unwrap()
    .into_iter()
    .map(|v| v.weights)
    .collect();
    let qa = QModel::build(&g, &ev.calib, &int8).unwrap();
    let qb = QModel::build(&g, &ev.calib, &lossless).unwrap();
    let few = &ev.set.inputs[..20.min(images)];
    assert_eq!(
        golden_logits(&qa, 0, few).unwrap(),
        golden_logits(&qb, 0, few).unwrap()
    );
}

#[test]
fn lenet5_golden_matches_float() {
    check("lenet5.onnx", 500);
}

#[test]
fn vgg_small_golden_matches_float() {
    check("vgg_small.onnx", 200);
}

#[test]
fn resnet_small_golden_matches_float() {
    check("resnet_small.onnx", 200);
}

#[test]
fn mobilenet_small_golden_matches_float() {
    check("mobilenet_small.onnx", 200);
}

/// Scores started from a kept run (only the layers from the first changed weight layer run
/// again) equal full scores, on models with skip connections and depthwise layers too: every
/// layer in turn takes other weights, then a second layer changes on top of the first.
fn prefix_runs_match_full_runs(name: &str) {
    let Some((g, test, train)) = shipped(name) else {
        return;
    };
    let set = EvalSet::from_dataset(&g, &test, 0..40).unwrap();
    let calib = EvalSet::from_dataset(&g, &train, 0..train.len())
        .unwrap()
        .inputs;
    let ev = Evaluator::new(&g, set, &calib).unwrap();
    let n = g.weight_layers().len();
    let weights = |bits: u8| -> Vec<_> {
        model_variant(
            &g,
            &vec![Method::Uniform(bits); n],
            CodecSettings::default(),
        )
        .unwrap()
        .into_iter()
        .map(|v| v.weights)
        .collect()
    };
    let (int8, int3) = (weights(8), weights(3));
    let base = ev.run(&int8).unwrap();
    assert_eq!(base.score(), ev.score(&int8).unwrap(), "{name}");
    for l in 0..n {
        let mut w = int8.clone();
        w[l] = int3[l].clone();
        let full = ev.score(&w).unwrap();
        assert_eq!(base.score_with(&w).unwrap(), full, "{name} layer {l}");
        let then = base.then(&w).unwrap();
        assert_eq!(then.score(), full, "{name} layer {l}");
        // A later layer, then an earlier one, changed on top, from the kept run.
        for m in [(l + 1) % n, l / 2] {
            let mut v = w.clone();
            v[m] = int3[m].clone();
            let full = ev.score(&v).unwrap();
            assert_eq!(then.score_with(&v).unwrap(), full, "{name} {l} then {m}");
        }
    }
}

#[test]
fn lenet5_prefix_runs_match_full_runs() {
    prefix_runs_match_full_runs("lenet5.onnx");
}

#[test]
fn resnet_small_prefix_runs_match_full_runs() {
    prefix_runs_match_full_runs("resnet_small.onnx");
}

#[test]
fn mobilenet_small_prefix_runs_match_full_runs() {
    prefix_runs_match_full_runs("mobilenet_small.onnx");
}
