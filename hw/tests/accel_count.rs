//! The accelerator's down counter in rust-hdl simulation against a plain count: its "at 1", "at 2"
//! and "not zero" flags and whether the value it loads is 1, after random clears, loads and decrements, with every combination of the
//! three at once, loads over the whole range and decrements through 0 (the counter wraps).

use lc_hw::accel::count::CountDown;
use rust_hdl::prelude::*;

mod common;
use common::{clock_edge, XorShift};

/// The plain model: the count after one clock (`clear` before `load` before `dec`).
fn next_count(count: u64, bits: usize, clear: bool, load: bool, dec: bool, init: u64) -> u64 {
    if clear {
        0
    } else if load {
        init
    } else if dec {
        count.wrapping_sub(1) & ((1 << bits) - 1)
    } else {
        count
    }
}

/// `cycles` random clocks of a `CountDown<N>` loading values in `0..=max_init`; returns how many
/// clocks each flag (at 1, at 2, not zero) was set, so that the caller can see both values of
/// each were checked.
fn run<const N: usize>(seed: u64, max_init: u64, cycles: usize) -> (usize, usize, usize) {
    let mut rng = XorShift(seed);
    let mut uut = CountDown::<N>::default();
    uut.connect_all();
    let mut count = 0;
    let (mut ones, mut twos, mut nonzeros) = (0, 0, 0);
    for i in 0..cycles {
        let clear = rng.chance(1, 16);
        let load = rng.chance(1, 5);
        let dec = rng.chance(2, 3);
        let init = rng.range(0, max_init);
        uut.clear.next = clear;
        uut.load.next = load;
        uut.dec.next = dec;
        uut.init.next = init.into();
        assert!(simulate(&mut uut, 100), "the block settles");
        assert_eq!(uut.init_one.val(), init == 1, "cycle {i}: loads {init}");
        count = next_count(count, N, clear, load, dec, init);
        assert_eq!(
            uut.nonzero_next.val(),
            count != 0,
            "cycle {i}: becomes {count}"
        );
        clock_edge(&mut uut, |u, c| u.clock.next = Clock { clk: c });
        uut.clear.next = false;
        uut.load.next = false;
        uut.dec.next = false;
        assert!(simulate(&mut uut, 100), "the block settles");
        let at_one = uut.at_one.val();
        let at_two = uut.at_two.val();
        let nonzero = uut.nonzero.val();
        assert_eq!(
            (at_one, at_two, nonzero),
            (count == 1, count == 2, count != 0),
            "cycle {i}: count {count} after clear {clear} load {load} ({init}) dec {dec}"
        );
        ones += at_one as usize;
        twos += at_two as usize;
        nonzeros += nonzero as usize;
    }
    (ones, twos, nonzeros)
}

#[test]
fn a_narrow_counter_flags_one_and_not_zero_across_its_whole_range() {
    // Three bits: loads of every value, and decrements that wrap from 0 to 7 and count down again.
    let (ones, twos, nonzeros) = run::<3>(0x2545_f491_4f6c_dd1d, 7, 3_000);
    assert!(ones > 100 && twos > 100 && nonzeros > 1_000 && nonzeros < 2_900);
}

#[test]
fn an_index_wide_counter_flags_small_counts() {
    // The width of the accelerator's counters, with the small bounds a layer loads (0..=4): a
    // loop counter's last value, a lane with no channel in the layer, a drain's last channel.
    let (ones, twos, nonzeros) = run::<16>(0x9e37_79b9_7f4a_7c15, 4, 3_000);
    assert!(ones > 100 && twos > 100 && nonzeros > 1_000);
}
