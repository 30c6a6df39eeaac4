//! Weights per cycle per lane on long streams without stalls (memory at one word per cycle, no gaps,
//! consumer always ready). A lane must sustain one weight per clock across segment boundaries and
//! Rice codes of any length whenever the stream needs no more than a memory word per weight.

mod common;

use common::{lane_bytes, model_layers};
use lc_format::{Profile, DEFAULT_PROFILE};
use lc_sim::check::{compare, Case, LaneBytes};
use lc_sim::driver::{run_layer, LaneInput, Pressure, RunOptions};
use lc_sim::model::Model;
use lc_sim::stimulus::{cnn_like_layer, random_lane, split_lanes, SegmentShape};
use lc_sw::codec::{choose_params, choose_params_for, encode_lane, LayerParams, Mode, Strategy};
use rand::{rngs::StdRng, SeedableRng};

const LANES: usize = 4;
const TARGET: f64 = 0.98;

/// Runs the case at full speed on `profile`'s design, checks it, returns the lowest weights per
/// cycle over the lanes: from start to the end with `from_start`, else from the first weight out to
/// the last (the sustained rate, without the pipeline's start-up latency).
fn measure(
    profile: &'static Profile,
    name: &str,
    params: LayerParams,
    lanes: Vec<LaneBytes>,
    from_start: bool,
) -> f64 {
    let case = Case {
        name: name.to_string(),
        profile,
        params,
        lanes,
    };
    let mut model = Model::decompressor_for(profile, case.lanes.len()).unwrap();
    let inputs: Vec<LaneInput> = case.inputs(model.manifest().word_bits as u64).unwrap();
    let opts = RunOptions {
        pressure: Pressure::FULL_SPEED,
        seed: 1,
        record: false,
        max_cycles: None,
    };
    let out = run_layer(&mut model, &case.params, &inputs, &opts).unwrap();
    compare(&case, &out, None).unwrap();
    let rate = case
        .lanes
        .iter()
        .zip(&out.lanes)
        .filter(|(l, _)| l.count > 0)
        .map(|(l, o)| {
            let cycles = match from_start {
                true => o.finish_cycle.unwrap() + 1,
                false => o.last_weight_cycle.unwrap() - o.first_weight_cycle.unwrap() + 1,
            };
            l.count as f64 / cycles as f64
        })
        .fold(f64::INFINITY, f64::min);
    let bits: u64 = case.lanes.iter().map(|l| l.length_bits).sum();
    let weights: u64 = case.lanes.iter().map(|l| l.count).sum();
    eprintln!(
        "[throughput] {} {name}: {weights} weights, {:.2} bits/weight, {:.4} weights/cycle/lane (worst lane)",
        profile.name,
        bits as f64 / weights as f64,
        rate
    );
    rate
}

#[test]
fn one_weight_per_cycle_per_lane() {
    let full = Profile::shared("full").unwrap();
    let mut rng = StdRng::seed_from_u64(5);
    // Encoder output on CNN-like layers, both modes.
    let channels = cnn_like_layer(&mut rng, 64, 1152, 8);
    let lane_q = split_lanes(&channels, LANES);
    let refs: Vec<&[i32]> = lane_q.iter().map(|l| l.as_slice()).collect();
    for (mode, eps) in [(Mode::Lines, 2), (Mode::Rice, 0), (Mode::Rice, 4)] {
        let params = choose_params(&refs, 8, mode, eps);
        let lanes = lane_q
            .iter()
            .map(|q| lane_bytes(encode_lane(q, &params, Strategy::Greedy).unwrap()))
            .collect();
        let rate = measure(
            full,
            &format!("cnn-like {mode} eps {eps}"),
            params,
            lanes,
            true,
        );
        assert!(rate >= TARGET, "{rate}");
    }
    // Worst cases for the control: every segment one weight long (a header each clock), and rice
    // segments with long codes and escapes, still under 64 bits per weight.
    let one = LayerParams {
        bits: 8,
        mode: Mode::Lines,
        eps: 0,
        frac_bits: 8,
        len_bits: 4,
        slope_bits: 8,
        shift: 0,
    };
    let shape = SegmentShape {
        max_len: 1,
        escape_rate: 0.0,
    };
    let lanes = (0..LANES)
        .map(|_| random_lane(&mut rng, &one, 20_000, shape))
        .collect();
    assert!(measure(full, "lines, 1-weight segments", one, lanes, true) >= TARGET);
    let rice = LayerParams {
        bits: 12,
        mode: Mode::Rice,
        eps: 0,
        frac_bits: 8,
        len_bits: 3,
        slope_bits: 6,
        shift: 2,
    };
    let shape = SegmentShape {
        max_len: 8,
        escape_rate: 0.5,
    };
    let lanes = (0..LANES)
        .map(|_| random_lane(&mut rng, &rice, 20_000, shape))
        .collect();
    assert!(measure(full, "rice, short segments, 50% escapes", rice, lanes, true) >= TARGET);
}

/// Every layer of the shipped models (and of the MTCNN O-Net when `LC_MODEL_CACHE` holds it),
/// encoded for the shipped profile at the error bounds the per-layer budgets pick, on the compact
/// decompressor: the sustained rate of the slowest lane.
#[test]
fn shipped_profile_on_real_layers() {
    let profile = Profile::shared(DEFAULT_PROFILE).unwrap();
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models");
    let mut files = vec![root.join("lenet5.onnx"), root.join("vgg_small.onnx")];
    if let Some(dir) = std::env::var_os("LC_MODEL_CACHE") {
        files.push(std::path::PathBuf::from(dir).join("mtcnn_onet.onnx"));
    }
    let mut worst = f64::INFINITY;
    for file in files.iter().filter(|f| f.exists()) {
        for (name, channels) in model_layers(file, 8) {
            if channels.len() < LANES {
                continue; // too few output channels for four lanes (a 2-way head)
            }
            let lane_q = split_lanes(&channels, LANES);
            let refs: Vec<&[i32]> = lane_q.iter().map(|l| l.as_slice()).collect();
            for eps in [1u16, 4, 16] {
                let params = choose_params_for(profile, &refs, 8, Mode::Rice, eps).unwrap();
                let lanes = lane_q
                    .iter()
                    .map(|q| lane_bytes(encode_lane(q, &params, Strategy::Optimal).unwrap()))
                    .collect();
                let rate = measure(profile, &format!("{name} eps {eps}"), params, lanes, false);
                worst = worst.min(rate);
            }
        }
    }
    eprintln!(
        "[throughput] {}, worst layer: {worst:.4} weights/cycle/lane",
        profile.name
    );
    assert!(worst >= TARGET, "{worst}");
}
