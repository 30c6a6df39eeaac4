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
