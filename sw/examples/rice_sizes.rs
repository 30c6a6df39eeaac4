//! Total rice stream bits of the shipped LeNet-5 and VGG-small, parameter choice included, at
//! several error bounds, both planners and 1 or 8 lanes per layer: one line per setting with the
//! parameters (F/MB/LB) chosen for each layer. Run at two commits to compare parameter choices:
//! `cargo run --release -p lc-sw --example rice_sizes [PROFILE]` (a hardware profile, default
//! `full`).

use std::error::Error;
use std::path::Path;

use lc_format::Profile;
use lc_sw::codec::{choose_params_for, encode_lane, Mode, Strategy};
use lc_sw::container::split_lanes;
use lc_sw::model::onnx::load_weights;
use lc_sw::quant::quantize_per_channel;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The INT8 layers of a shipped model (per-channel quantization) and their channel counts.
fn layers(model: &str) -> Result<Vec<(Vec<i32>, usize)>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(format!("{model}.onnx"));
    load_weights(&path)?
        .into_iter()
        .filter(|t| t.dims.len() > 1)
        .map(|t| Ok((quantize_per_channel(&t.data, &t.dims, 8)?.values, t.dims[0])))
        .collect()
}

fn main() -> Result<()> {
    let profile = Profile::shared(&std::env::args().nth(1).unwrap_or("full".into()))?;
    for model in ["lenet5", "vgg_small"] {
        let layers = layers(model)?;
        for lanes in [1usize, 8] {
            for strategy in [Strategy::Greedy, Strategy::Optimal] {
                for eps in [0u16, 1, 2, 4, 8, 16, 32] {
                    let mut total = 0;
                    let mut chosen = Vec::new();
                    for (q, channels) in &layers {
                        let split = split_lanes(q, *channels, lanes.min(*channels));
                        let views: Vec<&[i32]> = split.iter().map(Vec::as_slice).collect();
                        let p = choose_params_for(profile, &views, 8, Mode::Rice, eps)?;
                        chosen.push(format!("{}/{}/{}", p.frac_bits, p.slope_bits, p.len_bits));
                        for v in &views {
                            total += encode_lane(v, &p, strategy)?.length_bits;
                        }
                    }
                    println!(
                        "{model} lanes{lanes} {strategy:?} eps{eps} {total} {}",
                        chosen.join(" ")
                    );
                }
            }
        }
    }
    Ok(())
}
