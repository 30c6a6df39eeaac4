//! Directed tests of the accelerator datapath under Verilator: dense layers and convolution
//! geometry (stride, padding, kernel shapes, short kernels), activations, both weight stores,
//! fewer decompressor lanes than MAC lanes, and a deliberately wrong reference weight that the
//! checker must report.

use lc_hw::accel::AccelLanes;
use lc_sim::accel::device::AccelDevice;
use lc_sim::accel::dram::DramConfig;
use lc_sim::accel::network::{run_image, RunImageOptions};
use lc_sim::accel::plan::{NetworkPlan, WeightStore};
use lc_sw::codec::Mode;
use lc_sw::model::golden::{Act, QLayer, QModel, QOp, QTensor, QWeighted};
use lc_sw::model::graph::{AutoPad, Window};
use lc_sw::model::requant::Requant;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const LANES: usize = 4;

/// A random weighted layer with `o` channels of `k` weights each.
fn weighted(rng: &mut StdRng, dims: Vec<usize>, act: Act, lo: i32, hi: i32) -> QWeighted {
    let o = dims[0];
    let n: usize = dims.iter().product();
    // Smooth-ish weights so that the compressed store has real segments, plus noise.
    let mut w = Vec::with_capacity(n);
    let mut v = 0i32;
    for _ in 0..n {
        v = (v + rng.gen_range(-9..=9)).clamp(-127, 127);
        w.push(if rng.gen_bool(0.2) {
            rng.gen_range(-127..=127)
        } else {
            v
        });
    }
    let k = (n / o) as f64;
    QWeighted {
        weights: w,
        dims,
        bits: 8,
        weight_scales: vec![1.0; o],
        bias: (0..o).map(|_| rng.gen_range(-3000..=3000)).collect(),
        requant: (0..o)
            .map(|_| Requant::from_real(rng.gen_range(0.3..3.0) / (k.sqrt() * 64.0)).unwrap())
            .collect(),
        act,
        lo,
        hi,
    }
}

fn one_layer(op: QOp, in_shape: Vec<usize>) -> QModel {
    QModel {
        input_scale: 1.0,
        input: 0,
        input_shape: in_shape,
        layers: vec![QLayer {
            name: "layer0".into(),
            op,
            inputs: vec![0],
            output: 1,
            out_scale: 1.0,
        }],
        outputs: vec![1],
        output_scales: vec![1.0],
        num_values: 2,
    }
}

fn random_input(rng: &mut StdRng, shape: &[usize]) -> QTensor {
    let n: usize = shape.iter().product();
    QTensor {
        shape: shape.to_vec(),
        data: (0..n).map(|_| rng.gen_range(-128..=127) as i8).collect(),
    }
}

fn conv_op(
    rng: &mut StdRng,
    in_c: usize,
    out_c: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    pads: [usize; 4],
) -> QOp {
    let window = Window {
        kernel,
        stride,
        dilation: [1, 1],
        pads,
        auto_pad: AutoPad::NotSet,
        ceil_mode: false,
    };
    QOp::Conv {
        layer: weighted(
            rng,
            vec![out_c, in_c, kernel[0], kernel[1]],
            Act::Clamp,
            0,
            127,
        ),
        window,
        groups: 1,
    }
}

/// Run `model` on `input` with both weight stores; returns the datapath cycles of each.
fn check(model: &QModel, input: &QTensor, dram: DramConfig) -> Vec<u64> {
    let mut cycles = Vec::new();
    for store in [
        WeightStore::Int8,
        WeightStore::Compressed {
            mode: Mode::Rice,
            eps: 1,
        },
    ] {
        let plan = NetworkPlan::new(model, LANES, store).unwrap();
        let mut dev = AccelDevice::for_plan(&plan).unwrap();
        let opts = RunImageOptions {
            dram,
            ..Default::default()
        };
        let run = run_image(&mut dev, &plan, input, &opts).unwrap();
        assert!(
            run.mismatch.is_none(),
            "{}: {}",
            store.label(),
            run.mismatch.unwrap()
        );
        cycles.push(run.cycles());
    }
    cycles
}

