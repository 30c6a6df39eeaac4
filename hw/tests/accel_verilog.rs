//! The emitted accelerator Verilog: well-formed manifest, and lint-clean under
//! `verilator --lint-only -Wall` with the shipped waivers (skipped when Verilator is absent, failing under CI).

use lc_format::Profile;
use lc_hw::accel::emit::{emit_accel, generate_accel};
use lc_hw::accel::flash_top::{emit_flash_accel, generate_flash_accel};
use lc_hw::accel::AccelLanes;
use lc_hw::PortDirection;

mod common;

#[test]
fn manifest_has_per_lane_buses_and_host_ports() {
    let shipped = Profile::default_profile();
    let full = Profile::load("full").unwrap();
    for (profile, top, word) in [(&shipped, "lc_accel_p", 32), (&full, "lc_accel_full_p", 64)] {
        for lanes in [1, 4, 8] {
            let (_, m) = generate_accel(profile, AccelLanes::matched(lanes).unwrap()).unwrap();
            assert_eq!(m.top, format!("{top}{lanes}"));
            assert_eq!(m.word_bits, word);
            check_ports(&m, lanes, word);
        }
    }
    let sloped = Profile::load("compact").unwrap();
    let (_, m) = generate_accel(&sloped, AccelLanes::matched(2).unwrap()).unwrap();
    assert_eq!(m.top, "lc_accel_compact_p2");
}

#[test]
fn fewer_decompressor_lanes_than_mac_lanes() {
    let shipped = Profile::default_profile();
    for (p, d) in [(4, 1), (4, 2), (8, 2)] {
        let (v, m) = generate_accel(&shipped, AccelLanes::new(p, d).unwrap()).unwrap();
        assert_eq!(m.top, format!("lc_accel_p{p}_d{d}"));
        assert_eq!((m.lanes, m.mac_lanes), (d, Some(p)));
        let port = |n: &str| m.port(n).unwrap_or_else(|| panic!("port {n}"));
        assert_eq!(port("in_data").width, 32 * d);
        assert_eq!(port("dec_error").width, d);
        assert_eq!(port("lane_channels").width, 16 * p);
        let instance = format!("lc_accel_router_f{} route", p / d);
        assert_eq!(
            v.matches(&instance).count(),
            d,
            "one router per decompressor lane"
        );
    }
    let full = Profile::load("full").unwrap();
    let (_, m) = generate_accel(&full, AccelLanes::new(4, 2).unwrap()).unwrap();
    assert_eq!(m.top, "lc_accel_full_p4_d2");
}

fn check_ports(m: &lc_hw::Manifest, lanes: usize, word: usize) {
    let port = |n: &str| m.port(n).unwrap_or_else(|| panic!("port {n}"));
    assert_eq!(port("in_data").width, word * lanes);
    assert_eq!(port("in_data").lane_width, Some(word));
    assert_eq!(port("in_ready").direction, PortDirection::Output);
    assert_eq!(port("act_rdata").direction, PortDirection::Output);
    for n in [
        "start",
        "done",
        "error",
        "busy",
        "lay_k_len",
        "prm_mult",
        "cfg_bits",
    ] {
        assert_eq!(port(n).lane_width, None, "{n} is shared");
    }
}

#[test]
fn verilog_is_lint_clean() {
    let Some(verilator) = common::verilator() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("lc_accel_lint_{}", std::process::id()));
    let shipped = Profile::default_profile();
    let full = Profile::load("full").unwrap();
    for (profile, p, d) in [
        (&shipped, 1, 1),
        (&shipped, 4, 4),
        (&shipped, 4, 1),
        (&shipped, 4, 2),
        (&full, 4, 4),
    ] {
        let rtl = emit_accel(profile, AccelLanes::new(p, d).unwrap(), &dir).unwrap();
        common::assert_lint_clean(&verilator, &rtl);
    }
    for (profile, p) in [(&shipped, 1), (&shipped, 4), (&full, 4)] {
        let rtl = emit_flash_accel(profile, AccelLanes::new(p, 1).unwrap(), &dir).unwrap();
        common::assert_lint_clean(&verilator, &rtl);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flash_top_replaces_the_lane_memory_port_by_the_flash_pins() {
    let shipped = Profile::default_profile();
    let full = Profile::load("full").unwrap();
    for (profile, top, narrow) in [
        (&shipped, "lc_accel_p4_d1_qspi", false),
        (&full, "lc_accel_full_p4_d1_qspi", true),
    ] {
        let (v, m) = generate_flash_accel(profile, AccelLanes::new(4, 1).unwrap()).unwrap();
        assert_eq!(m.top, top);
        assert_eq!((m.lanes, m.mac_lanes), (1, Some(4)));
        for gone in ["in_data", "in_valid", "in_last", "in_ready"] {
            assert!(m.port(gone).is_none(), "{top}: {gone} is the reader's");
        }
        let port = |n: &str| m.port(n).unwrap_or_else(|| panic!("{top}: port {n}"));
        for (name, width, direction) in [
            ("flash_req_valid", 1, PortDirection::Input),
            ("flash_req_ready", 1, PortDirection::Output),
            ("flash_req_addr", 24, PortDirection::Input),
            ("flash_req_words", 22, PortDirection::Input),
            ("flash_sck", 1, PortDirection::Output),
            ("flash_cs_n", 1, PortDirection::Output),
            ("flash_io_out", 4, PortDirection::Output),
            ("flash_io_oe", 4, PortDirection::Output),
            ("flash_io_in", 4, PortDirection::Input),
        ] {
            assert_eq!((port(name).width, port(name).direction), (width, direction));
        }
        for kept in ["start", "done", "lay_k_len", "length_bits", "lane_channels"] {
            port(kept);
        }
        assert_eq!(m.port("flash_narrow").is_some(), narrow);
        assert_eq!(v.matches("lc_qspi_reader flash (").count(), 1);
        assert_eq!(v.matches("lc_flash_words words (").count(), narrow as usize);
    }
    let err = generate_flash_accel(&shipped, AccelLanes::new(4, 2).unwrap()).unwrap_err();
    assert!(err.to_string().contains("one decompressor lane"), "{err}");
}
