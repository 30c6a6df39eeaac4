//! The emitted accelerator Verilog: well-formed manifest, and lint-clean under
//! `verilator --lint-only -Wall` with the shipped waivers (skipped when Verilator is absent, failing under CI).

use lc_format::Profile;
use lc_hw::accel::board::{board_top, COMMANDS, NARROW};
use lc_hw::accel::emit::{emit_accel, generate_accel};
use lc_hw::accel::flash_top::{emit_flash_accel, generate_flash_accel};
use lc_hw::accel::{generate_accel_in, AccelLanes, UP5K};
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
        (&shipped, UP5K.mac_lanes, UP5K.dec_lanes),
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
fn the_up5k_build_keeps_its_activations_in_two_sprams() {
    let shipped = Profile::default_profile();
    let (v, m) = generate_accel_in(&shipped, UP5K.lanes().unwrap(), UP5K.memory).unwrap();
    assert_eq!(m.top, "lc_accel_p6_d1_spram");
    // Two 32 KiB blocks for synthesis, their behavioural model for simulation.
    assert_eq!(v.matches("SB_SPRAM256KA ram").count(), 2);
    assert_eq!(v.matches("`ifdef VERILATOR").count(), 2);
    // The generic build has none.
    let (g, _) = generate_accel(&shipped, AccelLanes::new(4, 1).unwrap()).unwrap();
    assert!(!g.contains("SB_SPRAM256KA"));
}

#[test]
fn the_board_chain_drives_every_host_input_once() {
    let shipped = Profile::default_profile();
    let core = generate_accel_in(&shipped, UP5K.lanes().unwrap(), UP5K.memory).unwrap();
    let (_, accel) = lc_hw::accel::wrap_with_flash(core).unwrap();
    let board = board_top(&accel, 18.0).unwrap();
    assert!(board.pll.unwrap().mhz <= 18.0);
    assert!(board.verilog.contains("SB_PLL40_PAD"));
    let direct = board_top(&accel, 12.0).unwrap();
    assert!(direct.pll.is_none() && direct.verilog.contains("wire clock = clk_12m;"));
    // Every host-driven accelerator input has a field; the layer fields do not overlap each
    // other, the idle-only (activation, parameter) fields overlay only layer registers.
    let persistent: Vec<_> = board
        .fields
        .iter()
        .filter(|f| {
            COMMANDS.contains(&f.name.as_str())
                || !(f.name.starts_with("act_") || f.name.starts_with("prm_"))
        })
        .collect();
    for p in accel
        .ports
        .iter()
        .filter(|p| p.direction == PortDirection::Input)
    {
        let stream = ["clock", "flash_req_valid", "flash_io_in"].contains(&p.name.as_str());
        let found = board.fields.iter().any(|f| f.name == p.name);
        assert_eq!(found, !stream, "{}", p.name);
    }
    for (i, a) in persistent.iter().enumerate() {
        for b in &persistent[i + 1..] {
            let apart = a.offset + a.width <= b.offset || b.offset + b.width <= a.offset;
            assert!(apart, "{} and {} overlap", a.name, b.name);
        }
    }
    let lay_end = persistent
        .iter()
        .filter(|f| f.name.starts_with("lay_"))
        .map(|f| f.offset + f.width)
        .max()
        .unwrap();
    let lay_start = persistent
        .iter()
        .filter(|f| f.name.starts_with("lay_"))
        .map(|f| f.offset)
        .min()
        .unwrap();
    for f in board.fields.iter().filter(|f| !persistent.contains(f)) {
        assert!(
            f.offset >= lay_start && f.offset + f.width <= lay_end,
            "{}",
            f.name
        );
    }
    assert_eq!(
        board
            .fields
            .iter()
            .take(COMMANDS.len())
            .map(|f| f.offset)
            .collect::<Vec<_>>(),
        (0..COMMANDS.len()).collect::<Vec<_>>()
    );
    // Narrowed fields take their chain width.
    let in_h = board.fields.iter().find(|f| f.name == "lay_in_h").unwrap();
    assert_eq!(
        in_h.width,
        NARROW.iter().find(|n| n.0 == "lay_in_h").unwrap().1
    );
    let decl = format!("reg [{}:0] chain", board.chain_bits() - 1);
    assert!(board.verilog.contains(&decl), "{decl}");
    // The iCEBreaker pins: 12 MHz clock on 35, flash SCK 15, CS# 16, IO0..IO3 on 14, 17, 12, 13.
    for pin in [
        "clk_12m 35",
        "flash_sck 15",
        "flash_cs_n 16",
        "flash_io[0] 14",
        "flash_io[1] 17",
        "flash_io[2] 12",
        "flash_io[3] 13",
    ] {
        assert!(board.pcf.contains(&format!("set_io {pin}\n")), "{pin}");
    }
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
