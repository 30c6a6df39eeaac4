//! Weights per cycle per lane on long streams without stalls (memory at one word per cycle, no gaps,
//! consumer always ready). A lane must sustain one weight per clock across segment boundaries and
//! Rice codes of any length whenever the stream needs no more than a memory word per weight.

mod common;

use common::lane_bytes;
use lc_sim::check::{compare, Case, LaneBytes};
use lc_sim::driver::{run_layer, LaneInput, Pressure, RunOptions};
use lc_sim::model::Model;
use lc_sim::stimulus::{cnn_like_layer, random_lane, split_lanes, SegmentShape};
use lc_sw::codec::{choose_params, encode_lane, LayerParams, Mode, Strategy};
use rand::{rngs::StdRng, SeedableRng};

const LANES: usize = 4;
const TARGET: f64 = 0.98;

/// Runs the case at full speed, checks it, returns the lowest weights/cycle over the lanes.
fn measure(name: &str, params: LayerParams, lanes: Vec<LaneBytes>) -> f64 {
    let case = Case {
        name: name.to_string(),
        params,
        lanes,
    };
    let inputs: Vec<LaneInput> = case
        .lanes
        .iter()
        .map(|l| LaneInput::from_bytes(&l.bytes, l.length_bits, l.count).unwrap())
        .collect();
    let mut model = Model::decompressor(LANES).unwrap();
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
        .map(|(l, o)| l.count as f64 / (o.finish_cycle.unwrap() + 1) as f64)
        .fold(f64::INFINITY, f64::min);
    let bits: u64 = case.lanes.iter().map(|l| l.length_bits).sum();
    let weights: u64 = case.lanes.iter().map(|l| l.count).sum();
    eprintln!(
        "[throughput] {name}: {weights} weights, {:.2} bits/weight, {:.4} weights/cycle/lane (worst lane)",
        bits as f64 / weights as f64,
        rate
    );
    rate
}

#[test]
fn one_weight_per_cycle_per_lane() {
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
        let rate = measure(&format!("cnn-like {mode} eps {eps}"), params, lanes);
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
    assert!(measure("lines, 1-weight segments", one, lanes) >= TARGET);
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
    assert!(measure("rice, short segments, 50% escapes", rice, lanes) >= TARGET);
}
