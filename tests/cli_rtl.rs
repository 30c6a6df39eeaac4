//! `linecompress rtl` writes Verilog that Verilator lints clean (with the shipped waivers) and a
//! port manifest that describes it.

mod common;

use common::cli;

#[test]
fn rtl_is_lint_clean_and_described() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(&["rtl", "--lanes", "2", "--out", dir.path().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verilog = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "v"))
        .expect("a .v file");
    let text = std::fs::read_to_string(&verilog).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(verilog.with_extension("json")).unwrap()).unwrap();
    let top = manifest["top"].as_str().unwrap();
    assert!(
        text.contains(&format!("module {top}")),
        "top module {top} not in the Verilog"
    );
    assert!(
        !text.contains("module top"),
        "the generic rust-hdl top name leaked"
    );
    for port in manifest["ports"].as_array().unwrap() {
        let name = port["name"].as_str().unwrap();
        assert!(text.contains(name), "port {name} not in the Verilog");
    }
    let waivers = dir.path().join(manifest_waivers(dir.path()));
    let lint = std::process::Command::new(std::env::var("VERILATOR").unwrap_or("verilator".into()))
        .args(["--lint-only", "-Wall", "--top-module", top])
        .arg(&waivers)
        .arg(&verilog)
        .output()
        .expect("verilator is installed (make setup)");
    assert!(
        lint.status.success(),
        "lint: {}",
        String::from_utf8_lossy(&lint.stderr)
    );

    let bad = cli(&["rtl", "--lanes", "0", "--out", dir.path().to_str().unwrap()]);
    common::assert_clean_failure(&bad, "lanes");
}

fn manifest_waivers(dir: &std::path::Path) -> String {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.ends_with(".vlt"))
        .expect("a .vlt waiver file")
}
