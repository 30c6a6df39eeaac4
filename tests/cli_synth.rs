//! `linecompress synth`: missing tools and bad arguments fail cleanly; a one-lane decompressor runs
//! through generic Yosys synthesis and through synth_ice40 + nextpnr-ice40 on an HX8K, the QSPI
//! flash reader through synth_ice40 -dsp + nextpnr-ice40 on an UP5K.
//! Without yosys or nextpnr-ice40 the real runs are skipped, unless CI=true, where they fail.

mod common;

use common::{assert_clean_failure, cli};
use std::process::{Command, Output};

/// The ten keys that `--json` must print first, in this order.
const KEYS: [&str; 10] = [
    "design", "target", "lut4", "carry", "ff", "bram", "spram", "dsp", "fmax_mhz", "fits",
];

fn synth_with_env(env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_linecompress"))
        .arg("synth")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("the CLI binary runs")
}

/// Whether `tool` (or the binary its environment variable names) runs; when it does not, the
/// test is skipped, or fails under CI=true.
fn have(tool: &str, env: &str, version_arg: &str) -> bool {
    available(tool, env, version_arg, true)
}

/// Whether `tool` starts at all (icepack has no argument that exits successfully); as [`have`]
/// otherwise.
fn starts(tool: &str, env: &str) -> bool {
    available(tool, env, "-h", false)
}

fn available(tool: &str, env: &str, arg: &str, must_succeed: bool) -> bool {
    let bin = std::env::var(env).unwrap_or_else(|_| tool.to_string());
    let ok = Command::new(&bin)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success() || !must_succeed);
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} is required under CI=true (make setup)"
        );
        eprintln!("skipped: {tool} not installed");
    }
    ok
}

/// Run synth with `--json` and return the object, checking the key order and `report.json`.
fn synth_json(args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    synth_json_in(args, dir.path())
}

/// [`synth_json`] writing into `dir`.
fn synth_json_in(args: &[&str], dir: &std::path::Path) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--json", "--out", dir.to_str().unwrap()]);
    let out = cli(&[&["synth"], all.as_slice()].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.trim_end().lines().count(),
        1,
        "one JSON line: {stdout}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // serde_json::Value sorts its keys, so read the order from the text.
    let at: Vec<usize> = KEYS
        .iter()
        .map(|k| stdout.find(&format!("\"{k}\":")).expect(k))
        .collect();
    assert_eq!(at[0], 1, "design first: {stdout}");
    assert!(at.windows(2).all(|w| w[0] < w[1]), "key order: {stdout}");
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(saved, v, "report.json differs from stdout");
    v
}

#[test]
fn missing_tools_name_their_package() {
    let out = synth_with_env(
        &[("YOSYS", "/nonexistent/yosys")],
        &[
            "--design",
            "decompressor",
            "--lanes",
            "1",
            "--target",
            "generic",
        ],
    );
    assert_clean_failure(&out, "apt-get install yosys");
    // `true -V` succeeds, so yosys counts as present and nextpnr is the one missing.
    let out = synth_with_env(
        &[("YOSYS", "true"), ("NEXTPNR_ICE40", "/nonexistent/nextpnr")],
        &["--design", "accel", "--lanes", "1", "--target", "up5k"],
    );
    assert_clean_failure(&out, "apt-get install nextpnr-ice40");
}

#[test]
fn bad_arguments_fail_cleanly() {
    let tools = [("YOSYS", "true"), ("NEXTPNR_ICE40", "true")];
    let run = |args: &[&str]| synth_with_env(&tools, args);
    let zero = run(&[
        "--design",
        "decompressor",
        "--lanes",
        "0",
        "--target",
        "hx8k",
    ]);
    assert_clean_failure(&zero, "lanes");
    let many = run(&[
        "--design", "accel", "--lanes", "1000", "--target", "generic",
    ]);
    assert_clean_failure(&many, "lanes");
    let uneven = run(&[
        "--design",
        "accel",
        "--lanes",
        "4",
        "--mac-lanes",
        "2",
        "--target",
        "hx8k",
    ]);
    assert_clean_failure(&uneven, "D must not exceed P");
    let indivisible = run(&[
        "--design",
        "accel",
        "--lanes",
        "3",
        "--mac-lanes",
        "4",
        "--target",
        "hx8k",
    ]);
    assert_clean_failure(&indivisible, "D must divide P");
    let reader_lanes = run(&["--design", "qspi", "--lanes", "2", "--target", "up5k"]);
    assert_clean_failure(&reader_lanes, "--lanes");
    let no_lanes = run(&["--design", "decompressor", "--target", "up5k"]);
    let err = String::from_utf8_lossy(&no_lanes.stderr);
    assert_eq!(
        no_lanes.status.code(),
        Some(2),
        "clap asks for --lanes: {err}"
    );
    assert!(err.contains("--lanes"), "{err}");
    // Without --lanes the accelerator is only the UP5K board build.
    let accel_no_lanes = run(&["--design", "accel", "--target", "hx8k"]);
    assert_clean_failure(&accel_no_lanes, "--lanes");
    for bad in [
        ["--design", "cpu", "--lanes", "1", "--target", "generic"],
        ["--design", "accel", "--lanes", "1", "--target", "ecp5"],
    ] {
        let out = run(&bad);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "clap rejects {bad:?}: {err}");
        assert!(err.contains("possible values"), "{err}");
    }
}

