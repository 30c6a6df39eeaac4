//! The QSPI flash reader in the rust-hdl simulator against the behavioural flash of `lc-sim`:
//! random images, random requests (any byte address, wrapping at the end of the array, 0 to 24
//! words), random request gaps and random consumer back-pressure. Every word must equal the four
//! image bytes at its address read little-endian, `last` must mark exactly the final word of each
//! request, and each request must be one read command of exactly 40 + 8 x words SCK clocks.
//! A reset at any point of a command ends it and leaves the reader ready for the next. Also: the
//! emitted Verilog is lint-clean under `verilator --lint-only -Wall` with its waivers.

use lc_hw::emit::write_design;
use lc_hw::qspi::{generate_qspi, PREAMBLE_CLOCKS, QSPI_LINT_WAIVERS, QSPI_LINT_WAIVERS_FILE};
use lc_sim::flash::{ReaderBench, Request};
use std::collections::VecDeque;

mod common;
use common::XorShift;

/// The words a request must deliver: little-endian groups of four image bytes from `addr`.
fn expected(image: &[u8], r: Request) -> Vec<u32> {
    let byte = |i: u64| image[((r.addr + i) as usize) % image.len()];
    (0..r.words)
        .map(|w| u32::from_le_bytes([0, 1, 2, 3].map(|j| byte(4 * w + j))))
        .collect()
}

/// Every word of `requests` with its `last` flag.
fn expected_stream(image: &[u8], requests: &[Request]) -> Vec<(u32, bool)> {
    requests
        .iter()
        .flat_map(|&r| {
            let words = expected(image, r);
            let n = words.len();
            words
                .into_iter()
                .enumerate()
                .map(move |(i, w)| (w, i + 1 == n))
        })
        .collect()
}

#[test]
fn reads_random_requests_bit_exact_under_back_pressure() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for round in 0..6 {
        let size = 256usize << (2 * round);
        let image: Vec<u8> = (0..size).map(|_| rng.next() as u8).collect();
        let mut bench = ReaderBench::new(image.clone()).unwrap();
        let requests: Vec<Request> = (0..60)
            .map(|_| Request {
                addr: rng.range(0, size as u64 - 1),
                words: if rng.chance(1, 10) {
                    0
                } else {
                    rng.range(1, 24)
                },
            })
            .collect();
        let want = expected_stream(&image, &requests);
        let mut pending: VecDeque<Request> = requests.iter().copied().collect();
        let mut got: Vec<(u32, bool)> = Vec::new();
        // Consumer readiness in per-mille, changed now and then: from always ready to mostly stalled.
        let mut ready_permille = 1000;
        let mut cycles = 0u64;
        while got.len() < want.len() || !pending.is_empty() || !bench.uut.req_ready.val() {
            cycles += 1;
            assert!(cycles < 200_000, "round {round}: the reader hangs");
            if rng.chance(1, 200) {
                ready_permille = [1000, 700, 300, 50][rng.range(0, 3) as usize];
            }
            let ready = rng.chance(ready_permille, 1000);
            let offer = pending.front().copied().filter(|_| rng.chance(1, 3));
            let c = bench
                .cycle(offer, ready)
                .unwrap_or_else(|e| panic!("round {round}: flash: {e}"));
            if c.taken {
                pending.pop_front();
            }
            if let Some(w) = c.word {
                got.push(w);
                assert!(
                    got.len() <= want.len(),
                    "round {round}: more words than requested"
                );
            }
        }
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "round {round}: word {i} (data, last)");
        }
        // One command per non-empty request, at its address, with no extra SCK clock.
        let reads: Vec<(u32, u64)> = requests
            .iter()
            .filter(|r| r.words > 0)
            .map(|r| (r.addr as u32, PREAMBLE_CLOCKS + 8 * r.words))
            .collect();
        assert_eq!(
            bench.commands().unwrap(),
            reads,
            "round {round}: commands (address, SCK clocks)"
        );
        eprintln!(
            "[qspi round {round}: {} words in {cycles} cycles]",
            got.len()
        );
    }
}

#[test]
fn reset_abandons_a_command_and_the_next_request_reads_correctly() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let image: Vec<u8> = (0..1024).map(|_| rng.next() as u8).collect();
    for abort_at in [3, 40, 81, 90, 150, 400] {
        let mut bench = ReaderBench::new(image.clone()).unwrap();
        let first = Request {
            addr: 17,
            words: 30,
        };
        assert!(bench.cycle(Some(first), true).unwrap().taken);
        // Stall the consumer so that both word registers are full when the reset comes late.
        for _ in 0..abort_at {
            bench.cycle(None, false).unwrap();
        }
        bench.uut.reset.next = true;
        bench.cycle(None, false).unwrap();
        bench.uut.reset.next = false;
        let uut = &bench.uut;
        assert!(
            uut.cs_n.val() && !uut.sck.val(),
            "abort at {abort_at}: CS# high, SCK low"
        );
        assert!(
            !uut.out_valid.val() && uut.req_ready.val(),
            "abort at {abort_at}: idle"
        );
        let done = bench.commands().unwrap();
        assert_eq!(done.len(), 1, "abort at {abort_at}: the command ended");
        assert!(
            done[0].1 < PREAMBLE_CLOCKS + 8 * first.words,
            "abort at {abort_at}: the command was cut short"
        );

        let second = Request {
            addr: 1000,
            words: 9,
        };
        let want = expected_stream(&image, &[second]);
        let mut got = Vec::new();
        let mut offer = Some(second);
        for _ in 0..1000 {
            let c = bench.cycle(offer, true).unwrap();
            if c.taken {
                offer = None;
            }
            got.extend(c.word);
        }
        assert_eq!(
            got, want,
            "abort at {abort_at}: the request after the reset"
        );
        assert_eq!(
            bench.commands().unwrap()[1..],
            [(1000, PREAMBLE_CLOCKS + 8 * second.words)],
            "abort at {abort_at}: one command for the request after the reset"
        );
    }
}

#[test]
fn verilog_is_lint_clean() {
    let Some(verilator) = common::verilator() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("lc_qspi_lint_{}", std::process::id()));
    let (verilog, manifest) = generate_qspi().unwrap();
    for port in [
        "sck", "cs_n", "io_out", "io_oe", "io_in", "out_data", "out_last",
    ] {
        assert!(manifest.port(port).is_some(), "port {port}");
    }
    let rtl = write_design(
        &dir,
        &verilog,
        manifest,
        QSPI_LINT_WAIVERS_FILE,
        QSPI_LINT_WAIVERS,
    )
    .unwrap();
    common::assert_lint_clean(&verilator, &rtl);
    let _ = std::fs::remove_dir_all(&dir);
}
