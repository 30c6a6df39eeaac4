//! `verify` and `merge-verify` end to end: shards of a run merged equal the run, inputs for
//! models with dynamic shapes (`--input-shape`, `--dataset random`, a folder of images), the
//! host fallback, and one-line errors for inputs that cannot be fed.

mod common;

use common::{assert_clean_failure, cli, write_dynamic_model};
use serde_json::Value;
use std::path::Path;

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// Run the CLI, require success and parse its JSON output.
fn json(args: &[&str]) -> Value {
    let out = cli(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {err}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

#[test]
fn two_shards_merged_equal_the_single_run() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "verify",
        "--model",
        concat!(env!("CARGO_MANIFEST_DIR"), "/models/lenet5.onnx"),
        "--images",
        "5",
        "--calib",
        "20",
        "--threads",
        "1",
        "--json",
    ];
    let whole = json(&base);
    let mut files = Vec::new();
    for shard in ["1/2", "0/2"] {
        let r = json(&[&base[..], &["--shard", shard]].concat());
        let f = dir.path().join(format!("shard{}.json", &shard[..1]));
        std::fs::write(&f, r.to_string()).unwrap();
        files.push(f);
    }
    let mut args = vec!["merge-verify"];
    args.extend(files.iter().map(|f| path(f)));
    let merged = json(&args);
    assert_eq!(merged["images"], 5);
    for key in [
        "images",
        "mismatches",
        "shard",
        "model",
        "run_images",
        "store",
    ] {
        assert_eq!(merged[key], whole[key], "{key}");
    }
    for store in ["fp32", "uncompressed", "compressed"] {
        for key in ["mismatches", "correct", "cycles"] {
            assert_eq!(merged[store][key], whole[store][key], "{store}.{key}");
        }
        let (a, b) = (
            merged[store]["energy_pj"].as_f64().unwrap(),
            whole[store]["energy_pj"].as_f64().unwrap(),
        );
        assert!((a - b).abs() <= 1e-9 * b, "{store} energy {a} vs {b}");
    }
    assert_eq!(merged["cycles_compressed"], whole["cycles_compressed"]);
    assert_eq!(merged["cycles_fp32"], whole["cycles_fp32"]);
    // One shard alone is not the whole run.
    let out = cli(&["merge-verify", path(&files[0])]);
    assert_clean_failure(&out, "exactly once");
}