#[test]
fn generic_one_lane() {
    if !have("yosys", "YOSYS", "-V") {
        return;
    }
    let v = synth_json(&[
        "--design",
        "decompressor",
        "--lanes",
        "1",
        "--target",
        "generic",
    ]);
    assert_eq!(v["design"], "decompressor");
    assert_eq!(v["target"], "generic");
    // The shipped (compact-flat) profile by default.
    assert_eq!(v["top"], "lc_decompressor_compact_flat_x1");
    for k in ["lut4", "carry", "bram", "spram", "dsp"] {
        assert_eq!(v[k], 0, "{k} of generic synthesis");
    }
    let ff = v["ff"].as_u64().unwrap();
    assert!((100..10_000).contains(&ff), "ff = {ff}");
    assert!(v["fits"].is_null() && v["fmax_mhz"].is_null(), "{v}");
}

#[test]
fn hx8k_one_lane_places_and_routes() {
    if !have("yosys", "YOSYS", "-V") || !have("nextpnr-ice40", "NEXTPNR_ICE40", "--version") {
        return;
    }
    let v = synth_json(&[
        "--design",
        "decompressor",
        "--lanes",
        "1",
        "--target",
        "hx8k",
    ]);
    let lut4 = v["lut4"].as_u64().unwrap();
    // One compact lane with its configuration is several hundred LUT4; the HX8K has 7,680.
    assert!((200..7_680).contains(&lut4), "lut4 = {lut4}");
    assert!(v["carry"].as_u64().unwrap() > 0 && v["ff"].as_u64().unwrap() > 0);
    assert_eq!(v["fits"], true, "{v}");
    let fmax = v["fmax_mhz"].as_f64().unwrap();
    assert!((5.0..200.0).contains(&fmax), "fmax = {fmax}");
    // The harness adds its scan chain and capture flip-flops: more logic cells than the design.
    let lc = v["place_and_route"]["utilisation"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["resource"] == "ICESTORM_LC")
        .expect("ICESTORM_LC in the utilisation")["used"]
        .as_u64()
        .unwrap();
    assert!(lc > lut4, "{lc} logic cells for {lut4} LUT4");
}

/// `codesign --synth-from` names a missing or malformed file and stops before any run.
#[test]
fn codesign_rejects_a_bad_synthesis_file() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out_dir = out_dir.to_str().unwrap();
    let missing = dir.path().join("missing.json");
    let run = |from: &std::path::Path| {
        cli(&[
            "codesign",
            "--profile",
            "compact",
            "--synth-from",
            from.to_str().unwrap(),
            "--out",
            out_dir,
        ])
    };
    assert_clean_failure(&run(&missing), "missing.json");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{ not json").unwrap();
    assert_clean_failure(&run(&bad), "is not a codesign.json");
}

#[test]
fn up5k_qspi_reader_places_and_routes() {
    if !have("yosys", "YOSYS", "-V") || !have("nextpnr-ice40", "NEXTPNR_ICE40", "--version") {
        return;
    }
    let v = synth_json(&["--design", "qspi", "--target", "up5k"]);
    assert_eq!(v["design"], "qspi");
    assert_eq!(v["top"], "lc_qspi_reader");
    // Counters, a 32-bit command shifter and three 32-bit word registers: about a hundred LUT4
    // and FF each, no RAM, no DSP.
    let lut4 = v["lut4"].as_u64().unwrap();
    let ff = v["ff"].as_u64().unwrap();
    assert!((50..1_000).contains(&lut4), "lut4 = {lut4}");
    assert!((100..400).contains(&ff), "ff = {ff}");
    for k in ["bram", "spram", "dsp"] {
        assert_eq!(v[k], 0, "{k} of the reader");
    }
    assert_eq!(v["fits"], true, "{v}");
}

#[test]
fn up5k_board_places_and_writes_a_bitstream() {
    if !have("yosys", "YOSYS", "-V")
        || !have("nextpnr-ice40", "NEXTPNR_ICE40", "--version")
        || !starts("icepack", "ICEPACK")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let v = synth_json_in(&["--design", "accel", "--target", "up5k"], dir.path());
    assert_eq!(v["design"], "accel");
    assert_eq!(v["top"], "lc_up5k_board");
    assert_eq!(
        (v["lanes"].as_u64(), v["mac_lanes"].as_u64()),
        (Some(1), Some(6))
    );
    // Activations in two SPRAM blocks; six MAC lanes and the requantizer's two multiplies on
    // the eight DSPs; weight banks and parameters within the 30 EBR.
    assert_eq!(v["spram"], 2, "{v}");
    assert_eq!(v["dsp"], 8, "{v}");
    assert!(v["bram"].as_u64().unwrap() <= 30, "{v}");
    assert_eq!(v["fits"], true, "{v}");
    let board = &v["board"];
    let bin = std::path::Path::new(board["bitstream"].as_str().expect("a bitstream"));
    assert!(
        std::fs::metadata(bin).is_ok_and(|m| m.len() > 100_000),
        "{}",
        bin.display()
    );
    let pcf = std::fs::read_to_string(board["pcf"].as_str().unwrap()).unwrap();
    for pin in [
        "clk_12m 35",
        "flash_sck 15",
        "flash_cs_n 16",
        "flash_io[0] 14",
    ] {
        assert!(pcf.contains(pin), "{pin} in {pcf}");
    }
    let fmax = v["fmax_mhz"].as_f64().unwrap();
    assert_eq!(
        board["timing_met"],
        fmax >= board["clock_mhz"].as_f64().unwrap()
    );
}
