//! The requantization block in rust-hdl simulation against the formula of docs/GOLDEN_MODEL.md:
//! `clamp((a * mult + 2^(shift-1)) >> shift, lo, hi)` with `a = acc + bias` (int32 wrapping),
//! PReLU taking the second multiplier for a negative `a`; one value per clock through the
//! pipeline, each with its write tag. The accumulator spans the lanes' `ACC_BITS` signed bits.

use lc_hw::accel::lane::ACC_BITS;
use lc_hw::accel::requant::{RequantUnit, LATENCY};
use rust_hdl::prelude::*;
use std::collections::VecDeque;

mod common;
use common::clock_edge;

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

/// One value through the unit: its inputs, tag and expected result.
struct Case {
    acc: i32,
    bias: i32,
    m: (i32, u32),
    n: (i32, u32),
    write: bool,
    addr: u64,
}

fn tick(u: &mut RequantUnit) {
    clock_edge(u, |u, c| u.clock.next = Clock { clk: c });
}

/// Feeds `cases` one per clock (then `LATENCY` empty clocks) with fixed layer registers and
/// checks every result against [`reference`]; returns how many values were checked.
fn run_batch(uut: &mut RequantUnit, cases: Vec<Case>, prelu: bool, lo: i8, hi: i8) -> usize {
    uut.prelu.next = prelu;
    uut.lo.next = (lo as u8 as u64).into();
    uut.hi.next = (hi as u8 as u64).into();
    let idle = (0..LATENCY).map(|_| Case {
        acc: 0,
        bias: 0,
        m: (0, 1),
        n: (0, 1),
        write: false,
        addr: 0,
    });
    let cases: Vec<Case> = cases.into_iter().chain(idle).collect();
    let mut flight: VecDeque<&Case> = VecDeque::new();
    let mut checked = 0;
    for (i, c) in cases.iter().enumerate() {
        uut.acc.next = (c.acc as u32 as u64 & ((1 << ACC_BITS) - 1)).into();
        uut.bias.next = (c.bias as u32 as u64).into();
        uut.in_write.next = c.write;
        uut.in_addr.next = c.addr.into();
        // The multipliers and shifts follow one clock after the accumulator and bias.
        if let Some(p) = i.checked_sub(1).map(|i| &cases[i]) {
            uut.mult.next = (p.m.0 as u16 as u64).into();
            uut.shift.next = (p.m.1 as u64).into();
            uut.nmult.next = (p.n.0 as u16 as u64).into();
            uut.nshift.next = (p.n.1 as u64).into();
        }
        flight.push_back(c);
        assert!(simulate(uut, 100), "the block settles");
        let pending = flight.iter().any(|c| c.write);
        assert_eq!(
            uut.busy_next.val(),
            pending,
            "values in flight after value {i}"
        );
        tick(uut);
        if flight.len() == LATENCY {
            let c = flight.pop_front().unwrap();
            assert_eq!(uut.out_write.val(), c.write, "write flag of value {i}");
            if c.write {
                assert_eq!(uut.out_addr.val().to_u64(), c.addr);
                let got = uut.y.val().to_u64() as u8 as i8;
                let want = reference(c.acc, c.bias, c.m, c.n, prelu, lo, hi);
                assert_eq!(
                    got, want,
                    "acc {} bias {} m {:?} n {:?} prelu {prelu} [{lo}, {hi}]",
                    c.acc, c.bias, c.m, c.n
                );
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn requant_pipeline_matches_the_formula_one_value_per_clock() {
    let mut uut = RequantUnit::default();
    uut.connect_all();
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let acc_min = -(1i32 << (ACC_BITS - 1));
    let acc_edges = [acc_min, acc_min + 1, -1, 0, 1, -acc_min - 1];
    let edges = [i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX];
    let mut checked = 0;
    for _ in 0..60 {
        // PReLU and the clamp bounds are layer registers: fixed for a batch.
        let prelu = g.next().is_multiple_of(2);
        let (mut lo, mut hi) = (g.next() as i8, g.next() as i8);
        if lo > hi {
            std::mem::swap(&mut lo, &mut hi);
        }
        let cases = (0..50)
            .map(|i| Case {
                acc: if i % 5 == 0 {
                    acc_edges[g.range(0, 5) as usize]
                } else {
                    (g.next() as i32) >> (32 - ACC_BITS)
                },
                bias: if i % 7 == 0 {
                    edges[g.range(0, 5) as usize]
                } else {
                    g.range(-100_000, 100_000) as i32
                },
                m: (g.range(-32767, 32767) as i32, g.range(1, 46) as u32),
                n: (g.range(-32767, 32767) as i32, g.range(1, 46) as u32),
                // Some clocks carry no value: the flag must not appear at the output.
                write: !g.next().is_multiple_of(4),
                addr: g.next() & 0xffff,
            })
            .collect();
        checked += run_batch(&mut uut, cases, prelu, lo, hi);
    }
    assert!(checked > 2000, "{checked} values checked");
}

/// Products whose shifted value lies just inside or just outside int8 (and the rounding
/// boundaries next to them), for every shift: the unit's 8-bit window and its test of whether
/// the shifted value fits 8 bits, at each step of its shifter.
#[test]
fn requant_clamps_at_the_int8_boundaries_for_every_shift() {
    let mut uut = RequantUnit::default();
    uut.connect_all();
    let mut checked = 0;
    for shift in 1..=46u32 {
        // a * mult = t * 2^shift + d: with mult = 1 while that fits int32, else mult = 2^14.
        let scale = if shift <= 23 { 0 } else { 14 };
        let mult = 1i32 << scale;
        let half = 1i64 << (shift - 1);
        let mut cases = Vec::new();
        for t in [-300i64, -129, -128, -127, -1, 0, 1, 126, 127, 128, 129, 300] {
            for d in [-half - 1, -half, 1 - half, 0, half - 1, half, half + 1] {
                let a = ((t << shift) + d) >> scale;
                let Ok(bias) = i32::try_from(a) else { continue };
                cases.push(Case {
                    acc: 0,
                    bias,
                    m: (mult, shift),
                    n: (mult, shift),
                    write: true,
                    addr: t as u64 & 0xffff,
                });
            }
        }
        checked += run_batch(&mut uut, cases, false, -128, 127);
    }
    assert_eq!(checked, 3276, "values checked");
}

#[test]
fn clear_drops_the_values_in_flight() {
    let mut uut = RequantUnit::default();
    uut.connect_all();
    uut.shift.next = 1u64.into();
    uut.in_write.next = true;
    for _ in 0..LATENCY - 1 {
        tick(&mut uut);
    }
    uut.in_write.next = false;
    assert!(simulate(&mut uut, 100), "the block settles");
    assert!(uut.busy_next.val(), "values in flight");
    uut.clear.next = true;
    assert!(simulate(&mut uut, 100), "the block settles");
    assert!(!uut.busy_next.val(), "clear drops them");
    tick(&mut uut);
    uut.clear.next = false;
    for _ in 0..LATENCY {
        assert!(simulate(&mut uut, 100), "the block settles");
        assert!(!uut.out_write.val() && !uut.busy_next.val());
        tick(&mut uut);
    }
}