/// Run `model` on `input` with compressed weights on `d` decompressor lanes feeding the 4 MAC
/// lanes; returns the datapath cycles.
fn check_split(model: &QModel, input: &QTensor, d: usize, dram: DramConfig) -> u64 {
    check_on(model, input, AccelLanes::new(LANES, d).unwrap(), dram)
}

/// Run `model` on `input` with compressed weights on the build with `split`; returns the
/// datapath cycles.
fn check_on(model: &QModel, input: &QTensor, split: AccelLanes, dram: DramConfig) -> u64 {
    let d = split.dec();
    let store = WeightStore::Compressed {
        mode: Mode::Rice,
        eps: 1,
    };
    let plan = NetworkPlan::split(model, split, store).unwrap();
    let mut dev = AccelDevice::for_plan(&plan).unwrap();
    let opts = RunImageOptions {
        dram,
        ..Default::default()
    };
    let run = run_image(&mut dev, &plan, input, &opts).unwrap();
    assert!(run.mismatch.is_none(), "D = {d}: {}", run.mismatch.unwrap());
    run.cycles()
}

#[test]
fn fewer_decompressor_lanes_are_bit_exact() {
    let mut rng = StdRng::seed_from_u64(5);
    // Partial groups (O not a multiple of P or D), a single output, and convolutions, under random
    // latency with a tiny queue.
    let jitter = DramConfig {
        jitter: 40,
        queue_words: 2,
        seed: 9,
        ..Default::default()
    };
    for (inputs, outputs) in [(50, 10), (7, 1), (40, 7)] {
        let op = QOp::Dense(weighted(
            &mut rng,
            vec![outputs, inputs],
            Act::Clamp,
            -128,
            127,
        ));
        let model = one_layer(op, vec![inputs]);
        let x = random_input(&mut rng, &[inputs]);
        for d in [1, 2, 4] {
            check_split(&model, &x, d, jitter);
        }
    }
    let cases: [ConvCase; 3] = [
        (1, 12, 12, 6, [5, 5], [1, 1], [2, 2, 2, 2]),
        (3, 9, 9, 5, [3, 3], [2, 2], [1, 1, 1, 1]),
        (2, 6, 6, 9, [1, 1], [1, 1], [0, 0, 0, 0]),
    ];
    for (in_c, h, w, out_c, kernel, stride, pads) in cases {
        let op = conv_op(&mut rng, in_c, out_c, kernel, stride, pads);
        let model = one_layer(op, vec![in_c, h, w]);
        let x = random_input(&mut rng, &[in_c, h, w]);
        for d in [1, 2] {
            check_split(&model, &x, d, jitter);
        }
    }
    // A dense layer reuses no weight: one decompressor lane for four MAC lanes is the bottleneck.
    let op = QOp::Dense(weighted(&mut rng, vec![16, 200], Act::Clamp, -128, 127));
    let model = one_layer(op, vec![200]);
    let x = random_input(&mut rng, &[200]);
    let fast = DramConfig {
        bytes_per_cycle: 16.0,
        ..Default::default()
    };
    let (one, four) = (
        check_split(&model, &x, 1, fast),
        check_split(&model, &x, 4, fast),
    );
    assert!(one > 3 * four, "D = 1: {one} cycles, D = 4: {four}");
    // A plan split for D = 2 does not run on the D = 4 device.
    let store = WeightStore::Compressed {
        mode: Mode::Rice,
        eps: 1,
    };
    let plan = NetworkPlan::split(&model, AccelLanes::new(LANES, 2).unwrap(), store).unwrap();
    let four_plan = NetworkPlan::new(&model, LANES, store).unwrap();
    let mut dev = AccelDevice::for_plan(&four_plan).unwrap();
    let opts = RunImageOptions::default();
    let err = run_image(&mut dev, &plan, &x, &opts).unwrap_err();
    assert!(err.to_string().contains("D = 2"), "{err}");
}

