//! The shipped CNNs on the accelerator RTL: LeNet-5 and the VGG-style model (about 1.2 million
//! cycles per inference) on 20 Fashion-MNIST test images each, every Conv/Dense layer bit for bit
//! against the golden model, with raw INT8 and with LineCompress weights.

use lc_sim::accel::dataset::prepare_fashion;
use lc_sim::accel::device::Memory;
use lc_sim::accel::dram::DramConfig;
use lc_sim::accel::energy::EnergyModel;
use lc_sim::accel::plan::WeightStore;
use lc_sim::accel::verify::{verify_store, VerifyOptions};
use lc_sw::codec::Mode;
use lc_sw::data::fashion::DEFAULT_DIR;
use std::path::Path;

#[test]
fn lenet5_is_bit_exact_on_20_test_images() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/lenet5.onnx");
    let m = prepare_fashion(&model, Path::new(DEFAULT_DIR), 20, 200).expect("model and data load");
    assert_eq!(m.inputs.len(), 20);
    let opts = VerifyOptions {
        lanes: 4,
        decoders: None,
        memory: Memory::Dram,
        dram: DramConfig::default(),
        energy: EnergyModel::shipped().unwrap(),
        vcd_dir: std::env::temp_dir().join("lc_accel_lenet_vcd"),
        threads: 2,
        host_fallback: false,
    };
    let raw = verify_store(m.workload(), WeightStore::Int8, &opts).unwrap();
    let lc = verify_store(
        m.workload(),
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

#[test]
fn vgg_small_is_bit_exact_on_20_test_images() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/vgg_small.onnx");
    let m = prepare_fashion(&model, Path::new(DEFAULT_DIR), 20, 100).expect("model and data load");
    let opts = VerifyOptions {
        lanes: 4,
        decoders: None,
        memory: Memory::Dram,
        dram: DramConfig::default(),
        energy: EnergyModel::shipped().unwrap(),
        vcd_dir: std::env::temp_dir().join("lc_accel_vgg_vcd"),
        threads: 2,
        host_fallback: false,
    };
    for store in [
        WeightStore::Int8,
        WeightStore::Compressed {
            mode: Mode::Rice,
            eps: 2,
        },
    ] {
        let s = verify_store(m.workload(), store, &opts).unwrap();
        assert_eq!(s.images, 20);
        assert_eq!(s.mismatches, 0, "{}: {:?}", s.store, s.first_mismatch);
    }
}