#[test]
fn dynamic_models_take_an_input_shape_and_random_or_folder_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_dynamic_model(dir.path(), 3, 3);
    let m = path(&model);
    let out = cli(&["verify", "--model", m, "--dataset", "random"]);
    assert_clean_failure(&out, "input 'x' has shape [?, 3, ?, ?]");
    let out = cli(&["verify", "--model", m, "--input-shape", "1,1,9,9"]);
    assert_clean_failure(&out, "--input-shape [1, 1, 9, 9] does not fit");
    // Fashion-MNIST cannot feed a 3-channel input: the error names the input and its shape.
    let out = cli(&["eval", "--model", m, "--input-shape", "1,3,10,12"]);
    assert_clean_failure(&out, "input 'x' [1, 3, 10, 12] cannot be fed");

    let shaped = ["--model", m, "--input-shape", "1,3,10,12", "--calib", "4"];
    let r = json(
        &[
            &["verify"],
            &shaped[..],
            &["--dataset", "random", "--images", "3", "--json"],
        ]
        .concat(),
    );
    assert_eq!(
        (r["images"].as_u64(), r["mismatches"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(r["dataset"], "random:1");
    assert!(r["compressed"]["cycles"].as_u64().unwrap() > 0);
    let e = json(
        &[
            &["eval"],
            &shaped[..],
            &[
                "--dataset",
                "random",
                "--images",
                "3",
                "--budget-images",
                "2",
                "--json",
            ],
        ]
        .concat(),
    );
    assert!(e["accuracy_int8"].as_f64().is_some(), "{e}");
    // The quantization refinements take the same inputs (a 3-channel convolution's input means).
    let refined = json(
        &[
            &["eval"],
            &shaped[..],
            &["--dataset", "random", "--images", "3", "--bias-correction"],
            &["--mse-clip", "--refit-scales", "--json"],
        ]
        .concat(),
    );
    assert!(refined["ratio_fp32"].as_f64().unwrap() > 1.0, "{refined}");

    // A folder of images of any size, resized to the input.
    let imgs = dir.path().join("imgs");
    std::fs::create_dir(&imgs).unwrap();
    for (i, px) in [[200u8, 30, 90], [10, 250, 128]].iter().enumerate() {
        image::RgbImage::from_fn(17 + i as u32, 13, |x, y| {
            image::Rgb([px[0] ^ (x as u8), px[1], px[2] ^ (y as u8)])
        })
        .save(imgs.join(format!("img{i}.png")))
        .unwrap();
    }
    let f = path(&imgs);
    let r = json(
        &[
            &["verify"],
            &shaped[..],
            &["--dataset", f, "--images", "5", "--json"],
        ]
        .concat(),
    );
    assert_eq!(
        (r["images"].as_u64(), r["mismatches"].as_u64()),
        (Some(2), Some(0))
    );
    let out = cli(&["verify", "--model", m, "--dataset", "no/such/dir"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("neither fashion-mnist"),
        "{err}"
    );
}

#[test]
fn a_layer_beyond_the_weight_bank_runs_on_the_host_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    // K = 128 x 3 x 3 = 1152 weights per channel: more than a 1024-weight bank.
    let model = write_dynamic_model(dir.path(), 128, 3);
    let args = [
        "verify",
        "--model",
        path(&model),
        "--input-shape",
        "1,128,4,4",
        "--dataset",
        "random",
        "--images",
        "2",
        "--calib",
        "2",
        "--json",
    ];
    assert_clean_failure(
        &cli(&args),
        "1152 weights per channel exceed the 1024-weight bank",
    );
    let r = json(&[&args[..], &["--host-fallback"]].concat());
    assert_eq!(r["mismatches"], 0);
    let host = r["host_layers"].as_array().unwrap();
    assert_eq!(host.len(), 1, "{r}");
    assert!(host[0].as_str().unwrap().starts_with("layer conv: "), "{r}");
}

#[test]
fn the_ppocr_classifier_runs_bit_exact_with_every_convolution_on_the_rtl() {
    let cache = std::env::var_os("LC_MODEL_CACHE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/linecompress")));
    let Some(model) = cache
        .map(|c| c.join("ppocr_mobile_v2_cls.onnx"))
        .filter(|m| m.exists())
    else {
        eprintln!("skipped: ppocr_mobile_v2_cls.onnx is not in the model cache (make models)");
        return;
    };
    // No --host-fallback: the depthwise and 1x1 convolutions on 200 x 2 x 96 inputs (38,400 B,
    // more than the 32 KiB activation buffer) run group by group and row by row.
    let r = json(&[
        "verify",
        "--model",
        path(&model),
        "--input-shape",
        "1,3,48,192",
        "--dataset",
        "random",
        "--images",
        "1",
        "--calib",
        "4",
        "--threads",
        "1",
        "--json",
    ]);
    assert_eq!(r["mismatches"], 0, "{r}");
    assert_eq!(r["host_layers"], serde_json::json!([]), "{r}");
    assert!(r["compressed"]["cycles"].as_u64().unwrap() > 0, "{r}");
}

/// `eval --save` writes the weights `verify` runs: options that change the scales or the bias
/// outside the container are refused with one line, before any work.
#[test]
fn eval_refuses_to_save_weights_with_refitted_scales_or_corrected_bias() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("w.lcw");
    for option in ["--refit-scales", "--bias-correction"] {
        let out = cli(&[
            "eval",
            "--model",
            concat!(env!("CARGO_MANIFEST_DIR"), "/models/lenet5.onnx"),
            option,
            "--save",
            path(&save),
        ]);
        assert_clean_failure(&out, option);
        assert!(!save.exists(), "{option}: a container was written");
    }
}