#[test]
fn the_up5k_build_is_bit_exact() {
    // Six MAC lanes, one decompressor lane, the activations in single-port RAM: every drain write
    // holds the issue for a clock. Short kernels (K < P + 2), partial groups, padding, strides
    // and a dense layer, under random memory latency.
    let mut rng = StdRng::seed_from_u64(11);
    let up5k = lc_hw::accel::UP5K.lanes().unwrap();
    let jitter = DramConfig {
        jitter: 30,
        queue_words: 2,
        seed: 4,
        ..Default::default()
    };
    let cases: [ConvCase; 4] = [
        (1, 12, 12, 6, [5, 5], [1, 1], [2, 2, 2, 2]),
        (3, 9, 9, 13, [3, 3], [2, 2], [1, 1, 1, 1]),
        (2, 6, 6, 9, [1, 1], [1, 1], [0, 0, 0, 0]),
        (4, 7, 7, 5, [1, 1], [2, 1], [1, 0, 0, 1]),
    ];
    for (in_c, h, w, out_c, kernel, stride, pads) in cases {
        let op = conv_op(&mut rng, in_c, out_c, kernel, stride, pads);
        let model = one_layer(op, vec![in_c, h, w]);
        let x = random_input(&mut rng, &[in_c, h, w]);
        check_on(&model, &x, up5k, jitter);
    }
    for (inputs, outputs) in [(50, 10), (3, 7)] {
        let op = QOp::Dense(weighted(
            &mut rng,
            vec![outputs, inputs],
            Act::Clamp,
            -128,
            127,
        ));
        let model = one_layer(op, vec![inputs]);
        let x = random_input(&mut rng, &[inputs]);
        check_on(&model, &x, up5k, jitter);
    }
}

#[test]
fn dense_layers_are_bit_exact() {
    let mut rng = StdRng::seed_from_u64(1);
    // 10 outputs on 4 lanes: a partial last group; 1 output: three idle lanes; 400 inputs.
    for (inputs, outputs) in [(50, 10), (7, 1), (400, 9), (3, 6)] {
        let op = QOp::Dense(weighted(
            &mut rng,
            vec![outputs, inputs],
            Act::Clamp,
            -128,
            127,
        ));
        let model = one_layer(op, vec![inputs]);
        let x = random_input(&mut rng, &[inputs]);
        check(&model, &x, DramConfig::default());
    }
}

/// (in_c, h, w, out_c, kernel, stride, pads top/left/bottom/right).
type ConvCase = (
    usize,
    usize,
    usize,
    usize,
    [usize; 2],
    [usize; 2],
    [usize; 4],
);

#[test]
fn convolution_geometry_is_bit_exact() {
    let mut rng = StdRng::seed_from_u64(2);
    // (in_c, h, w, out_c, kernel, stride, pads top/left/bottom/right)
    let cases: [ConvCase; 7] = [
        (1, 12, 12, 6, [5, 5], [1, 1], [2, 2, 2, 2]),
        (3, 9, 9, 5, [3, 3], [2, 2], [1, 1, 1, 1]),
        (2, 8, 11, 4, [3, 5], [1, 2], [0, 2, 1, 0]),
        (4, 7, 7, 8, [1, 1], [1, 1], [0, 0, 0, 0]),
        (2, 6, 6, 3, [1, 1], [2, 1], [1, 0, 0, 1]),
        (1, 5, 5, 2, [5, 5], [1, 1], [0, 0, 0, 0]),
        (2, 10, 10, 4, [3, 3], [3, 3], [2, 2, 2, 2]),
    ];
    for (in_c, h, w, out_c, kernel, stride, pads) in cases {
        let op = conv_op(&mut rng, in_c, out_c, kernel, stride, pads);
        let model = one_layer(op, vec![in_c, h, w]);
        let x = random_input(&mut rng, &[in_c, h, w]);
        check(&model, &x, DramConfig::default());
    }
}

