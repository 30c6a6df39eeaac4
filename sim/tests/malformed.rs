//! Malformed streams: random bit flips, truncation and trailing bits. Whatever the damage, the
//! hardware agrees with the reference decoder: weights identical where it accepts, error flag where
//! it rejects, never more than `count` weights, never a hang, and (at full speed) the flag rises
//! within a fixed number of cycles of the work done.

mod common;

use common::Tally;
use lc_format::{Profile, DEFAULT_PROFILE};
use lc_sim::check::{check_case, Case, ErrorBound, LaneBytes};
use lc_sim::driver::run_layer;
use lc_sim::driver::{Pressure, RunOptions};
use lc_sim::model::Model;
use lc_sim::stimulus::{
    damage, random_lane, random_params, random_params_in, Damage, SegmentShape,
};
use lc_sw::codec::Mode;
use rand::{rngs::StdRng, Rng, SeedableRng};

/// Vectors per (mode, lane count).
const VECTORS: u64 = 600;
/// Cycles the error flag may lag behind the words taken plus weights emitted.
const SLACK: u64 = 8;

fn damaged(rng: &mut StdRng, lane: &LaneBytes) -> LaneBytes {
    let len = lane.length_bits.max(1);
    match rng.gen_range(0..4) {
        0 => damage(lane, Damage::FlipBit(rng.gen_range(0..len))),
        1 => {
            let a = damage(lane, Damage::FlipBit(rng.gen_range(0..len)));
            damage(&a, Damage::FlipBit(rng.gen_range(0..len)))
        }
        2 => damage(lane, Damage::Truncate(rng.gen_range(0..len))),
        _ => damage(lane, Damage::Extend(rng.gen_range(1..100))),
    }
}

fn run(profile: &str, mode: Mode, lanes: usize) {
    let profile = Profile::shared(profile).unwrap();
    let mut tally = Tally::default();
    let mut rng = StdRng::seed_from_u64(0x5eed + lanes as u64);
    for v in 0..VECTORS {
        let params = random_params_in(&mut rng, profile, mode);
        let shape = SegmentShape {
            max_len: rng.gen_range(1..40),
            escape_rate: 0.1,
        };
        let streams = (0..lanes)
            .map(|_| {
                let count = rng.gen_range(1..200);
                let clean = random_lane(&mut rng, &params, count, shape);
                // Damage most lanes; leave some intact so lanes also differ from each other.
                if rng.gen_bool(0.8) {
                    damaged(&mut rng, &clean)
                } else {
                    clean
                }
            })
            .collect();
        let case = Case {
            profile,
            name: format!("malformed_{}_{mode}_x{lanes}", profile.name),
            params,
            lanes: streams,
        };
        let full_speed = v % 2 == 0;
        let (pressure, bound) = if full_speed {
            (Pressure::FULL_SPEED, Some(ErrorBound { slack: SLACK }))
        } else {
            (Pressure::random(&mut rng), None)
        };
        let opts = RunOptions {
            pressure,
            seed: v,
            record: false,
            max_cycles: None,
        };
        let report =
            check_case(&case, &opts, bound).unwrap_or_else(|e| panic!("vector {v}: {e:#}"));
        tally.add(&report);
    }
    assert!(
        tally.lanes_rejected > VECTORS / 2,
        "most damaged streams must be rejected"
    );
    tally.print(&format!("malformed {} {mode} x{lanes}", profile.name));
}

#[test]
fn lines_one_lane() {
    run("full", Mode::Lines, 1);
}

#[test]
fn rice_one_lane() {
    run("full", Mode::Rice, 1);
}

#[test]
fn lines_four_lanes() {
    run("full", Mode::Lines, 4);
}

#[test]
fn rice_four_lanes() {
    run("full", Mode::Rice, 4);
}

