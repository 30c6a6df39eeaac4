//! Encode/decode throughput of LineCompress next to zstd on the same INT8 weights.
//!
//! Weights: the ONNX model in `LC_BENCH_MODEL` (default: MTCNN ONet from `make models`, in
//! `~/.cache/linecompress/mtcnn_onet.onnx`); without it, synthetic Laplace-like weights.
//! Compression ratios are printed once before the timings.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lc_sw::codec::{choose_params, decode_lane, encode_lane, LayerParams, Mode, Strategy};
use lc_sw::model::onnx::load_weights;
use lc_sw::quant::quantize_per_channel;

fn weights() -> (String, Vec<i32>) {
    let path = std::env::var_os("LC_BENCH_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/linecompress/mtcnn_onet.onnx")
        });
    if let Ok(tensors) = load_weights(&path) {
        let mut q = Vec::new();
        for t in tensors {
            q.extend(
                quantize_per_channel(&t.data, &t.dims, 8)
                    .expect("finite weights")
                    .values,
            );
        }
        return (path.display().to_string(), q);
    }
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let q = (0..400_000)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            let lap = if u < 0.5 {
                (2.0 * u).ln()
            } else {
                -(2.0 - 2.0 * u).ln()
            };
            (lap * 12.0).round().clamp(-127.0, 127.0) as i32
        })
        .collect();
    ("synthetic Laplace(0, 12) int8".into(), q)
}

fn bench(c: &mut Criterion) {
    let (source, q) = weights();
    let n = q.len();
    let raw: Vec<u8> = q.iter().map(|&v| v as i8 as u8).collect();
    let configs: Vec<(String, LayerParams, Strategy)> = [
        (Mode::Lines, 0),
        (Mode::Lines, 4),
        (Mode::Rice, 0),
        (Mode::Rice, 4),
    ]
    .into_iter()
    .flat_map(|(mode, eps)| {
        let p = choose_params(&[&q], 8, mode, eps);
        [Strategy::Greedy, Strategy::Optimal]
            .map(|s| (format!("{mode}-eps{eps}-{s:?}").to_lowercase(), p, s))
    })
    .collect();

    eprintln!("weights: {source}, {n} int8 values");
    eprintln!(
        "{:<26} {:>10} {:>8} {:>8}",
        "codec", "bytes", "x int8", "x fp32"
    );
    for (name, p, s) in &configs {
        let bytes = encode_lane(&q, p, *s)
            .expect("encodes")
            .length_bits
            .div_ceil(8);
        eprintln!(
            "{name:<26} {bytes:>10} {:>8.2} {:>8.2}",
            n as f64 / bytes as f64,
            4.0 * n as f64 / bytes as f64
        );
    }
    for level in [3, 19] {
        let bytes = zstd::bulk::compress(&raw, level).expect("zstd").len();
        eprintln!(
            "{:<26} {bytes:>10} {:>8.2} {:>8.2}",
            format!("zstd-{level} (lossless)"),
            n as f64 / bytes as f64,
            4.0 * n as f64 / bytes as f64
        );
    }

    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    for (name, p, s) in &configs {
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| encode_lane(&q, p, *s).expect("encodes"))
        });
    }
    for level in [3, 19] {
        g.bench_function(BenchmarkId::from_parameter(format!("zstd-{level}")), |b| {
            b.iter(|| zstd::bulk::compress(&raw, level).expect("zstd"))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(20);
    for (name, p, s) in configs.iter().filter(|(_, _, s)| *s == Strategy::Optimal) {
        let stream = encode_lane(&q, p, *s).expect("encodes");
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                decode_lane(p, &stream.bytes, stream.length_bits, stream.count).expect("decodes")
            })
        });
    }
    for level in [3, 19] {
        let z = zstd::bulk::compress(&raw, level).expect("zstd");
        g.bench_function(BenchmarkId::from_parameter(format!("zstd-{level}")), |b| {
            b.iter(|| zstd::bulk::decompress(&z, n).expect("zstd"))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // Numbers only: criterion's plots need a system font and add nothing to the tables.
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
