//! Encode/decode throughput of LineCompress next to zstd on the same INT8 weights: every conv and
//! dense layer of the shipped LeNet-5 and VGG-small, quantized per channel to 8 bits.
//!
//! Each codec compresses layer by layer (one lane per layer). LineCompress encoding (`encode/`)
//! includes the parameter choice of the layer, as one setting of `compress` or of the budget
//! search runs it; `encode-planned/` times the rice planners alone, parameters given.
//! Throughput is in weights (= INT8 bytes) per second. Sizes and ratios are printed once before
//! the timings. With `LC_BENCH_CPU=1` the clock is the CPU time of the process (all threads)
//! instead of wall time, so that other jobs on a shared machine do not count; the groups are then
//! named `cpu/...`.

#[path = "codec/cpu_time.rs"]
mod cpu_time;

use std::path::Path;

use criterion::measurement::Measurement;
use criterion::{BenchmarkId, Criterion, Throughput};
use lc_sw::codec::{
    choose_params, decode_lane, encode_lane, LaneStream, LayerParams, Mode, Strategy,
};
use lc_sw::model::onnx::load_weights;
use lc_sw::quant::quantize_per_channel;

/// The INT8 layers of a shipped model.
fn layers(model: &str) -> Vec<Vec<i32>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(model);
    load_weights(&path)
        .expect("shipped model loads")
        .into_iter()
        .filter(|t| t.dims.len() > 1)
        .map(|t| {
            quantize_per_channel(&t.data, &t.dims, 8)
                .expect("finite weights")
                .values
        })
        .collect()
}

/// A LineCompress setting: mode, error bound and planner.
#[derive(Clone, Copy)]
struct Setting {
    mode: Mode,
    eps: u16,
    strategy: Strategy,
}

impl Setting {
    fn name(&self) -> String {
        format!("{}-eps{}-{:?}", self.mode, self.eps, self.strategy).to_lowercase()
    }

    /// Choose the layer's parameters and encode it, as one setting of `compress` does.
    fn encode(&self, q: &[i32]) -> (LayerParams, LaneStream) {
        let p = choose_params(&[q], 8, self.mode, self.eps);
        (p, encode_lane(q, &p, self.strategy).expect("encodes"))
    }
}

fn settings() -> Vec<Setting> {
    let mut out = Vec::new();
    for (mode, eps) in [
        (Mode::Lines, 0),
        (Mode::Lines, 4),
        (Mode::Rice, 0),
        (Mode::Rice, 4),
    ] {
        for strategy in [Strategy::Greedy, Strategy::Optimal] {
            out.push(Setting {
                mode,
                eps,
                strategy,
            });
        }
    }
    out
}

const ZSTD_LEVELS: [i32; 2] = [3, 19];

fn int8(q: &[i32]) -> Vec<u8> {
    q.iter().map(|&v| v as i8 as u8).collect()
}

fn print_sizes(model: &str, layers: &[Vec<i32>], raw: &[Vec<u8>]) {
    let n: usize = layers.iter().map(Vec::len).sum();
    eprintln!("{model}: {} layers, {n} INT8 weights", layers.len());
    eprintln!(
        "{:<26} {:>10} {:>8} {:>8}",
        "codec", "bytes", "x int8", "x fp32"
    );
    let row = |name: String, bytes: u64| {
        eprintln!(
            "{name:<26} {bytes:>10} {:>8.2} {:>8.2}",
            n as f64 / bytes as f64,
            4.0 * n as f64 / bytes as f64
        )
    };
    for s in settings() {
        let bits: u64 = layers.iter().map(|q| s.encode(q).1.length_bits).sum();
        row(s.name(), bits.div_ceil(8));
    }
    for level in ZSTD_LEVELS {
        let bytes = raw
            .iter()
            .map(|r| zstd::bulk::compress(r, level).expect("zstd").len() as u64)
            .sum();
        row(format!("zstd-{level} (lossless)"), bytes);
    }
}

fn bench<M: Measurement>(c: &mut Criterion<M>, clock: &str) {
    for model in ["lenet5", "vgg_small"] {
        let layers = layers(&format!("{model}.onnx"));
        let raw: Vec<Vec<u8>> = layers.iter().map(|q| int8(q)).collect();
        let n: usize = layers.iter().map(Vec::len).sum();
        print_sizes(model, &layers, &raw);

        let mut g = c.benchmark_group(format!("{clock}encode/{model}"));
        g.throughput(Throughput::Elements(n as u64));
        g.sample_size(10);
        for s in settings() {
            g.bench_function(BenchmarkId::from_parameter(s.name()), |b| {
                b.iter(|| layers.iter().map(|q| s.encode(q)).collect::<Vec<_>>())
            });
        }
        for level in ZSTD_LEVELS {
            g.bench_function(BenchmarkId::from_parameter(format!("zstd-{level}")), |b| {
                b.iter(|| {
                    raw.iter()
                        .map(|r| zstd::bulk::compress(r, level).expect("zstd"))
                        .collect::<Vec<_>>()
                })
            });
        }
        g.finish();

        // The planners alone, with each layer's parameters already chosen.
        let mut g = c.benchmark_group(format!("{clock}encode-planned/{model}"));
        g.throughput(Throughput::Elements(n as u64));
        g.sample_size(10);
        for s in settings().into_iter().filter(|s| s.mode == Mode::Rice) {
            let params: Vec<LayerParams> = layers.iter().map(|q| s.encode(q).0).collect();
            g.bench_function(BenchmarkId::from_parameter(s.name()), |b| {
                b.iter(|| {
                    layers
                        .iter()
                        .zip(&params)
                        .map(|(q, p)| encode_lane(q, p, s.strategy).expect("encodes"))
                        .collect::<Vec<_>>()
                })
            });
        }
        g.finish();

        let mut g = c.benchmark_group(format!("{clock}decode/{model}"));
        g.throughput(Throughput::Elements(n as u64));
        g.sample_size(20);
        for s in settings()
            .into_iter()
            .filter(|s| s.strategy == Strategy::Optimal)
        {
            let streams: Vec<_> = layers.iter().map(|q| s.encode(q)).collect();
            g.bench_function(BenchmarkId::from_parameter(s.name()), |b| {
                b.iter(|| {
                    streams
                        .iter()
                        .map(|(p, l)| {
                            decode_lane(p, &l.bytes, l.length_bits, l.count).expect("decodes")
                        })
                        .collect::<Vec<_>>()
                })
            });
        }
        for level in ZSTD_LEVELS {
            let z: Vec<(Vec<u8>, usize)> = raw
                .iter()
                .map(|r| (zstd::bulk::compress(r, level).expect("zstd"), r.len()))
                .collect();
            g.bench_function(BenchmarkId::from_parameter(format!("zstd-{level}")), |b| {
                b.iter(|| {
                    z.iter()
                        .map(|(z, len)| zstd::bulk::decompress(z, *len).expect("zstd"))
                        .collect::<Vec<_>>()
                })
            });
        }
        g.finish();
    }
}

fn main() {
    // Numbers only: criterion's plots need a system font and add nothing to the tables.
    if std::env::var_os("LC_BENCH_CPU").is_some() {
        let mut c = Criterion::default()
            .without_plots()
            .with_measurement(cpu_time::ProcessCpuTime)
            .configure_from_args();
        bench(&mut c, "cpu/");
        c.final_summary();
    } else {
        let mut c = Criterion::default().without_plots().configure_from_args();
        bench(&mut c, "");
        c.final_summary();
    }
}
