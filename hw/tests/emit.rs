//! Verilog emission: names, manifest, lint.

use lc_format::Profile;
use lc_hw::config::CFG_PORTS;
use lc_hw::emit::{generate, generate_for, PortDirection, LINT_WAIVERS};

mod common;

#[test]
fn manifest_matches_the_verilog() {
    let (verilog, m) = generate(4).unwrap();
    assert_eq!(m.top, "lc_decompressor_x4");
    assert_eq!(m.lanes, 4);
    assert!(verilog.contains("module lc_decompressor_x4("));
    assert!(
        !verilog.contains("module top"),
        "rust-hdl's default top name must be renamed"
    );
    assert!(
        !verilog.contains('$'),
        "sub-module names must be plain identifiers"
    );
    assert!(
        !verilog.contains("__clock"),
        "flip-flop clocks must be connected directly"
    );
    for (name, dir, lane_width) in [
        ("in_data", PortDirection::Input, 64),
        ("in_ready", PortDirection::Output, 1),
        ("out_weight", PortDirection::Output, 16),
        ("length_bits", PortDirection::Input, 40),
        ("count", PortDirection::Input, 32),
    ] {
        let p = m.port(name).unwrap();
        assert_eq!(p.direction, dir, "{name}");
        assert_eq!(p.lane_width, Some(lane_width), "{name}");
        assert_eq!(p.width, 4 * lane_width, "{name}");
        let decl = format!("[{}:0] {name}", p.width - 1);
        assert!(verilog.contains(&decl), "{decl}");
    }
    for shared in ["clock", "reset", "start"] {
        assert_eq!(m.port(shared).unwrap().lane_width, None, "{shared}");
    }
    assert!(
        m.port("lp__hdr_bits").is_none() && verilog.contains("wire [7:0] lp__hdr_bits;"),
        "configuration wires stay internal"
    );
}

#[test]
fn every_design_takes_the_layer_parameters_of_the_port_table() {
    for profile in ["full", "compact", "compact-flat"] {
        let p = Profile::load(profile).unwrap();
        let (_, m) = generate_for(&p, 2).unwrap();
        for cfg in CFG_PORTS {
            let port = m
                .port(cfg.name)
                .unwrap_or_else(|| panic!("{profile}: {}", cfg.name));
            assert_eq!(
                port.direction,
                PortDirection::Input,
                "{profile}: {}",
                cfg.name
            );
            assert_eq!(port.width, cfg.width, "{profile}: {}", cfg.name);
            assert_eq!(port.lane_width, None, "{profile}: {}", cfg.name);
        }
    }
}

#[test]
fn lane_count_is_checked() {
    assert!(generate(0).is_err());
    assert!(generate(lc_hw::emit::MAX_LANES + 1).is_err());
}

/// `verilator --lint-only -Wall` with the waivers; skipped without Verilator, failing under CI.
#[test]
fn verilog_is_lint_clean() {
    let Some(verilator) = common::verilator() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("lc_hw_lint_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profiles = ["full", lc_format::DEFAULT_PROFILE, "compact-flat"];
    for (profile, lanes) in profiles.iter().flat_map(|p| [(p, 1), (p, 4)]) {
        let profile = lc_format::Profile::load(profile).unwrap();
        let rtl = lc_hw::emit::emit_rtl_for(&profile, lanes, &dir).unwrap();
        assert_eq!(std::fs::read_to_string(&rtl.waivers).unwrap(), LINT_WAIVERS);
        common::assert_lint_clean(&verilator, &rtl);
    }
    std::fs::remove_dir_all(&dir).ok();
}
