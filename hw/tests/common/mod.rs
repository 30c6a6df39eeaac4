//! Helpers shared by the hardware tests.
#![allow(dead_code)]

use std::process::Command;

/// The Verilator binary (`VERILATOR`, else `verilator`), or `None` when it is not installed. Under
/// CI (`CI=true`) a missing Verilator fails the test instead of skipping it.
pub fn verilator() -> Option<String> {
    let verilator = std::env::var("VERILATOR").unwrap_or_else(|_| "verilator".into());
    if Command::new(&verilator).arg("--version").output().is_ok() {
        return Some(verilator);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci,
        "{verilator} not found under CI: install it (apt-get install verilator)"
    );
    eprintln!("{verilator} not found: lint skipped (apt-get install verilator)");
    None
}

/// `verilator --lint-only -Wall` of an emitted design with its waivers: no error, no warning.
pub fn assert_lint_clean(verilator: &str, rtl: &lc_hw::RtlOutput) {
    let out = Command::new(verilator)
        .args(["--lint-only", "-Wall", "--top-module", &rtl.manifest.top])
        .arg(&rtl.waivers)
        .arg(&rtl.verilog)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !text.contains("%Warning"),
        "lint of {}:\n{text}",
        rtl.manifest.top
    );
}

/// A small deterministic random source (xorshift64) for the block tests.
pub struct XorShift(pub u64);

impl XorShift {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next() % den < num
    }
}

/// One rising clock edge of a rust-hdl block; `clock` drives the block's clock input.
pub fn clock_edge<B: rust_hdl::prelude::Block>(uut: &mut B, clock: fn(&mut B, bool)) {
    use rust_hdl::prelude::simulate;
    clock(uut, false);
    assert!(simulate(uut, 100), "the block settles");
    clock(uut, true);
    assert!(simulate(uut, 100), "the block settles");
}
