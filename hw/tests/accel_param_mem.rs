//! The accelerator's parameter memory in rust-hdl simulation against a plain array: random host
//! writes and drain reads; a read returns, one clock later, what the array held at that address
//! (the bias at `raddr`, the multipliers and shifts at `scale_raddr`).

use lc_hw::accel::param_mem::ParamMem;
use rust_hdl::prelude::*;

mod common;
use common::{clock_edge, XorShift};

/// Address bits of the memory under test (16 channels, so that addresses repeat often).
const PBITS: usize = 4;

/// One channel's parameters: bias, mult, shift, nmult, nshift.
type Entry = [u64; 5];

fn random_entry(rng: &mut XorShift) -> Entry {
    [
        rng.next() & 0xffff_ffff,
        rng.next() & 0xffff,
        rng.next() & 0xff,
        rng.next() & 0xffff,
        rng.next() & 0xff,
    ]
}

#[test]
fn reads_return_the_last_write_one_clock_later() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut uut = ParamMem::<PBITS>::default();
    uut.connect_all();
    let mut model = [[0u64; 5]; 1 << PBITS];
    // Fill every channel first, as the host does before a layer.
    let mut pending: Option<Entry> = None;
    for cycle in 0..3000 {
        let fill = cycle < (1 << PBITS);
        let we = fill || rng.chance(1, 3);
        let waddr = if fill {
            cycle
        } else {
            rng.range(0, (1 << PBITS) - 1) as usize
        };
        // The drain never reads the channel the host writes in the same clock.
        let mut read_addr = || loop {
            let r = rng.range(0, (1 << PBITS) - 1) as usize;
            if !we || r != waddr {
                break r;
            }
        };
        let (raddr, scale_raddr) = (read_addr(), read_addr());
        let entry = random_entry(&mut rng);
        uut.we.next = we;
        uut.waddr.next = (waddr as u64).into();
        uut.w_bias.next = entry[0].into();
        uut.w_mult.next = entry[1].into();
        uut.w_shift.next = entry[2].into();
        uut.w_nmult.next = entry[3].into();
        uut.w_nshift.next = entry[4].into();
        uut.raddr.next = (raddr as u64).into();
        uut.scale_raddr.next = (scale_raddr as u64).into();
        assert!(simulate(&mut uut, 100), "the block settles");
        if let Some(want) = pending {
            let got = [
                uut.bias.val().to_u64(),
                uut.mult.val().to_u64(),
                uut.shift.val().to_u64(),
                uut.nmult.val().to_u64(),
                uut.nshift.val().to_u64(),
            ];
            assert_eq!(got, want, "cycle {cycle}");
        }
        let mut want = model[scale_raddr];
        want[0] = model[raddr][0];
        pending = (!fill).then_some(want);
        if we {
            model[waddr] = entry;
        }
        clock_edge(&mut uut, |u, c| u.clock.next = Clock { clk: c });
    }
}
