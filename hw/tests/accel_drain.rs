//! The accelerator's drain sequencer in rust-hdl simulation against its timing contract: after a
//! capture at clock edge t, the bias of channel ch0 + j is requested in cycle t + 1 + j, its
//! multipliers and shifts in cycle t + 2 + j, and value j leaves in cycle t + 2 + j (hold chain shift, write to base + j * plane unless the channel
//! is beyond the layer's last), for j < P; `clear` abandons a drain.

use lc_hw::accel::drain::DrainSeq;
use rust_hdl::prelude::*;

mod common;
use common::{clock_edge, XorShift};

/// The drain in progress: the edge of its capture and what was captured.
#[derive(Clone, Copy)]
struct Capture {
    edge: u64,
    base: u64,
    ch0: u64,
}

#[test]
fn drain_requests_and_writes_each_captured_channel_in_turn() {
    let mut rng = XorShift(0x5851_f42d_4c95_7f2d);
    for lanes in [1u64, 2, 4, 8] {
        let mut uut = DrainSeq::new(lanes as usize);
        uut.connect_all();
        uut.clear.next = true;
        clock_edge(&mut uut, |u, c| u.clock.next = Clock { clk: c });
        let mut current: Option<Capture> = None;
        let mut writes = 0;
        // Layer registers: fixed while the layer runs.
        let plane = rng.range(1, 3000);
        let out_c = rng.range(lanes / 2 + 1, 3 * lanes);
        uut.out_plane.next = plane.into();
        uut.out_c.next = out_c.into();
        for edge in 1..4000u64 {
            // The controller captures only after the previous drain has emptied its counter.
            let idle = current.is_none_or(|c| edge - c.edge > lanes);
            let capture = idle && rng.chance(1, 3);
            let clear = rng.chance(1, 40);
            let cap = Capture {
                edge,
                base: rng.range(0, 0xffff),
                ch0: rng.range(0, 2 * lanes),
            };
            uut.capture.next = capture;
            uut.clear.next = clear;
            uut.out_addr.next = cap.base.into();
            uut.ch0.next = cap.ch0.into();
            assert!(simulate(&mut uut, 100), "the block settles");

            // This cycle lies between edges `edge - 1` and `edge`.
            let j = current.map(|c| edge - 1 - c.edge);
            // Busy after this edge: the drain that is current then names or writes a channel.
            let next = if clear {
                None
            } else if capture {
                Some(cap)
            } else {
                current
            };
            let busy_next = next.is_some_and(|c| edge - c.edge <= lanes);
            assert_eq!(uut.busy_next.val(), busy_next, "P {lanes} edge {edge}");
            if let (Some(c), Some(j)) = (current, j) {
                if j < lanes {
                    assert_eq!(
                        uut.param_ch.val().to_u64(),
                        c.ch0 + j,
                        "P {lanes} edge {edge}"
                    );
                }
            }
            let out = match (current, j) {
                (Some(c), Some(j)) if (1..=lanes).contains(&j) => Some((c, j - 1)),
                _ => None,
            };
            assert_eq!(uut.shift.val(), out.is_some(), "P {lanes} edge {edge}");
            if let Some((c, i)) = out {
                assert_eq!(
                    uut.scale_ch.val().to_u64(),
                    c.ch0 + i,
                    "P {lanes} edge {edge}"
                );
                assert_eq!(
                    uut.write_addr.val().to_u64(),
                    (c.base + i * plane) & 0xffff,
                    "P {lanes} edge {edge}"
                );
                let write = c.ch0 + i < out_c;
                assert_eq!(uut.write.val(), write, "P {lanes} edge {edge}");
                writes += write as u64;
            }
            clock_edge(&mut uut, |u, c| u.clock.next = Clock { clk: c });
            if clear {
                current = None;
            } else if capture {
                current = Some(cap);
            }
        }
        assert!(writes > 100, "P {lanes}: only {writes} writes checked");
    }
}
