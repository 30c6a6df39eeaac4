//! End-to-end: compress, inspect and decompress through the CLI; bad input fails cleanly.

mod common;

use common::{assert_clean_failure, cli, cli_ok, write_qdq_model, write_tiny_model};
use serde_json::Value;

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn compress_inspect_decompress() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_tiny_model(dir.path());
    let lcw = dir.path().join("m.lcw");
    for mode in ["lines", "rice"] {
        cli_ok(&[
            "compress",
            path(&model),
            "-o",
            path(&lcw),
            "--mode",
            mode,
            "--eps",
            "3",
            "--lanes",
            "4",
            "--profile",
            "full",
        ]);

        let out = cli(&["inspect", path(&lcw), "--json"]);
        assert!(out.status.success());
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        let layers = r["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 2);
        assert_eq!(layers[0]["name"], "conv.w");
        assert_eq!(layers[0]["params"], 72);
        assert_eq!(layers[1]["name"], "fc.w");
        assert_eq!(layers[1]["params"], 320);
        let bits: u64 = layers.iter().map(|l| l["bits"].as_u64().unwrap()).sum();
        assert_eq!(r["total"]["bits"].as_u64().unwrap(), bits);
        assert_eq!(r["total"]["params"], 392);
        let ratio = r["total"]["ratio_fp32"].as_f64().unwrap();
        assert!((ratio - 392.0 * 32.0 / bits as f64).abs() < 1e-9);
        for l in layers {
            assert!(l["max_abs_error"].as_u64().unwrap() <= 3);
            for key in ["ratio_int8", "ratio_fp32"] {
                assert!(l[key].as_f64().unwrap() > 0.0);
            }
        }

        // Integer weights: within eps of the quantized originals.
        let json = dir.path().join("w.json");
        cli_ok(&["decompress", path(&lcw), "-o", path(&json)]);
        let w: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        let conv = &w["layers"][0];
        let original = common::weights(72, 7);
        let q = lc_sw::quant::quantize_per_channel(&original, &[8, 1, 3, 3], 8).unwrap();
        let values: Vec<i64> = conv["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(values.len(), 72);
        for (a, b) in values.iter().zip(&q.values) {
            assert!((a - *b as i64).abs() <= 3);
        }

        // ONNX output: the same graph, weights replaced by the dequantized decoded ones.
        let onnx = dir.path().join("out.onnx");
        cli_ok(&[
            "decompress",
            path(&lcw),
            "-o",
            path(&onnx),
            "--model",
            path(&model),
        ]);
        let back = lc_sw::model::onnx::load_weights(&onnx).unwrap();
        let orig = lc_sw::model::onnx::load_weights(&model).unwrap();
        assert_eq!(back.len(), 2);
        for (b, o) in back.iter().zip(&orig) {
            assert_eq!(b.dims, o.dims);
            let scale_max = b
                .data
                .iter()
                .zip(&o.data)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            // |w - q| <= eps LSB plus half an LSB of quantization; an LSB is at most 1/127.
            assert!(scale_max <= 3.5 / 127.0 + 1e-6, "max deviation {scale_max}");
        }
    }
}

#[test]
fn bad_inputs_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_tiny_model(dir.path());
    let lcw = dir.path().join("m.lcw");
    assert!(cli(&["compress", path(&model), "-o", path(&lcw)])
        .status
        .success());
    let good = std::fs::read(&lcw).unwrap();

    let missing = dir.path().join("missing.onnx");
    assert_clean_failure(
        &cli(&["compress", path(&missing), "-o", path(&lcw)]),
        "missing.onnx",
    );

    let not_onnx = dir.path().join("junk.onnx");
    std::fs::write(&not_onnx, b"\xff\xff\xff definitely not protobuf").unwrap();
    assert_clean_failure(
        &cli(&["compress", path(&not_onnx), "-o", path(&lcw)]),
        "not an ONNX model",
    );

    let corrupt = dir.path().join("corrupt.lcw");
    let mut v = good.clone();
    let mid = v.len() / 2;
    v[mid] ^= 0x5a;
    std::fs::write(&corrupt, &v).unwrap();
    assert_clean_failure(&cli(&["inspect", path(&corrupt)]), "Checksum");
    assert_clean_failure(
        &cli(&["decompress", path(&corrupt), "-o", "x.json"]),
        "Checksum",
    );

    let truncated = dir.path().join("truncated.lcw");
    std::fs::write(&truncated, &good[..good.len() / 3]).unwrap();
    assert_clean_failure(&cli(&["inspect", path(&truncated)]), "truncated.lcw");

    std::fs::write(&corrupt, b"LC").unwrap();
    assert_clean_failure(&cli(&["inspect", path(&corrupt)]), "Truncated");

    assert_clean_failure(&cli(&["decompress", path(&lcw), "-o", "x.onnx"]), "--model");
}

