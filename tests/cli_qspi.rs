//! `verify --memory qspi --weights FILE.lcw` end to end: the per-layer container written by
//! `eval --max-drop --save` runs bit-exactly with the flash in the loop, and the JSON record
//! carries the FP32, INT8 and LineCompress rows; containers and options that do not fit fail
//! with one clear line.

mod common;

use common::{assert_clean_failure, cli};
use serde_json::Value;

const LENET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/lenet5.onnx");
const VGG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/vgg_small.onnx");

/// `eval --max-drop 1.0 --save` of LeNet-5 on a few images, with `options`.
fn budget_container(dir: &std::path::Path, options: &[&str]) -> String {
    let file = dir.join(format!("lenet5_budget{}.lcw", options.join("")));
    let path = file.to_str().unwrap().to_string();
    let out = cli(&[
        &[
            "eval",
            "--model",
            LENET,
            "--images",
            "200",
            "--budget-images",
            "200",
            "--calib",
            "50",
            "--max-drop",
            "1.0",
            "--save",
            &path,
            "--json",
        ][..],
        options,
    ]
    .concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

#[test]
fn the_budget_container_runs_from_the_flash() {
    let dir = tempfile::tempdir().unwrap();
    let weights = budget_container(dir.path(), &[]);
    budget_container_runs_from_the_flash(&weights);
}

/// Channel scales that are not max-abs travel in the container: the accelerator runs with them.
#[test]
fn a_container_with_one_step_per_layer_runs_from_the_flash() {
    let dir = tempfile::tempdir().unwrap();
    let weights = budget_container(dir.path(), &["--layer-step", "100"]);
    budget_container_runs_from_the_flash(&weights);
}

/// `verify --memory qspi --weights` of `weights`: bit-exact, with the flash design point.
fn budget_container_runs_from_the_flash(weights: &str) {
    let out = cli(&[
        "verify",
        "--model",
        LENET,
        "--images",
        "3",
        "--calib",
        "50",
        "--memory",
        "qspi",
        "--weights",
        weights,
        "--threads",
        "1",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["mismatches"], 0);
    assert_eq!(r["memory"], "qspi");
    assert_eq!(r["decoders"], 1);
    // Without --lanes the flash runs the UP5K design point: six MAC lanes.
    assert_eq!(r["mac_lanes"], 6);
    assert_eq!(r["store"], "lc-per-layer");
    let num = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("{k} in {r}"));
    assert!(num("cycles_fp32") > num("cycles_uncompressed"));
    assert!(num("cycles_uncompressed") > num("cycles_compressed"));
    assert!(num("energy_fp32_pj") > num("energy_uncompressed_pj"));
    assert!(num("energy_uncompressed_pj") > num("energy_compressed_pj"));
    for store in ["fp32", "uncompressed", "compressed"] {
        assert_eq!(r[store]["mismatches"], 0, "{store}");
    }
}

#[test]
fn unfit_containers_and_lane_counts_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["verify", "--images", "1", "--calib", "4", "--threads", "1"];
    let out = cli(&[
        &base[..],
        &["--model", LENET, "--memory", "qspi", "--decoders", "4"],
    ]
    .concat());
    assert_clean_failure(&out, "one decompressor lane");
    let junk = dir.path().join("junk.lcw");
    std::fs::write(&junk, b"not a container").unwrap();
    let junk = junk.to_str().unwrap();
    let out = cli(&[&base[..], &["--model", LENET, "--weights", junk]].concat());
    assert_clean_failure(&out, "not a LineCompress container");
    let lenet = dir.path().join("lenet.lcw");
    let lenet = lenet.to_str().unwrap();
    let out = cli(&["compress", LENET, "-o", lenet]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&[&base[..], &["--model", VGG, "--weights", lenet]].concat());
    assert_clean_failure(&out, "does not match the model");
}

#[test]
fn report_from_the_flash_has_the_study_row_and_no_dram_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("report");
    let out = cli(&[
        "report",
        "--model",
        LENET,
        "--memory",
        "qspi",
        "--images",
        "1",
        "--accuracy-images",
        "20",
        "--calib",
        "50",
        "--threads",
        "1",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(md.contains("| lenet5 |"), "{md}");
    assert!(md.contains("6 MAC lanes"), "{md}");
    assert!(md.contains("No bandwidth sweep"), "{md}");
    assert!(!md.contains("## Bandwidth sweep"), "{md}");
}
