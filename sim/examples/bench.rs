//! Verilator simulation speed of the N-lane decompressor:
//! `cargo run --release -p lc-sim --example bench -- [lanes] [weights per lane]`.
//!
//! Reports (a) cycles per second of the full regression driver (memory model, handshakes, weight
//! collection, all through the C shim) on long CNN-like streams at full speed, checked against the
//! reference decoder, and (b) cycles per second of the bare model (clock only).

use lc_sim::check::{compare, Case, LaneBytes};
use lc_sim::driver::{run_layer, LaneInput, Pressure, RunOptions};
use lc_sim::model::Model;
use lc_sim::stimulus::{cnn_like_layer, split_lanes};
use lc_sw::codec::{choose_params, encode_lane, Mode, Strategy};
use rand::{rngs::StdRng, SeedableRng};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let lanes: usize = args.next().as_deref().unwrap_or("4").parse()?;
    let per_lane: usize = args.next().as_deref().unwrap_or("250000").parse()?;
    let mut rng = StdRng::seed_from_u64(1);
    let channels = cnn_like_layer(&mut rng, 16 * lanes, per_lane / 16, 8);
    let lane_q = split_lanes(&channels, lanes);
    let refs: Vec<&[i32]> = lane_q.iter().map(|l| l.as_slice()).collect();
    for mode in [Mode::Lines, Mode::Rice] {
        let params = choose_params(&refs, 8, mode, 2);
        let mut streams = Vec::new();
        for q in &lane_q {
            let s = encode_lane(q, &params, Strategy::Greedy)?;
            streams.push(LaneBytes {
                bytes: s.bytes,
                length_bits: s.length_bits,
                count: s.count,
            });
        }
        let inputs = streams
            .iter()
            .map(|l| LaneInput::from_bytes(&l.bytes, l.length_bits, l.count, 64))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let case = Case {
            profile: lc_format::Profile::shared("full").unwrap(),
            name: "bench".into(),
            params,
            lanes: streams,
        };
        let mut model = Model::decompressor(lanes)?;
        let opts = RunOptions {
            pressure: Pressure::FULL_SPEED,
            seed: 1,
            record: false,
            max_cycles: None,
        };
        let t = Instant::now();
        let out = run_layer(&mut model, &case.params, &inputs, &opts)?;
        let secs = t.elapsed().as_secs_f64();
        let report = compare(&case, &out, None)?;
        println!(
            "{mode}: x{lanes}, {} weights checked in {} cycles: driver loop {:.2} Mcycles/s ({:.1} Mweights/s)",
            report.weights,
            out.cycles,
            out.cycles as f64 / secs / 1e6,
            report.weights as f64 / secs / 1e6
        );
    }
    let mut model = Model::decompressor(lanes)?;
    let n = 2_000_000u64;
    let t = Instant::now();
    for _ in 0..n {
        model.tick();
    }
    println!(
        "bare model: x{lanes}, {:.2} Mcycles/s",
        n as f64 / t.elapsed().as_secs_f64() / 1e6
    );
    Ok(())
}
