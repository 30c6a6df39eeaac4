//! The shipped CNNs on the accelerator RTL: LeNet-5 and the VGG-style model (about 1.2 million
//! cycles per inference) on 20 Fashion-MNIST test images each, the small ResNet and MobileNet on
//! fewer, every Conv/Dense layer bit for bit against the golden model, with raw INT8 and with
//! LineCompress weights.

use lc_sim::accel::device::Memory;
use lc_sim::accel::dram::DramConfig;
use lc_sim::accel::energy::EnergyModel;
use lc_sim::accel::plan::WeightStore;
use lc_sim::accel::verify::{verify_store, StoreSummary, VerifyOptions, Workload};
use lc_sw::codec::Mode;
use lc_sw::data::fashion::DEFAULT_DIR;
use lc_sw::eval::prepared::prepare_fashion;
use std::path::Path;

/// Four MAC lanes, the default weight memory, two worker threads; VCDs of failures under `tag`.
fn options(tag: &str) -> VerifyOptions {
    VerifyOptions {
        lanes: 4,
        decoders: None,
        memory: Memory::Dram,
        dram: DramConfig::default(),
        energy: EnergyModel::shipped().unwrap(),
        vcd_dir: std::env::temp_dir().join(format!("lc_accel_{tag}_vcd")),
        threads: 2,
        host_fallback: false,
    }
}

#[test]
fn lenet5_is_bit_exact_on_20_test_images() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/lenet5.onnx");
    let m = prepare_fashion(&model, Path::new(DEFAULT_DIR), 20, 200).expect("model and data load");
    assert_eq!(m.inputs.len(), 20);
    let opts = options("lenet5");
    let raw = verify_store(Workload::of(&m), WeightStore::Int8, &opts).unwrap();
    let lc = verify_store(
        Workload::of(&m),
        WeightStore::Compressed {
            mode: Mode::Rice,
            eps: 2,
        },
        &opts,
    )
    .unwrap();
    for s in [&raw, &lc] {
        assert_eq!(s.images, 20);
        assert_eq!(s.mismatches, 0, "{}: {:?}", s.store, s.first_mismatch);
        assert!(s.cycles_per_image > 0.0 && s.energy_pj() > 0.0);
        let rtl_layers = s.layers.iter().filter(|l| l.run.is_some()).count();
        assert_eq!(
            rtl_layers, 5,
            "two Conv and three Dense layers run on the RTL"
        );
    }
    // Fewer stored bits mean fewer DRAM bytes, and never more cycles on the same datapath.
    assert!(lc.weight_bits < raw.weight_bits);
    assert!(lc.dram_bytes_per_image < raw.dram_bytes_per_image);
    assert!(lc.cycles_per_image <= raw.cycles_per_image);
    assert!(lc.energy_pj() < raw.energy_pj());
}

/// Verify a shipped model on its first `images` test images with raw INT8 and LineCompress rice
/// eps 2 weights; returns the two runs after checking there is no mismatch.
fn shipped_is_bit_exact(file: &str, images: usize, calib: usize) -> Vec<StoreSummary> {
    let model = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(file);
    let m = prepare_fashion(&model, Path::new(DEFAULT_DIR), images, calib)
        .expect("model and data load");
    let opts = options(file);
    [
        WeightStore::Int8,
        WeightStore::Compressed {
            mode: Mode::Rice,
            eps: 2,
        },
    ]
    .into_iter()
    .map(|store| {
        let s = verify_store(Workload::of(&m), store, &opts).unwrap();
        assert_eq!(s.images, images);
        assert_eq!(s.mismatches, 0, "{}: {:?}", s.store, s.first_mismatch);
        s
    })
    .collect()
}

#[test]
fn vgg_small_is_bit_exact_on_20_test_images() {
    shipped_is_bit_exact("vgg_small.onnx", 20, 100);
}

/// Residual Add and the pools on the host between RTL convolutions (1x1 stride-2 projections
/// included).
#[test]
fn resnet_small_is_bit_exact_on_5_test_images() {
    for s in shipped_is_bit_exact("resnet_small.onnx", 5, 100) {
        let kinds: Vec<&str> = s.layers.iter().map(|l| l.kind.as_str()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "Add").count(), 6);
        assert_eq!(s.layers.iter().filter(|l| l.run.is_some()).count(), 16);
    }
}

/// Depthwise convolutions as per-channel jobs, pointwise ones as ordinary 1x1 jobs.
#[test]
fn mobilenet_small_is_bit_exact_on_5_test_images() {
    for s in shipped_is_bit_exact("mobilenet_small.onnx", 5, 100) {
        assert_eq!(s.layers.iter().filter(|l| l.run.is_some()).count(), 12);
    }
}
