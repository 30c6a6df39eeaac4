//! The flash word adapter in the rust-hdl simulator against a plain-Rust packer: random requests
//! of flash words, whole or narrow (one byte per flash word), random offers and back-pressure.
//! Every lane word must be the next 8 stream bytes little-endian, the last word of a request
//! zero-padded and flagged `last`.

use lc_hw::accel::flash_words::FlashWords;
use rust_hdl::prelude::*;

mod common;
use common::{clock_edge, XorShift};

/// The lane words of one request: its stream bytes in groups of 8, little-endian, the last one
/// zero-padded and flagged.
fn packed(words: &[u32], narrow: bool) -> Vec<(u64, bool)> {
    let bytes: Vec<u8> = words
        .iter()
        .flat_map(|w| {
            let b = w.to_le_bytes();
            if narrow {
                b[..1].to_vec()
            } else {
                b.to_vec()
            }
        })
        .collect();
    let n = bytes.len().div_ceil(8);
    bytes
        .chunks(8)
        .enumerate()
        .map(|(i, c)| {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            (u64::from_le_bytes(w), i + 1 == n)
        })
        .collect()
}

#[test]
fn packs_flash_words_into_lane_words_under_back_pressure() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut uut = FlashWords::default();
    uut.connect_all();
    uut.reset.next = true;
    clock_edge(&mut uut, |u, clk| u.clock.next = Clock { clk });
    uut.reset.next = false;
    for round in 0..40 {
        let narrow = round % 2 == 1;
        uut.narrow.next = narrow;
        let words: Vec<u32> = (0..rng.range(1, 40)).map(|_| rng.next() as u32).collect();
        let want = packed(&words, narrow);
        let mut got = Vec::new();
        let mut next = 0;
        let mut cycles = 0;
        while got.len() < want.len() {
            cycles += 1;
            assert!(cycles < 10_000, "round {round}: the adapter hangs");
            let offer = next < words.len() && rng.chance(2, 3);
            let ready = rng.chance(1, 2);
            uut.in_valid.next = offer;
            uut.in_data.next = (*words.get(next).unwrap_or(&0) as u64).into();
            uut.in_last.next = next + 1 == words.len();
            uut.out_ready.next = ready;
            assert!(simulate(&mut uut, 100), "the adapter settles");
            if offer && uut.in_ready.val() {
                next += 1;
            }
            if ready && uut.out_valid.val() {
                got.push((uut.out_data.val().to_u64(), uut.out_last.val()));
            }
            clock_edge(&mut uut, |u, clk| u.clock.next = Clock { clk });
        }
        assert_eq!(got, want, "round {round} (narrow: {narrow})");
        assert_eq!(next, words.len(), "round {round}: every flash word taken");
    }
}
