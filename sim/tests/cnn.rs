//! RTL against the reference decoder on every layer of real CNN weights, encoded by the software
//! encoder in both residual modes at several error bounds, with one and four lanes and random
//! memory latency, input gaps and back-pressure.
//!
//! The weights are those of `models/lenet5.onnx` (trained by this project); any further ONNX
//! files found in `$LC_MODEL_CACHE` (see `models/fetch.sh`) are included too. CNN-shaped synthetic
//! layers are used in addition, so the test never depends on a download.

mod common;

use common::{lane_bytes, model_layers, Tally};
use lc_format::{Profile, DEFAULT_PROFILE};
use lc_sim::check::{check_case, Case};
use lc_sim::driver::{Pressure, RunOptions};
use lc_sim::stimulus::{cnn_like_layer, split_lanes};
use lc_sw::codec::{choose_params_for, encode_lane, Mode, Strategy};
use rand::{rngs::StdRng, SeedableRng};
use std::path::PathBuf;

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
        out.extend(model_layers(file, BITS));
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

#[test]
fn every_layer_both_modes_one_and_four_lanes() {
    let layers = layers();
    assert!(
        layers.len() >= 5,
        "expected the LeNet-5 layers plus synthetic ones"
    );
    let mut rng = StdRng::seed_from_u64(11);
    let full = Profile::shared("full").unwrap();
    let compact = Profile::shared(DEFAULT_PROFILE).unwrap();
    for (profile, mode) in [
        (full, Mode::Lines),
        (full, Mode::Rice),
        (compact, Mode::Rice),
    ] {
        for lanes in [1usize, 4] {
            let mut tally = Tally::default();
            for (name, channels) in &layers {
                let lane_q = split_lanes(channels, lanes.min(channels.len()));
                if lane_q.len() != lanes {
                    continue;
                }
                // eps 12 is a dead zone (step 16): residuals other than the nearest.
                for (eps, strategy) in [
                    (0u16, Strategy::Greedy),
                    (2, Strategy::Optimal),
                    (8, Strategy::Greedy),
                    (12, Strategy::Optimal),
                ] {
                    let refs: Vec<&[i32]> = lane_q.iter().map(|l| l.as_slice()).collect();
                    let params = choose_params_for(profile, &refs, BITS, mode, eps).unwrap();
                    let streams = lane_q
                        .iter()
                        .map(|q| encode_lane(q, &params, strategy).map(lane_bytes))
                        .collect::<Result<Vec<_>, _>>()
                        .unwrap_or_else(|e| panic!("{name}: encoder: {e}"));
                    let case = Case {
                        name: format!("cnn_{}_{mode}_x{lanes}_eps{eps}", profile.name),
                        profile,
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
            tally.print(&format!(
                "cnn {} {mode} x{lanes} ({} layers)",
                profile.name,
                layers.len()
            ));
        }
    }
}
