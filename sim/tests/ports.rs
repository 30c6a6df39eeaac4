//! Port access of the Verilator models: per-lane fields and whole ports wider than 64 bits
//! (`num-bigint`) address the same bits; values that do not fit are refused.

use lc_sim::model::{available_models, Model};
use num_bigint::BigUint;

#[test]
fn wide_ports_and_lane_fields_agree() {
    assert!(available_models().contains(&"lc_decompressor_x4"));
    let mut m = Model::decompressor(4).unwrap();
    let data = m.port("in_data").unwrap();
    assert_eq!(m.manifest().port("in_data").unwrap().width, 256);
    let words = [
        0x0123_4567_89ab_cdefu64,
        0xfedc_ba98_7654_3210,
        0xdead_beef_0000_0001,
        u64::MAX,
    ];
    for (lane, w) in words.iter().enumerate() {
        m.set_field(data, lane, *w).unwrap();
    }
    let whole = m.get(data);
    let expected = words.iter().rev().fold(BigUint::default(), |acc, w| {
        (acc << 64u32) | BigUint::from(*w)
    });
    assert_eq!(whole, expected);

    let pattern = (BigUint::from(1u8) << 255u32) | BigUint::from(0x5a5a_u32);
    m.set(data, &pattern).unwrap();
    assert_eq!(m.get(data), pattern);
    assert_eq!(m.get_field(data, 0).unwrap(), 0x5a5a);
    assert_eq!(m.get_field(data, 3).unwrap(), 1 << 63);
    assert!(
        m.set(data, &(BigUint::from(1u8) << 256u32)).is_err(),
        "257-bit value accepted"
    );

    let count = m.port("count").unwrap();
    assert!(
        m.set_field(count, 1, 1 << 32).is_err(),
        "33-bit value in a 32-bit field accepted"
    );
    assert!(m.set_field(count, 4, 1).is_err(), "lane 4 of 4 accepted");
    assert!(
        m.set_field(m.port("out_weight").unwrap(), 0, 1).is_err(),
        "output port written"
    );
    assert!(m.port("no_such_port").is_err());
}

#[test]
fn vcd_trace_on_request() {
    let dir = std::env::temp_dir().join(format!("lc_sim_vcd_{}", std::process::id()));
    let path = dir.join("trace.vcd");
    let mut m = Model::decompressor(1).unwrap();
    m.trace_to(&path).unwrap();
    for _ in 0..10 {
        m.tick();
    }
    m.trace_close();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("$enddefinitions") && text.contains("in_ready"));
    std::fs::remove_dir_all(&dir).ok();
}
