//! Any bytes as one lane stream under parameters taken from the first bytes. Must never panic.
#![no_main]

use lc_sw::codec::{decode_lane, LayerParams, Mode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let p = LayerParams {
        bits: 4 + data[0] % 13,
        mode: if data[1] & 1 == 0 {
            Mode::Lines
        } else {
            Mode::Rice
        },
        eps: 0,
        frac_bits: 1 + data[2] % 16,
        len_bits: data[3] % 13,
        slope_bits: data[4] % 17,
        shift: if data[1] & 1 == 0 { 0 } else { data[5] % 4 },
    };
    let count = u16::from_le_bytes([data[6], data[7]]) as u64;
    let stream = &data[9..];
    let bits = (stream.len() as u64 * 8).saturating_sub(data[8] as u64 % 8);
    let _ = decode_lane(&p, stream, bits, count);
});
