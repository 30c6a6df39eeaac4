//! The Rice decoder block in the rust-hdl simulator against a direct reading of FORMAT.md §4.2.

use lc_hw::rice::RiceDecoder;
use rust_hdl::prelude::*;

/// (u, code length, escape out of range) of the code at bit 0 of `window`.
fn reference(window: u32, k: u32, esc_bits: u32) -> (u64, u64, bool) {
    let mut zeros = 0;
    while zeros < 12 && window >> zeros & 1 == 0 {
        zeros += 1;
    }
    if zeros < 12 {
        let low = (window as u64 >> (zeros + 1)) & ((1u64 << k) - 1);
        (((zeros as u64) << k) | low, (zeros + 1 + k) as u64, false)
    } else {
        let u = (window as u64 >> 12) & ((1u64 << esc_bits) - 1);
        (u, (12 + esc_bits) as u64, u >> k < 12)
    }
}

#[test]
fn decodes_every_code_shape() {
    let mut uut = RiceDecoder::default();
    uut.connect_all();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..3000 {
        let b = 4 + (next() % 13) as u32;
        let k = (next() % 16) as u32;
        let esc_bits = b + 1;
        // Bias towards long unary runs and escapes.
        let window = (next() as u32) << (next() % 14);
        uut.window.next = (window as u64).into();
        uut.k.next = (k as u64).into();
        uut.esc_bits.next = (esc_bits as u64).into();
        uut.esc_mask.next = ((1u64 << esc_bits) - 1).into();
        assert!(simulate(&mut uut, 20), "did not settle");
        let (u, len, bad) = reference(window, k, esc_bits);
        assert_eq!(
            uut.value.val().to_u64(),
            u,
            "#{i} window {window:#x} k {k} E {esc_bits}"
        );
        assert_eq!(
            uut.code_len.val().to_u64(),
            len,
            "#{i} window {window:#x} k {k}"
        );
        assert_eq!(uut.escape_bad.val(), bad, "#{i} window {window:#x} k {k}");
    }
}
