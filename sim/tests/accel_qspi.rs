//! LeNet-5 at the QSPI design point: the flash top (RTL flash reader in front of the one
//! decompressor lane) driven by the behavioural QSPI flash holding the plan's flash image, every
//! Conv/Dense layer bit for bit against the golden model, for the INT8 and FP32 baselines and
//! LineCompress weights, one flash read command per layer part. Also the per-layer container
//! path (`verify --weights`): a container with its own error bound per layer runs with its
//! streams, and containers that do not match the model are refused.

use lc_sim::accel::device::Memory;
use lc_sim::accel::dram::DramConfig;
use lc_sim::accel::energy::EnergyModel;
use lc_sim::accel::plan::{accel_profile, weighted_layers, NetworkPlan, WeightStore};
use lc_sim::accel::verify::{verify_plan, StoreSummary, VerifyOptions, Workload};
use lc_sw::codec::{Mode, Strategy};
use lc_sw::container::{compress_layer, CompressOptions, Container};
use lc_sw::data::fashion::DEFAULT_DIR;
use lc_sw::eval::prepared::{prepare_fashion, PreparedModel};
use lc_sw::model::golden::{QModel, QOp};
use lc_sw::quant::Quantized;
use std::path::Path;

fn lenet(images: usize) -> PreparedModel {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/lenet5.onnx");
    prepare_fashion(&model, Path::new(DEFAULT_DIR), images, 200).expect("model and data load")
}

/// The flash design point with P MAC lanes (4, or the UP5K build's).
fn options_with(lanes: usize) -> VerifyOptions {
    VerifyOptions {
        lanes,
        decoders: None,
        memory: Memory::Qspi,
        dram: DramConfig::default(),
        energy: EnergyModel::shipped().unwrap(),
        vcd_dir: std::env::temp_dir().join("lc_accel_qspi_vcd"),
        threads: 2,
        host_fallback: false,
    }
}

fn qspi_options() -> VerifyOptions {
    options_with(4)
}

/// Run `plan` and check it is bit-exact with one flash command per container layer (part).
fn run(m: &PreparedModel, plan: &NetworkPlan, opts: &VerifyOptions) -> StoreSummary {
    let s = verify_plan(Workload::of(m), plan, opts).unwrap();
    assert_eq!(s.mismatches, 0, "{}: {:?}", s.store, s.first_mismatch);
    assert_eq!(
        s.flash_commands,
        plan.container.layers.len() as u64,
        "{}: one read command per layer part",
        s.store
    );
    assert!(s.flash_bytes_per_image > 0.0 && s.dram_bytes_per_image == 0.0);
    s
}

/// P = 4 and the UP5K build (P = 6, activations in SPRAM), each behind the flash reader.
#[test]
fn lenet5_from_the_flash_is_bit_exact_for_every_store() {
    let m = lenet(4);
    for p in [4, lc_hw::accel::UP5K.mac_lanes] {
        lenet5_from_the_flash(&m, &options_with(p));
    }
}

fn lenet5_from_the_flash(m: &PreparedModel, opts: &VerifyOptions) {
    let mut runs = Vec::new();
    for store in [
        WeightStore::Fp32,
        WeightStore::Int8,
        WeightStore::Compressed {
            mode: Mode::Rice,
            eps: 2,
        },
    ] {
        let lanes = opts.accel_lanes(store).unwrap();
        assert_eq!(lanes.dec(), 1, "the flash feeds one decompressor lane");
        assert_eq!(lanes.mac(), opts.lanes);
        let plan = NetworkPlan::split(&m.qmodel, lanes, store).unwrap();
        runs.push(run(m, &plan, opts));
    }
    let [fp32, int8, lc] = [&runs[0], &runs[1], &runs[2]];
    // FP32 storage reads every INT8 stream byte as a 32-bit flash word.
    assert_eq!(fp32.flash_bytes_per_image, 4.0 * int8.flash_bytes_per_image);
    assert!(lc.flash_bytes_per_image < int8.flash_bytes_per_image);
    // The flash is the bottleneck: fewer bits, fewer cycles and less energy.
    assert!(lc.cycles_per_image < int8.cycles_per_image);
    assert!(int8.cycles_per_image < fp32.cycles_per_image);
    assert!(lc.energy_pj() < int8.energy_pj() && int8.energy_pj() < fp32.energy_pj());
    assert_eq!(lc.correct, int8.correct.min(lc.correct));
}

