//! The requantization block in rust-hdl simulation against the formula of docs/GOLDEN_MODEL.md:
//! `clamp((a * mult + 2^(shift-1)) >> shift, lo, hi)` with `a = acc + bias` (int32 wrapping),
//! PReLU taking the second multiplier for a negative `a`.

use lc_hw::accel::requant::RequantUnit;
use rust_hdl::prelude::*;

/// A small deterministic generator (xorshift64).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

fn reference(acc: i32, bias: i32, m: (i32, u32), n: (i32, u32), prelu: bool, lo: i8, hi: i8) -> i8 {
    let a = acc.wrapping_add(bias);
    let (mult, shift) = if prelu && a < 0 { n } else { m };
    let p = a as i64 * mult as i64 + (1i64 << (shift - 1));
    (p >> shift).clamp(lo as i64, hi as i64) as i8
}

#[test]
fn requant_block_matches_the_formula() {
    let mut uut = RequantUnit::default();
    uut.connect_all();
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let edges = [i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX];
    for i in 0..3000 {
        let acc = if i % 5 == 0 {
            edges[g.range(0, 5) as usize]
        } else {
            g.next() as i32
        };
        let bias = if i % 7 == 0 {
            edges[g.range(0, 5) as usize]
        } else {
            g.range(-100_000, 100_000) as i32
        };
        let pick = |g: &mut Gen| (g.range(-32767, 32767) as i32, g.range(1, 46) as u32);
        let (m, n) = (pick(&mut g), pick(&mut g));
        let prelu = g.next().is_multiple_of(2);
        let (mut lo, mut hi) = (g.next() as i8, g.next() as i8);
        if lo > hi {
            std::mem::swap(&mut lo, &mut hi);
        }
        uut.acc.next = (acc as u32 as u64).into();
        uut.bias.next = (bias as u32 as u64).into();
        uut.mult.next = (m.0 as u16 as u64).into();
        uut.shift.next = (m.1 as u64).into();
        uut.nmult.next = (n.0 as u16 as u64).into();
        uut.nshift.next = (n.1 as u64).into();
        uut.prelu.next = prelu;
        uut.lo.next = (lo as u8 as u64).into();
        uut.hi.next = (hi as u8 as u64).into();
        assert!(simulate(&mut uut, 100), "the block settles");
        let got = uut.y.val().to_u64() as u8 as i8;
        let want = reference(acc, bias, m, n, prelu, lo, hi);
        assert_eq!(
            got, want,
            "acc {acc} bias {bias} m {m:?} n {n:?} prelu {prelu} [{lo}, {hi}]"
        );
    }
}
