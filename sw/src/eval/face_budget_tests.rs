//! The per-layer budget on the MTCNN O-Net and R-Net face classifiers (skipped with a message
//! when `make models` has not fetched them): settings chosen on held-out face images, with the
//! final check on the evaluation images that `eval` runs, keep the evaluation images within the
//! budget and still compress well beyond INT8.

use std::path::PathBuf;

use super::budget::{accept, choose};
use super::inputs::{split_faces, Layout};
use super::ladder::Family;
use super::runner::Evaluator;
use super::variants::{weight_count, CodecSettings};
use crate::data::faces::load_lfw_subset;
use crate::model::import::load_graph;

fn check(model: &str) {
    let cache = std::env::var_os("LC_MODEL_CACHE").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/linecompress"),
        PathBuf::from,
    );
    let (path, faces) = (cache.join(model), cache.join("lfw_subset.npy"));
    if !path.exists() || !faces.exists() {
        eprintln!("skipped: {} or {} missing", path.display(), faces.display());
        return;
    }
    let mut g = load_graph(&path).expect("model imports");
    g.preprocess.mean = 127.5;
    g.preprocess.std = 128.0;
    let imgs = load_lfw_subset(&faces).expect("face images");
    let split = split_faces(&g, &imgs, Layout::Whc, usize::MAX).expect("split");
    let ev = Evaluator::new(&g, split.eval, &split.calib).expect("evaluator");
    let held_out = ev.other_set(split.held_out).expect("float");
    let budget = 1.0;
    let mut r = choose(
        &held_out,
        Family::LcRice,
        budget,
        CodecSettings::default(),
        |_| {},
    )
    .expect("search");
    // The choice made on held-out images, then the final check on the evaluation images that
    // `eval` runs (150 evaluation images: one image is 0.67 points); it must end within the
    // budget and still well beyond INT8, so it cannot pass by backing everything off.
    let s = ev.score(&r.weights()).expect("score");
    let held_out_drop = (ev.float_score().quality() - s.quality()) * 100.0;
    let (s, steps) = accept(&ev, &mut r, |_| {}).expect("final check");
    let drop = (ev.float_score().quality() - s.quality()) * 100.0;
    let ratio = 32.0 * weight_count(&g) as f64 / r.bits().iter().sum::<u64>() as f64;
    eprintln!(
        "{model}: held-out choice drop {held_out_drop:.2}, after {} step(s) back {drop:.2}, {ratio:.2}x",
        steps.len()
    );
    assert!(
        drop <= budget,
        "{model}: drop {drop:.2} on {} evaluation images after {steps:?} (held-out choice \
         {held_out_drop:.2}), SQNR {:.1} dB, {:?}",
        ev.set.len(),
        s.sqnr_db,
        r.methods()
    );
    assert!(ratio > 8.0, "{model}: only {ratio:.2}x vs FP32");
}

#[test]
fn onet_budget_holds_on_evaluation_images() {
    check("mtcnn_onet.onnx");
}

#[test]
fn rnet_budget_holds_on_evaluation_images() {
    check("mtcnn_rnet.onnx");
}