#[test]
fn demo_runs_on_the_built_in_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli_ok(&["demo", "--out", path(dir.path()), "--images", "2"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "lines",
        "rice",
        "total",
        "lc_accel_p4.v",
        "LineCompress vs INT8",
    ] {
        assert!(text.contains(needle), "'{needle}' missing from:\n{text}");
    }
    let c = std::fs::read(dir.path().join("model.lcw")).unwrap();
    let c = lc_sw::container::Container::from_bytes(&c).unwrap();
    assert!(c.decode().is_ok());
}

/// The encoder obeys the hardware profile, and `inspect --profile` refuses what a profile cannot
/// decode, naming the layer and the field.
#[test]
fn profiles_are_obeyed_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_tiny_model(dir.path());
    let lcw = dir.path().join("m.lcw");
    let compress = |extra: &[&str]| {
        let mut args = vec!["compress", path(&model), "-o", path(&lcw), "--eps", "2"];
        args.extend_from_slice(extra);
        cli(&args)
    };
    // The default (compact-flat) profile decodes rice only.
    let out = compress(&["--mode", "lines"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mode = lines") && err.contains("compact"),
        "{err}"
    );
    // Written for it, the container passes its check.
    assert!(compress(&[]).status.success());
    cli_ok(&["inspect", path(&lcw), "--profile", "compact-flat"]);
    // Written with every parameter free, a lines-mode layer is refused, naming layer and field.
    assert!(compress(&["--profile", "full", "--mode", "lines"])
        .status
        .success());
    let out = cli(&["inspect", path(&lcw), "--profile", "compact-flat"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("layer conv.w: profile compact-flat does not accept"),
        "{err}"
    );
    // A missing profile is a one-line error listing the built-in ones.
    let out = compress(&["--profile", "no-such-profile"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("compact, compact-flat"));
}

/// Integer weights of a pre-quantized model (QDQ, ConvInteger/MatMulInteger) keep their own
/// grid: compressed at eps 0 and written back into the model, every stored integer is the same
/// byte; at eps 2 every one is within 2 of the original.
#[test]
fn pre_quantized_weights_round_trip() {
    use onnx_protobuf::{Message, ModelProto};
    let dir = tempfile::tempdir().unwrap();
    let (model, stored) = write_qdq_model(dir.path());
    for (eps, bound) in [("0", 0), ("2", 2)] {
        let lcw = dir.path().join(format!("q{eps}.lcw"));
        cli_ok(&[
            "compress",
            path(&model),
            "-o",
            path(&lcw),
            "--eps",
            eps,
            "--profile",
            "full",
        ]);
        let back = dir.path().join(format!("q{eps}.onnx"));
        cli_ok(&[
            "decompress",
            path(&lcw),
            "-o",
            path(&back),
            "--model",
            path(&model),
        ]);
        let m = ModelProto::parse_from_bytes(&std::fs::read(&back).unwrap()).unwrap();
        for (name, bytes) in &stored {
            let t = m
                .graph
                .initializer
                .iter()
                .find(|t| &t.name == name)
                .unwrap();
            let signed = t.data_type == 3;
            let value = |b: u8| if signed { b as i8 as i32 } else { b as i32 };
            assert_eq!(t.raw_data.len(), bytes.len(), "{name}");
            for (&a, &b) in t.raw_data.iter().zip(bytes) {
                assert!(
                    (value(a) - value(b)).abs() <= bound,
                    "{name} eps {eps}: {a} vs {b}"
                );
            }
        }
    }
}
