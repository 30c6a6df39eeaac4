//! RTL against the reference decoder on every layer of real CNN weights, encoded by the software
//! encoder in both residual modes at several error bounds, with one and four lanes and random
//! memory latency, input gaps and back-pressure.
//!
//! The weights are those of `models/lenet5.onnx` (trained by this project); any further ONNX
//! files found in `$LC_MODEL_CACHE` (see `models/fetch.sh`) are included too. CNN-shaped synthetic
//! layers are used in addition, so the test never depends on a download.

mod common;

use common::{lane_bytes, Tally};
use lc_sim::check::{check_case, Case};
use lc_sim::driver::{Pressure, RunOptions};
use lc_sim::stimulus::{cnn_like_layer, split_lanes};
use lc_sw::codec::{choose_params, encode_lane, Mode, Strategy};
use lc_sw::model::onnx::load_weights;
use lc_sw::quant::quantize_per_channel;
use rand::{rngs::StdRng, SeedableRng};
use std::path::{Path, PathBuf};

const BITS: u8 = 8;

/// (name, per-channel weight vectors) of every layer to test.
fn layers() -> Vec<(String, Vec<Vec<i32>>)> {
    let mut files = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/lenet5.onnx")];
    if let Some(dir) = std::env::var_os("LC_MODEL_CACHE") {
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut extra: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "onnx"))
                .collect();
            extra.sort();
            files.extend(extra);
        }
    }
    let mut out = Vec::new();
    for file in files.iter().filter(|f| f.exists()) {
        out.extend(model_layers(file));
    }
    let mut rng = StdRng::seed_from_u64(7);
    for (c, per) in [(6, 25), (16, 150), (64, 288), (10, 84)] {
        out.push((
            format!("synthetic_{c}x{per}"),
            cnn_like_layer(&mut rng, c, per, BITS),
        ));
    }
    out
}

fn model_layers(file: &Path) -> Vec<(String, Vec<Vec<i32>>)> {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tensors = load_weights(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    tensors
        .iter()
        .map(|t| {
            let q = quantize_per_channel(&t.data, &t.dims, BITS).expect("quantize");
            let per = q.values.len() / t.dims[0];
            let channels = q.values.chunks(per).map(|c| c.to_vec()).collect();
            (format!("{stem}/{}", t.name), channels)
        })
        .collect()
}

#[test]
fn every_layer_both_modes_one_and_four_lanes() {
    let layers = layers();
    assert!(
        layers.len() >= 5,
        "expected the LeNet-5 layers plus synthetic ones"
    );
    let mut rng = StdRng::seed_from_u64(11);
    for mode in [Mode::Lines, Mode::Rice] {
        for lanes in [1usize, 4] {
            let mut tally = Tally::default();
            for (name, channels) in &layers {
                let lane_q = split_lanes(channels, lanes.min(channels.len()));
                if lane_q.len() != lanes {
                    continue;
                }
                for (eps, strategy) in [
                    (0u16, Strategy::Greedy),
                    (2, Strategy::Optimal),
                    (8, Strategy::Greedy),
                ] {
                    let refs: Vec<&[i32]> = lane_q.iter().map(|l| l.as_slice()).collect();
                    let params = choose_params(&refs, BITS, mode, eps);
                    let streams = lane_q
                        .iter()
                        .map(|q| encode_lane(q, &params, strategy).map(lane_bytes))
                        .collect::<Result<Vec<_>, _>>()
                        .unwrap_or_else(|e| panic!("{name}: encoder: {e}"));
                    let case = Case {
                        name: format!("cnn_{mode}_x{lanes}_eps{eps}"),
                        params,
                        lanes: streams,
                    };
                    let pressure = Pressure::random(&mut rng);
                    let seed = tally.vectors + 1;
                    let opts = RunOptions {
                        pressure,
                        seed,
                        record: false,
                        max_cycles: None,
                    };
                    let report = check_case(&case, &opts, None).unwrap_or_else(|e| {
                        panic!("{name} {mode} x{lanes} eps {eps} {pressure:?}: {e:#}")
                    });
                    assert_eq!(report.rejected_lanes, 0);
                    tally.add(&report);
                }
            }
            tally.print(&format!("cnn {mode} x{lanes} ({} layers)", layers.len()));
        }
    }
}