/// A container of `q`'s weights with error bound `eps[i]` on layer `i`, on `lanes` lanes.
fn per_layer_container(q: &QModel, eps: &[u16], lanes: usize) -> Container {
    let layers = weighted_layers(q)
        .into_iter()
        .zip(eps)
        .map(|(l, &eps)| {
            let q = Quantized {
                bits: l.bits,
                dims: l.dims.clone(),
                values: l.weights.clone(),
                scales: l.weight_scales.clone(),
            };
            let opts = CompressOptions {
                profile: accel_profile().clone(),
                mode: Mode::Rice,
                eps,
                lanes,
                strategy: Strategy::Optimal,
            };
            compress_layer(&format!("w{eps}"), &q, &opts).unwrap()
        })
        .collect();
    Container {
        word_bits: 32,
        layers,
    }
}

#[test]
fn a_per_layer_container_runs_with_its_own_streams() {
    let m = lenet(2);
    let opts = qspi_options();
    let eps = [1, 3, 2, 4, 0];
    let container = per_layer_container(&m.qmodel, &eps, 1);
    let lanes = opts.accel_lanes(WeightStore::PerLayer).unwrap();
    let plan = NetworkPlan::from_container(&m.qmodel, lanes, &container).unwrap();
    for (wi, parts) in plan.parts.iter().enumerate() {
        if let [part] = parts.as_slice() {
            assert_eq!(
                plan.container.layers[part.layer].lanes, container.layers[wi].lanes,
                "layer {wi} keeps the container's streams"
            );
        }
        for p in parts {
            assert_eq!(plan.container.layers[p.layer].params.eps, eps[wi]);
        }
    }
    run(&m, &plan, &opts);
    // Four lanes for a one-lane datapath: encoded again with each layer's setting.
    let four = per_layer_container(&m.qmodel, &eps, 4);
    let plan = NetworkPlan::from_container(&m.qmodel, lanes, &four).unwrap();
    assert!(plan.container.layers.iter().all(|l| l.lanes.len() == 1));
    run(&m, &plan, &opts);
}

#[test]
fn containers_that_do_not_match_the_model_are_refused() {
    let m = lenet(1);
    let lanes = qspi_options().accel_lanes(WeightStore::PerLayer).unwrap();
    let good = per_layer_container(&m.qmodel, &[2; 5], 1);
    let mut short = good.clone();
    short.layers.pop();
    let err = NetworkPlan::from_container(&m.qmodel, lanes, &short).unwrap_err();
    assert!(err.to_string().contains("layers"), "{err}");
    let mut swapped = good.clone();
    swapped.layers.swap(0, 1);
    let err = NetworkPlan::from_container(&m.qmodel, lanes, &swapped).unwrap_err();
    assert!(err.to_string().contains("has weights"), "{err}");
    // Weights of another model: the same shapes, values far from this model's.
    let mut other = m.qmodel.clone();
    for l in other.layers.iter_mut() {
        if let QOp::Conv { layer, .. } | QOp::Dense(layer) = &mut l.op {
            layer.weights.iter_mut().for_each(|w| *w = -*w / 2 + 7);
        }
    }
    let foreign = per_layer_container(&other, &[2; 5], 1);
    let err = NetworkPlan::from_container(&m.qmodel, lanes, &foreign).unwrap_err();
    assert!(
        err.to_string().contains("not made from this model"),
        "{err}"
    );
    // The integer model built from a container checks its weights against the float ones.
    for c in [&short, &swapped, &foreign] {
        assert!(m.with_container(c).is_err());
    }
    let rebuilt = m.with_container(&good).unwrap();
    let plan = NetworkPlan::from_container(&rebuilt, lanes, &good).unwrap();
    assert_eq!(plan.container.layers.len(), good.layers.len());
}