/// Parameters outside the format's ranges are rejected by the reference and flagged by the RTL.
#[test]
fn bad_parameters() {
    let mut rng = StdRng::seed_from_u64(3);
    for (i, mode) in [Mode::Lines, Mode::Rice].into_iter().enumerate() {
        let good = random_params(&mut rng, mode);
        let lane = random_lane(&mut rng, &good, 20, SegmentShape::default());
        let mut variants = vec![];
        variants.push(lc_sw::codec::LayerParams { bits: 3, ..good });
        variants.push(lc_sw::codec::LayerParams { bits: 17, ..good });
        variants.push(lc_sw::codec::LayerParams {
            frac_bits: 0,
            ..good
        });
        variants.push(lc_sw::codec::LayerParams {
            frac_bits: 17,
            ..good
        });
        variants.push(lc_sw::codec::LayerParams {
            len_bits: 13,
            ..good
        });
        variants.push(lc_sw::codec::LayerParams {
            slope_bits: 17,
            ..good
        });
        variants.push(lc_sw::codec::LayerParams {
            shift: if mode == Mode::Lines { 1 } else { good.bits },
            ..good
        });
        for (j, params) in variants.into_iter().enumerate() {
            let case = Case {
                profile: lc_format::Profile::shared("full").unwrap(),
                name: format!("bad_params_{i}_{j}"),
                params,
                lanes: vec![lane.clone()],
            };
            let opts = RunOptions {
                pressure: Pressure::FULL_SPEED,
                seed: 1,
                record: false,
                max_cycles: None,
            };
            let report = check_case(&case, &opts, Some(ErrorBound { slack: SLACK })).unwrap();
            assert_eq!(report.rejected_lanes, 1, "{params:?}");
        }
    }
}

#[test]
fn compact_one_lane() {
    run(DEFAULT_PROFILE, Mode::Rice, 1);
}

#[test]
fn compact_four_lanes() {
    run(DEFAULT_PROFILE, Mode::Rice, 4);
}

/// The compact lane with slopes (not shipped, kept for the co-design table).
#[test]
fn sloped_compact_four_lanes() {
    run("compact", Mode::Rice, 4);
}

/// Valid v1 parameters that the shipped profile does not decode: the configuration block raises
/// the error flag on every lane before any weight, as `inspect --profile` refuses them.
#[test]
fn outside_the_profile() {
    let compact = Profile::shared(DEFAULT_PROFILE).unwrap();
    let full = Profile::shared("full").unwrap();
    let mut rng = StdRng::seed_from_u64(4);
    let good = random_params_in(&mut rng, compact, Mode::Rice);
    let lanes: Vec<LaneBytes> = (0..4)
        .map(|_| random_lane(&mut rng, &good, 50, SegmentShape::default()))
        .collect();
    let variants = [
        lc_sw::codec::LayerParams { bits: 7, ..good },
        lc_sw::codec::LayerParams {
            mode: Mode::Lines,
            shift: 0,
            ..good
        },
        lc_sw::codec::LayerParams {
            frac_bits: good.frac_bits + 1,
            ..good
        },
        lc_sw::codec::LayerParams {
            len_bits: good.len_bits - 1,
            ..good
        },
        lc_sw::codec::LayerParams {
            slope_bits: good.slope_bits ^ 4,
            ..good
        },
    ];
    for params in variants {
        assert!(full.check(&params).is_ok() && compact.check(&params).is_err());
        let case = Case {
            profile: compact,
            name: "outside_profile".into(),
            params,
            lanes: lanes.clone(),
        };
        let mut model = Model::decompressor_for(compact, 4).unwrap();
        let inputs = case.inputs(model.manifest().word_bits as u64).unwrap();
        let opts = RunOptions {
            pressure: Pressure::FULL_SPEED,
            seed: 1,
            record: false,
            max_cycles: Some(100),
        };
        let out = run_layer(&mut model, &params, &inputs, &opts).unwrap();
        for lane in &out.lanes {
            assert!(
                lane.error && lane.weights.is_empty(),
                "{params:?}: {lane:?}"
            );
            assert!(lane.error_cycle.unwrap() <= SLACK, "{params:?}");
        }
    }
}