#[test]
fn activations_and_slow_memory_are_bit_exact() {
    let mut rng = StdRng::seed_from_u64(3);
    // PReLU with negative slopes, and a Clip range.
    let mut layer = weighted(&mut rng, vec![6, 2, 3, 3], Act::Clamp, -128, 127);
    let neg = (0..6)
        .map(|c| Requant::from_real(-(c as f64 + 1.0) * 0.002).unwrap())
        .collect();
    layer.act = Act::PRelu(neg);
    let window = Window {
        kernel: [3, 3],
        stride: [1, 1],
        dilation: [1, 1],
        pads: [1, 1, 1, 1],
        auto_pad: AutoPad::NotSet,
        ceil_mode: false,
    };
    let model = one_layer(
        QOp::Conv {
            layer,
            window,
            groups: 1,
        },
        vec![2, 6, 6],
    );
    let x = random_input(&mut rng, &[2, 6, 6]);
    check(&model, &x, DramConfig::default());

    let op = QOp::Dense(weighted(&mut rng, vec![12, 64], Act::Clamp, -20, 90));
    let model = one_layer(op, vec![64]);
    let x = random_input(&mut rng, &[64]);
    // A slow memory makes the dense layer weight-bound: more cycles, same outputs.
    let fast = check(
        &model,
        &x,
        DramConfig {
            bytes_per_cycle: 16.0,
            latency: 4,
            ..Default::default()
        },
    );
    let slow = check(
        &model,
        &x,
        DramConfig {
            bytes_per_cycle: 0.5,
            latency: 50,
            ..Default::default()
        },
    );
    assert!(
        slow[0] > fast[0] && slow[1] > fast[1],
        "fast {fast:?} slow {slow:?}"
    );
}

#[test]
fn a_wrong_reference_weight_is_reported_with_layer_channel_and_index() {
    let mut rng = StdRng::seed_from_u64(4);
    let op = conv_op(&mut rng, 2, 5, [3, 3], [1, 1], [1, 1, 1, 1]);
    let model = one_layer(op, vec![2, 8, 8]);
    let x = random_input(&mut rng, &[2, 8, 8]);
    let mut plan = NetworkPlan::new(&model, LANES, WeightStore::Int8).unwrap();
    // Change one weight of channel 3 in the reference only: the RTL still gets the true weights.
    let channel = 3;
    if let QOp::Conv { layer, .. } = &mut plan.reference.layers[0].op {
        let k = 2 * 3 * 3;
        let w = &mut layer.weights[channel * k + 4];
        *w = if *w > 0 { -100 } else { 100 };
    }
    let mut dev = AccelDevice::for_plan(&plan).unwrap();
    let vcd =
        std::env::temp_dir().join(format!("lc_accel_wrong_weight_{}.vcd", std::process::id()));
    let opts = RunImageOptions {
        dram: DramConfig::default(),
        trace_layer: Some((0, vcd.clone())),
        trace_window: Some((100, 400)),
        host_fallback: false,
    };
    let run = run_image(&mut dev, &plan, &x, &opts).unwrap();
    let m = run.mismatch.expect("the changed weight must be detected");
    assert_eq!(
        (m.layer_index, m.layer.as_str(), m.channel),
        (0, "layer0", channel)
    );
    assert!(m.index < 64 && m.got != m.expected);
    let text = m.to_string();
    assert!(
        text.contains("layer0") && text.contains("channel 3"),
        "{text}"
    );
    let size = std::fs::metadata(&vcd).map(|s| s.len()).unwrap_or(0);
    assert!(size > 1000, "a VCD of the failing layer is written");
    let _ = std::fs::remove_file(&vcd);
}

#[test]
fn requantization_edge_cases_are_bit_exact() {
    // One input, nine outputs: the accumulator is w * x plus a bias chosen to reach the int32
    // limits (wrapping included), with extreme multipliers and shifts. The pairs are chosen so
    // that |requant| < 2^31 (the golden model's `Requant::apply` returns i32).
    let x = QTensor {
        shape: vec![1],
        data: vec![-128],
    };
    let biases = [
        i32::MAX,
        i32::MIN,
        0,
        -1,
        i32::MAX - 16256,
        i32::MIN + 16256,
        1 << 30,
        -(1 << 30),
        0,
    ];
    let weights = [127, -127, 0, 1, -1, 127, -127, 64, 1];
    let reqs = [
        Requant {
            mult: (1 << 15) - 1,
            shift: 46,
        },
        Requant {
            mult: -((1 << 15) - 1),
            shift: 46,
        },
        Requant {
            mult: 1 << 14,
            shift: 1,
        },
        Requant { mult: 0, shift: 46 },
        Requant {
            mult: -(1 << 14),
            shift: 15,
        },
        Requant {
            mult: 12345,
            shift: 30,
        },
        Requant {
            mult: -32767,
            shift: 38,
        },
        Requant {
            mult: 20000,
            shift: 44,
        },
        Requant {
            mult: 1 << 14,
            shift: 1,
        },
    ];
    for (lo, hi) in [(-128, 127), (0, 127), (-5, 6)] {
        let layer = QWeighted {
            weights: weights.to_vec(),
            dims: vec![9, 1],
            bits: 8,
            weight_scales: vec![1.0; 9],
            bias: biases.to_vec(),
            requant: reqs.to_vec(),
            act: Act::Clamp,
            lo,
            hi,
        };
        let model = one_layer(QOp::Dense(layer.clone()), vec![1]);
        check(&model, &x, DramConfig::default());
        // The same with PReLU: the negative multipliers reversed.
        let mut prelu = layer;
        prelu.act = Act::PRelu(reqs.iter().rev().copied().collect());
        let model = one_layer(QOp::Dense(prelu), vec![1]);
        check(&model, &x, DramConfig::default());
    }
}

