//! The QSPI flash reader in the rust-hdl simulator against the behavioural flash of `lc-sim`:
//! random images, random requests (any byte address, wrapping at the end of the array, 0 to 24
//! words), random request gaps and random consumer back-pressure. Every word must equal the four
//! image bytes at its address read little-endian, `last` must mark exactly the final word of each
//! request, and each request must be one read command of exactly 40 + 8 x words SCK clocks.
//! A reset at any point of a command ends it and leaves the reader ready for the next. Also: the emitted Verilog is lint-clean under `verilator --lint-only -Wall` with its waivers.

use lc_hw::qspi::{
    generate_qspi, QspiReader, PREAMBLE_CLOCKS, QSPI_LINT_WAIVERS, QSPI_LINT_WAIVERS_FILE,
};
use lc_sim::flash::{FlashPins, QspiFlash};
use rust_hdl::prelude::*;
use std::collections::VecDeque;
use std::process::Command;

mod common;
use common::{clock_edge, XorShift};

/// A read request: byte address and word count.
#[derive(Clone, Copy, Debug)]
struct Request {
    addr: u64,
    words: u64,
}

/// The words a request must deliver: little-endian groups of four image bytes from `addr`.
fn expected(image: &[u8], r: Request) -> Vec<u32> {
    let byte = |i: u64| image[((r.addr + i) as usize) % image.len()];
    (0..r.words)
        .map(|w| u32::from_le_bytes([0, 1, 2, 3].map(|j| byte(4 * w + j))))
        .collect()
}

/// The reader wired to a flash: one clock cycle at a time.
struct Bench {
    uut: QspiReader,
    flash: QspiFlash,
}

/// What happened in one cycle: the offered request was taken, a word was handed over.
struct Cycle {
    taken: bool,
    word: Option<(u32, bool)>,
}

impl Bench {
    /// A reader after reset, in front of a flash holding `image`.
    fn new(image: Vec<u8>) -> Self {
        let mut uut = QspiReader::default();
        uut.connect_all();
        // Settle the outputs before the flash first looks at them.
        assert!(simulate(&mut uut, 100), "the block settles");
        let mut bench = Bench {
            uut,
            flash: QspiFlash::new(image).unwrap(),
        };
        bench.uut.reset.next = true;
        bench.cycle(None, false);
        bench.uut.reset.next = false;
        bench
    }

    /// The reader's pins as the flash sees them.
    fn pins(&self) -> FlashPins {
        FlashPins {
            cs_n: self.uut.cs_n.val(),
            sck: self.uut.sck.val(),
            io_out: self.uut.io_out.val().to_u64() as u8,
            io_oe: self.uut.io_oe.val().to_u64() as u8,
        }
    }

    /// One cycle: the flash follows the pins, the reader sees the bus, `offer` and `ready`, and
    /// takes a clock edge. A protocol error of the flash fails the test.
    fn cycle(&mut self, offer: Option<Request>, ready: bool) -> Cycle {
        let pins = self.pins();
        self.flash
            .step(&pins)
            .unwrap_or_else(|e| panic!("flash: {e}"));
        let uut = &mut self.uut;
        uut.io_in.next = (self.flash.bus(&pins) as u64).into();
        uut.out_ready.next = ready;
        uut.req_valid.next = offer.is_some();
        if let Some(r) = offer {
            uut.req_addr.next = r.addr.into();
            uut.req_words.next = r.words.into();
        }
        assert!(simulate(uut, 100), "the block settles");
        let result = Cycle {
            taken: offer.is_some() && uut.req_ready.val(),
            word: (uut.out_valid.val() && ready)
                .then(|| (uut.out_data.val().to_u64() as u32, uut.out_last.val())),
        };
        clock_edge(uut, |u, c| u.clock.next = Clock { clk: c });
        result
    }

    /// The commands the flash has finished, as (address, SCK clocks); the flash first follows
    /// the pins of the current cycle, so a command that CS# just ended counts.
    fn commands(&mut self) -> Vec<(u32, u64)> {
        let pins = self.pins();
        self.flash.step(&pins).unwrap();
        let done = self.flash.commands().iter();
        done.map(|c| (c.address, c.clocks)).collect()
    }
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
        let mut bench = Bench::new(image.clone());
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
            let c = bench.cycle(offer, ready);
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
            bench.commands(),
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
        let mut bench = Bench::new(image.clone());
        let first = Request {
            addr: 17,
            words: 30,
        };
        assert!(bench.cycle(Some(first), true).taken);
        // Stall the consumer so that both word registers are full when the reset comes late.
        for _ in 0..abort_at {
            bench.cycle(None, false);
        }
        bench.uut.reset.next = true;
        bench.cycle(None, false);
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
        let done = bench.commands();
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
            let c = bench.cycle(offer, true);
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
            bench.commands()[1..],
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
    std::fs::create_dir_all(&dir).unwrap();
    let (verilog, manifest) = generate_qspi().unwrap();
    let v = dir.join(format!("{}.v", manifest.top));
    let w = dir.join(QSPI_LINT_WAIVERS_FILE);
    std::fs::write(&v, verilog).unwrap();
    std::fs::write(&w, QSPI_LINT_WAIVERS).unwrap();
    let out = Command::new(&verilator)
        .args(["--lint-only", "-Wall", "--top-module", &manifest.top])
        .arg(&w)
        .arg(&v)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "lint of {}:\n{text}", manifest.top);
    for port in [
        "sck", "cs_n", "io_out", "io_oe", "io_in", "out_data", "out_last",
    ] {
        assert!(manifest.port(port).is_some(), "port {port}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
