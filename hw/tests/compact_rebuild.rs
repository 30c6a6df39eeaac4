//! The compact lane's second stage in the rust-hdl simulator against the reconstruction of
//! FORMAT.md §4.1-4.2 in plain Rust: `sat_B(p + zigzag^-1(u) * 2^r)`, on random inputs and on the
//! edges of the clamp.

use lc_hw::compact::rebuild::{CompactRebuild, PRED_BITS, RESID_BITS};
use rust_hdl::prelude::*;

mod common;
use common::XorShift;

/// The weight the format defines.
fn reference(bits: u32, pred: i64, u: u64, shift: u32) -> i64 {
    let e = if u & 1 == 0 {
        (u >> 1) as i64
    } else {
        -((u as i64 + 1) >> 1)
    };
    let max = (1i64 << (bits - 1)) - 1;
    (pred + (e << shift)).clamp(-max - 1, max)
}

fn check(uut: &mut CompactRebuild, bits: u32, pred: i64, u: u64, shift: u32) {
    let mask = (1u64 << PRED_BITS) - 1;
    uut.pred.next = ((pred as u64) & mask).into();
    uut.u.next = u.into();
    uut.shift.next = (shift as u64).into();
    assert!(simulate(uut, 20), "did not settle");
    let got = uut.weight.val().to_u64() as u8 as i8 as i64;
    assert_eq!(
        got,
        reference(bits, pred, u, shift),
        "B {bits} p {pred} u {u} r {shift}"
    );
}

#[test]
fn matches_the_format_on_random_inputs_and_clamp_edges() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut next = move || rng.next();
    let p_max = (1i64 << (PRED_BITS - 1)) - 1;
    for bits in [8u32, 5] {
        let mut uut = CompactRebuild::new(bits as u8);
        uut.connect_all();
        for _ in 0..20_000 {
            let pred = (next() % (2 * p_max as u64 + 2)) as i64 - p_max - 1;
            // Small residuals most of the time, any 12-bit code otherwise.
            let u = if next() % 4 == 0 {
                next() % 4096
            } else {
                next() % 64
            };
            check(&mut uut, bits, pred, u, (next() % 8) as u32);
        }
        // Around the clamp: h = u >> 1 at and next to 2^(RESID_BITS - 1 - r), both signs, with
        // the largest predictions of either sign.
        for shift in 0..8u32 {
            let edge = 1u64 << (RESID_BITS as u32 - 1 - shift);
            for h in [edge - 2, edge - 1, edge, edge + 1] {
                for u in [2 * h, 2 * h + 1] {
                    for pred in [-p_max - 1, -129, -1, 0, 1, 128, p_max] {
                        check(&mut uut, bits, pred, u.min(4095), shift);
                    }
                }
            }
        }
    }
}