#[test]
fn random_memory_latency_and_slow_memory_keep_the_outputs() {
    let mut rng = StdRng::seed_from_u64(5);
    let conv = conv_op(&mut rng, 3, 7, [3, 3], [1, 2], [1, 0, 1, 2]);
    let conv_model = one_layer(conv, vec![3, 9, 10]);
    let conv_x = random_input(&mut rng, &[3, 9, 10]);
    let dense = QOp::Dense(weighted(&mut rng, vec![9, 120], Act::Clamp, 0, 127));
    let dense_model = one_layer(dense, vec![120]);
    let dense_x = random_input(&mut rng, &[120]);
    for seed in 0..4u64 {
        let dram = DramConfig {
            bytes_per_cycle: [0.3, 1.0, 3.0, 9.0][seed as usize],
            latency: 5 + 7 * seed as u32,
            queue_words: 1 + seed as usize * 3,
            jitter: 40,
            seed,
            ..Default::default()
        };
        check(&conv_model, &conv_x, dram);
        check(&dense_model, &dense_x, dram);
    }
}

#[test]
fn an_output_larger_than_the_activation_buffer_runs_in_channel_parts() {
    let mut rng = StdRng::seed_from_u64(11);
    // 24 channels of 40x40 (38,400 B) do not fit next to the 1,600-byte input: two parts.
    let conv = conv_op(&mut rng, 1, 24, [3, 3], [1, 1], [1, 1, 1, 1]);
    let model = one_layer(conv, vec![1, 40, 40]);
    let x = random_input(&mut rng, &[1, 40, 40]);
    let plan = NetworkPlan::new(&model, LANES, WeightStore::Int8).unwrap();
    let parts: Vec<_> = plan.parts[0].iter().map(|p| p.channels.clone()).collect();
    assert_eq!(parts, [0..16, 16..24]);
    assert_eq!(plan.container.layers.len(), 2);
    let cycles = check(&model, &x, DramConfig::default());
    // Every output is computed once: at least positions x K cycles per group of 4 channels.
    assert!(cycles.iter().all(|&c| c >= 6 * 1600 * 9), "{cycles:?}");
}

#[test]
fn more_channels_than_the_parameter_memory_run_in_parts_on_the_up5k_build() {
    let mut rng = StdRng::seed_from_u64(14);
    // 300 output channels; the UP5K build holds the parameters of 256.
    let dense = QOp::Dense(weighted(&mut rng, vec![300, 40], Act::Clamp, -128, 127));
    let model = one_layer(dense, vec![40]);
    let x = random_input(&mut rng, &[40]);
    let lanes = lc_hw::accel::UP5K.lanes().unwrap();
    let store = WeightStore::Compressed {
        mode: Mode::Rice,
        eps: 2,
    };
    let plan = NetworkPlan::split(&model, lanes, store).unwrap();
    let parts: Vec<_> = plan.parts[0].iter().map(|p| p.channels.clone()).collect();
    assert_eq!(parts, [0..252, 252..300]);
    let mut dev = AccelDevice::for_plan(&plan).unwrap();
    let run = run_image(&mut dev, &plan, &x, &RunImageOptions::default()).unwrap();
    assert!(run.mismatch.is_none(), "{:?}", run.mismatch);
    assert_eq!(run.outputs, plan.reference.run(&x).unwrap());
}

