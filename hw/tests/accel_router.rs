//! The weight router in rust-hdl simulation against a plain model: after every K weights handed
//! over, the next of its F MAC lanes is selected, wrapping after the last; `start` and `reset`
//! select the first.

use lc_hw::accel::router::WeightRouter;
use rust_hdl::prelude::*;

/// The router as plain Rust.
struct Model {
    k: u64,
    lane: u64,
}

impl Model {
    fn step(&mut self, take: bool, start: bool, k_len: u64, fan: u64) {
        if take {
            self.k += 1;
            if self.k == k_len {
                self.k = 0;
                self.lane = (self.lane + 1) % fan;
            }
        }
        if start {
            self.k = 0;
            self.lane = 0;
        }
    }
}

fn clock(uut: &mut WeightRouter) {
    uut.clock.next = Clock { clk: false };
    assert!(simulate(uut, 100), "the block settles");
    uut.clock.next = Clock { clk: true };
    assert!(simulate(uut, 100), "the block settles");
}

#[test]
fn router_selects_the_mac_lanes_in_turn() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (fan, k_len) in [
        (1u64, 1u64),
        (2, 1),
        (2, 3),
        (4, 25),
        (4, 1),
        (8, 7),
        (32, 2),
    ] {
        let mut uut = WeightRouter::new(fan as usize);
        uut.connect_all();
        uut.reset.next = true;
        clock(&mut uut);
        uut.reset.next = false;
        uut.k_len.next = k_len.into();
        let mut m = Model { k: 0, lane: 0 };
        for i in 0..2000 {
            let take = next() % 4 != 0;
            let start = i == 1000;
            uut.take.next = take;
            uut.start.next = start;
            assert_eq!(
                uut.sel.val().to_u64(),
                m.lane,
                "F {fan} K {k_len} cycle {i}"
            );
            clock(&mut uut);
            m.step(take, start, k_len, fan);
        }
        assert_eq!(uut.sel.val().to_u64(), m.lane);
    }
}