#[test]
fn a_layer_beyond_the_weight_bank_fails_or_runs_on_the_host() {
    let mut rng = StdRng::seed_from_u64(12);
    let dense = QOp::Dense(weighted(&mut rng, vec![5, 1100], Act::Clamp, -128, 127));
    let model = one_layer(dense, vec![1100]);
    let x = random_input(&mut rng, &[1100]);
    let plan = NetworkPlan::new(&model, LANES, WeightStore::Int8).unwrap();
    let mut dev = AccelDevice::for_plan(&plan).unwrap();
    let err = run_image(&mut dev, &plan, &x, &RunImageOptions::default()).unwrap_err();
    assert!(err.to_string().contains("1024-weight bank"), "{err}");
    let opts = RunImageOptions {
        host_fallback: true,
        ..Default::default()
    };
    let run = run_image(&mut dev, &plan, &x, &opts).unwrap();
    assert!(run.mismatch.is_none());
    assert_eq!(run.cycles(), 0);
    let why = run.layers[0].fallback.as_deref().unwrap_or_default();
    assert!(why.contains("1100 weights per channel"), "{why}");
    assert_eq!(run.outputs, model.run(&x).unwrap());
}

#[test]
fn grouped_and_depthwise_convolutions_run_one_job_per_group() {
    let mut rng = StdRng::seed_from_u64(13);
    // (input channels, groups, output channels): two groups, and depthwise with a multiplier.
    for (c, groups, out_c) in [(6, 2, 10), (5, 5, 5), (4, 4, 8)] {
        let window = Window {
            kernel: [3, 3],
            stride: [1, 1],
            dilation: [1, 1],
            pads: [1, 1, 1, 1],
            auto_pad: AutoPad::NotSet,
            ceil_mode: false,
        };
        let op = QOp::Conv {
            layer: weighted(
                &mut rng,
                vec![out_c, c / groups, 3, 3],
                Act::Clamp,
                -128,
                127,
            ),
            window,
            groups,
        };
        let model = one_layer(op, vec![c, 7, 6]);
        let plan = NetworkPlan::new(&model, LANES, WeightStore::Int8).unwrap();
        let per = out_c / groups;
        let parts: Vec<_> = plan.parts[0]
            .iter()
            .map(|p| (p.group, p.channels.clone()))
            .collect();
        let want: Vec<_> = (0..groups).map(|g| (g, g * per..(g + 1) * per)).collect();
        assert_eq!(parts, want);
        let x = random_input(&mut rng, &[c, 7, 6]);
        check(&model, &x, DramConfig::default());
    }
}

#[test]
fn a_grouped_input_larger_than_the_activation_buffer_is_staged_one_group_at_a_time() {
    let mut rng = StdRng::seed_from_u64(14);
    // 24 channels of 40x40 (38,400 B) exceed the 32 KiB buffer; one channel and its output
    // (1,600 B each) fit, so each depthwise group reads only its own channel.
    let QOp::Conv { layer, window, .. } = conv_op(&mut rng, 1, 24, [3, 3], [1, 1], [1; 4]) else {
        unreachable!("conv_op builds a Conv")
    };
    let op = QOp::Conv {
        layer,
        window,
        groups: 24,
    };
    let model = one_layer(op, vec![24, 40, 40]);
    let x = random_input(&mut rng, &[24, 40, 40]);
    let cycles = check(&model, &x, DramConfig::default());
    assert!(
        cycles.iter().all(|&c| c >= 24 * 1600 * 9 / LANES as u64),
        "{cycles:?}"
    );
}

#[test]
fn a_pointwise_input_larger_than_the_activation_buffer_runs_in_bands_of_rows() {
    let mut rng = StdRng::seed_from_u64(15);
    // 40 channels of 30x30 (36,000 B) exceed the 32 KiB buffer; a 1x1 convolution reads only
    // its own row, so bands of 22 and 8 rows (with their outputs) fit one after the other.
    let conv = conv_op(&mut rng, 40, 8, [1, 1], [1, 1], [0; 4]);
    let model = one_layer(conv, vec![40, 30, 30]);
    let x = random_input(&mut rng, &[40, 30, 30]);
    let cycles = check(&model, &x, DramConfig::default());
    assert!(cycles.iter().all(|&c| c >= 2 * 900 * 40), "{cycles:?}");
}
